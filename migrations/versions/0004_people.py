"""Schema 0004: what the people side needs (docs/people.md).

* `referral_claims` carries its payout's signed transaction (bytes, last valid block height, attempt) and
  a lease, so the monitor can resend the same bytes after a crash and re-sign only after a proven expiry;
* `avatar_uploads`: one row per presigned upload, consumed when the API has checked the object;
* indexes for the leaderboards and the wallet activity pages:
    - activity (wallet, block_time DESC, id DESC) replaces (wallet, block_time DESC): the keyset needs id;
    - winner_totals (wallet, wins): the by-count winners board aggregates it index-only;
    - referral_reward_events (mint, referrer_wallet, amount): the per-mint referrers board, index-only;
    - referral_claims (mint, completed_at): the per-day payout cap.
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
    op.create_index("ix_referral_claims_mint_completed_at", "referral_claims", ["mint", "completed_at"])

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
    _create_boards()


def _create_boards() -> None:
    op.create_table(
        "winner_counts",
        sa.Column("wallet", sa.Text(), nullable=False),
        sa.Column("wins", sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint("wallet", name=op.f("pk_winner_counts")),
    )
    op.create_index("ix_winner_counts_wins", "winner_counts", [sa.literal_column("wins DESC"), "wallet"])
    op.create_table(
        "referrer_counts",
        sa.Column("wallet", sa.Text(), nullable=False),
        sa.Column("invited", sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint("wallet", name=op.f("pk_referrer_counts")),
    )
    op.create_index(
        "ix_referrer_counts_invited", "referrer_counts", [sa.literal_column("invited DESC"), "wallet"]
    )
    op.create_table(
        "referrer_mint_totals",
        sa.Column("mint", sa.Text(), nullable=False),
        sa.Column("referrer_wallet", sa.Text(), nullable=False),
        sa.Column("pools", sa.Integer(), nullable=False),
        sa.Column("earned", sa.Numeric(precision=39, scale=0), nullable=False),
        sa.PrimaryKeyConstraint("mint", "referrer_wallet", name=op.f("pk_referrer_mint_totals")),
    )
    op.create_index(
        "ix_referrer_mint_totals_mint_earned",
        "referrer_mint_totals",
        ["mint", sa.literal_column("earned DESC"), "referrer_wallet"],
    )
    for statement in _BOARD_TRIGGERS:
        op.execute(statement)
    op.execute("INSERT INTO winner_counts SELECT wallet, sum(wins) FROM winner_totals GROUP BY wallet")
    op.execute(
        "INSERT INTO referrer_counts SELECT referrer_wallet, count(*) FROM referral_relations GROUP BY 1"
    )
    op.execute(
        """
        INSERT INTO referrer_mint_totals
        SELECT mint, referrer_wallet, count(*), sum(amount) FROM referral_reward_events GROUP BY 1, 2
        """
    )


# Each trigger adds the change of its row to the board row, in the same transaction (an upsert: the first
# row of a wallet creates its board row). Statement order inside an upsert makes concurrent writers queue on
# the board row, so no count is lost.
_BOARD_TRIGGERS = (
    """
    CREATE FUNCTION board_winner_counts() RETURNS trigger LANGUAGE plpgsql AS $$
    BEGIN
        IF TG_OP IN ('UPDATE', 'DELETE') THEN
            UPDATE winner_counts SET wins = wins - OLD.wins WHERE wallet = OLD.wallet;
        END IF;
        IF TG_OP IN ('INSERT', 'UPDATE') THEN
            INSERT INTO winner_counts AS c (wallet, wins) VALUES (NEW.wallet, NEW.wins)
            ON CONFLICT (wallet) DO UPDATE SET wins = c.wins + EXCLUDED.wins;
        END IF;
        RETURN NULL;
    END $$
    """,
    """
    CREATE TRIGGER board_winner_counts AFTER INSERT OR UPDATE OF wins, wallet OR DELETE ON winner_totals
    FOR EACH ROW EXECUTE FUNCTION board_winner_counts()
    """,
    """
    CREATE FUNCTION board_referrer_counts() RETURNS trigger LANGUAGE plpgsql AS $$
    BEGIN
        IF TG_OP = 'DELETE' THEN
            UPDATE referrer_counts SET invited = invited - 1 WHERE wallet = OLD.referrer_wallet;
        ELSE
            INSERT INTO referrer_counts AS c (wallet, invited) VALUES (NEW.referrer_wallet, 1)
            ON CONFLICT (wallet) DO UPDATE SET invited = c.invited + 1;
        END IF;
        RETURN NULL;
    END $$
    """,
    """
    CREATE TRIGGER board_referrer_counts AFTER INSERT OR DELETE ON referral_relations
    FOR EACH ROW EXECUTE FUNCTION board_referrer_counts()
    """,
    """
    CREATE FUNCTION board_referrer_mint_totals() RETURNS trigger LANGUAGE plpgsql AS $$
    BEGIN
        IF TG_OP = 'DELETE' THEN
            UPDATE referrer_mint_totals SET pools = pools - 1, earned = earned - OLD.amount
            WHERE mint = OLD.mint AND referrer_wallet = OLD.referrer_wallet;
        ELSE
            INSERT INTO referrer_mint_totals AS t (mint, referrer_wallet, pools, earned)
            VALUES (NEW.mint, NEW.referrer_wallet, 1, NEW.amount)
            ON CONFLICT (mint, referrer_wallet) DO UPDATE SET pools = t.pools + 1, earned = t.earned + EXCLUDED.earned;
        END IF;
        RETURN NULL;
    END $$
    """,
    """
    CREATE TRIGGER board_referrer_mint_totals AFTER INSERT OR DELETE ON referral_reward_events
    FOR EACH ROW EXECUTE FUNCTION board_referrer_mint_totals()
    """,
)


def downgrade() -> None:
    op.execute("DROP TRIGGER board_referrer_mint_totals ON referral_reward_events")
    op.execute("DROP TRIGGER board_referrer_counts ON referral_relations")
    op.execute("DROP TRIGGER board_winner_counts ON winner_totals")
    for function in ("board_referrer_mint_totals", "board_referrer_counts", "board_winner_counts"):
        op.execute(f"DROP FUNCTION {function}()")
    op.drop_table("referrer_mint_totals")
    op.drop_table("referrer_counts")
    op.drop_table("winner_counts")
    op.drop_index("ix_activity_wallet_block_time_id", table_name="activity")
    op.create_index(
        "ix_activity_wallet_block_time", "activity", ["wallet", sa.literal_column("block_time DESC")]
    )
    op.drop_index("ix_avatar_uploads_wallet", table_name="avatar_uploads")
    op.drop_table("avatar_uploads")
    op.drop_index("ix_referral_claims_mint_completed_at", table_name="referral_claims")
    op.drop_constraint(op.f("ck_referral_claims_attempt_non_negative"), "referral_claims", type_="check")
    for column in ("lease_until", "attempt", "last_valid_block_height", "raw_transaction"):
        op.drop_column("referral_claims", column)
