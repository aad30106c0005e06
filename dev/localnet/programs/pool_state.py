"""The pool program's accounts (`Pool` 488 bytes, `Participants` 649 bytes), its constants, and the pure
formulas it applies (config hash, pool id, mock randomness, winner index, payout split, refund split).

Bytes go through the IDL codec (`localnet.idl`), so the layouts are whatever the IDL says; `POOL_LEN` and
`PARTICIPANTS_LEN` pin the sizes docs/program.md §2.1/§2.2 give, and a mismatch fails loudly at encode time.
"""

from __future__ import annotations

import dataclasses
import hashlib
import struct
from dataclasses import dataclass, field
from enum import IntEnum
from typing import Any

from solders.pubkey import Pubkey

from localnet.idl import Idl

POOL_LEN = 488
PARTICIPANTS_LEN = 649
ZERO_KEY = Pubkey.default()

MAX_PARTICIPANTS = 20
MAX_FEE_BPS = 10_000
MIN_BET_TOKENS = 20
MIN_LOCK_DURATION = 60
MAX_LOCK_DURATION = 43_200
POOL_OPEN_DURATION = 604_800
SWEEP_DELAY = 604_800
EMERGENCY_DELAY = 86_400
PAYOUT_TIMEOUT = 604_800
FORFEIT_DELAY = 2_592_000
RANDOMNESS_FRESHNESS_SLOTS = 300
RANDOMNESS_DEADLINE_SLOTS = 3_000
FORCE_EXPIRE_MIN_AGE = 300
NEAR_EXPIRE_WINDOW = 60
ALLOWED_DECIMALS = frozenset({6, 8, 9, 10})
U64_MAX = 2**64 - 1

POOL_SEED = b"pool"
PARTICIPANTS_SEED = b"participants"


class PoolStatus(IntEnum):
    OPEN = 0
    LOCKED = 1
    UNLOCKED = 2
    RANDOMNESS_COMMITTED = 3
    RANDOMNESS_REVEALED = 4
    WINNER_SELECTED = 5
    ENDED = 6
    CANCELLED = 7
    CLOSED = 8


class Reason(IntEnum):
    NONE = 0
    EXPIRED = 1
    PAUSED = 2
    MAX_REACHED = 4
    CANCELLED = 5
    ADMIN_CLOSED = 6


REFUNDABLE_REASONS = frozenset({Reason.CANCELLED, Reason.ADMIN_CLOSED, Reason.EXPIRED})


@dataclass
class Pool:
    """Field names and order as in the IDL's `Pool` type."""

    pool_id: int
    salt: bytes
    mint: Pubkey
    pool_token: Pubkey
    creator: Pubkey
    start_time: int
    duration: int
    expire_time: int
    end_time: int
    unlock_time: int
    close_time: int
    max_participants: int
    lock_duration: int
    lock_start_time: int
    amount: int
    total_amount: int
    total_volume: int
    total_joins: int
    total_donations: int
    dev_wallet: Pubkey
    dev_fee_bps: int
    burn_fee_bps: int
    treasury_wallet: Pubkey
    treasury_fee_bps: int
    randomness: int
    randomness_account: Pubkey
    randomness_deadline_slot: int
    bump: int
    status: PoolStatus
    paused: bool
    version: int
    schema: int
    config_hash: bytes
    allow_mock: bool
    randomness_commit_slot: int
    initialized: bool
    last_join_time: int
    status_reason: int
    participants_account: Pubkey
    winner: Pubkey
    processing: bool

    def signer_seeds(self) -> list[bytes]:
        """The seeds the program passes to `invoke_signed` for every outgoing token movement."""
        return [POOL_SEED, bytes(self.mint), self.salt, bytes([self.bump])]

    def expected_config_hash(self) -> bytes:
        return config_hash(self)


@dataclass
class Participants:
    """`slots` is the IDL's `list` field (renamed here only to keep Python's `list` usable)."""

    slots: list[Pubkey] = field(default_factory=lambda: [ZERO_KEY] * MAX_PARTICIPANTS)
    count: int = 0

    def members(self) -> list[Pubkey]:
        return self.slots[: self.count]


