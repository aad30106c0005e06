"""The local chain's Switchboard gateways and their controls over HTTP (the chain's own app, in process):
how a person or a script outside the test process reproduces a failure mode."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
from collections.abc import AsyncIterator
from pathlib import Path

import httpx2
import pytest

from tests.support.crank_world import GATEWAY_URL, CrankWorld
from tests.support.switchboard_world import gateway_http, oracles

pytestmark = pytest.mark.localnet

CONTROLS = f"{GATEWAY_URL}/localnet/switchboard/oracles"


@pytest.fixture
def world() -> CrankWorld:
    return CrankWorld(b"switchboard-controls", oracles=3)


@pytest.fixture
async def http(world: CrankWorld) -> AsyncIterator[httpx2.AsyncClient]:
    async with gateway_http(world.app) as client:
        yield client


async def healthy_keys(http: httpx2.AsyncClient, prefix: str = "") -> list[str]:
    answer = await http.get(f"{GATEWAY_URL}{prefix}/gateway/api/v1/healthy_oracles")
    assert answer.status_code == 200
    body = answer.json()
    assert body["count"] == len(body["oracles"])
    return [entry["oracle_config"]["pull_oracle"] for entry in body["oracles"]]


async def test_every_oracle_has_its_own_gateway_path_and_all_report_the_healthy_ones(
    world: CrankWorld, http: httpx2.AsyncClient
) -> None:
    keys = [str(oracle.key) for oracle in oracles(world).oracles]
    listed = await http.get(CONTROLS)
    assert [o["gateway_url"] for o in listed.json()["oracles"]] == [
        GATEWAY_URL,
        f"{GATEWAY_URL}/oracle1",
        f"{GATEWAY_URL}/oracle2",
    ]
    for prefix in ("", "/oracle1", "/oracle2"):
        assert await healthy_keys(http, prefix) == keys
    assert (await http.get(f"{GATEWAY_URL}/oracle7/gateway/api/v1/test")).status_code == 404


async def test_a_gateway_switched_down_answers_503_and_drops_out_of_the_health_reports(
    world: CrankWorld, http: httpx2.AsyncClient
) -> None:
    changed = await http.post(f"{CONTROLS}/1", json={"down": True})
    assert changed.status_code == 200
    assert changed.json()["down"] is True
    assert (await http.get(f"{GATEWAY_URL}/oracle1/gateway/api/v1/test")).status_code == 503
    assert (await http.get(f"{GATEWAY_URL}/oracle1/gateway/api/v1/healthy_oracles")).status_code == 503
    reveal = await http.post(f"{GATEWAY_URL}/oracle1/gateway/api/v1/randomness_reveal", json={})
    assert reveal.status_code == 503
    assert str(oracles(world)[1].key) not in await healthy_keys(http)


async def test_too_early_answers_are_counted_down_then_a_malformed_request_is_a_400(
    world: CrankWorld, http: httpx2.AsyncClient
) -> None:
    await http.post(f"{CONTROLS}/0", json={"too_early": 2})
    url = f"{GATEWAY_URL}/gateway/api/v1/randomness_reveal"
    errors = [(await http.post(url, json={"slot": 1})).json()["error"] for _ in range(3)]
    assert [e.startswith("too early") for e in errors] == [True, True, False]
    assert "bad reveal request" in errors[2]  # the countdown is spent: now the body itself is judged
    assert oracles(world)[0].behaviour.reveal_requests == 3


async def test_on_chain_fields_are_written_to_the_oracle_account(
    world: CrankWorld, http: httpx2.AsyncClient
) -> None:
    now = world.chain.clock.unix_timestamp
    changed = await http.post(
        f"{CONTROLS}/2",
        json={
            "valid_until": now + 5,
            "last_heartbeat": now - 7,
            "verification_status": 8,
            "restricted": True,
        },
    )
    assert changed.status_code == 200
    state = changed.json()
    assert (state["valid_until"], state["last_heartbeat"], state["verification_status"]) == (
        now + 5,
        now - 7,
        8,
    )
    assert state["restricted"] is True
    entry = next(
        e
        for e in (await http.get(f"{GATEWAY_URL}/gateway/api/v1/healthy_oracles")).json()["oracles"]
        if e["oracle_config"]["pull_oracle"] == str(oracles(world)[2].key)
    )
    assert entry["oracle_config"]["restricted"] is True


@pytest.mark.parametrize(
    "change",
    [
        {"down": "yes"},
        {"too_early": True},
        {"valid_until": "soon"},
        {"colour": "red"},
        {"gateway_url": "x" * 65},
    ],
)
async def test_a_bad_control_request_is_refused_and_changes_nothing(
    world: CrankWorld, http: httpx2.AsyncClient, change: dict[str, object]
) -> None:
    before = (await http.get(CONTROLS)).json()
    answer = await http.post(f"{CONTROLS}/0", json={"healthy": False, **change})
    assert answer.status_code == 400
    assert (await http.get(CONTROLS)).json() == before


def test_python_m_localnet_serves_several_oracles_whose_failures_are_driven_over_http() -> None:
    """The standalone local chain (`python -m localnet --oracles 3`) over real HTTP, as a script uses it."""
    env = {**os.environ, "PYTHONPATH": str(Path(__file__).resolve().parents[2] / "dev")}
    command = [sys.executable, "-m", "localnet", "--host", "127.0.0.1", "--port", "0", "--frozen-clock"]
    process = subprocess.Popen(
        [*command, "--oracles", "3"], stdout=subprocess.PIPE, stderr=subprocess.PIPE, env=env, text=True
    )
    try:
        assert process.stdout is not None
        url = process.stdout.readline().strip().rsplit(" ", 1)[-1]
        with httpx2.Client(base_url=url, timeout=5) as client:
            listed = client.get("/localnet/switchboard/oracles").json()["oracles"]
            changed = client.post("/localnet/switchboard/oracles/2", json={"down": True})
            down = client.get("/oracle2/gateway/api/v1/test")
            report = client.get("/oracle1/gateway/api/v1/healthy_oracles").json()
    finally:
        process.send_signal(signal.SIGTERM)
        code = process.wait(timeout=10)
    assert [oracle["gateway_url"] for oracle in listed] == [url, f"{url}/oracle1", f"{url}/oracle2"]
    assert changed.status_code == 200
    assert down.status_code == 503
    assert report["count"] == 2
    assert code == 0
