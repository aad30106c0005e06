"""Initial schema: the original backend's nine tables, re-designed, plus `mints`.

Every money column is an integer in base units (NUMERIC(20,0) for one u64, NUMERIC(39,0) for running sums),
every time is timestamptz, every reference a foreign key, every status a CHECK, and every replay or duplicate
is stopped by a UNIQUE key. `mints` is new: decimals belong to the mint (docs/original-backend.md W14, W24).
The original's `transactions` ledger is `activity` here and `used_transactions` is `used_signatures`: the names
say what the rows are (an activity feed; the set of consumed signatures).

Revision: 0001 (after )
Created: 2026-11-25 19:07:52.413721
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0001"
down_revision = None
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "mints",
        sa.Column("address", sa.Text(), nullable=False),
        sa.Column("token_program", sa.Text(), nullable=False),
        sa.Column("decimals", sa.SmallInteger(), nullable=False),
        sa.Column("symbol", sa.Text(), nullable=True),
        sa.Column("name", sa.Text(), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), server_default=sa.text("now()"), nullable=False),
        sa.CheckConstraint("address ~ '^[1-9A-HJ-NP-Za-km-z]{32,44}$'", name=op.f("ck_mints_address_base58")),
        sa.CheckConstraint(
            "token_program IN ('spl-token', 'token-2022')", name=op.f("ck_mints_token_program_known")
        ),
        sa.CheckConstraint("decimals BETWEEN 0 AND 255", name=op.f("ck_mints_decimals_range")),
        sa.PrimaryKeyConstraint("address", name=op.f("pk_mints")),
    )
    op.create_table(
        "profiles",
        sa.Column("wallet", sa.Text(), nullable=False),
        sa.Column("nickname", sa.Text(), nullable=True),
        sa.Column("avatar_url", sa.Text(), nullable=True),
        sa.Column("avatar_style", sa.Text(), server_default=sa.text("'bottts'"), nullable=False),
        sa.Column("nickname_change_count", sa.Integer(), server_default=sa.text("0"), nullable=False),
        sa.Column("last_nickname_change", sa.DateTime(timezone=True), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), server_default=sa.text("now()"), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), server_default=sa.text("now()"), nullable=False),
        sa.CheckConstraint("nickname ~ '^[A-Za-z0-9_]{3,20}$'", name=op.f("ck_profiles_nickname_shape")),
        sa.CheckConstraint(
            "wallet ~ '^[1-9A-HJ-NP-Za-km-z]{32,44}$'", name=op.f("ck_profiles_wallet_base58")
        ),
        sa.PrimaryKeyConstraint("wallet", name=op.f("pk_profiles")),
    )
    op.create_index(
        "uq_profiles_nickname_lower", "profiles", [sa.literal_column("lower(nickname)")], unique=True
    )
    op.create_table(
        "referral_relations",
        sa.Column("id", sa.BigInteger(), sa.Identity(always=False), nullable=False),
        sa.Column("referred_wallet", sa.Text(), nullable=False),
        sa.Column("referrer_wallet", sa.Text(), nullable=False),
        sa.Column("source", sa.Text(), server_default=sa.text("'link'"), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), server_default=sa.text("now()"), nullable=False),
        sa.CheckConstraint(
            "referred_wallet ~ '^[1-9A-HJ-NP-Za-km-z]{32,44}$'",
            name=op.f("ck_referral_relations_referred_wallet_base58"),
        ),
        sa.CheckConstraint(
            "referrer_wallet ~ '^[1-9A-HJ-NP-Za-km-z]{32,44}$'",
            name=op.f("ck_referral_relations_referrer_wallet_base58"),
        ),
        sa.CheckConstraint(
            "source IN ('link', 'code', 'manual')", name=op.f("ck_referral_relations_source_known")
        ),
        sa.CheckConstraint("referred_wallet <> referrer_wallet", name=op.f("ck_referral_relations_not_self")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_referral_relations")),
        sa.UniqueConstraint("referred_wallet", name=op.f("uq_referral_relations_referred_wallet")),
    )
    op.create_index(
        "ix_referral_relations_referrer_wallet", "referral_relations", ["referrer_wallet"], unique=False
    )
    op.create_table(
        "pools",
        sa.Column("id", sa.BigInteger(), sa.Identity(always=False), nullable=False),
        sa.Column("pool_address", sa.Text(), nullable=False),
        sa.Column("mint", sa.Text(), nullable=False),
        sa.Column("creator_wallet", sa.Text(), nullable=False),
        sa.Column("entry_amount", sa.Numeric(precision=20, scale=0), nullable=False),
        sa.Column("max_participants", sa.SmallInteger(), nullable=False),
        sa.Column("participants_count", sa.SmallInteger(), server_default=sa.text("0"), nullable=False),
        sa.Column("lock_duration_seconds", sa.Integer(), nullable=False),
        sa.Column("status", sa.Text(), nullable=False),
        sa.Column("status_reason", sa.SmallInteger(), server_default=sa.text("0"), nullable=False),
        sa.Column("paused", sa.Boolean(), server_default=sa.text("false"), nullable=False),
        sa.Column(
            "total_amount",
            sa.Numeric(precision=20, scale=0),
            server_default=sa.text("0"),
            nullable=False,
        ),
        sa.Column(
            "donated_amount",
            sa.Numeric(precision=20, scale=0),
            server_default=sa.text("0"),
            nullable=False,
        ),
        sa.Column("dev_fee_bps", sa.SmallInteger(), server_default=sa.text("0"), nullable=False),
        sa.Column("burn_fee_bps", sa.SmallInteger(), server_default=sa.text("0"), nullable=False),
        sa.Column("treasury_fee_bps", sa.SmallInteger(), server_default=sa.text("0"), nullable=False),
        sa.Column("allow_mock", sa.Boolean(), server_default=sa.text("false"), nullable=False),
        sa.Column("winner_wallet", sa.Text(), nullable=True),
        sa.Column("randomness_account", sa.Text(), nullable=True),
        sa.Column("start_time", sa.DateTime(timezone=True), nullable=False),
        sa.Column("expire_time", sa.DateTime(timezone=True), nullable=True),
        sa.Column("lock_start_time", sa.DateTime(timezone=True), nullable=True),
        sa.Column("unlock_time", sa.DateTime(timezone=True), nullable=True),
        sa.Column("end_time", sa.DateTime(timezone=True), nullable=True),
        sa.Column("close_time", sa.DateTime(timezone=True), nullable=True),
        sa.Column("randomness_commit_slot", sa.BigInteger(), nullable=True),
        sa.Column("create_signature", sa.Text(), nullable=False),
        sa.Column("rent_claimed", sa.Boolean(), server_default=sa.text("false"), nullable=False),
        sa.Column("synced_slot", sa.BigInteger(), server_default=sa.text("0"), nullable=False),
        sa.Column(
            "next_check_at", sa.DateTime(timezone=True), server_default=sa.text("now()"), nullable=True
        ),
        sa.Column("created_at", sa.DateTime(timezone=True), server_default=sa.text("now()"), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), server_default=sa.text("now()"), nullable=False),
        sa.CheckConstraint(
            "create_signature ~ '^[1-9A-HJ-NP-Za-km-z]{64,88}$'",
            name=op.f("ck_pools_create_signature_base58"),
        ),
        sa.CheckConstraint(
            "creator_wallet ~ '^[1-9A-HJ-NP-Za-km-z]{32,44}$'", name=op.f("ck_pools_creator_wallet_base58")
        ),
        sa.CheckConstraint("mint ~ '^[1-9A-HJ-NP-Za-km-z]{32,44}$'", name=op.f("ck_pools_mint_base58")),
        sa.CheckConstraint(
            "pool_address ~ '^[1-9A-HJ-NP-Za-km-z]{32,44}$'", name=op.f("ck_pools_pool_address_base58")
        ),
        sa.CheckConstraint(
            "randomness_account ~ '^[1-9A-HJ-NP-Za-km-z]{32,44}$'",
            name=op.f("ck_pools_randomness_account_base58"),
        ),
        sa.CheckConstraint(
            "status IN ('open', 'locked', 'unlocked', 'randomness_committed', 'randomness_revealed', 'winner_selected', 'ended', 'cancelled', 'closed')",
            name=op.f("ck_pools_status_known"),
        ),
        sa.CheckConstraint(
            "winner_wallet ~ '^[1-9A-HJ-NP-Za-km-z]{32,44}$'", name=op.f("ck_pools_winner_wallet_base58")
        ),
        sa.CheckConstraint("burn_fee_bps BETWEEN 0 AND 10000", name=op.f("ck_pools_burn_fee_bps_range")),
        sa.CheckConstraint("dev_fee_bps BETWEEN 0 AND 10000", name=op.f("ck_pools_dev_fee_bps_range")),
        sa.CheckConstraint(
            "donated_amount >= 0 AND donated_amount <= 18446744073709551615",
            name=op.f("ck_pools_donated_amount_u64"),
        ),
        sa.CheckConstraint(
            "entry_amount > 0 AND entry_amount <= 18446744073709551615",
            name=op.f("ck_pools_entry_amount_u64"),
        ),
        sa.CheckConstraint(
            "lock_duration_seconds BETWEEN 60 AND 43200", name=op.f("ck_pools_lock_duration_seconds_range")
        ),
        sa.CheckConstraint("max_participants BETWEEN 2 AND 20", name=op.f("ck_pools_max_participants_range")),
        sa.CheckConstraint(
            "participants_count BETWEEN 0 AND max_participants",
            name=op.f("ck_pools_participants_count_range"),
        ),
        sa.CheckConstraint(
            "total_amount >= 0 AND total_amount <= 18446744073709551615",
            name=op.f("ck_pools_total_amount_u64"),
        ),
        sa.CheckConstraint(
            "treasury_fee_bps BETWEEN 0 AND 10000", name=op.f("ck_pools_treasury_fee_bps_range")
        ),
        sa.ForeignKeyConstraint(["mint"], ["mints.address"], name=op.f("fk_pools_mint_mints")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_pools")),
        sa.UniqueConstraint("create_signature", name=op.f("uq_pools_create_signature")),
        sa.UniqueConstraint("pool_address", name=op.f("uq_pools_pool_address")),
    )
    op.create_index("ix_pools_creator_wallet", "pools", ["creator_wallet"], unique=False)
    op.create_index("ix_pools_mint", "pools", ["mint"], unique=False)
    op.create_index(
        "ix_pools_next_check_at",
        "pools",
        ["next_check_at"],
        unique=False,
        postgresql_where=sa.text("next_check_at IS NOT NULL AND status <> 'closed'"),
    )
    op.create_index(
        "ix_pools_status_created_at", "pools", ["status", sa.literal_column("created_at DESC")], unique=False
    )
    op.create_table(
        "referral_claims",
        sa.Column("id", sa.BigInteger(), sa.Identity(always=False), nullable=False),
        sa.Column("referrer_wallet", sa.Text(), nullable=False),
        sa.Column("mint", sa.Text(), nullable=False),
        sa.Column("amount", sa.Numeric(precision=20, scale=0), nullable=False),
        sa.Column("status", sa.Text(), server_default=sa.text("'pending'"), nullable=False),
        sa.Column("signature", sa.Text(), nullable=True),
        sa.Column("error", sa.Text(), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), server_default=sa.text("now()"), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), server_default=sa.text("now()"), nullable=False),
        sa.Column("completed_at", sa.DateTime(timezone=True), nullable=True),
        sa.CheckConstraint(
            "mint ~ '^[1-9A-HJ-NP-Za-km-z]{32,44}$'", name=op.f("ck_referral_claims_mint_base58")
        ),
        sa.CheckConstraint(
            "referrer_wallet ~ '^[1-9A-HJ-NP-Za-km-z]{32,44}$'",
            name=op.f("ck_referral_claims_referrer_wallet_base58"),
        ),
        sa.CheckConstraint(
            "signature ~ '^[1-9A-HJ-NP-Za-km-z]{64,88}$'", name=op.f("ck_referral_claims_signature_base58")
        ),
        sa.CheckConstraint(
            "status IN ('pending', 'sending', 'completed', 'failed')",
            name=op.f("ck_referral_claims_status_known"),
        ),
        sa.CheckConstraint(
            "amount > 0 AND amount <= 18446744073709551615", name=op.f("ck_referral_claims_amount_u64")
        ),
        sa.ForeignKeyConstraint(["mint"], ["mints.address"], name=op.f("fk_referral_claims_mint_mints")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_referral_claims")),
        sa.UniqueConstraint("signature", name=op.f("uq_referral_claims_signature")),
    )
    op.create_index(
        "ix_referral_claims_open",
        "referral_claims",
        ["status"],
        unique=False,
        postgresql_where=sa.text("status IN ('pending', 'sending')"),
    )
    op.create_index(
        "ix_referral_claims_referrer_wallet", "referral_claims", ["referrer_wallet"], unique=False
    )
    op.create_table(
        "referral_rewards",
        sa.Column("id", sa.BigInteger(), sa.Identity(always=False), nullable=False),
        sa.Column("referrer_wallet", sa.Text(), nullable=False),
        sa.Column("mint", sa.Text(), nullable=False),
        sa.Column(
            "amount_pending",
            sa.Numeric(precision=39, scale=0),
            server_default=sa.text("0"),
            nullable=False,
        ),
        sa.Column(
            "amount_claimed",
            sa.Numeric(precision=39, scale=0),
            server_default=sa.text("0"),
            nullable=False,
        ),
        sa.Column("updated_at", sa.DateTime(timezone=True), server_default=sa.text("now()"), nullable=False),
        sa.CheckConstraint(
            "mint ~ '^[1-9A-HJ-NP-Za-km-z]{32,44}$'", name=op.f("ck_referral_rewards_mint_base58")
        ),
        sa.CheckConstraint(
            "referrer_wallet ~ '^[1-9A-HJ-NP-Za-km-z]{32,44}$'",
            name=op.f("ck_referral_rewards_referrer_wallet_base58"),
        ),
        sa.CheckConstraint(
            "amount_claimed >= 0", name=op.f("ck_referral_rewards_amount_claimed_non_negative")
        ),
        sa.CheckConstraint(
            "amount_pending >= 0", name=op.f("ck_referral_rewards_amount_pending_non_negative")
        ),
        sa.ForeignKeyConstraint(["mint"], ["mints.address"], name=op.f("fk_referral_rewards_mint_mints")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_referral_rewards")),
        sa.UniqueConstraint("referrer_wallet", "mint", name=op.f("uq_referral_rewards_referrer_wallet_mint")),
    )
    op.create_table(
        "activity",
        sa.Column("id", sa.BigInteger(), sa.Identity(always=False), nullable=False),
        sa.Column("pool_id", sa.BigInteger(), nullable=False),
        sa.Column("wallet", sa.Text(), nullable=False),
        sa.Column("kind", sa.Text(), nullable=False),
        sa.Column(
            "amount",
            sa.Numeric(precision=20, scale=0),
            server_default=sa.text("0"),
            nullable=False,
        ),
        sa.Column("signature", sa.Text(), nullable=False),
        sa.Column("slot", sa.BigInteger(), nullable=False),
        sa.Column("block_time", sa.DateTime(timezone=True), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), server_default=sa.text("now()"), nullable=False),
        sa.CheckConstraint(
            "kind IN ('create_pool', 'join_pool', 'donate', 'cancel_pool', 'claim_refund', 'claim_rent', 'payout')",
            name=op.f("ck_activity_kind_known"),
        ),
        sa.CheckConstraint(
            "signature ~ '^[1-9A-HJ-NP-Za-km-z]{64,88}$'", name=op.f("ck_activity_signature_base58")
        ),
        sa.CheckConstraint(
            "wallet ~ '^[1-9A-HJ-NP-Za-km-z]{32,44}$'", name=op.f("ck_activity_wallet_base58")
        ),
        sa.CheckConstraint(
            "amount >= 0 AND amount <= 18446744073709551615", name=op.f("ck_activity_amount_u64")
        ),
        sa.ForeignKeyConstraint(
            ["pool_id"], ["pools.id"], name=op.f("fk_activity_pool_id_pools"), ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_activity")),
        sa.UniqueConstraint("signature", "kind", "wallet", name=op.f("uq_activity_signature_kind_wallet")),
    )
    op.create_index(
        "ix_activity_pool_id_block_time",
        "activity",
        ["pool_id", sa.literal_column("block_time DESC")],
        unique=False,
    )
    op.create_index(
        "ix_activity_wallet_block_time",
        "activity",
        ["wallet", sa.literal_column("block_time DESC")],
        unique=False,
    )
    op.create_table(
        "participants",
        sa.Column("id", sa.BigInteger(), sa.Identity(always=False), nullable=False),
        sa.Column("pool_id", sa.BigInteger(), nullable=False),
        sa.Column("wallet", sa.Text(), nullable=False),
        sa.Column("join_signature", sa.Text(), nullable=False),
        sa.Column("joined_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("refund_claimed", sa.Boolean(), server_default=sa.text("false"), nullable=False),
        sa.Column("refund_signature", sa.Text(), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), server_default=sa.text("now()"), nullable=False),
        sa.CheckConstraint(
            "join_signature ~ '^[1-9A-HJ-NP-Za-km-z]{64,88}$'",
            name=op.f("ck_participants_join_signature_base58"),
        ),
        sa.CheckConstraint(
            "refund_signature ~ '^[1-9A-HJ-NP-Za-km-z]{64,88}$'",
            name=op.f("ck_participants_refund_signature_base58"),
        ),
        sa.CheckConstraint(
            "wallet ~ '^[1-9A-HJ-NP-Za-km-z]{32,44}$'", name=op.f("ck_participants_wallet_base58")
        ),
        sa.ForeignKeyConstraint(
            ["pool_id"], ["pools.id"], name=op.f("fk_participants_pool_id_pools"), ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_participants")),
        sa.UniqueConstraint("pool_id", "wallet", name=op.f("uq_participants_pool_id_wallet")),
        sa.UniqueConstraint("refund_signature", name=op.f("uq_participants_refund_signature")),
    )
    op.create_index("ix_participants_wallet", "participants", ["wallet"], unique=False)
    op.create_table(
        "referral_reward_events",
        sa.Column("id", sa.BigInteger(), sa.Identity(always=False), nullable=False),
        sa.Column("pool_id", sa.BigInteger(), nullable=False),
        sa.Column("mint", sa.Text(), nullable=False),
        sa.Column("referrer_wallet", sa.Text(), nullable=False),
        sa.Column("amount", sa.Numeric(precision=20, scale=0), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), server_default=sa.text("now()"), nullable=False),
        sa.CheckConstraint(
            "mint ~ '^[1-9A-HJ-NP-Za-km-z]{32,44}$'", name=op.f("ck_referral_reward_events_mint_base58")
        ),
        sa.CheckConstraint(
            "referrer_wallet ~ '^[1-9A-HJ-NP-Za-km-z]{32,44}$'",
            name=op.f("ck_referral_reward_events_referrer_wallet_base58"),
        ),
        sa.CheckConstraint(
            "amount > 0 AND amount <= 18446744073709551615", name=op.f("ck_referral_reward_events_amount_u64")
        ),
        sa.ForeignKeyConstraint(
            ["mint"], ["mints.address"], name=op.f("fk_referral_reward_events_mint_mints")
        ),
        sa.ForeignKeyConstraint(
            ["pool_id"],
            ["pools.id"],
            name=op.f("fk_referral_reward_events_pool_id_pools"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_referral_reward_events")),
        sa.UniqueConstraint(
            "pool_id",
            "mint",
            "referrer_wallet",
            name=op.f("uq_referral_reward_events_pool_id_mint_referrer_wallet"),
        ),
    )
    op.create_index(
        "ix_referral_reward_events_referrer_wallet",
        "referral_reward_events",
        ["referrer_wallet"],
        unique=False,
    )
    op.create_table(
        "used_signatures",
        sa.Column("signature", sa.Text(), nullable=False),
        sa.Column("action", sa.Text(), nullable=False),
        sa.Column("pool_id", sa.BigInteger(), nullable=True),
        sa.Column("wallet", sa.Text(), nullable=False),
        sa.Column("slot", sa.BigInteger(), nullable=False),
        sa.Column("used_at", sa.DateTime(timezone=True), server_default=sa.text("now()"), nullable=False),
        sa.CheckConstraint(
            "action IN ('create_pool', 'join_pool', 'donate', 'cancel_pool', 'claim_refund', 'claim_rent')",
            name=op.f("ck_used_signatures_action_known"),
        ),
        sa.CheckConstraint(
            "signature ~ '^[1-9A-HJ-NP-Za-km-z]{64,88}$'", name=op.f("ck_used_signatures_signature_base58")
        ),
        sa.CheckConstraint(
            "wallet ~ '^[1-9A-HJ-NP-Za-km-z]{32,44}$'", name=op.f("ck_used_signatures_wallet_base58")
        ),
        sa.ForeignKeyConstraint(
            ["pool_id"], ["pools.id"], name=op.f("fk_used_signatures_pool_id_pools"), ondelete="SET NULL"
        ),
        sa.PrimaryKeyConstraint("signature", name=op.f("pk_used_signatures")),
    )
    op.create_index("ix_used_signatures_pool_id", "used_signatures", ["pool_id"], unique=False)
    op.create_index("ix_used_signatures_used_at", "used_signatures", ["used_at"], unique=False)


def downgrade() -> None:
    op.drop_index("ix_used_signatures_used_at", table_name="used_signatures")
    op.drop_index("ix_used_signatures_pool_id", table_name="used_signatures")
    op.drop_table("used_signatures")
    op.drop_index("ix_referral_reward_events_referrer_wallet", table_name="referral_reward_events")
    op.drop_table("referral_reward_events")
    op.drop_index("ix_participants_wallet", table_name="participants")
    op.drop_table("participants")
    op.drop_index("ix_activity_wallet_block_time", table_name="activity")
    op.drop_index("ix_activity_pool_id_block_time", table_name="activity")
    op.drop_table("activity")
    op.drop_table("referral_rewards")
    op.drop_index("ix_referral_claims_referrer_wallet", table_name="referral_claims")
    op.drop_index(
        "ix_referral_claims_open",
        table_name="referral_claims",
        postgresql_where=sa.text("status IN ('pending', 'sending')"),
    )
    op.drop_table("referral_claims")
    op.drop_index("ix_pools_status_created_at", table_name="pools")
    op.drop_index(
        "ix_pools_next_check_at",
        table_name="pools",
        postgresql_where=sa.text("next_check_at IS NOT NULL AND status <> 'closed'"),
    )
    op.drop_index("ix_pools_mint", table_name="pools")
    op.drop_index("ix_pools_creator_wallet", table_name="pools")
    op.drop_table("pools")
    op.drop_index("ix_referral_relations_referrer_wallet", table_name="referral_relations")
    op.drop_table("referral_relations")
    op.drop_index("uq_profiles_nickname_lower", table_name="profiles")
    op.drop_table("profiles")
    op.drop_table("mints")
