"""The contract between the local chain's runtime and the programs it models in Python.

The runtime (`runtime.py`, `server.py`) owns LiteSVM, transactions, signatures, blockhashes, fees, history
and the JSON-RPC surface. A modelled program (`programs/pool.py`, `programs/switchboard.py`) owns only the
rules of one on-chain program: it reads and writes accounts through an `InvokeContext` and raises
`ProgramError` to fail.

Rules both sides keep:
- A program never touches LiteSVM. Every account read or write goes through the context, which stages the
  changes; the runtime commits them only if the whole transaction succeeds (atomicity, as on a real cluster).
- Account data is raw bytes, laid out exactly as the real program lays them out, so the backend's decoders
  read the local chain the way they read mainnet.
- Token movements are real SPL token account bytes (see `spl_token.py`), never a side table.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Protocol

from solders.pubkey import Pubkey


@dataclass
class AccountState:
    """One account as a program sees it. `data` is mutable in place; `put` it back to stage the change."""

    lamports: int
    data: bytearray
    owner: Pubkey
    executable: bool = False
    rent_epoch: int = 0


@dataclass(frozen=True)
class AccountRef:
    """One entry of an instruction's account list, in wire order, with the flags the message gives it."""

    pubkey: Pubkey
    is_signer: bool
    is_writable: bool


@dataclass(frozen=True)
class Clock:
    slot: int
    unix_timestamp: int
    epoch: int = 0


@dataclass(frozen=True)
class InnerInstruction:
    """A CPI the modelled program made (for `meta.innerInstructions`); accounts are keys, not indexes."""

    program_id: Pubkey
    accounts: tuple[Pubkey, ...]
    data: bytes
    stack_height: int = 2


class ProgramError(Exception):
    """A failed instruction. Exactly one of `custom` (Anchor / program code, e.g. 6000 + n) or `builtin`
    (an `InstructionError` variant name as the RPC JSON spells it, e.g. "MissingRequiredSignature",
    "InvalidAccountData", "InsufficientFunds") is set. `log` is the line the runtime appends to the
    transaction's logs, e.g. "AnchorError thrown in ... Error Code: PoolFull. Error Number: 6004. ..."."""

    def __init__(self, *, custom: int | None = None, builtin: str | None = None, log: str = "") -> None:
        if (custom is None) == (builtin is None):
            raise ValueError("exactly one of custom or builtin must be set")
        super().__init__(log or (f"custom program error: {custom:#x}" if custom is not None else builtin))
        self.custom = custom
        self.builtin = builtin
        self.log = log


class InvokeContext(Protocol):
    """What a modelled program may see and do while one of its instructions runs."""

    program_id: Pubkey
    accounts: list[AccountRef]
    data: bytes
    clock: Clock

    def get(self, key: Pubkey) -> AccountState | None:
        """The account as staged so far in this transaction (a copy; `put` to change it); None if absent."""

    def put(self, key: Pubkey, state: AccountState | None) -> None:
        """Stage a new state for `key`; None closes the account (0 lamports, no data, System-owned).
        The runtime rejects writes to accounts the message does not mark writable (builtin error
        "ReadonlyDataModified" / "ExternalAccountLamportSpend"), and checks lamports are conserved across the
        instruction ("UnbalancedInstruction")."""

    def is_signer(self, key: Pubkey) -> bool:
        """True if the transaction carries a verified signature of `key`, or `key` is a PDA of this program
        that the program claims to sign for through `invoke_signed` (see `sign_for_pda`)."""

    def log(self, message: str) -> None:
        """Append `Program log: <message>` to the transaction's logs."""

    def emit_event(self, data: bytes) -> None:
        """Append `Program data: <base64(data)>`, the way Anchor's `emit!` does."""

    def record_cpi(self, inner: InnerInstruction, logs: list[str] | None = None) -> None:
        """Record a CPI the program made (e.g. an SPL token transfer it performed through `spl_token.py`),
        with `Program <id> invoke [2]` ... `Program <id> success` around `logs` in the transaction's logs."""

    def slot_hash(self, slot: int) -> bytes | None:
        """The 32-byte hash of `slot` as the SlotHashes sysvar would report it (None if older than 512 slots
        or in the future). Deterministic per slot so tests repeat."""

    def minimum_balance(self, data_len: int) -> int:
        """Rent-exempt minimum for an account of `data_len` bytes, as the Rent sysvar computes it."""


class ModelledProgram(Protocol):
    """One on-chain program modelled in Python. `process` runs one top-level instruction."""

    program_id: Pubkey
    name: str

    def process(self, ctx: InvokeContext) -> None: ...


@dataclass
class Genesis:
    """Accounts a modelled program needs at chain start (e.g. Switchboard's queue and oracle accounts)."""

    accounts: dict[Pubkey, AccountState] = field(default_factory=dict)
