"""A small in-memory stand-in for the runtime's `InvokeContext`, so the modelled programs can be tested
without LiteSVM: a dict of accounts, a clock, collected logs/events/CPIs, atomic commit, writable and lamport
checks. Plus an independent reader of the Pool/Participants bytes written from docs/program.md's offsets."""

from __future__ import annotations

import copy
import hashlib
import struct
from dataclasses import dataclass, field

from solders.instruction import Instruction
from solders.pubkey import Pubkey

from localnet.model_api import (
    AccountRef,
    AccountState,
    Clock,
    InnerInstruction,
    ModelledProgram,
    ProgramError,
)


def rent_exempt(data_len: int) -> int:
    return (128 + data_len) * 3480 * 2


@dataclass
class FakeContext:
    program_id: Pubkey
    accounts: list[AccountRef]
    data: bytes
    clock: Clock
    base: dict[Pubkey, AccountState]
    staged: dict[Pubkey, AccountState | None] = field(default_factory=dict)
    logs: list[str] = field(default_factory=list)
    events: list[bytes] = field(default_factory=list)
    cpis: list[InnerInstruction] = field(default_factory=list)

    def get(self, key: Pubkey) -> AccountState | None:
        state = self.staged[key] if key in self.staged else self.base.get(key)
        return copy.deepcopy(state)

    def put(self, key: Pubkey, state: AccountState | None) -> None:
        if not any(ref.pubkey == key and ref.is_writable for ref in self.accounts):
            raise ProgramError(builtin="ReadonlyDataModified", log=f"write to read-only {key}")
        self.staged[key] = copy.deepcopy(state)

    def is_signer(self, key: Pubkey) -> bool:
        return any(ref.pubkey == key and ref.is_signer for ref in self.accounts)

    def log(self, message: str) -> None:
        self.logs.append(f"Program log: {message}")

    def emit_event(self, data: bytes) -> None:
        self.events.append(data)

    def record_cpi(self, inner: InnerInstruction, logs: list[str] | None = None) -> None:
        self.cpis.append(inner)
        self.logs.extend(logs or [])

    def slot_hash(self, slot: int) -> bytes | None:
        if slot < 0 or slot >= self.clock.slot or self.clock.slot - slot > 512:
            return None
        return hashlib.sha256(b"slot" + struct.pack("<Q", slot)).digest()

    def minimum_balance(self, data_len: int) -> int:
        return rent_exempt(data_len)


class FakeChain:
    """Accounts plus a clock; `run` executes one instruction atomically like the runtime would."""

    def __init__(self, slot: int = 1_000, unix_timestamp: int = 1_700_000_000) -> None:
        self.accounts: dict[Pubkey, AccountState] = {}
        self.clock = Clock(slot=slot, unix_timestamp=unix_timestamp)
        self.last: FakeContext | None = None

    def advance(self, *, seconds: int = 0, slots: int = 0) -> None:
        self.clock = Clock(slot=self.clock.slot + slots, unix_timestamp=self.clock.unix_timestamp + seconds)

    def set(self, key: Pubkey, state: AccountState) -> None:
        self.accounts[key] = state

    def get(self, key: Pubkey) -> AccountState | None:
        return self.accounts.get(key)

    def run(self, program: ModelledProgram, ix: Instruction) -> FakeContext:
        refs = [AccountRef(meta.pubkey, meta.is_signer, meta.is_writable) for meta in ix.accounts]
        ctx = FakeContext(program.program_id, refs, bytes(ix.data), self.clock, self.accounts)
        self.last = ctx
        program.process(ctx)
        before = sum(self.accounts[k].lamports for k in ctx.staged if k in self.accounts)
        after = sum(s.lamports for s in ctx.staged.values() if s is not None)
        if before != after:
            raise ProgramError(builtin="UnbalancedInstruction", log=f"lamports {before} -> {after}")
        for key, state in ctx.staged.items():
            if state is None:
                self.accounts.pop(key, None)
            else:
                self.accounts[key] = state
        return ctx


# -- independent decoders ----------------------------------------------------------------------------

# docs/program.md §2.1, written from the reference's own struct string, not from the model's packer.
POOL_STRUCT = struct.Struct("<8sQ32s32s32s32sqqqqqqBqqQQQII32sHH32sH16s32sQBBBBB32sBQBqB32s32sB")
POOL_FIELDS = (
    "disc",
    "pool_id",
    "salt",
    "mint",
    "pool_token",
    "creator",
    "start_time",
    "duration",
    "expire_time",
    "end_time",
    "unlock_time",
    "close_time",
    "max_participants",
    "lock_duration",
    "lock_start_time",
    "amount",
    "total_amount",
    "total_volume",
    "total_joins",
    "total_donations",
    "dev_wallet",
    "dev_fee_bps",
    "burn_fee_bps",
    "treasury_wallet",
    "treasury_fee_bps",
    "randomness",
    "randomness_account",
    "randomness_deadline_slot",
    "bump",
    "status",
    "paused",
    "version",
    "schema",
    "config_hash",
    "allow_mock",
    "randomness_commit_slot",
    "initialized",
    "last_join_time",
    "status_reason",
    "participants_account",
    "winner",
    "processing",
)


def read_pool(data: bytes) -> dict[str, object]:
    values = dict(zip(POOL_FIELDS, POOL_STRUCT.unpack(data), strict=True))
    values["randomness"] = int.from_bytes(bytes(values["randomness"]), "little")
    return values


def read_participants(data: bytes) -> tuple[list[bytes], int]:
    """docs/program.md §2.2: list of 20 keys at 8, count at 648."""
    return [data[8 + 32 * i : 40 + 32 * i] for i in range(20)], data[648]
