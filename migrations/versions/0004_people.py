"""Schema 0004: what the people side needs (docs/people.md).

* `referral_claims` carries its payout's signed transaction (bytes, last valid block height, attempt) and
  a lease, so the monitor can resend the same bytes after a crash and re-sign only after a proven expiry;
* `avatar_uploads`: one row per presigned upload, consumed when the API has checked the object;
* indexes for the leaderboards and the wallet activity pages:
    - activity (wallet, block_time DESC, id DESC) replaces (wallet, block_time DESC): the keyset needs id;
    - winner_totals (wallet, wins): the by-count winners board aggregates it index-only;
    - referral_reward_events (mint, referrer_wallet, amount): the per-mint referrers board, index-only;
    - referral_claims (mint, created_at): the per-day payout cap.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0004"
down_revision = "0003"
branch_labels = None
depends_on = None

_KEY = "'^[1-9A-HJ-NP-Za-km-z]{32,44}$'"


def upgrade() -> None:
    op.add_column("referral_claims", sa.Column("raw_transaction", sa.LargeBinary(), nullable=True))
    op.add_column("referral_claims", sa.Column("last_valid_block_height", sa.BigInteger(), nullable=True))
    op.add_column(
        "referral_claims", sa.Column("attempt", sa.Integer(), server_default=sa.text("0"), nullable=False)
    )
    op.add_column("referral_claims", sa.Column("lease_until", sa.DateTime(timezone=True), nullable=True))
    op.create_check_constraint(
        op.f("ck_referral_claims_attempt_non_negative"), "referral_claims", "attempt >= 0"
    )
    op.create_index("ix_referral_claims_mint_created_at", "referral_claims", ["mint", "created_at"])

    op.create_table(
        "avatar_uploads",
        sa.Column("upload_id", sa.Text(), nullable=False),
        sa.CheckConstraint("upload_id ~ '^[0-9a-f]{32}$'", name=op.f("ck_avatar_uploads_upload_id_hex")),
        sa.Column("wallet", sa.Text(), nullable=False),
        sa.CheckConstraint(f"wallet ~ {_KEY}", name=op.f("ck_avatar_uploads_wallet_base58")),
        sa.Column("object_key", sa.Text(), nullable=False),
        sa.Column("expires_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("confirmed_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), server_default=sa.text("now()"), nullable=False),
        sa.PrimaryKeyConstraint("upload_id", name=op.f("pk_avatar_uploads")),
        sa.UniqueConstraint("object_key", name=op.f("uq_avatar_uploads_object_key")),
    )
    op.create_index("ix_avatar_uploads_wallet", "avatar_uploads", ["wallet"])

    op.drop_index("ix_activity_wallet_block_time", table_name="activity")
    op.create_index(
        "ix_activity_wallet_block_time_id",
        "activity",
        ["wallet", sa.literal_column("block_time DESC"), sa.literal_column("id DESC")],
    )
    op.create_index("ix_winner_totals_wallet_wins", "winner_totals", ["wallet", "wins"])
    op.create_index(
        "ix_referral_reward_events_mint_referrer_wallet_amount",
        "referral_reward_events",
        ["mint", "referrer_wallet", "amount"],
    )


def downgrade() -> None:
    op.drop_index(
        "ix_referral_reward_events_mint_referrer_wallet_amount", table_name="referral_reward_events"
    )
    op.drop_index("ix_winner_totals_wallet_wins", table_name="winner_totals")
    op.drop_index("ix_activity_wallet_block_time_id", table_name="activity")
    op.create_index(
        "ix_activity_wallet_block_time", "activity", ["wallet", sa.literal_column("block_time DESC")]
    )
    op.drop_index("ix_avatar_uploads_wallet", table_name="avatar_uploads")
    op.drop_table("avatar_uploads")
    op.drop_index("ix_referral_claims_mint_created_at", table_name="referral_claims")
    op.drop_constraint(op.f("ck_referral_claims_attempt_non_negative"), "referral_claims", type_="check")
    for column in ("lease_until", "attempt", "last_valid_block_height", "raw_transaction"):
        op.drop_column("referral_claims", column)
