"""Response shapes. Amounts are decimal strings of base units (u64 does not fit a JSON number safely in
JavaScript); times are ISO 8601 in UTC with an explicit offset."""

from __future__ import annotations

import warnings
from datetime import datetime
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field
from pydantic.config import JsonDict
from pydantic.warnings import UnsupportedFieldAttributeWarning


class ApiModel(BaseModel):
    """The base of every request and response model of the API. `defer_build`: pydantic builds a model's
    validator and serializer on its first use, not when the class is created, and FastAPI's adapters for a
    route's body and response (built when the route is registered) inherit the deferral. A cold start then
    builds only the models of the route it serves instead of all of them (about 55 models; measured in
    bench/figures/cold_start.py). SnapStart's `before_snapshot` builds them all
    (`snapstart.build_api_models`: `app.openapi()` builds the routes' adapters, not every model)."""

    model_config = ConfigDict(defer_build=True)


# FastAPI adapts a route's body as `Annotated[Model, Field(alias=<parameter>, default=...)]` and silences this
# pydantic warning (those attributes mean nothing outside a model) while it builds the adapter. Deferred, the
# adapter is built on the route's first request, outside FastAPI's silence; the same warning is silenced here.
warnings.filterwarnings(
    "ignore", r"The '(alias|default)' attribute with value", UnsupportedFieldAttributeWarning
)


class DatabaseStatus(ApiModel):
    reachable: bool
    latency_ms: float
    server_version: str | None
    pgbouncer: bool = Field(description="true when the app reaches PostgreSQL through a transaction pooler")
    pooler_reason: str
    target: str


class Health(ApiModel):
    status: Literal["ok"]
    time: datetime
    database: DatabaseStatus


# The database's status names (missout.pools.status.POOL_STATUSES; a test keeps the two equal).
StatusName = Literal[
    "open",
    "locked",
    "unlocked",
    "randomness_committed",
    "randomness_revealed",
    "winner_selected",
    "ended",
    "cancelled",
    "closed",
]


class MintOut(ApiModel):
    address: str
    decimals: int
    symbol: str | None


class FeesOut(ApiModel):
    dev_bps: int
    burn_bps: int
    treasury_bps: int


class PoolOut(ApiModel):
    id: int
    address: str
    mint: MintOut
    creator: str
    status: str
    entry_amount: str = Field(description="base units, decimal string")
    total_amount: str = Field(description="base units, decimal string")
    donated_amount: str = Field(description="base units, decimal string")
    max_participants: int
    participants_count: int
    lock_duration_seconds: int
    fees: FeesOut
    winner: str | None
    start_time: datetime
    lock_start_time: datetime | None
    end_time: datetime | None
    created_at: datetime
    unpayable_reason: str | None = Field(description="why the pool can never pay out, if it cannot")


class PoolList(ApiModel):
    items: list[PoolOut]
    next_cursor: str | None = Field(description="pass as `cursor` for the next page; null on the last page")


# -- reporting -----------------------------------------------------------------------------------------

BASE58_KEY = r"^[1-9A-HJ-NP-Za-km-z]{32,44}$"
BASE58_SIGNATURE = r"^[1-9A-HJ-NP-Za-km-z]{64,88}$"
AMOUNT = r"^[0-9]{1,20}$"


# Formats name what the patterns cannot say: a signature is base58 of exactly 64 bytes, a key of 32.
_SIGNATURE: JsonDict = {"format": "solana-signature"}
_KEY: JsonDict = {"format": "solana-pubkey"}


class _Reported(ApiModel):
    """What a client reports after an on-chain action. It only names what to prove: nothing in it is
    recorded, every recorded value comes from the verified transaction and the accounts on chain."""

    model_config = {"extra": "forbid"}

    signature: str = Field(
        pattern=BASE58_SIGNATURE,
        json_schema_extra=_SIGNATURE,
        description="the transaction's first signature (base58 of 64 bytes)",
    )
    wallet: str = Field(pattern=BASE58_KEY, json_schema_extra=_KEY, description="the wallet that signed")


class PlainReport(_Reported):
    """cancel, claim-rent: nothing to claim but the action itself."""


class EntryReport(_Reported):
    """join, claim-refund: the amount is optional and, when given, must be what the chain moved."""

    amount: str | None = Field(default=None, pattern=AMOUNT, description="base units, decimal string")


