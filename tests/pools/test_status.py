"""One pool-status vocabulary: every on-chain status has exactly one database text and back, and the
database's CHECK accepts exactly those texts."""

from __future__ import annotations

import pytest
from sqlalchemy import CheckConstraint

from missout.chain.accounts import PoolStatus, StatusReason
from missout.db.tables import pools
from missout.pools.status import POOL_STATUSES, STATUS_REASONS, chain_status, db_status


@pytest.mark.parametrize("status", list(PoolStatus), ids=lambda s: s.name)
def test_each_chain_status_maps_to_one_text_and_back(status: PoolStatus) -> None:
    text = db_status(status)
    assert text in POOL_STATUSES
    assert chain_status(text) is status


def test_the_texts_are_the_program_s_names_in_ordinal_order() -> None:
    assert POOL_STATUSES == (
        "open",
        "locked",
        "unlocked",
        "randomness_committed",
        "randomness_revealed",
        "winner_selected",
        "ended",
        "cancelled",
        "closed",
    )
    assert db_status(PoolStatus(5)) == "winner_selected"
    assert db_status(2) == "unlocked"  # type: ignore[arg-type]  # a raw ordinal from a decoder works too


def test_unknown_texts_and_ordinals_are_refused() -> None:
    with pytest.raises(ValueError, match="unknown pool status 'finished'"):
        chain_status("finished")
    with pytest.raises(ValueError, match="9"):
        db_status(9)  # type: ignore[arg-type]


def test_the_table_checks_use_the_same_vocabulary() -> None:
    checks = {str(c.name): str(c.sqltext) for c in pools.constraints if isinstance(c, CheckConstraint)}
    assert all(f"'{text}'" in checks["ck_pools_status_known"] for text in POOL_STATUSES)
    assert STATUS_REASONS == tuple(int(r) for r in StatusReason) == (0, 1, 2, 4, 5, 6)
    assert checks["ck_pools_status_reason_known"] == "status_reason IN (0, 1, 2, 4, 5, 6)"
