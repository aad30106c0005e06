"""Schema 0003: fit the tables to the routes, the monitor and the referral program that use them.

Defects fixed:
  * running totals (`referral_rewards.amount_*`) are read as `int` (the tables module's `BaseUnits(39)`; no
    DDL change: the column was already NUMERIC(39,0));
  * ledger rows no longer cascade away with their pool: every reference to `pools` is RESTRICT, and
    `used_signatures.pool_id` is NOT NULL.

New keys:
  * `used_signatures` is keyed by (signature, action, pool_id): one transaction may hold two real actions;
  * `activity` is unique on (signature, pool_id, kind, wallet), for the same reason;
  * a pool's address is unique only among pools that are not closed (a closed pool's address can be
    re-created, docs/program.md §2.4); `create_signature` stays the identity; (pool_address, created_at DESC)
    finds the newest pool at an address;
  * `participants.seat`: the on-chain order, UNIQUE(pool_id, seat) DEFERRABLE so one UPDATE can permute it;
    `join_signature` / `joined_at` may be unknown for a seat the monitor finds on chain before any report;
  * `pools(id, mint)` is unique, the target of the composite keys that tie ledger rows to their pool's mint;
  * at most one open referral claim per (referrer, mint);
  * `referral_reward_events` hang off `referral_allocations` (one per pool) and are unique per (pool, referrer).

New columns on `pools`: the monitor's lease (`lease_until`, `leased_by`), back-off (`failure_count`),
`unpayable_reason` (closed set), `stuck_reason`; CHECKs on `status_reason` and on the new columns.

New tables: `pool_payouts` (one per pool; the parts sum to the total), `winner_totals` (per winner and mint,
kept in the payout's transaction), `referral_allocations`, `rate_limit_hits` (UNLOGGED), `auth_nonces`.

Indexes: the pool list's newest-first orders (no filter, status, mint, creator) replace the single-column
ones; participants(wallet, pool_id) replaces participants(wallet); the monitor's due scan orders by
(next_check_at, id); held leases. bench/query_bench.py measures them.

Revision: 0003 (after 0002)
Created: 2026-12-01 22:50:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op
from sqlalchemy.sql.schema import SchemaItem

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None

_U64_MAX = 18446744073709551615
_KEY = "'^[1-9A-HJ-NP-Za-km-z]{32,44}$'"
_SIGNATURE = "'^[1-9A-HJ-NP-Za-km-z]{64,88}$'"
_LIVE_POOL = "status NOT IN ('closed')"
_OPEN_CLAIM = "status IN ('pending', 'sending')"
_NEWEST_FIRST: list[str | sa.ColumnElement[object]] = [
    sa.literal_column("created_at DESC"),
    sa.literal_column("id DESC"),
]
_UNPAYABLE = "'vault_mismatch', 'pot_overflow', 'randomness_deadline_missed', 'paused_cancelled'"


def _u64(table: str, name: str, *, positive: bool = False, default: bool = False) -> list[SchemaItem]:
    low = "> 0" if positive else ">= 0"
    return [
        sa.Column(
            name,
            sa.Numeric(precision=20, scale=0),
            server_default=sa.text("0") if default else None,
            nullable=False,
        ),
        sa.CheckConstraint(f"{name} {low} AND {name} <= {_U64_MAX}", name=op.f(f"ck_{table}_{name}_u64")),
    ]


def _key(table: str, name: str) -> list[SchemaItem]:
    return [
        sa.Column(name, sa.Text(), nullable=False),
        sa.CheckConstraint(f"{name} ~ {_KEY}", name=op.f(f"ck_{table}_{name}_base58")),
    ]


def _of_pool_and_its_mint(table: str) -> sa.ForeignKeyConstraint:
    """A ledger row's (pool_id, mint) must be a pool and that pool's own mint."""
    return sa.ForeignKeyConstraint(
        ["pool_id", "mint"],
        ["pools.id", "pools.mint"],
        name=op.f(f"fk_{table}_pool_id_pools"),
        ondelete="RESTRICT",
    )


def _created_at() -> sa.Column[object]:
    return sa.Column(
        "created_at", sa.DateTime(timezone=True), server_default=sa.text("now()"), nullable=False
    )


def _replace_pool_reference(table: str, *, ondelete: str) -> None:
    """Re-create the reference to pools.id with the given ON DELETE rule."""
    name = op.f(f"fk_{table}_pool_id_pools")
    op.drop_constraint(name, table, type_="foreignkey")
    op.create_foreign_key(name, table, "pools", ["pool_id"], ["id"], ondelete=ondelete)


def upgrade() -> None:
    _upgrade_pools()
    _upgrade_participants()
    _upgrade_ledgers()
    _create_payouts()
    _upgrade_referrals()
    _create_request_tables()


def _upgrade_pools() -> None:
    op.add_column("pools", sa.Column("lease_until", sa.DateTime(timezone=True), nullable=True))
    op.add_column("pools", sa.Column("leased_by", sa.Text(), nullable=True))
    op.add_column(
        "pools", sa.Column("failure_count", sa.Integer(), server_default=sa.text("0"), nullable=False)
    )
    op.add_column("pools", sa.Column("unpayable_reason", sa.Text(), nullable=True))
    op.add_column("pools", sa.Column("stuck_reason", sa.Text(), nullable=True))
    op.create_check_constraint(op.f("ck_pools_failure_count_non_negative"), "pools", "failure_count >= 0")
    op.create_check_constraint(
        op.f("ck_pools_unpayable_reason_known"), "pools", f"unpayable_reason IN ({_UNPAYABLE})"
    )
    op.create_check_constraint(
        op.f("ck_pools_status_reason_known"), "pools", "status_reason IN (0, 1, 2, 4, 5, 6)"
    )

    op.drop_constraint(op.f("uq_pools_pool_address"), "pools", type_="unique")
    op.create_index(
        "uq_pools_pool_address_live",
        "pools",
        ["pool_address"],
        unique=True,
        postgresql_where=sa.text(_LIVE_POOL),
    )
    op.create_index(
        "ix_pools_pool_address_created_at", "pools", ["pool_address", sa.literal_column("created_at DESC")]
    )
    op.create_unique_constraint(op.f("uq_pools_id_mint"), "pools", ["id", "mint"])

    op.drop_index("ix_pools_status_created_at", table_name="pools")
    op.drop_index("ix_pools_mint", table_name="pools")
    op.drop_index("ix_pools_creator_wallet", table_name="pools")
    op.create_index("ix_pools_created_at_id", "pools", _NEWEST_FIRST)
    op.create_index("ix_pools_status_created_at_id", "pools", ["status", *_NEWEST_FIRST])
    op.create_index("ix_pools_mint_created_at_id", "pools", ["mint", *_NEWEST_FIRST])
    op.create_index("ix_pools_creator_wallet_created_at_id", "pools", ["creator_wallet", *_NEWEST_FIRST])

    op.drop_index("ix_pools_next_check_at", table_name="pools")
    op.create_index(
        "ix_pools_due_next_check_at_id",
        "pools",
        ["next_check_at", "id"],
        postgresql_where=sa.text(f"next_check_at IS NOT NULL AND {_LIVE_POOL}"),
    )
    op.create_index(
        "ix_pools_leased_lease_until",
        "pools",
        ["lease_until"],
        postgresql_where=sa.text("lease_until IS NOT NULL"),
    )


def _upgrade_participants() -> None:
    op.add_column("participants", sa.Column("seat", sa.SmallInteger(), nullable=True))
    op.create_check_constraint(op.f("ck_participants_seat_range"), "participants", "seat BETWEEN 0 AND 19")
    # Rows written before seats existed: their join order is the best record of the on-chain order (joins
    # append, docs/program.md §2.2); the next sync from chain corrects any difference.
    op.execute(
        """
        UPDATE participants AS p SET seat = ordered.seat
        FROM (
            SELECT id, row_number() OVER (PARTITION BY pool_id ORDER BY joined_at, id) - 1 AS seat
            FROM participants WHERE NOT refund_claimed
        ) AS ordered
        WHERE p.id = ordered.id AND ordered.seat < 20
        """
    )
    op.create_unique_constraint(
        op.f("uq_participants_pool_id_seat"),
        "participants",
        ["pool_id", "seat"],
        deferrable=True,
        initially="IMMEDIATE",
    )
    op.alter_column("participants", "join_signature", existing_type=sa.Text(), nullable=True)
    op.alter_column("participants", "joined_at", existing_type=sa.DateTime(timezone=True), nullable=True)
    op.drop_index("ix_participants_wallet", table_name="participants")
    op.create_index("ix_participants_wallet_pool_id", "participants", ["wallet", "pool_id"])
    _replace_pool_reference("participants", ondelete="RESTRICT")


def _upgrade_ledgers() -> None:
    _replace_pool_reference("activity", ondelete="RESTRICT")
    op.drop_constraint(op.f("uq_activity_signature_kind_wallet"), "activity", type_="unique")
    op.create_unique_constraint(
        op.f("uq_activity_signature_pool_id_kind_wallet"),
        "activity",
        ["signature", "pool_id", "kind", "wallet"],
    )

    # Fails loudly if a row lost its pool to the old SET NULL: such a guard cannot be re-keyed silently.
    op.alter_column("used_signatures", "pool_id", existing_type=sa.BigInteger(), nullable=False)
    _replace_pool_reference("used_signatures", ondelete="RESTRICT")
    op.drop_constraint("pk_used_signatures", "used_signatures", type_="primary")
    op.create_primary_key("pk_used_signatures", "used_signatures", ["signature", "action", "pool_id"])


def _create_payouts() -> None:
    op.create_table(
        "pool_payouts",
        sa.Column("pool_id", sa.BigInteger(), nullable=False),
        *_key("pool_payouts", "mint"),
        sa.Column("signature", sa.Text(), nullable=False),
        sa.CheckConstraint(f"signature ~ {_SIGNATURE}", name=op.f("ck_pool_payouts_signature_base58")),
        *_key("pool_payouts", "winner"),
        *_u64("pool_payouts", "winner_amount"),
        *_u64("pool_payouts", "dev_amount"),
        *_u64("pool_payouts", "burn_amount"),
        *_u64("pool_payouts", "treasury_amount"),
        *_u64("pool_payouts", "referral_amount", default=True),
        *_u64("pool_payouts", "total_amount", positive=True),
        sa.Column("slot", sa.BigInteger(), nullable=False),
        sa.Column("block_time", sa.DateTime(timezone=True), nullable=False),
        _created_at(),
        sa.CheckConstraint(
            "winner_amount + dev_amount + burn_amount + treasury_amount + referral_amount = total_amount",
            name=op.f("ck_pool_payouts_parts_sum_to_total"),
        ),
        _of_pool_and_its_mint("pool_payouts"),
        sa.PrimaryKeyConstraint("pool_id", name=op.f("pk_pool_payouts")),
        sa.UniqueConstraint("signature", name=op.f("uq_pool_payouts_signature")),
    )
    op.create_index("ix_pool_payouts_winner", "pool_payouts", ["winner"])
    op.create_index("ix_pool_payouts_block_time", "pool_payouts", [sa.literal_column("block_time DESC")])

    op.create_table(
        "winner_totals",
        *_key("winner_totals", "wallet"),
        *_key("winner_totals", "mint"),
        sa.Column("wins", sa.Integer(), nullable=False),
        sa.CheckConstraint("wins >= 1", name=op.f("ck_winner_totals_wins_positive")),
        sa.Column(
            "total_won", sa.Numeric(precision=39, scale=0), server_default=sa.text("0"), nullable=False
        ),
        sa.CheckConstraint("total_won >= 0", name=op.f("ck_winner_totals_total_won_non_negative")),
        *_u64("winner_totals", "biggest_win"),
        sa.Column("last_win_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(["mint"], ["mints.address"], name=op.f("fk_winner_totals_mint_mints")),
        sa.PrimaryKeyConstraint("wallet", "mint", name=op.f("pk_winner_totals")),
    )
    op.create_index(
        "ix_winner_totals_total_won", "winner_totals", [sa.literal_column("total_won DESC"), "wallet", "mint"]
    )
    op.create_index(
        "ix_winner_totals_mint_total_won",
        "winner_totals",
        ["mint", sa.literal_column("total_won DESC"), "wallet"],
    )


def _upgrade_referrals() -> None:
    op.create_table(
        "referral_allocations",
        sa.Column("pool_id", sa.BigInteger(), nullable=False),
        *_key("referral_allocations", "mint"),
        *_u64("referral_allocations", "total"),
        _created_at(),
        _of_pool_and_its_mint("referral_allocations"),
        sa.PrimaryKeyConstraint("pool_id", name=op.f("pk_referral_allocations")),
        sa.UniqueConstraint("pool_id", "mint", name=op.f("uq_referral_allocations_pool_id_mint")),
    )
    # Events written before allocations existed get the allocation they imply (their sum), so the new key holds.
    op.execute(
        """
        INSERT INTO referral_allocations (pool_id, mint, total)
        SELECT pool_id, mint, sum(amount) FROM referral_reward_events GROUP BY pool_id, mint
        """
    )
    op.drop_constraint(
        op.f("fk_referral_reward_events_pool_id_pools"), "referral_reward_events", type_="foreignkey"
    )
    op.drop_constraint(
        op.f("fk_referral_reward_events_mint_mints"), "referral_reward_events", type_="foreignkey"
    )
    op.create_foreign_key(
        op.f("fk_referral_reward_events_pool_id_referral_allocations"),
        "referral_reward_events",
        "referral_allocations",
        ["pool_id", "mint"],
        ["pool_id", "mint"],
        ondelete="RESTRICT",
    )
    op.drop_constraint(
        op.f("uq_referral_reward_events_pool_id_mint_referrer_wallet"),
        "referral_reward_events",
        type_="unique",
    )
    op.create_unique_constraint(
        op.f("uq_referral_reward_events_pool_id_referrer_wallet"),
        "referral_reward_events",
        ["pool_id", "referrer_wallet"],
    )

    op.drop_index("ix_referral_claims_open", table_name="referral_claims")
    op.create_index(
        "uq_referral_claims_open_referrer_wallet_mint",
        "referral_claims",
        ["referrer_wallet", "mint"],
        unique=True,
        postgresql_where=sa.text(_OPEN_CLAIM),
    )


def _create_request_tables() -> None:
    op.create_table(
        "rate_limit_hits",
        sa.Column("key", sa.Text(), nullable=False),
        sa.Column("window_start", sa.DateTime(timezone=True), nullable=False),
        sa.Column("hits", sa.Integer(), server_default=sa.text("1"), nullable=False),
        sa.CheckConstraint("hits >= 1", name=op.f("ck_rate_limit_hits_hits_positive")),
        sa.CheckConstraint("char_length(key) <= 200", name=op.f("ck_rate_limit_hits_key_length")),
        sa.PrimaryKeyConstraint("key", "window_start", name=op.f("pk_rate_limit_hits")),
        prefixes=["UNLOGGED"],
    )
    op.create_index("ix_rate_limit_hits_window_start", "rate_limit_hits", ["window_start"])

    op.create_table(
        "auth_nonces",
        sa.Column("nonce", sa.Text(), nullable=False),
        sa.CheckConstraint("nonce ~ '^[A-Za-z0-9_-]{16,128}$'", name=op.f("ck_auth_nonces_nonce_shape")),
        *_key("auth_nonces", "wallet"),
        sa.Column("purpose", sa.Text(), nullable=False),
        sa.CheckConstraint("purpose ~ '^[a-z][a-z0-9_]{0,39}$'", name=op.f("ck_auth_nonces_purpose_shape")),
        sa.Column("expires_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("used_at", sa.DateTime(timezone=True), nullable=True),
        _created_at(),
        sa.CheckConstraint("expires_at > created_at", name=op.f("ck_auth_nonces_expires_after_creation")),
        sa.PrimaryKeyConstraint("nonce", name=op.f("pk_auth_nonces")),
    )
    op.create_index("ix_auth_nonces_expires_at", "auth_nonces", ["expires_at"])


def downgrade() -> None:
    op.drop_table("auth_nonces")
    op.drop_table("rate_limit_hits")

    op.drop_index("uq_referral_claims_open_referrer_wallet_mint", table_name="referral_claims")
    op.create_index(
        "ix_referral_claims_open", "referral_claims", ["status"], postgresql_where=sa.text(_OPEN_CLAIM)
    )
    op.drop_constraint(
        op.f("uq_referral_reward_events_pool_id_referrer_wallet"), "referral_reward_events", type_="unique"
    )
    op.create_unique_constraint(
        op.f("uq_referral_reward_events_pool_id_mint_referrer_wallet"),
        "referral_reward_events",
        ["pool_id", "mint", "referrer_wallet"],
    )
    op.drop_constraint(
        op.f("fk_referral_reward_events_pool_id_referral_allocations"),
        "referral_reward_events",
        type_="foreignkey",
    )
    op.create_foreign_key(
        op.f("fk_referral_reward_events_mint_mints"), "referral_reward_events", "mints", ["mint"], ["address"]
    )
    op.create_foreign_key(
        op.f("fk_referral_reward_events_pool_id_pools"),
        "referral_reward_events",
        "pools",
        ["pool_id"],
        ["id"],
        ondelete="CASCADE",
    )
    op.drop_table("referral_allocations")

    op.drop_table("winner_totals")
    op.drop_table("pool_payouts")

    # Back to one row per signature: of two actions under one signature only the first recorded survives.
    op.execute(
        """
        DELETE FROM used_signatures AS u USING used_signatures AS first
        WHERE u.signature = first.signature AND (u.used_at, u.action, u.pool_id) > (first.used_at, first.action, first.pool_id)
        """
    )
    op.drop_constraint("pk_used_signatures", "used_signatures", type_="primary")
    op.create_primary_key("pk_used_signatures", "used_signatures", ["signature"])
    _replace_pool_reference("used_signatures", ondelete="SET NULL")
    op.alter_column("used_signatures", "pool_id", existing_type=sa.BigInteger(), nullable=True)
    op.drop_constraint(op.f("uq_activity_signature_pool_id_kind_wallet"), "activity", type_="unique")
    op.create_unique_constraint(
        op.f("uq_activity_signature_kind_wallet"), "activity", ["signature", "kind", "wallet"]
    )
    _replace_pool_reference("activity", ondelete="CASCADE")

    _replace_pool_reference("participants", ondelete="CASCADE")
    op.drop_index("ix_participants_wallet_pool_id", table_name="participants")
    op.create_index("ix_participants_wallet", "participants", ["wallet"])
    op.alter_column("participants", "joined_at", existing_type=sa.DateTime(timezone=True), nullable=False)
    op.alter_column("participants", "join_signature", existing_type=sa.Text(), nullable=False)
    op.drop_constraint(op.f("uq_participants_pool_id_seat"), "participants", type_="unique")
    op.drop_column("participants", "seat")

    op.drop_index("ix_pools_leased_lease_until", table_name="pools")
    op.drop_index("ix_pools_due_next_check_at_id", table_name="pools")
    op.create_index(
        "ix_pools_next_check_at",
        "pools",
        ["next_check_at"],
        postgresql_where=sa.text("next_check_at IS NOT NULL AND status <> 'closed'"),
    )
    op.drop_index("ix_pools_creator_wallet_created_at_id", table_name="pools")
    op.drop_index("ix_pools_mint_created_at_id", table_name="pools")
    op.drop_index("ix_pools_status_created_at_id", table_name="pools")
    op.drop_index("ix_pools_created_at_id", table_name="pools")
    op.create_index("ix_pools_creator_wallet", "pools", ["creator_wallet"])
    op.create_index("ix_pools_mint", "pools", ["mint"])
    op.create_index("ix_pools_status_created_at", "pools", ["status", sa.literal_column("created_at DESC")])
    op.drop_constraint(op.f("uq_pools_id_mint"), "pools", type_="unique")
    op.drop_index("ix_pools_pool_address_created_at", table_name="pools")
    op.drop_index("uq_pools_pool_address_live", table_name="pools")
    op.create_unique_constraint(op.f("uq_pools_pool_address"), "pools", ["pool_address"])
    op.drop_constraint(op.f("ck_pools_status_reason_known"), "pools", type_="check")
    for column in ("stuck_reason", "unpayable_reason", "failure_count", "leased_by", "lease_until"):
        op.drop_column("pools", column)
