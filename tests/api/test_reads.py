"""The read routes through the real handler (API Gateway v2 events) against the database behind pgBouncer:
sorts with keyset paging, the participant filter, any well-formed cursor accepted, pool detail by address and
by id, claimables by the program's rules, cache lifetimes, and the shared per-IP rate limit."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from sqlalchemy import insert
from sqlalchemy.engine import Engine

from missout import settings
from missout.db.tables import activity, participants, profiles
from tests.api.chain_api import away_from_a_window_edge, invoke
from tests.support.database import TestDatabase
from tests.support.factories import SIG, insert_mint, insert_pool, key

START = datetime(2026, 11, 1, tzinfo=UTC)


def _pool(engine: Engine, n: int, **overrides: object) -> int:
    values: dict[str, object] = {
        "pool_address": key(900 + n),
        "create_signature": SIG(900 + n),
        "created_at": START + timedelta(minutes=n),
    }
    values.update(overrides)
    return insert_pool(engine, **values)


def _seat(engine: Engine, pool_id: int, wallet: str, seat: int | None, **extra: object) -> None:
    with engine.begin() as conn:
        conn.execute(insert(participants).values(pool_id=pool_id, wallet=wallet, seat=seat, **extra))


def _ids(answer_body: dict[str, Any]) -> list[int]:
    return [p["id"] for p in answer_body["items"]]


@pytest.fixture
def seeded(app_database: TestDatabase, roomy_limits: None, direct_engine: Engine) -> dict[str, int]:
    insert_mint(direct_engine)
    ids = {
        "small_open": _pool(
            direct_engine, 1, total_amount=1_000_000, status="open", expire_time=START + timedelta(days=7)
        ),
        "big_locked": _pool(
            direct_engine,
            2,
            total_amount=9_000_000,
            status="locked",
            participants_count=5,
            lock_start_time=START + timedelta(days=1),
            lock_duration_seconds=600,
            expire_time=START + timedelta(days=8),
        ),
        "mid_ended": _pool(direct_engine, 3, total_amount=5_000_000, status="ended"),
        "late_open": _pool(
            direct_engine, 4, total_amount=2_000_000, status="open", expire_time=START + timedelta(days=9)
        ),
    }
    return ids


def test_newest_first_pages_with_the_cursor(seeded: dict[str, int]) -> None:
    first = invoke("GET", "/api/pools", query={"limit": "2"})
    assert first.status == 200
    assert _ids(first.body) == [seeded["late_open"], seeded["mid_ended"]]
    assert first.headers["cache-control"] == "public, max-age=30"
    second = invoke("GET", "/api/pools", query={"limit": "2", "cursor": first.body["next_cursor"]})
    assert _ids(second.body) == [seeded["big_locked"], seeded["small_open"]]
    assert second.body["next_cursor"] is None


def test_biggest_pot_orders_by_total_and_pages(seeded: dict[str, int]) -> None:
    first = invoke("GET", "/api/pools", query={"sort": "biggest_pot", "limit": "3"})
    assert _ids(first.body) == [seeded["big_locked"], seeded["mid_ended"], seeded["late_open"]]
    rest = invoke(
        "GET", "/api/pools", query={"sort": "biggest_pot", "limit": "3", "cursor": first.body["next_cursor"]}
    )
    assert _ids(rest.body) == [seeded["small_open"]]


def test_ending_soon_lists_open_and_locked_by_window_end(seeded: dict[str, int]) -> None:
    # The locked pool's lock ends on day 1 + 10 min; the open ones close for joins on day 7 and day 9.
    answer = invoke("GET", "/api/pools", query={"sort": "ending_soon"})
    assert _ids(answer.body) == [seeded["big_locked"], seeded["small_open"], seeded["late_open"]]
    paged = invoke("GET", "/api/pools", query={"sort": "ending_soon", "limit": "1"})
    after = invoke(
        "GET", "/api/pools", query={"sort": "ending_soon", "limit": "5", "cursor": paged.body["next_cursor"]}
    )
    assert _ids(after.body) == [seeded["small_open"], seeded["late_open"]]


def test_participant_filter_uses_seats_on_chain(seeded: dict[str, int], direct_engine: Engine) -> None:
    player = key(4_242)
    _seat(direct_engine, seeded["mid_ended"], player, 1)
    _seat(direct_engine, seeded["small_open"], player, None, refund_claimed=True)  # refunded: left the list
    answer = invoke("GET", "/api/pools", query={"participant": player})
    assert _ids(answer.body) == [seeded["mid_ended"]]


@pytest.mark.parametrize("cursor", ["0.0", "99999999999999999999.999999999999999999", "1764000000000000.3"])
def test_any_well_formed_cursor_is_a_position(seeded: dict[str, int], cursor: str) -> None:
    for sort in ("newest", "ending_soon", "biggest_pot"):
        answer = invoke("GET", "/api/pools", query={"cursor": cursor, "sort": sort})
        assert answer.status == 200, (sort, answer.body)


def test_malformed_cursor_is_422_naming_cursor(seeded: dict[str, int]) -> None:
    answer = invoke("GET", "/api/pools", query={"cursor": "not-a-cursor"})
    assert answer.status == 422
    assert answer.problem()["errors"][0]["field"] == "cursor"


def test_detail_has_participants_in_seat_order_with_names(
    seeded: dict[str, int], direct_engine: Engine
) -> None:
    pool_id = seeded["big_locked"]
    wallets = [key(2_000), key(3_001), key(3_002)]
    with direct_engine.begin() as conn:
        conn.execute(insert(profiles).values(wallet=wallets[2], nickname="third_seat"))
    for seat in (2, 0, 1):  # inserted out of order on purpose
        _seat(direct_engine, pool_id, wallets[seat], seat)
    with direct_engine.begin() as conn:
        conn.execute(
            insert(activity).values(
                pool_id=pool_id,
                wallet=wallets[1],
                kind="donate",
                amount=7,
                signature=SIG(77),
                slot=5,
                block_time=START,
            )
        )
    answer = invoke("GET", f"/api/pools/{key(902)}")
    assert answer.status == 200
    assert answer.headers["cache-control"] == "public, max-age=20"
    body = answer.body
    assert [p["wallet"] for p in body["participants"]] == wallets
    assert [p["seat"] for p in body["participants"]] == [0, 1, 2]
    assert body["participants"][2]["display_name"] == "third_seat"
    assert body["donations"] == [
        {
            "kind": "donate",
            "wallet": wallets[1],
            "amount": "7",
            "signature": SIG(77),
            "slot": 5,
            "block_time": "2026-11-01T00:00:00Z",
        }
    ]
    by_id = invoke("GET", f"/api/pools/by-id/{pool_id}")
    assert by_id.body == body


def test_unknown_pool_is_404_problem(seeded: dict[str, int]) -> None:
    for path in (f"/api/pools/{key(31_337)}", "/api/pools/by-id/999999"):
        answer = invoke("GET", path)
        assert answer.status == 404
        assert answer.problem()["type"] == "/problems/pool-not-found"


def test_a_reused_address_shows_the_live_pool_and_the_old_one_by_id(
    app_database: TestDatabase, roomy_limits: None, direct_engine: Engine
) -> None:
    insert_mint(direct_engine)
    old = _pool(direct_engine, 1, status="closed", rent_claimed=True)
    new = _pool(direct_engine, 2, pool_address=key(901), status="open")
    assert invoke("GET", f"/api/pools/{key(901)}").body["id"] == new
    assert invoke("GET", f"/api/pools/by-id/{old}").body["status"] == "closed"


def test_claimable_follows_the_programs_rules(
    app_database: TestDatabase, roomy_limits: None, direct_engine: Engine
) -> None:
    insert_mint(direct_engine)
    me = key(2_000)  # the factories' creator
    refundable = _pool(direct_engine, 1, status="cancelled", status_reason=5)
    paused_cancel = _pool(
        direct_engine, 2, status="cancelled", status_reason=2
    )  # claim_refund refuses reason 2
    already = _pool(direct_engine, 3, status="cancelled", status_reason=5)
    rent_ready = _pool(direct_engine, 4, status="ended", participants_count=0)
    rent_busy = _pool(direct_engine, 5, status="cancelled", status_reason=5, participants_count=1)
    for pool_id in (refundable, paused_cancel, rent_busy):
        _seat(direct_engine, pool_id, me, 0)
    _seat(direct_engine, already, me, None, refund_claimed=True)
    answer = invoke("GET", "/api/pools/claimable", query={"wallet": me})
    assert answer.status == 200
    assert {p["id"] for p in answer.body["refunds"]} == {refundable, rent_busy}
    assert [p["id"] for p in answer.body["rents"]] == [rent_ready]


def test_ip_limit_is_shared_and_answers_429_with_headers(
    app_database: TestDatabase, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("API_RATE_LIMIT_PER_IP", "3")
    settings.clear_caches()
    away_from_a_window_edge()
    answers = [invoke("GET", "/api/pools", ip="198.51.100.7") for _ in range(4)]
    assert [a.status for a in answers] == [200, 200, 200, 429]
    assert answers[0].headers["ratelimit-policy"] == '"ip";q=3;w=60'
    assert answers[1].headers["ratelimit"].startswith('"ip";r=1;t=')
    refused = answers[3]
    assert refused.problem()["type"] == "/problems/rate-limited"
    assert 1 <= int(refused.headers["retry-after"]) <= 60
    # Another address has its own budget: the key is API Gateway's sourceIp, not a header.
    assert invoke("GET", "/api/pools", ip="198.51.100.8").status == 200


def test_forwarded_for_header_does_not_change_the_key(
    app_database: TestDatabase, monkeypatch: pytest.MonkeyPatch
) -> None:
    from local_lambda import lambda_context
    from missout_api.handler import handler
    from tests.api.chain_api import api_event

    monkeypatch.setenv("API_RATE_LIMIT_PER_IP", "1")
    settings.clear_caches()
    away_from_a_window_edge()
    statuses = []
    for n in range(2):
        event = api_event("GET", "/api/pools", ip="192.0.2.10")
        event["headers"]["x-forwarded-for"] = f"10.0.0.{n}"
        statuses.append(handler(event, lambda_context("api", 29))["statusCode"])
    assert statuses == [200, 429]


def test_the_status_names_the_api_accepts_are_the_records() -> None:
    from typing import get_args

    from missout.pools.status import POOL_STATUSES
    from missout_api.schemas import StatusName

    assert get_args(StatusName) == POOL_STATUSES
