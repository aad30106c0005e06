"""Leaderboards and wallet activity: the routes' answers on a small board, and, with 100,000 activity rows
(and 20,000 winners, 20,000 referrals, 30,000 reward events), `EXPLAIN` showing that each board query and
the activity page walk the index made for them; the trigger-kept board tables agree with their sources."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy import insert, text
from sqlalchemy.engine import Engine
from sqlalchemy.sql import Select

from missout.db.tables import (
    activity,
    referral_allocations,
    referral_relations,
    referral_reward_events,
    winner_totals,
)
from missout.leaderboards import referrers_query, winners_query
from missout.profiles.activity import activity_query
from tests.api.chain_api import invoke
from tests.support.database import TestDatabase
from tests.support.factories import MINT, SIG, insert_mint, insert_pool, key

NOW = datetime(2026, 11, 1, tzinfo=UTC)


def _wins(engine: Engine, rows: list[tuple[str, str, int, int]]) -> None:
    with engine.begin() as conn:
        for wallet, mint, wins, total in rows:
            conn.execute(
                insert(winner_totals).values(
                    wallet=wallet, mint=mint, wins=wins, total_won=total, biggest_win=total, last_win_at=NOW
                )
            )


def test_winners_board_per_mint_by_amount_and_across_mints_by_count(
    people_db: TestDatabase, direct_engine: Engine
) -> None:
    other = insert_mint(direct_engine, key(7_001), symbol="OTHER")
    insert_mint(direct_engine)
    a, b, c = key(1), key(2), key(3)
    _wins(direct_engine, [(a, MINT, 1, 900), (b, MINT, 3, 300), (c, MINT, 1, 600), (c, other, 3, 5)])
    per_mint = invoke("GET", "/api/leaderboard/winners", query={"mint": MINT, "limit": "2"})
    assert per_mint.status == 200
    assert [(i["rank"], i["wallet"], i["amount"]) for i in per_mint.body["items"]] == [
        (1, a, "900"),
        (2, c, "600"),
    ]
    assert per_mint.body["next_offset"] == 2
    rest = invoke("GET", "/api/leaderboard/winners", query={"mint": MINT, "limit": "2", "offset": "2"})
    assert [(i["rank"], i["wallet"]) for i in rest.body["items"]] == [(3, b)]
    by_count = invoke("GET", "/api/leaderboard/winners").body["items"]
    assert [(i["wallet"], i["count"], i["amount"]) for i in by_count] == [
        (c, 4, None),
        (b, 3, None),
        (a, 1, None),
    ]


def test_referrers_board_by_invites_and_per_mint_by_earnings(
    people_db: TestDatabase, direct_engine: Engine
) -> None:
    insert_mint(direct_engine)
    a, b = key(1), key(2)
    pool_ids = [
        insert_pool(direct_engine, pool_address=key(500 + n), create_signature=SIG(500 + n)) for n in range(2)
    ]
    with direct_engine.begin() as conn:
        for n in range(3):
            conn.execute(insert(referral_relations).values(referred_wallet=key(100 + n), referrer_wallet=a))
        conn.execute(insert(referral_relations).values(referred_wallet=key(200), referrer_wallet=b))
        for pool_id in pool_ids:
            conn.execute(insert(referral_allocations).values(pool_id=pool_id, mint=MINT, total=0))
            conn.execute(
                insert(referral_reward_events).values(
                    pool_id=pool_id, mint=MINT, referrer_wallet=b, amount=70
                )
            )
        conn.execute(
            insert(referral_reward_events).values(
                pool_id=pool_ids[0], mint=MINT, referrer_wallet=a, amount=100
            )
        )
    by_count = invoke("GET", "/api/leaderboard/referrers").body["items"]
    assert [(i["wallet"], i["count"]) for i in by_count] == [(a, 3), (b, 1)]
    per_mint = invoke("GET", "/api/leaderboard/referrers", query={"mint": MINT}).body["items"]
    # Summed per referrer once (no fan-out through the relations: docs/original-backend.md W16).
    assert [(i["wallet"], i["count"], i["amount"]) for i in per_mint] == [(b, 2, "140"), (a, 1, "100")]


def test_activity_pages_by_key_newest_first(people_db: TestDatabase, direct_engine: Engine) -> None:
    insert_mint(direct_engine)
    pool_id = insert_pool(direct_engine)
    wallet = key(42)
    with direct_engine.begin() as conn:
        for n in range(5):
            conn.execute(
                insert(activity).values(
                    pool_id=pool_id,
                    wallet=wallet,
                    kind="join_pool",
                    amount=n,
                    signature=SIG(n),
                    slot=n,
                    block_time=NOW + timedelta(minutes=n // 2),  # ties on time are ordered by id
                )
            )
    seen: list[str] = []
    cursor: str | None = None
    for _ in range(3):
        query = {"limit": "2", **({"cursor": cursor} if cursor else {})}
        page = invoke("GET", f"/api/wallets/{wallet}/activity", query=query)
        assert page.status == 200
        seen += [i["amount"] for i in page.body["items"]]
        cursor = page.body["next_cursor"]
        if cursor is None:
            break
    assert seen == ["4", "3", "2", "1", "0"]
    assert invoke("GET", f"/api/wallets/{wallet}/activity", query={"cursor": "nonsense"}).status == 422


_WALLET_7 = "W" + "7".rjust(40, "x")  # one of the 5,000 wallets _fill writes

# Base58-valid generated keys: 'W' + the number with 0 spelled 'z', left-padded with 'x' (41 characters).
_ACTIVITY = """
INSERT INTO activity (pool_id, wallet, kind, amount, signature, slot, block_time)
SELECT (CAST(:pools AS bigint[]))[1 + mod(n, 3)],
       'W' || lpad(translate(CAST(mod(n, 5000) AS text), '0', 'z'), 40, 'x'), 'join_pool', n,
       'S' || lpad(translate(CAST(n AS text), '0', 'z'), 80, 'y'), n,
       timestamptz '2026-01-01' + n * interval '1 second'
