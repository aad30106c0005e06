"""Typed `Pool` and `Participants` accounts (docs/program.md §2.1-§2.3).

Decoding goes through the IDL codec (discriminator and exact size checked), so the same dataclass reads
the latest layout and, through a codec built from the seed-era IDL, the older 455-byte Pool.
"""

from __future__ import annotations

from dataclasses import dataclass, fields
from datetime import datetime

from solders.pubkey import Pubkey

from missout.chain.borsh import BorshValue
from missout.chain.pool_constants import MAX_PARTICIPANTS as MAX_PARTICIPANTS
from missout.chain.pool_constants import PoolStatus as PoolStatus
from missout.chain.pool_constants import StatusReason as StatusReason
from missout.chain.program import AccountDecodeError, ProgramCodec, shipped_codec
from missout.chain.values import as_bool, as_bytes, as_int, as_pubkey, as_pubkey_list, utc_from_unix

POOL_ACCOUNT = "Pool"
PARTICIPANTS_ACCOUNT = "Participants"


@dataclass(frozen=True, slots=True)
class PoolAccount:
    pool_id: int
    salt: bytes
    mint: Pubkey
    pool_token: Pubkey | None  # the vault; None only when read with a seed-era IDL (field did not exist)
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
    processing: bool = False  # latest layout only; always False between transactions

    @property
    def start_at(self) -> datetime | None:
        return utc_from_unix(self.start_time)

    @property
    def joins_close_at(self) -> datetime | None:
        """Last second a join or an Open-pool donation is accepted (`now <= start_time + duration`)."""
        return utc_from_unix(self.start_time + self.duration)

    @property
    def expire_at(self) -> datetime | None:
        return utc_from_unix(self.expire_time)

    @property
    def lock_start_at(self) -> datetime | None:
        return utc_from_unix(self.lock_start_time)

    @property
    def lock_end_at(self) -> datetime | None:
        """When `unlock_pool` becomes possible; None until the pool has filled."""
        if self.lock_start_time == 0:
            return None
        return utc_from_unix(self.lock_start_time + self.lock_duration)

    @property
    def unlock_at(self) -> datetime | None:
        return utc_from_unix(self.unlock_time)

    @property
    def end_at(self) -> datetime | None:
        return utc_from_unix(self.end_time)

    @property
    def close_at(self) -> datetime | None:
        return utc_from_unix(self.close_time)

    @property
    def last_join_at(self) -> datetime | None:
        return utc_from_unix(self.last_join_time)


@dataclass(frozen=True, slots=True)
class ParticipantsAccount:
    slots: tuple[Pubkey, ...]  # all 20 slots as stored; only the first `count` are meaningful
    count: int

    @property
    def wallets(self) -> tuple[Pubkey, ...]:
        return self.slots[: self.count]


def decode_pool(data: bytes, codec: ProgramCodec | None = None) -> PoolAccount:
    """Pool account bytes → `PoolAccount`; raises `AccountDecodeError` for anything else."""
    values = (codec or shipped_codec()).decode_account(POOL_ACCOUNT, data)
    try:
        return _pool_from_values(values)
    except (KeyError, TypeError, ValueError) as exc:
        raise AccountDecodeError(f"Pool: {exc}") from exc


def encode_pool(pool: PoolAccount, codec: ProgramCodec | None = None) -> bytes:
    """Inverse of `decode_pool` (fields the codec's IDL lacks, e.g. seed-era `pool_token`, are dropped)."""
    active = codec or shipped_codec()
    wanted = active.field_offsets(POOL_ACCOUNT).keys()
    values: dict[str, BorshValue] = {}
    for field in fields(pool):
        if field.name in wanted:
            value = getattr(pool, field.name)
            values[field.name] = int(value) if isinstance(value, PoolStatus) else value
    return active.encode_account(POOL_ACCOUNT, values)


def decode_participants(data: bytes, codec: ProgramCodec | None = None) -> ParticipantsAccount:
    values = (codec or shipped_codec()).decode_account(PARTICIPANTS_ACCOUNT, data)
    try:
        slots = as_pubkey_list(values, "list")
        count = as_int(values, "count")
        if count > len(slots):
            raise ValueError(f"count {count} exceeds {len(slots)} slots")
    except (KeyError, TypeError, ValueError) as exc:
        raise AccountDecodeError(f"Participants: {exc}") from exc
    return ParticipantsAccount(slots=slots, count=count)


def encode_participants(participants: ParticipantsAccount, codec: ProgramCodec | None = None) -> bytes:
    values: dict[str, BorshValue] = {"list": list(participants.slots), "count": participants.count}
    return (codec or shipped_codec()).encode_account(PARTICIPANTS_ACCOUNT, values)


def _pool_from_values(values: dict[str, BorshValue]) -> PoolAccount:
    return PoolAccount(
        pool_id=as_int(values, "pool_id"),
        salt=as_bytes(values, "salt"),
        mint=as_pubkey(values, "mint"),
        pool_token=as_pubkey(values, "pool_token") if "pool_token" in values else None,
        creator=as_pubkey(values, "creator"),
        start_time=as_int(values, "start_time"),
        duration=as_int(values, "duration"),
        expire_time=as_int(values, "expire_time"),
        end_time=as_int(values, "end_time"),
        unlock_time=as_int(values, "unlock_time"),
        close_time=as_int(values, "close_time"),
        max_participants=as_int(values, "max_participants"),
        lock_duration=as_int(values, "lock_duration"),
        lock_start_time=as_int(values, "lock_start_time"),
        amount=as_int(values, "amount"),
        total_amount=as_int(values, "total_amount"),
        total_volume=as_int(values, "total_volume"),
        total_joins=as_int(values, "total_joins"),
        total_donations=as_int(values, "total_donations"),
        dev_wallet=as_pubkey(values, "dev_wallet"),
        dev_fee_bps=as_int(values, "dev_fee_bps"),
        burn_fee_bps=as_int(values, "burn_fee_bps"),
        treasury_wallet=as_pubkey(values, "treasury_wallet"),
        treasury_fee_bps=as_int(values, "treasury_fee_bps"),
        randomness=as_int(values, "randomness"),
        randomness_account=as_pubkey(values, "randomness_account"),
        randomness_deadline_slot=as_int(values, "randomness_deadline_slot"),
        bump=as_int(values, "bump"),
        status=PoolStatus(as_int(values, "status")),
        paused=as_bool(values, "paused"),
        version=as_int(values, "version"),
        schema=as_int(values, "schema"),
        config_hash=as_bytes(values, "config_hash"),
        allow_mock=as_bool(values, "allow_mock"),
        randomness_commit_slot=as_int(values, "randomness_commit_slot"),
        initialized=as_bool(values, "initialized"),
        last_join_time=as_int(values, "last_join_time"),
        status_reason=as_int(values, "status_reason"),
        participants_account=as_pubkey(values, "participants_account"),
        winner=as_pubkey(values, "winner"),
        processing=as_bool(values, "processing") if "processing" in values else False,
    )
