"""The real monitor Lambda handler fed the real scheduled event (events/monitor_scheduled.json), against the
local chain over HTTP and PostgreSQL through pgBouncer: it ticks until its budget is spent and drives a due
pool on chain, holding the pool's lease only while it works on it."""

from __future__ import annotations

import json
import ssl
from pathlib import Path

import pytest
from sqlalchemy import text
from sqlalchemy.engine import Engine

from local_lambda import lambda_context
from missout.chain.rpc.clients import process_ssl_context
from tests.monitor.served import monitor_handler_env
from tests.monitor.world import SECRET, MonitorWorld
from tests.support.database import TestDatabase
from tests.support.http_server import free_socket, serve_in_thread

pytestmark = [pytest.mark.integration, pytest.mark.localnet]

EVENT = Path(__file__).resolve().parents[2] / "events" / "monitor_scheduled.json"


def test_the_scheduled_event_drives_a_due_pool_on_chain(
    app_database: TestDatabase, direct_engine: Engine, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    from missout_monitor.handler import handler

    sock = free_socket()
    url = f"http://127.0.0.1:{sock.getsockname()[1]}"
    world = MonitorWorld(b"monitor-handler", direct_engine, gateway_url=url)
    world.chain.follow_wall_clock()  # slots move on by themselves, as on a real cluster
    pool = world.full_pool(participants=2)
    pool_id = world.register(pool)
    with direct_engine.begin() as conn:  # an API rate-limit window that ended long ago
        conn.execute(
            text(
                "INSERT INTO rate_limit_hits (key, window_start, hits)"
                " VALUES ('ip:192.0.2.9', now() - interval '1 day', 3)"
            )
        )
    # Each tick runs in its own asyncio.run with new HTTP clients; the CA bundle must load once per process,
    # not per tick and client (counted from a fresh process state).
    ca_loads: list[object] = []
    load = ssl.SSLContext.load_verify_locations

    def counted_load(context: ssl.SSLContext, *args: object, **kwargs: object) -> None:
        ca_loads.append(args)
        load(context, *args, **kwargs)  # type: ignore[arg-type]

    monkeypatch.setattr(ssl.SSLContext, "load_verify_locations", counted_load)
    process_ssl_context.cache_clear()
    with (
        monitor_handler_env(monkeypatch, tmp_path, rpc_url=url, dev=world.dev, randomness_secret=SECRET),
        serve_in_thread(world.app, sock),
    ):
        summary = handler(json.loads(EVENT.read_text()), lambda_context("monitor", 9.0))
    assert summary["stopped_because"] == "time budget spent"
    assert summary["failed_ticks"] == 0
    assert summary["ticks"] >= 2
    assert len(ca_loads) == 1
    # Unlocked, its randomness account made, and committed + bound in one transaction, all by the handler.
    landed = [(i["action"], i["status"]) for i in world.intents(pool_id)][:3]
    assert landed == [
        ("unlock_pool", "finalized"),
        ("randomness_init", "finalized"),
        ("request_randomness", "finalized"),
    ]
    record = world.record(pool_id)
    assert record["status"] in ("randomness_committed", "winner_selected", "ended")
    assert record["leased_by"] is None  # every lease given back when the run ended
    # The lease held for the tick that worked on the pool; later ticks did not see it again at once.
    assert summary["pools_seen"] < summary["ticks"] * 2
    with direct_engine.connect() as conn:  # the tick also forgot the ended rate-limit window
        ended = text("SELECT count(*) FROM rate_limit_hits WHERE key = 'ip:192.0.2.9'")
        assert conn.execute(ended).scalar_one() == 0
