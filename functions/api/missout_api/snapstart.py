"""Lambda SnapStart runtime hooks for the API function.

With SnapStart, Lambda runs the init phase (importing `missout_api.handler`) once per published version,
calls the before-snapshot hooks, and freezes the memory. Every later cold start resumes that image, possibly
many copies at once, possibly hours later. Hence:

- `before_snapshot` does all the work worth freezing (routes compiled, the OpenAPI schema and with it every
  pydantic schema built, settings parsed, the routers and modules imported on first use loaded (the chain
  routes' `missout_api.onchain`, the rarer routers and routes' code in `missout_api.deferred`), the program
  codec built from its IDL, the RPC clients' TLS context with its CA bundle) and makes sure nothing in the
  image holds a socket (RPC clients kept by an init-time request are closed too): a frozen TCP connection
  is dead on restore, and one copied into many environments would be shared by all of them. Secrets are
  not fetched here (that would freeze credentials and start boto3 in every snapshot); the first request
  fetches them, as without SnapStart.
- `after_restore` rebuilds whatever holds sockets or random state: the database engine (lazy, rebuilt on
  first use), the RPC clients kept per event loop (rebuilt on the next chain request), cached settings (the
  environment of the restored copy may differ), and the `random` module's state (identical in every copy of
  the image otherwise, e.g. every RPC backoff jitter would be the same). The RPC clients' TLS context stays:
  it holds the trusted CAs and settings only; TLS draws its randomness from OpenSSL's process-wide generator
  at each handshake, not from the context.

`snapshot_restore_py` exists only inside the Lambda runtime, so it is imported guardedly; outside Lambda
`register` does nothing, and the hooks are plain functions that tests call directly.
"""

from __future__ import annotations

import gc
import os
import random
import sys
from collections.abc import Callable
from dataclasses import dataclass
from importlib import import_module
from pathlib import Path
from typing import Any

from fastapi import FastAPI

from missout import settings
from missout.db import reset_app_engine
from missout.observability import logger
from missout_api import deferred, onchain
from missout_api.schemas import ApiModel


@dataclass(frozen=True)
class SnapshotReport:
    routes: int
    open_sockets: int  # network (TCP/UDP) sockets still open when the snapshot would be taken


def _inet_socket_inodes() -> set[str]:
    inodes: set[str] = set()
    for table in ("tcp", "tcp6", "udp", "udp6"):
        try:
            lines = Path(f"/proc/self/net/{table}").read_text().splitlines()[1:]
        except OSError:
            continue
        inodes.update(fields[9] for fields in (line.split() for line in lines) if len(fields) > 9)
    return inodes


def open_socket_count() -> int:
    """Network sockets held by this process (Linux /proc). Unix socket pairs are left out: the event loop's
    wake-up pipe is one, and it is local to the process, so it survives a snapshot harmlessly."""
    inet = _inet_socket_inodes()
    count = 0
    for name in os.listdir("/proc/self/fd"):
        try:
            target = os.readlink(f"/proc/self/fd/{name}")
        except OSError:
            continue  # the descriptor listdir itself used, or one closed meanwhile
        if target.startswith("socket:[") and target[8:-1] in inet:
            count += 1
    return count


def before_snapshot(app: FastAPI) -> SnapshotReport:
    app.openapi()  # builds every route's and every model's JSON schema: the bulk of FastAPI's lazy work
    build_api_models()
    settings.database_settings()  # parsed only: resolving the URL from the secret waits for a request
    settings.api_settings()
    settings.chain_settings()
    warm_route_modules()
    warm_chain_modules()
    from missout.chain.program import shipped_codec  # loaded by the line above; named here for its cache

    shipped_codec()
    from missout.chain.rpc import clients  # loaded with the chain routes' modules above

    clients.process_ssl_context()
    clients.forget_clients()
    # Close whatever a warm-up or an init-time request may have opened (the engine is lazy, and NullPool
    # keeps nothing behind pgBouncer; a direct URL's pool would keep connections).
    reset_app_engine()
    gc.collect()  # sockets only referenced from garbage close now, not in the restored copies
    report = SnapshotReport(routes=len(app.routes), open_sockets=open_socket_count())
    logger().info("snapshot prepared", extra={"routes": report.routes, "open_sockets": report.open_sockets})
    return report


def build_api_models() -> int:
    """Build the validator and serializer of every API model now (they are deferred to first use, see
    `ApiModel`): `openapi()` builds the routes' adapters, not the models a route constructs itself. Returns
    how many were built."""
    built = 0
    pending: list[type[ApiModel]] = list(ApiModel.__subclasses__())
    while pending:
        model = pending.pop()
        pending.extend(model.__subclasses__())
        if model.model_rebuild(force=True):
            built += 1
    return built


def warm_route_modules() -> None:
    """Import the routers and the database routes' code loaded on first use (`missout_api.deferred`): kept
    off the cold start of environments that never serve them; with SnapStart, the snapshot holds them already
    (`app.openapi()` has walked every router by now; named here so the list is whole)."""
    for module in (*deferred.ROUTERS, *deferred.MODULES):
        import_module(module)


def warm_chain_modules() -> None:
    """Import what the chain routes load on first use (`missout_api.onchain`): without SnapStart they keep
    it off the cold start of environments that never serve them; with it, the snapshot holds them already."""
    for module in onchain.MODULES:
        import_module(module)


def after_restore() -> None:
    reset_app_engine()
    rpc_clients = sys.modules.get("missout.chain.rpc.clients")  # never imported here: not on a cold path
    if rpc_clients is not None:
        rpc_clients.forget_clients()
    settings.clear_caches()
    random.seed()  # from os.urandom: each restored copy gets its own sequence


def register(app: FastAPI) -> bool:
    """Register both hooks with the Lambda runtime; False outside Lambda (nothing to register with)."""
    try:
        from snapshot_restore_py import (  # type: ignore[import-not-found]
            register_after_restore,
            register_before_snapshot,
        )
    except ImportError:
        return False
    hook_before: Callable[..., Any] = register_before_snapshot
    hook_after: Callable[..., Any] = register_after_restore
    hook_before(before_snapshot, app)
    hook_after(after_restore)
    return True
