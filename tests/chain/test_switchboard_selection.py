"""The oracle selector's rules and their order (docs/switchboard.md "Oracle choice"), on plain values."""

from __future__ import annotations

from dataclasses import replace

import pytest
from solders.pubkey import Pubkey

from missout.chain.switchboard import (
    HealthIndex,
    NoEligibleOracle,
    OracleAccount,
    OracleCandidate,
    OracleHealth,
    select_oracle,
)
from missout.chain.switchboard.selection import (
    HealthAnswerInvalid,
    majority_version,
    parse_healthy_oracles,
)

NOW = 1_800_000_000


def key(byte: int) -> Pubkey:
    return Pubkey.from_bytes(bytes([byte]) * 32)


def candidate(byte: int, **changes: object) -> OracleCandidate:
    """An eligible oracle some gateway reported healthy, on version v2, with no load figures."""
    base = OracleCandidate(
        key=key(byte),
        gateway_url=f"https://oracle{byte}.example",
        version="v2",
        is_on_queue=True,
        is_verified=True,
        heartbeat_fresh=True,
        quote_fresh=True,
        live_healthy=True,
        restricted=False,
        gateway_enabled=True,
        pull_oracle_enabled=True,
        last_heartbeat=NOW - 10,
        valid_until=NOW + 3_600,
    )
    return replace(base, **changes)  # type: ignore[arg-type]


def chosen(*candidates: OracleCandidate) -> Pubkey:
    return select_oracle(list(candidates)).candidate.key


def test_a_live_healthy_oracle_beats_a_fresher_one_no_gateway_reported() -> None:
    live = candidate(1, last_heartbeat=NOW - 200)
    silent = candidate(2, live_healthy=False, last_heartbeat=NOW, restricted=None, pull_oracle_enabled=None)
    selection = select_oracle([silent, live])
    assert (selection.candidate.key, selection.tier, selection.live_count) == (key(1), "live", 1)


def test_without_live_health_the_on_chain_facts_decide_in_the_fallback_tier() -> None:
    older = candidate(1, live_healthy=False, last_heartbeat=NOW - 200)
    fresher = candidate(2, live_healthy=False, last_heartbeat=NOW - 5)
    selection = select_oracle([older, fresher])
    assert (selection.candidate.key, selection.tier, selection.eligible_count) == (key(2), "fallback", 2)


@pytest.mark.parametrize(
    "flaw",
    [
        {"restricted": True},
        {"pull_oracle_enabled": False},
        {"gateway_enabled": False},
        {"gateway_url": ""},
        {"is_on_queue": False},
        {"is_verified": False},
        {"heartbeat_fresh": False},
        {"quote_fresh": False},
    ],
    ids=lambda flaw: next(iter(flaw)),
)
def test_an_oracle_with_any_flaw_is_dropped_even_when_it_is_the_least_loaded(flaw: dict[str, object]) -> None:
    flawed = candidate(1, active_connections=0, **flaw)
    sound = candidate(2, active_connections=50)
    assert chosen(flawed, sound) == key(2)
    with pytest.raises(NoEligibleOracle):
        select_oracle([flawed])


def test_the_majority_version_is_preferred_over_a_less_loaded_minority() -> None:
    minority = candidate(1, version="v1", active_connections=0)
    majority = [candidate(2, active_connections=9), candidate(3, active_connections=7)]
    selection = select_oracle([minority, *majority])
    assert (selection.candidate.key, selection.majority_version) == (key(3), "v2")


def test_the_least_loaded_wins_connections_first_then_subscriptions() -> None:
    busy = candidate(1, active_connections=5, total_subscriptions=0)
    quiet = candidate(2, active_connections=1, total_subscriptions=90)
    quieter_subscriptions = candidate(3, active_connections=1, total_subscriptions=10)
    unknown = candidate(4)  # no figures: ranks after any reported load
    assert chosen(busy, quiet, quieter_subscriptions, unknown) == key(3)
    assert chosen(busy, unknown) == key(1)