def decode_pool(idl: Idl, data: bytes) -> Pool:
    fields = idl.decode_account("Pool", data)
    fields["status"] = PoolStatus(idl.enum_variants("PoolStatus").index(fields["status"]))
    return Pool(**fields)


def encode_pool(idl: Idl, pool: Pool) -> bytes:
    fields: dict[str, Any] = {f.name: getattr(pool, f.name) for f in dataclasses.fields(pool)}
    fields["status"] = int(pool.status)
    data = idl.encode_account("Pool", fields)
    if len(data) != POOL_LEN:
        raise ValueError(f"Pool encodes to {len(data)} bytes, expected {POOL_LEN}")
    return data


def decode_participants(idl: Idl, data: bytes) -> Participants:
    fields = idl.decode_account("Participants", data)
    return Participants(slots=list(fields["list"]), count=fields["count"])


def encode_participants(idl: Idl, participants: Participants) -> bytes:
    data = idl.encode_account("Participants", {"list": participants.slots, "count": participants.count})
    if len(data) != PARTICIPANTS_LEN:
        raise ValueError(f"Participants encodes to {len(data)} bytes, expected {PARTICIPANTS_LEN}")
    return data


def config_hash(pool: Pool) -> bytes:
    """docs/program.md §2.5: sha256 over 135 bytes of the pool's configuration."""
    preimage = (
        pool.salt
        + struct.pack("<Bq", pool.max_participants, pool.lock_duration)
        + struct.pack("<Q", pool.amount)
        + bytes(pool.dev_wallet)
        + struct.pack("<HH", pool.dev_fee_bps, pool.burn_fee_bps)
        + bytes(pool.treasury_wallet)
        + struct.pack("<H", pool.treasury_fee_bps)
        + struct.pack("<qq", pool.start_time, pool.duration)
    )
    return hashlib.sha256(preimage).digest()


def compute_pool_id(salt: bytes, slot: int, creator: Pubkey) -> int:
    digest = hashlib.sha256(salt + struct.pack("<Q", slot) + bytes(creator)).digest()
    return int.from_bytes(digest[:8], "little")


def mock_randomness(pool_id: int, slot: int, creator: Pubkey) -> int:
    """The u128 the program derives for mock requests and emergency reveals (§4.1, §4.2)."""
    digest = hashlib.sha256(struct.pack("<QQ", pool_id, slot) + bytes(creator)).digest()
    return int.from_bytes(digest[:16], "little")


def winner_index(pool_id: int, randomness: int, count: int) -> int:
    """§4.3: only the low 16 bytes of the randomness matter."""
    digest = hashlib.sha256(struct.pack("<Q", pool_id) + randomness.to_bytes(16, "little")).digest()
    return int.from_bytes(digest[:8], "little") % count


@dataclass(frozen=True)
class PayoutSplit:
    winner: int
    dev: int
    burn: int
    treasury: int


def payout_split(total: int, dev_bps: int, burn_bps: int, treasury_bps: int) -> PayoutSplit | None:
    """§5.1: fees floor, the remainder goes to the winner. None where the program's checked arithmetic
    fails with Overflow (6009): a u64 product overflows, or the fees exceed the pot (the winner's share is
    a checked subtraction; only fees above 10 000 bps in all, which create refuses, can get there)."""
    if any(total * bps > U64_MAX for bps in (dev_bps, burn_bps, treasury_bps)):
        return None
    dev = total * dev_bps // 10_000
    burn = total * burn_bps // 10_000
    treasury = total * treasury_bps // 10_000
    if dev + burn + treasury > total:
        return None
    return PayoutSplit(winner=total - (dev + burn + treasury), dev=dev, burn=burn, treasury=treasury)


def creator_refund_burn(amount: int) -> int:
    """§5.3: the creator's refund loses 5 % (floor), burned."""
    return amount // 20


def pool_address(program_id: Pubkey, mint: Pubkey, salt: bytes) -> tuple[Pubkey, int]:
    return Pubkey.find_program_address([POOL_SEED, bytes(mint), salt], program_id)


def participants_address(program_id: Pubkey, pool: Pubkey) -> tuple[Pubkey, int]:
    return Pubkey.find_program_address([PARTICIPANTS_SEED, bytes(pool)], program_id)
