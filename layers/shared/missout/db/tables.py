"""The schema as SQLAlchemy Core tables: the single source Alembic compares migrations against.

Re-design of the original's nine tables (docs/original-backend.md §2) with the fixes §10 asks
for: token amounts are integers in base units (`NUMERIC(20,0)` holds any u64; running totals that may exceed
one u64 use `NUMERIC(39,0)`), decimals live once per mint, every time is `timestamptz`, every reference is a
foreign key, every status is closed by a CHECK, and every replay or duplicate is stopped by a UNIQUE key
rather than a check-then-insert (W6, W12, W15, W24).
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import (
    BigInteger,
    Boolean,
    CheckConstraint,
    Column,
    DateTime,
    ForeignKey,
    ForeignKeyConstraint,
    Identity,
    Index,
    Integer,
    LargeBinary,
    MetaData,
    Numeric,
    PrimaryKeyConstraint,
    SmallInteger,
    Table,
    Text,
    TypeDecorator,
    UniqueConstraint,
    func,
    text,
)
from sqlalchemy.engine import Dialect

from missout.chain.pool_constants import MAX_PARTICIPANTS
from missout.chain.send.outcome import LIVE_INTENT_STATUSES, IntentStatus

# Pool statuses and reasons are defined once, next to their on-chain twins (re-exported for older callers).
from missout.pools.status import POOL_STATUSES as POOL_STATUSES
from missout.pools.status import STATUS_REASONS, UNPAYABLE_REASONS
from missout.pools.status import TERMINAL_POOL_STATUSES as TERMINAL_POOL_STATUSES

# Deterministic constraint names: migrations can refer to them and `alembic check` stays stable.
metadata = MetaData(
    naming_convention={
        "ix": "ix_%(table_name)s_%(column_0_N_name)s",
        "uq": "uq_%(table_name)s_%(column_0_N_name)s",
        "ck": "ck_%(table_name)s_%(constraint_name)s",
        "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
        "pk": "pk_%(table_name)s",
    }
)

U64_MAX = 18_446_744_073_709_551_615
ACTIONS = ("create_pool", "join_pool", "donate", "cancel_pool", "claim_refund", "claim_rent")
ACTIVITY_KINDS = (*ACTIONS, "payout")
REFERRAL_CLAIM_STATUSES = ("pending", "sending", "completed", "failed")
OPEN_REFERRAL_CLAIM_STATUSES = ("pending", "sending")
_BASE58_KEY = "'^[1-9A-HJ-NP-Za-km-z]{32,44}$'"
_BASE58_SIGNATURE = "'^[1-9A-HJ-NP-Za-km-z]{64,88}$'"


def _in(column: str, values: tuple[str, ...]) -> str:
    return f"{column} IN ({', '.join(repr(v) for v in values)})"


class BaseUnits(TypeDecorator[int]):
    """Token amounts: NUMERIC in SQL, `int` in Python. Never float (plain `Numeric(asdecimal=False)` would
    return a float and silently round anything above 2**53)."""

    impl = Numeric
    cache_ok = True

    def __init__(self, digits: int) -> None:
        super().__init__(precision=digits, scale=0)

    def process_bind_param(self, value: int | None, dialect: Dialect) -> int | None:
        if value is not None and (isinstance(value, bool) or not isinstance(value, int)):
            raise TypeError(f"token amounts are integers in base units, got {type(value).__name__}")
        return value

    def process_result_value(self, value: Any, dialect: Dialect) -> int | None:
        return None if value is None else int(value)


# Column helpers return the column and its CHECK as a pair, unpacked into the table with `*`: table-level
# checks are what Alembic's autogenerate renders, so the migration and this module cannot drift apart.
Checked = tuple[Column[Any], CheckConstraint]


def _key(name: str, *extra: ForeignKey, nullable: bool = False, primary_key: bool = False) -> Checked:
    """A base58 public key (wallet, mint, account): shape checked so garbage never lands in a join column."""
    check = CheckConstraint(f"{name} ~ {_BASE58_KEY}", name=f"{name}_base58")
    return Column(name, Text, *extra, nullable=nullable, primary_key=primary_key), check


def _signature(name: str, *, nullable: bool = False, primary_key: bool = False) -> Checked:
    check = CheckConstraint(f"{name} ~ {_BASE58_SIGNATURE}", name=f"{name}_base58")
    return Column(name, Text, nullable=nullable, primary_key=primary_key), check


def _mint_key(name: str = "mint") -> Checked:
    return _key(name, ForeignKey("mints.address"))


def _u64(name: str, *, positive: bool = False, default: int | None = 0) -> Checked:
    low = "> 0" if positive else ">= 0"
    column: Column[Any] = Column(
        name,
        BaseUnits(20),
        nullable=False,
        server_default=None if default is None else text(str(default)),
    )
    return column, CheckConstraint(f"{name} {low} AND {name} <= {U64_MAX}", name=f"{name}_u64")


def _total(name: str) -> Checked:
    """A running sum of u64 amounts, which may itself exceed u64."""
    column: Column[Any] = Column(name, BaseUnits(39), nullable=False, server_default=text("0"))
    return column, CheckConstraint(f"{name} >= 0", name=f"{name}_non_negative")


def _created_at() -> Column[object]:
    return Column("created_at", DateTime(timezone=True), nullable=False, server_default=func.now())


def _updated_at() -> Column[object]:
    return Column("updated_at", DateTime(timezone=True), nullable=False, server_default=func.now())


def _bps(name: str) -> Checked:
    column: Column[Any] = Column(name, SmallInteger, nullable=False, server_default=text("0"))
    return column, CheckConstraint(f"{name} BETWEEN 0 AND 10000", name=f"{name}_range")


def _enum(name: str, values: tuple[str, ...], *, default: str | None = None) -> Checked:
    """Text with a closed set of values: readable in SQL, extendable by a migration without a type change."""
    column: Column[Any] = Column(
        name, Text, nullable=False, server_default=None if default is None else text(repr(default))
    )
    return column, CheckConstraint(_in(name, values), name=f"{name}_known")


def _ranged(name: str, type_: type[SmallInteger] | type[Integer], low: int, high: int) -> Checked:
    column: Column[Any] = Column(name, type_, nullable=False)
    return column, CheckConstraint(f"{name} BETWEEN {low} AND {high}", name=f"{name}_range")


# Decimals belong to the mint, not to each pool or amount: amounts stay integers and display divides once.
mints = Table(
    "mints",
    metadata,
    *_key("address", primary_key=True),
    *_enum("token_program", ("spl-token", "token-2022")),
    *_ranged("decimals", SmallInteger, 0, 255),
    Column("symbol", Text, nullable=True),
    Column("name", Text, nullable=True),
    _created_at(),
)

# Pools that are not closed: the address is unique among them (a closed pool's PDA may be re-created, §2.4),
# and the monitor only ever looks at them.
_LIVE_POOL = f"status NOT IN ({', '.join(repr(s) for s in TERMINAL_POOL_STATUSES)})"
_NEWEST_FIRST = (text("created_at DESC"), text("id DESC"))

pools = Table(
    "pools",
    metadata,
    Column("id", BigInteger, Identity(), primary_key=True),
    *_key("pool_address"),
    *_mint_key(),
    *_key("creator_wallet"),
    *_u64("entry_amount", positive=True, default=None),
    *_ranged("max_participants", SmallInteger, 2, 20),
    Column("participants_count", SmallInteger, nullable=False, server_default=text("0")),
    *_ranged("lock_duration_seconds", Integer, 60, 43_200),
    *_enum("status", POOL_STATUSES),
    Column("status_reason", SmallInteger, nullable=False, server_default=text("0")),
    CheckConstraint(f"status_reason IN ({', '.join(map(str, STATUS_REASONS))})", name="status_reason_known"),
    Column("paused", Boolean, nullable=False, server_default=text("false")),
    *_u64("total_amount"),  # the vault's bookkeeping total on chain (entries + donations), base units
    *_u64("donated_amount"),
    *_bps("dev_fee_bps"),
    *_bps("burn_fee_bps"),
    *_bps("treasury_fee_bps"),
    Column("allow_mock", Boolean, nullable=False, server_default=text("false")),
    *_key("winner_wallet", nullable=True),
    *_key("randomness_account", nullable=True),
    Column("start_time", DateTime(timezone=True), nullable=False),
    Column("expire_time", DateTime(timezone=True), nullable=True),
    Column("lock_start_time", DateTime(timezone=True), nullable=True),
    Column("unlock_time", DateTime(timezone=True), nullable=True),
    Column("end_time", DateTime(timezone=True), nullable=True),
    Column("close_time", DateTime(timezone=True), nullable=True),
    Column("randomness_commit_slot", BigInteger, nullable=True),
    # The pool's identity: its create transaction (the address can be re-used once the pool is closed).
    *_signature("create_signature"),
    Column("rent_claimed", Boolean, nullable=False, server_default=text("false")),
    # The slot of the chain state this row mirrors: a sync never overwrites newer state with older.
    Column("synced_slot", BigInteger, nullable=False, server_default=text("0")),
    # When the monitor should look at this pool again (NULL: nothing to do until something changes).
    Column("next_check_at", DateTime(timezone=True), nullable=True, server_default=func.now()),
    # The monitor's lease: the run `leased_by` works on this pool until `lease_until`; a crashed run's lease
    # simply runs out. Committed at once, so no database transaction stays open across an RPC call.
    Column("lease_until", DateTime(timezone=True), nullable=True),
    Column("leased_by", Text, nullable=True),
    # Consecutive failed ticks on this pool: the monitor backs off on it instead of hammering the chain.
    Column("failure_count", Integer, nullable=False, server_default=text("0")),
    CheckConstraint("failure_count >= 0", name="failure_count_non_negative"),
    # A permanent dead end on chain (docs/program.md §5.2, §9.2): shown to players, never cranked into.
    Column("unpayable_reason", Text, nullable=True),
    CheckConstraint(_in("unpayable_reason", UNPAYABLE_REASONS), name="unpayable_reason_known"),
    # Free text for people: why the monitor cannot make progress right now (not a closed set on purpose).
    Column("stuck_reason", Text, nullable=True),
    _created_at(),
    _updated_at(),
    UniqueConstraint("create_signature"),
    UniqueConstraint("id", "mint"),  # target of the composite keys that tie a ledger row's mint to its pool's
    CheckConstraint("participants_count BETWEEN 0 AND max_participants", name="participants_count_range"),
    Index("uq_pools_pool_address_live", "pool_address", unique=True, postgresql_where=text(_LIVE_POOL)),
    Index("ix_pools_pool_address_created_at", "pool_address", text("created_at DESC")),
    # The pool list pages newest first, with or without one filter: each is one index range scan.
    Index("ix_pools_created_at_id", *_NEWEST_FIRST),
    Index("ix_pools_status_created_at_id", "status", *_NEWEST_FIRST),
    Index("ix_pools_mint_created_at_id", "mint", *_NEWEST_FIRST),
    Index("ix_pools_creator_wallet_created_at_id", "creator_wallet", *_NEWEST_FIRST),
    # The monitor's lease query: live pools whose check time has passed, oldest first.
    Index(
        "ix_pools_due_next_check_at_id",
        "next_check_at",
        "id",
        postgresql_where=text(f"next_check_at IS NOT NULL AND {_LIVE_POOL}"),
    ),
    # Leases held right now (monitor status, expiry): a few rows, never the whole table.
    Index("ix_pools_leased_lease_until", "lease_until", postgresql_where=text("lease_until IS NOT NULL")),
)

participants = Table(
    "participants",
    metadata,
    Column("id", BigInteger, Identity(), primary_key=True),
    Column("pool_id", BigInteger, ForeignKey("pools.id", ondelete="RESTRICT"), nullable=False),
    *_key("wallet"),
    # Index in the on-chain Participants list (0 is the creator, docs/program.md §2.2); NULL once the wallet
    # left the list (refunded). The key is DEFERRABLE so one UPDATE can permute the whole order: an immediate
    # unique key is checked row by row and would trip over the permutation half-way.
    Column("seat", SmallInteger, nullable=True),
    CheckConstraint(f"seat BETWEEN 0 AND {MAX_PARTICIPANTS - 1}", name="seat_range"),
    # Known once the join is reported; a seat found on chain by the monitor first has none yet.
    *_signature("join_signature", nullable=True),
    Column("joined_at", DateTime(timezone=True), nullable=True),
    Column("refund_claimed", Boolean, nullable=False, server_default=text("false")),
    *_signature("refund_signature", nullable=True),
    _created_at(),
    UniqueConstraint("pool_id", "wallet"),
    UniqueConstraint("pool_id", "seat", deferrable=True, initially="IMMEDIATE"),
    UniqueConstraint("refund_signature"),
    # "Pools this wallet is in": the pool ids come from the index alone.
    Index("ix_participants_wallet_pool_id", "wallet", "pool_id"),
)

# Activity ledger for history and leaderboards: what happened, in base units, proven on chain.
activity = Table(
    "activity",
    metadata,
    Column("id", BigInteger, Identity(), primary_key=True),
    Column("pool_id", BigInteger, ForeignKey("pools.id", ondelete="RESTRICT"), nullable=False),
    *_key("wallet"),
    *_enum("kind", ACTIVITY_KINDS),
    *_u64("amount"),
    *_signature("signature"),
    Column("slot", BigInteger, nullable=False),
    Column("block_time", DateTime(timezone=True), nullable=False),
    _created_at(),
    # One row per (transaction, pool, kind, wallet): one transaction may act on two pools, and a payout
    # credits several wallets.
    UniqueConstraint("signature", "pool_id", "kind", "wallet"),
    Index("ix_activity_pool_id_block_time", "pool_id", text("block_time DESC")),
    Index("ix_activity_wallet_block_time_id", "wallet", text("block_time DESC"), text("id DESC")),  # 0004
)

# The replay guard: a signature proves one action on one pool, once. One transaction may hold two real
# actions (join A + donate B): each is recorded once, and the same (signature, action, pool) again is a
# replay. Inserted in the same database transaction as the action's effects, so a replay fails on the
# primary key, never on a racy read.
used_signatures = Table(
    "used_signatures",
    metadata,
    *_signature("signature"),
    *_enum("action", ACTIONS),
    Column("pool_id", BigInteger, ForeignKey("pools.id", ondelete="RESTRICT"), nullable=False),
    *_key("wallet"),
    Column("slot", BigInteger, nullable=False),
    Column("used_at", DateTime(timezone=True), nullable=False, server_default=func.now()),
    PrimaryKeyConstraint("signature", "action", "pool_id"),
    Index("ix_used_signatures_pool_id", "pool_id"),
    Index("ix_used_signatures_used_at", "used_at"),  # retention sweeps
)

# One payout per pool, as the program made it (docs/program.md §5.1): the parts sum to the pot exactly.
# `referral_amount` is 0 while the program pays no referrals (our referral share is allocated off chain from
# the treasury's part); it is a column so that the sum stays the whole truth if that ever changes.
pool_payouts = Table(
    "pool_payouts",
    metadata,
    Column("pool_id", BigInteger, primary_key=True),
    *_key("mint"),
    *_signature("signature"),
    *_key("winner"),
    *_u64("winner_amount", default=None),
    *_u64("dev_amount", default=None),
    *_u64("burn_amount", default=None),
    *_u64("treasury_amount", default=None),
    *_u64("referral_amount"),
    *_u64("total_amount", positive=True, default=None),
    Column("slot", BigInteger, nullable=False),
    Column("block_time", DateTime(timezone=True), nullable=False),
    _created_at(),
    ForeignKeyConstraint(["pool_id", "mint"], ["pools.id", "pools.mint"], ondelete="RESTRICT"),
    UniqueConstraint("signature"),
    CheckConstraint(
        "winner_amount + dev_amount + burn_amount + treasury_amount + referral_amount = total_amount",
        name="parts_sum_to_total",
    ),
    Index("ix_pool_payouts_winner", "winner"),
    Index("ix_pool_payouts_block_time", text("block_time DESC")),  # the latest-winners feed
)

# Per (winner, mint) totals, kept in the payout's own transaction: a leaderboard page reads a few index
# entries instead of aggregating every payout (bench/query_bench.py measures both).
winner_totals = Table(
    "winner_totals",
    metadata,
    *_key("wallet"),
    *_mint_key(),
    Column("wins", Integer, nullable=False),
    CheckConstraint("wins >= 1", name="wins_positive"),
    *_total("total_won"),
    *_u64("biggest_win", default=None),
    Column("last_win_at", DateTime(timezone=True), nullable=False),
    PrimaryKeyConstraint("wallet", "mint"),
    Index("ix_winner_totals_total_won", text("total_won DESC"), "wallet", "mint"),
    Index("ix_winner_totals_mint_total_won", "mint", text("total_won DESC"), "wallet"),
)

profiles = Table(
    "profiles",
    metadata,
    *_key("wallet", primary_key=True),
    Column("nickname", Text, nullable=True),
    CheckConstraint("nickname ~ '^[A-Za-z0-9_]{3,20}$'", name="nickname_shape"),
    Column("avatar_url", Text, nullable=True),
    Column("avatar_style", Text, nullable=False, server_default=text("'bottts'")),
    Column("nickname_change_count", Integer, nullable=False, server_default=text("0")),
    Column("last_nickname_change", DateTime(timezone=True), nullable=True),
    _created_at(),
    _updated_at(),
    # Nicknames are unique regardless of case (W27): "Alice" and "alice" are the same person to a reader.
    Index("uq_profiles_nickname_lower", text("lower(nickname)"), unique=True),
)

referral_relations = Table(
    "referral_relations",
    metadata,
    Column("id", BigInteger, Identity(), primary_key=True),
    *_key("referred_wallet"),
    *_key("referrer_wallet"),
    *_enum("source", ("link", "code", "manual"), default="link"),
    _created_at(),
    UniqueConstraint("referred_wallet"),  # a wallet is referred once, forever
    CheckConstraint("referred_wallet <> referrer_wallet", name="not_self"),
    Index("ix_referral_relations_referrer_wallet", "referrer_wallet"),
)

referral_rewards = Table(
    "referral_rewards",
    metadata,
    Column("id", BigInteger, Identity(), primary_key=True),
    *_key("referrer_wallet"),
    *_mint_key(),
    *_total("amount_pending"),
    *_total("amount_claimed"),
    _updated_at(),
    UniqueConstraint("referrer_wallet", "mint"),
)

# A pool's referral share is allocated at most once: the run whose `INSERT ... ON CONFLICT DO NOTHING
# RETURNING` returns the row writes the events and adds to pending; every other run sees nothing returned.
referral_allocations = Table(
    "referral_allocations",
    metadata,
    Column("pool_id", BigInteger, primary_key=True),
    *_key("mint"),
    *_u64("total", default=None),  # the sum of this pool's events (0 when nobody was referred)
    _created_at(),
    ForeignKeyConstraint(["pool_id", "mint"], ["pools.id", "pools.mint"], ondelete="RESTRICT"),
    UniqueConstraint("pool_id", "mint"),  # target of the events' composite key
)

referral_reward_events = Table(
    "referral_reward_events",
    metadata,
    Column("id", BigInteger, Identity(), primary_key=True),
    Column("pool_id", BigInteger, nullable=False),
    *_key("mint"),
    *_key("referrer_wallet"),
    *_u64("amount", positive=True, default=None),
    _created_at(),
    # Through the allocation to the pool: an event exists only inside its pool's one allocation, and its
    # mint is the pool's mint.
    ForeignKeyConstraint(
        ["pool_id", "mint"],
        ["referral_allocations.pool_id", "referral_allocations.mint"],
        ondelete="RESTRICT",
    ),
    UniqueConstraint("pool_id", "referrer_wallet"),
    Index("ix_referral_reward_events_referrer_wallet", "referrer_wallet"),
)

referral_claims = Table(
    "referral_claims",
    metadata,
    Column("id", BigInteger, Identity(), primary_key=True),
    *_key("referrer_wallet"),
    *_mint_key(),
    *_u64("amount", positive=True, default=None),
    *_enum("status", REFERRAL_CLAIM_STATUSES, default="pending"),
    *_signature("signature", nullable=True),
    Column("error", Text, nullable=True),
    _created_at(),
    _updated_at(),
    Column("completed_at", DateTime(timezone=True), nullable=True),
    # 0004: the payout's signed transaction, kept so a resumed run resends the same bytes (one signature,
    # at most one execution) and re-signs (attempt + 1) only after that blockhash provably expired.
    Column("raw_transaction", LargeBinary, nullable=True),
    Column("last_valid_block_height", BigInteger, nullable=True),
    Column("attempt", Integer, nullable=False, server_default=text("0")),
    CheckConstraint("attempt >= 0", name="attempt_non_negative"),
    Column("lease_until", DateTime(timezone=True), nullable=True),  # the monitor run paying it owns it until
    UniqueConstraint("signature"),
    Index("ix_referral_claims_referrer_wallet", "referrer_wallet"),
    Index("ix_referral_claims_mint_completed_at", "mint", "completed_at"),  # 0004: the per-day payout cap
    # At most one open claim per (referrer, mint); the payout worker's poll of open claims uses it too.
    Index(
        "uq_referral_claims_open_referrer_wallet_mint",
        "referrer_wallet",
        "mint",
        unique=True,
        postgresql_where=text(_in("status", OPEN_REFERRAL_CLAIM_STATUSES)),
    ),
)

# 0004: a presigned avatar upload; the profile points at the object only once the API checked it.
avatar_uploads = Table(
    "avatar_uploads",
    metadata,
    Column("upload_id", Text, primary_key=True),
    CheckConstraint("upload_id ~ '^[0-9a-f]{32}$'", name="upload_id_hex"),
    *_key("wallet"),
    Column("object_key", Text, nullable=False),
    Column("expires_at", DateTime(timezone=True), nullable=False),
    Column("confirmed_at", DateTime(timezone=True), nullable=True),
    _created_at(),
    UniqueConstraint("object_key"),
    Index("ix_avatar_uploads_wallet", "wallet"),
)

# 0004: the leaderboards' own tables, kept by triggers in the transaction of the rows they count (migration
# 0004 holds the trigger functions), each with the index its board reads in order.
winner_counts = Table(
    "winner_counts",
    metadata,
    Column("wallet", Text, primary_key=True),
    Column("wins", Integer, nullable=False),  # the sum of winner_totals.wins over the wallet's mints
    Index("ix_winner_counts_wins", text("wins DESC"), "wallet"),
)
referrer_counts = Table(
    "referrer_counts",
    metadata,
    Column("wallet", Text, primary_key=True),
    Column("invited", Integer, nullable=False),  # referral_relations rows naming the wallet as referrer
    Index("ix_referrer_counts_invited", text("invited DESC"), "wallet"),
)
referrer_mint_totals = Table(
    "referrer_mint_totals",
    metadata,
    Column("mint", Text, primary_key=True),
    Column("referrer_wallet", Text, primary_key=True),
    Column("pools", Integer, nullable=False),  # referral_reward_events rows (one per pool)
    Column("earned", BaseUnits(39), nullable=False),  # their sum
    Index("ix_referrer_mint_totals_mint_earned", "mint", text("earned DESC"), "referrer_wallet"),
)

# Fixed-window rate limits, one upsert per request. UNLOGGED: no WAL for a counter nobody needs after a crash
# (an unclean restart empties it, which only forgives a few requests).
rate_limit_hits = Table(
    "rate_limit_hits",
    metadata,
    Column("key", Text, primary_key=True),
    Column("window_start", DateTime(timezone=True), primary_key=True),
    Column("hits", Integer, nullable=False, server_default=text("1")),
    CheckConstraint("hits >= 1", name="hits_positive"),
    CheckConstraint("char_length(key) <= 200", name="key_length"),
    Index("ix_rate_limit_hits_window_start", "window_start"),  # the monitor's sweep of old windows
    prefixes=["UNLOGGED"],
)

# Single-use nonces for signed messages: consumed by `UPDATE ... WHERE used_at IS NULL AND expires_at > now()
# RETURNING`, so of two concurrent uses exactly one gets the row back.
auth_nonces = Table(
    "auth_nonces",
    metadata,
    Column("nonce", Text, primary_key=True),
    CheckConstraint("nonce ~ '^[A-Za-z0-9_-]{16,128}$'", name="nonce_shape"),
    *_key("wallet"),
    Column("purpose", Text, nullable=False),
    CheckConstraint("purpose ~ '^[a-z][a-z0-9_]{0,39}$'", name="purpose_shape"),
    Column("expires_at", DateTime(timezone=True), nullable=False),
    Column("used_at", DateTime(timezone=True), nullable=True),
    _created_at(),
    CheckConstraint("expires_at > created_at", name="expires_after_creation"),
    Index("ix_auth_nonces_expires_at", "expires_at"),  # the sweep of expired nonces
)

# -- crank intents (migration 0002) ---------------------------------------------------------------------
# Every transaction the monitor sends is written here *before* its first send, so a crashed or overlapping
# run finds it and resumes it instead of sending the action again (docs/solana.md §3.2-§3.3;
# docs/original-backend.md W9, W17). One row per signed attempt: re-signing (only after the previous
# attempt's blockhash expired) is a new row with attempt + 1.
CRANK_ACTIONS = (
    "unlock_pool",
    "randomness_init",
    "request_randomness",  # [randomness_commit, request_randomness], or the mock request alone
    "select_winner",  # [randomness_reveal, select_winner], or the mock select alone
    "payout_winner",
    # Reserved, never sent: the DEV / treasury ATAs payout_winner requires (W18) are created inside the
    # payout's own transaction instead (docs/monitor.md "Token accounts a crank pays into").
    "create_fee_accounts",
    "sweep_expired_pool",
    "admin_close_pool",
    "finalize_forfeited_pool",
    "claim_refund_forfeit",
    "claim_rent",
    "randomness_close",
)
# prepared: row written, bytes possibly never sent; sent: broadcast at least once, outcome unknown;
# finalized: landed without error; failed: landed with (or was refused for) an error that needs a human;
# expired: blockhash expired with no trace on chain, safe to re-sign; already_done: the program said the pool
# is already past this action (someone else did it).
CRANK_INTENT_STATUSES = tuple(status.value for status in IntentStatus)
LIVE_CRANK_INTENT_STATUSES = tuple(status.value for status in LIVE_INTENT_STATUSES)

crank_intents = Table(
    "crank_intents",
    metadata,
    Column("id", BigInteger, Identity(), primary_key=True),
    # The pool the action is for; intents are the audit trail of what we sent, so a pool row with intents
    # cannot be deleted by accident.
    Column("pool_id", BigInteger, ForeignKey("pools.id"), nullable=False),
    *_enum("action", CRANK_ACTIONS),
    # 1 for the first signed transaction of (pool, action); + 1 for each re-sign after an expiry.
    Column("attempt", Integer, nullable=False),
    CheckConstraint("attempt >= 1", name="attempt_positive"),
    *_enum("status", CRANK_INTENT_STATUSES, default="prepared"),
    # The transaction's first signature: fixed at signing, so known before the first send and usable to
    # look the transaction up after a crash.
    *_signature("signature"),
    # The exact signed bytes: resending the same bytes can never execute twice (same signature).
    Column("raw_transaction", LargeBinary, nullable=False),
    # Block height after which the blockhash is dead: only past it may a new attempt be signed.
    Column("last_valid_block_height", BigInteger, nullable=False),
    Column("send_count", Integer, nullable=False, server_default=text("0")),  # broadcasts so far
    CheckConstraint("send_count >= 0", name="send_count_non_negative"),
    # The run driving this intent owns it until then; a crashed run's intent is picked up once it passes.
    Column("lease_until", DateTime(timezone=True), nullable=False, server_default=func.now()),
    Column("landed_slot", BigInteger, nullable=True),  # where it landed (finalized, failed, already_done)
    Column("error", Text, nullable=True),  # the classified program/transaction error, for people
    _created_at(),
    _updated_at(),
    Column("first_sent_at", DateTime(timezone=True), nullable=True),
    Column("settled_at", DateTime(timezone=True), nullable=True),  # when it left prepared/sent
    UniqueConstraint("signature"),
    UniqueConstraint("pool_id", "action", "attempt"),  # the idempotency key
    # At most one live intent per (pool, action): of two overlapping runs only one can insert it.
    Index(
        "uq_crank_intents_live_pool_id_action",
        "pool_id",
        "action",
        unique=True,
        postgresql_where=text(_in("status", LIVE_CRANK_INTENT_STATUSES)),
    ),
    # Resume on start scans only live rows.
    Index(
        "ix_crank_intents_live_lease_until",
        "lease_until",
        postgresql_where=text(_in("status", LIVE_CRANK_INTENT_STATUSES)),
    ),
)