class DonationReport(_Reported):
    amount: str = Field(pattern=AMOUNT, description="base units donated, decimal string")


class PoolReport(ApiModel):
    """`POST /api/pools` after `create_pool`."""

    model_config = {"extra": "forbid"}

    pool: str = Field(pattern=BASE58_KEY, json_schema_extra=_KEY, description="the Pool account created")
    signature: str = Field(pattern=BASE58_SIGNATURE, json_schema_extra=_SIGNATURE)
    wallet: str = Field(
        pattern=BASE58_KEY, json_schema_extra=_KEY, description="the creator (signer of create_pool)"
    )


class ActionRecordOut(ApiModel):
    signature: str
    action: Literal["create", "join", "donate", "cancel", "claim-refund", "claim-rent"]
    pool_id: int
    pool: str
    wallet: str
    amount: str = Field(description="base units moved by the action (0 for cancel and claim-rent)")
    slot: int
    block_time: datetime
    recorded_at: datetime
    pool_unpayable_reason: str | None = Field(
        default=None,
        description="the action is recorded, but this pool can never pay out, and why "
        "(vault_mismatch, pot_overflow, randomness_deadline_missed, paused_cancelled)",
    )


class PendingOut(ApiModel):
    status: Literal["pending"]
    detail: str
    retry_after_s: int


class FieldErrorOut(ApiModel):
    field: str
    # `in` is a Python keyword; the JSON name stays `in`.
    in_: str = Field(alias="in", description="where the field was: path, query, body")
    message: str


class Problem(ApiModel):
    """RFC 9457 problem details; extension members depend on the problem `type`."""

    model_config = {"extra": "allow"}

    type: str
    title: str
    status: int
    detail: str
    instance: str
    request_id: str | None = None
    errors: list[FieldErrorOut] | None = Field(default=None, description="invalid-request: the fields")
    reason: str | None = Field(default=None, description="rejected-report: the verifier's typed reason")
    first_use: ActionRecordOut | None = Field(default=None, description="signature-used: its first use")
    dependency: str | None = Field(default=None, description="dependency-unavailable: database or chain")


# -- detail, claimable, fairness ---------------------------------------------------------------------------


class ParticipantOut(ApiModel):
    seat: int | None = Field(description="index in the on-chain list (0 = creator); null once refunded")
    wallet: str
    display_name: str | None = Field(description="the wallet's nickname from its profile, if any")
    joined_at: datetime | None
    join_signature: str | None
    refund_claimed: bool


class ActivityOut(ApiModel):
    kind: str
    wallet: str
    amount: str = Field(description="base units, decimal string")
    signature: str
    slot: int
    block_time: datetime


class PayoutOut(ApiModel):
    winner: str
    winner_amount: str
    dev_amount: str
    burn_amount: str
    treasury_amount: str
    referral_amount: str
    total_amount: str
    signature: str
    block_time: datetime


class PoolDetailOut(PoolOut):
    status_reason: int
    paused: bool
    allow_mock: bool
    expire_time: datetime | None
    unlock_time: datetime | None
    close_time: datetime | None
    randomness_account: str | None
    rent_claimed: bool
    create_signature: str
    synced_slot: int = Field(description="the chain slot this record reflects")
    participants: list[ParticipantOut] = Field(description="on-chain order first, then refunded wallets")
    donations: list[ActivityOut]
    activity: list[ActivityOut] = Field(description="newest first, at most 100")
    payout: PayoutOut | None


class ClaimableOut(ApiModel):
    refunds: list[PoolOut]
    rents: list[PoolOut]


class FairnessOut(ApiModel):
    pool: str
    pool_id: str = Field(description="the program's u64 pool_id, decimal string")
    status: str
    randomness_account: str | None = Field(description="the Switchboard account bound at request_randomness")
    randomness_hex: str = Field(description="the 16 bytes of randomness the draw used (little-endian u128)")
    revealed_value_hex: str | None = Field(
        description="the randomness account's full 32-byte value, if readable"
    )
    reveal_slot: int | None = Field(
        description="the slot the randomness account was revealed at, if readable"
    )
    participants: list[str] = Field(description="the on-chain list at the draw, in order")
    formula: str
    normalized: str = Field(description="u64, decimal string")
    index: int
    winner: str = Field(description="the recomputed winner")
    stored_winner: str = Field(description="the winner the program stored")
    matches: bool
