"""SnapStart hooks of the API function: nothing holding a socket survives `before_snapshot` (the database
engine's nor the RPC clients kept per event loop), and `after_restore` rebuilds the engine, the RPC clients,
the settings and the random state so the restored copy serves again."""

from __future__ import annotations

import asyncio
import sys
import types
from collections.abc import Iterator
from typing import Any

import pytest

from missout_api import snapstart
from missout_api.app import create_app
from tests.chain.rpc_server import scripted_rpc, slot_answer
from tests.support.database import TestDatabase
from tests.support.fresh_process import run_fresh
from tests.support.stack import REPO

# Runs in a fresh interpreter, so the socket count is this process's alone (pytest's own, the test
# session's engines and servers would blur it).
_CHILD = """
import json, random, sys
from local_lambda import lambda_context
from missout.db.engine import app_engine
from missout_api import snapstart
import missout_api.handler as api

event = json.load(open(sys.argv[1]))
first = api.handler(event, lambda_context("api", 29))
sockets_before = snapstart.open_socket_count()
report = snapstart.before_snapshot(api._app)
from missout_api.schemas import ApiModel
deferred, pending = [], list(ApiModel.__subclasses__())
while pending:
    model = pending.pop()
    pending.extend(model.__subclasses__())
    if not model.__pydantic_complete__:
        deferred.append(model.__name__)
from missout_api import deferred as routes_deferred, onchain
not_warmed = [
    m for m in (*routes_deferred.ROUTERS, *routes_deferred.MODULES, *onchain.MODULES) if m not in sys.modules
]
random_state = random.getstate()
snapstart.after_restore()
out = {
    "first_status": first["statusCode"],
    "sockets_before_hook": sockets_before,
    "sockets_at_snapshot": report.open_sockets,
    "routes": report.routes,
    "models_left_to_build": deferred,
    "deferred_modules_not_loaded": not_warmed,
    "engine_cached_after_restore": app_engine.cache_info().currsize,
    "random_reseeded": random.getstate() != random_state,
}
out["status_after_restore"] = api.handler(event, lambda_context("api", 29))["statusCode"]
print(json.dumps(out))
"""


def _run_child(database_url: str) -> dict[str, Any]:
    event = str(REPO / "events" / "api_get_pools.json")
    paths = ("layers/shared", "functions/api", "dev", ".")
    return run_fresh(_CHILD, event, env={"DATABASE_URL": database_url}, paths=paths)


def test_no_socket_survives_the_snapshot_and_the_restored_copy_serves(app_database: TestDatabase) -> None:
    # The direct URL gives the engine a connection pool, which keeps the request's connection open: the
    # hook must close it (behind pgBouncer NullPool would leave nothing to prove).
    result = _run_child(app_database.direct_url)
    assert result["first_status"] == 200
    assert result["sockets_before_hook"] >= 1
    assert result["sockets_at_snapshot"] == 0
    # API models build on first use (`ApiModel`); the snapshot must hold every one built, not just the
    # first request's.
    assert result["models_left_to_build"] == []
    # Nor may any router or module loaded on first use be left out of it (`missout_api.deferred`, `.onchain`).
    assert result["deferred_modules_not_loaded"] == []
    assert result["engine_cached_after_restore"] == 0
    assert result["random_reseeded"] is True
    assert result["status_after_restore"] == 200


def test_the_same_holds_through_pgbouncer(app_database: TestDatabase) -> None:
    result = _run_child(app_database.pooled_url)
    assert result["sockets_at_snapshot"] == 0
    assert result["status_after_restore"] == 200


# An init-time chain request on the handler's own loop (the one Mangum uses, kept across invocations) leaves
# its RPC client with a keep-alive connection: the case the hooks must handle.
_CHAIN_CHILD = """
import asyncio, json, sys
from local_lambda import lambda_context
from missout.wiring import chain_wiring
from missout_api import snapstart
import missout_api.handler as api

event = json.load(open(sys.argv[1]))
api.handler(event, lambda_context("api", 29))
loop = asyncio.get_event_loop()  # the handler's loop, current in this thread


async def slot():
    async with chain_wiring().rpc.session() as rpc:
        return await rpc.get_slot()

first_slot = loop.run_until_complete(slot())
sockets_before = snapstart.open_socket_count()
report = snapstart.before_snapshot(api._app)
snapstart.after_restore()
out = {
    "first_slot": first_slot,
    "sockets_before_hook": sockets_before,
    "sockets_at_snapshot": report.open_sockets,
    "slot_after_restore": loop.run_until_complete(slot()),
    "sockets_after_restore_request": snapstart.open_socket_count(),
}
print(json.dumps(out))
"""
# Any two valid public keys: the wiring wants them, this test never builds a transaction.
_WALLETS = {
    "DEV_WALLET_PUBKEY": "4wgBJUHydWXXJKXYsmdGoGw1ufC3dxz8q2mukFYaAhSm",
    "TREASURY_WALLET_PUBKEY": "Aio4gaXjXzJNVLtzwtNVmSqGKpANtXhybbkhtAC94ji2",
}


async def test_rpc_clients_kept_by_an_init_request_are_closed_before_the_snapshot_and_rebuilt_after(
    app_database: TestDatabase,
) -> None:
    async with scripted_rpc(slot_answer(77)) as node:
        event = str(REPO / "events" / "api_get_pools.json")
        env = {"DATABASE_URL": app_database.pooled_url, "SOLANA_RPC_URLS": node.url, **_WALLETS}
        paths = ("layers/shared", "functions/api", "dev", ".")
        # In a thread: the scripted node answers on this test's loop while the child runs.
        result = await asyncio.to_thread(run_fresh, _CHAIN_CHILD, event, env=env, paths=paths)
    assert result["first_slot"] == 77
    assert result["sockets_before_hook"] >= 1  # the RPC client's keep-alive connection (NullPool keeps none)
    assert result["sockets_at_snapshot"] == 0
    assert result["slot_after_restore"] == 77
    assert result["sockets_after_restore_request"] >= 1  # a new client, kept again for the next request


@pytest.fixture
def lambda_runtime_hooks() -> Iterator[dict[str, list[tuple[Any, ...]]]]:
    """The runtime's `snapshot_restore_py` (an AWS-provided module, absent outside Lambda), recording what
    is registered the way the real one stores (callable, args, kwargs) for the runtime to call later."""
    registered: dict[str, list[tuple[Any, ...]]] = {"before": [], "after": []}
    module = types.ModuleType("snapshot_restore_py")

    def register_before_snapshot(func: Any, *args: Any, **kwargs: Any) -> Any:
        registered["before"].append((func, args, kwargs))
        return func

    def register_after_restore(func: Any, *args: Any, **kwargs: Any) -> Any:
        registered["after"].append((func, args, kwargs))
        return func

    module.register_before_snapshot = register_before_snapshot  # type: ignore[attr-defined]
    module.register_after_restore = register_after_restore  # type: ignore[attr-defined]
    sys.modules["snapshot_restore_py"] = module
    try:
        yield registered
    finally:
        del sys.modules["snapshot_restore_py"]


def test_hooks_are_registered_with_the_lambda_runtime(
    lambda_runtime_hooks: dict[str, list[tuple[Any, ...]]],
) -> None:
    app = create_app()
    assert snapstart.register(app) is True
    assert lambda_runtime_hooks["before"] == [(snapstart.before_snapshot, (app,), {})]
    assert lambda_runtime_hooks["after"] == [(snapstart.after_restore, (), {})]


def test_outside_lambda_nothing_is_registered() -> None:
    assert "snapshot_restore_py" not in sys.modules
    assert snapstart.register(create_app()) is False