def test_then_more_feeds_then_the_freshest_heartbeat_then_the_latest_quote_then_the_key() -> None:
    load = {"active_connections": 1, "total_subscriptions": 1}
    assert chosen(candidate(1, total_feeds=5, **load), candidate(2, total_feeds=9, **load)) == key(2)
    feeds = {**load, "total_feeds": 5}
    older = candidate(1, last_heartbeat=NOW - 30, **feeds)
    fresher = candidate(2, last_heartbeat=NOW - 3, **feeds)
    assert chosen(older, fresher) == key(2)
    earlier_quote = candidate(3, valid_until=NOW + 60, **feeds)
    later_quote = candidate(4, valid_until=NOW + 600, **feeds)
    assert chosen(earlier_quote, later_quote) == key(4)
    assert chosen(candidate(6, **feeds), candidate(5, **feeds)) == min(key(5), key(6), key=str)


def test_a_candidate_takes_its_facts_from_the_oracle_account_and_the_gateways_report() -> None:
    oracle = OracleAccount(
        verification_status=4,
        valid_until=NOW + 100,
        last_heartbeat=NOW - 301,
        gateway_uri="https://g.example",
        is_on_queue=True,
    )
    report = OracleHealth(
        oracle=str(key(7)),
        oracle_url="https://g.example",
        version="v3",
        restricted=False,
        pull_oracle_enabled=True,
        active_connections=4,
        total_subscriptions=2,
        total_feeds=11,
        priority_pairs=0,
    )
    health = HealthIndex(by_oracle={str(key(7)): report}, majority_version="v3", gateways_answered=1)

    def build(account: OracleAccount, oracle_byte: int = 7) -> OracleCandidate:
        return OracleCandidate.build(key(oracle_byte), account, node_timeout=300, now=NOW, health=health)

    built = build(oracle)
    assert (built.live_healthy, built.version, built.active_connections, built.total_feeds) == (
        True,
        "v3",
        4,
        11,
    )
    assert not built.heartbeat_fresh  # 301 s without a heartbeat on a 300 s node timeout
    assert build(replace(oracle, last_heartbeat=NOW - 300)).is_eligible
    assert not build(replace(oracle, verification_status=8)).is_verified  # 8 (override) is not accepted
    assert build(replace(oracle, valid_until=NOW)).quote_fresh is False
    unreported = build(oracle, 8)
    assert (unreported.live_healthy, unreported.version, unreported.restricted) == (False, "v3", None)


def entry(oracle: str, **changes: object) -> dict[str, object]:
    config = {"pull_oracle": oracle, "version": "v2", "enable_pull_oracle": 1, "restricted": False}
    item: dict[str, object] = {
        "oracle_url": f"https://{oracle}",
        "active_connections": 3,
        "oracle_config": config,
    }
    item.update(changes)
    return item


def test_healthy_oracles_answers_are_parsed_leniently_per_entry_and_strictly_per_answer() -> None:
    parsed = parse_healthy_oracles(
        {
            "count": 4,
            "oracles": [
                entry("a"),
                entry("b", oracle_config={"pull_oracle": "b", "enable_pull_oracle": 0, "restricted": True}),
                {"oracle_url": "https://no-config"},
                "not an object",
            ],
        }
    )
    assert [(e.oracle, e.version, e.pull_oracle_enabled, e.restricted) for e in parsed] == [
        ("a", "v2", True, False),
        ("b", None, False, True),
    ]
    for answer in ({"count": 0}, ["a"], None, {"oracles": "a"}):
        with pytest.raises(HealthAnswerInvalid):
            parse_healthy_oracles(answer)


def test_reports_from_several_gateways_keep_the_least_loaded_one_per_oracle() -> None:
    first = parse_healthy_oracles({"oracles": [entry("a", active_connections=5), entry("b")]})
    second = parse_healthy_oracles(
        {
            "oracles": [
                entry("a", active_connections=1),
                entry("c", oracle_config={"pull_oracle": "c", "version": "v1"}),
            ]
        }
    )
    merged = HealthIndex.merge([first, second])
    assert merged.by_oracle["a"].active_connections == 1
    assert sorted(merged.by_oracle) == ["a", "b", "c"]
    assert (merged.majority_version, merged.gateways_answered) == ("v2", 2)


def test_majority_version_ignores_unknown_versions_and_breaks_ties_by_first_seen() -> None:
    assert majority_version(["v1", None, "v2", "v2", ""]) == "v2"
    assert majority_version(["v1", "v2"]) == "v1"
    assert majority_version([None, ""]) is None
