"""Crank intents: every transaction the monitor sends, written before its first send.

One row per signed attempt of (pool, action). The signature and the exact signed bytes are stored before the
first broadcast, so a run that crashes after sending leaves enough behind for the next run to look the
transaction up, resend the same bytes, or - only once its blockhash has provably expired - sign attempt + 1
(docs/solana.md §3.2, §3.3; docs/original-backend.md W9, W17, W18).

Columns:
  id                       surrogate key
  pool_id                  the pool the action is for (FK pools.id; no cascade: this is an audit trail)
  action                   which crank (closed list, CHECK)
  attempt                  1, 2, ... per (pool, action); UNIQUE(pool_id, action, attempt) is the idempotency key
  status                   prepared | sent | finalized | failed | expired | already_done (CHECK)
  signature                first signature of the signed transaction, known before sending (UNIQUE)
  raw_transaction          the signed bytes; resending them can never execute the action twice
  last_valid_block_height  past this block height the blockhash is dead: only then may attempt + 1 be signed
  send_count               broadcasts so far (how hard the network made us work)
  lease_until              the run driving this intent owns it until then; a crashed run's lease runs out
  landed_slot              slot the transaction landed in (finalized, failed or already_done on chain)
  error                    the classified error, for people
  created_at, updated_at, first_sent_at, settled_at   timestamptz bookkeeping

Indexes: a partial UNIQUE index on (pool_id, action) over live rows (prepared, sent) so that two overlapping
monitor runs can never both hold a live intent for the same action, and a partial index on lease_until over
live rows for the resume scan.

Revision: 0002 (after 0001)
Created: 2026-11-25 19:22:49.193640
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None

_LIVE = sa.text("status IN ('prepared', 'sent')")
_ACTIONS = (
    "'unlock_pool', 'randomness_init', 'request_randomness', 'select_winner', 'payout_winner', "
    "'create_fee_accounts', 'sweep_expired_pool', 'admin_close_pool', 'finalize_forfeited_pool', "
    "'claim_refund_forfeit', 'claim_rent', 'randomness_close'"
)
_STATUSES = "'prepared', 'sent', 'finalized', 'failed', 'expired', 'already_done'"


def _timestamptz(name: str, *, now_default: bool = False, nullable: bool = False) -> sa.Column[object]:
    default = sa.text("now()") if now_default else None
    return sa.Column(name, sa.DateTime(timezone=True), server_default=default, nullable=nullable)


def upgrade() -> None:
    op.create_table(
        "crank_intents",
        sa.Column("id", sa.BigInteger(), sa.Identity(always=False), nullable=False),
        sa.Column("pool_id", sa.BigInteger(), nullable=False),
        sa.Column("action", sa.Text(), nullable=False),
        sa.Column("attempt", sa.Integer(), nullable=False),
        sa.Column("status", sa.Text(), server_default=sa.text("'prepared'"), nullable=False),
        sa.Column("signature", sa.Text(), nullable=False),
        sa.Column("raw_transaction", sa.LargeBinary(), nullable=False),
        sa.Column("last_valid_block_height", sa.BigInteger(), nullable=False),
        sa.Column("send_count", sa.Integer(), server_default=sa.text("0"), nullable=False),
        _timestamptz("lease_until", now_default=True),
        sa.Column("landed_slot", sa.BigInteger(), nullable=True),
        sa.Column("error", sa.Text(), nullable=True),
        _timestamptz("created_at", now_default=True),
        _timestamptz("updated_at", now_default=True),
        _timestamptz("first_sent_at", nullable=True),
        _timestamptz("settled_at", nullable=True),
        sa.CheckConstraint(f"action IN ({_ACTIONS})", name=op.f("ck_crank_intents_action_known")),
        sa.CheckConstraint(
            "signature ~ '^[1-9A-HJ-NP-Za-km-z]{64,88}$'", name=op.f("ck_crank_intents_signature_base58")
        ),
        sa.CheckConstraint(f"status IN ({_STATUSES})", name=op.f("ck_crank_intents_status_known")),
        sa.CheckConstraint("attempt >= 1", name=op.f("ck_crank_intents_attempt_positive")),
        sa.CheckConstraint("send_count >= 0", name=op.f("ck_crank_intents_send_count_non_negative")),
        sa.ForeignKeyConstraint(["pool_id"], ["pools.id"], name=op.f("fk_crank_intents_pool_id_pools")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_crank_intents")),
        sa.UniqueConstraint(
            "pool_id", "action", "attempt", name=op.f("uq_crank_intents_pool_id_action_attempt")
        ),
        sa.UniqueConstraint("signature", name=op.f("uq_crank_intents_signature")),
    )
    op.create_index(
        "ix_crank_intents_live_lease_until", "crank_intents", ["lease_until"], postgresql_where=_LIVE
    )
    op.create_index(
        "uq_crank_intents_live_pool_id_action",
        "crank_intents",
        ["pool_id", "action"],
        unique=True,
        postgresql_where=_LIVE,
    )


def downgrade() -> None:
    op.drop_index("uq_crank_intents_live_pool_id_action", table_name="crank_intents", postgresql_where=_LIVE)
    op.drop_index("ix_crank_intents_live_lease_until", table_name="crank_intents", postgresql_where=_LIVE)
    op.drop_table("crank_intents")