FROM generate_series(1, 100000) AS n
"""
_WINNERS = """
INSERT INTO winner_totals (wallet, mint, wins, total_won, biggest_win, last_win_at)
SELECT 'W' || lpad(translate(CAST(n / 3 AS text), '0', 'z'), 40, 'x'),
       (CAST(:mints AS text[]))[1 + mod(n, 3)], 1 + mod(n, 7), n * 1000, n, now()
FROM generate_series(0, 19999) AS n
"""
_RELATIONS = """
INSERT INTO referral_relations (referred_wallet, referrer_wallet)
SELECT 'R' || lpad(translate(CAST(n AS text), '0', 'z'), 40, 'x'),
       'W' || lpad(translate(CAST(mod(n, 2000) AS text), '0', 'z'), 40, 'x')
FROM generate_series(1, 20000) AS n
"""
_EVENTS = """
INSERT INTO referral_reward_events (pool_id, mint, referrer_wallet, amount)
SELECT :pool_id, :mint, 'W' || lpad(translate(CAST(n AS text), '0', 'z'), 40, 'x'), 1 + n
FROM generate_series(1, 10000) AS n
"""


def _fill(engine: Engine) -> list[int]:
    mints = [insert_mint(engine, key(7_000 + m), symbol=f"M{m}") for m in range(3)]
    pool_ids = [
        insert_pool(engine, mint=mints[n % 3], pool_address=key(600 + n), create_signature=SIG(600 + n))
        for n in range(3)
    ]
    with engine.begin() as conn:
        conn.execute(text("SET LOCAL statement_timeout = 0"))  # 100,000 rows take a few seconds here
        conn.execute(text(_ACTIVITY), {"pools": pool_ids})
        conn.execute(text(_WINNERS), {"mints": mints})
        conn.execute(text(_RELATIONS))
        for pool_id, mint in zip(pool_ids, mints, strict=True):
            conn.execute(insert(referral_allocations).values(pool_id=pool_id, mint=mint, total=0))
            conn.execute(text(_EVENTS), {"pool_id": pool_id, "mint": mint})
    with engine.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
        conn.execute(text("VACUUM ANALYZE"))
    return pool_ids


def _plan(engine: Engine, query: Select[Any]) -> str:
    """EXPLAIN of the statement exactly as the app sends it (bound parameters, not literals)."""
    compiled = query.compile(dialect=engine.dialect)
    params = tuple(compiled.params[name] for name in compiled.positiontup or ())
    with engine.begin() as conn:
        return "\n".join(row[0] for row in conn.exec_driver_sql(f"EXPLAIN {compiled}", params))


INDEXES = {
    "winners per mint": "ix_winner_totals_mint_total_won",
    "winners by count": "ix_winner_counts_wins",
    "referrers per mint": "ix_referrer_mint_totals_mint_earned",
    "referrers by count": "ix_referrer_counts_invited",
    "activity page": "ix_activity_wallet_block_time_id",
}


def test_each_query_uses_its_index_with_100k_activity_rows(
    people_db: TestDatabase, direct_engine: Engine
) -> None:
    _fill(direct_engine)
    mint = key(7_001)
    with direct_engine.begin() as conn:
        assert conn.execute(text("SELECT count(*) FROM activity")).scalar_one() == 100_000
    queries: dict[str, Select[Any]] = {
        "winners per mint": winners_query(mint, 20, 0),
        "winners by count": winners_query(None, 20, 0),
        "referrers per mint": referrers_query(mint, 20, 0),
        "referrers by count": referrers_query(None, 20, 0),
        "activity page": activity_query(_WALLET_7, 20, "1767275600000000.50000"),
    }
    plans = {board: _plan(direct_engine, query) for board, query in queries.items()}
    missing = {board: plans[board] for board, index in INDEXES.items() if index not in plans[board]}
    assert not missing, missing
    big = ("activity", "winner_totals", "winner_counts", "referrer_counts", "referrer_mint_totals")
    for plan in plans.values():
        assert not any(f"Seq Scan on {table} " in plan for table in big), plan
    with direct_engine.begin() as conn:  # the triggers kept every board row equal to its source's aggregate
        assert conn.execute(text(_BOARDS_DRIFT)).scalar_one() == 0


_BOARDS_DRIFT = """
SELECT (SELECT count(*) FROM (
            SELECT wallet, sum(wins) FROM winner_totals GROUP BY wallet
            EXCEPT SELECT wallet, wins FROM winner_counts) AS w)
     + (SELECT count(*) FROM (
            SELECT referrer_wallet, count(*) FROM referral_relations GROUP BY 1
            EXCEPT SELECT wallet, invited FROM referrer_counts) AS r)
     + (SELECT count(*) FROM (
            SELECT mint, referrer_wallet, count(*), sum(amount) FROM referral_reward_events GROUP BY 1, 2
            EXCEPT SELECT mint, referrer_wallet, pools, earned FROM referrer_mint_totals) AS m)
"""
