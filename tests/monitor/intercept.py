"""Disturbing the network between the monitor and the local chain: the JSON-RPC calls go through the shared
`Intercept` (which can fail them or run a hook after each), and the oracle gateway's reveal can be switched
down. Tests flip the `Disturbance` between ticks."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field

from starlette.types import ASGIApp, Receive, Scope, Send

from missout.chain.switchboard.gateway import REVEAL_PATH
from tests.support.crank_world import Intercept


@dataclass
class Disturbance:
    gateway_down: bool = False  # the reveal endpoint answers 503
    rpc_down: bool = False  # every JSON-RPC call answers 503
    after: Callable[[str], None] | None = None  # called with the method name once a call was served
    calls: list[str] = field(default_factory=list)


def disturbed(app: ASGIApp, disturbance: Disturbance) -> ASGIApp:
    async def hook(method: str) -> int | None:
        disturbance.calls.append(method)
        return 503 if disturbance.rpc_down else None

    async def after(method: str) -> None:
        if disturbance.after is not None:
            disturbance.after(method)

    rpc = Intercept(app, hook, after)

    async def wrapped(scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http" and scope["path"].endswith(REVEAL_PATH) and disturbance.gateway_down:
            await send({"type": "http.response.start", "status": 503, "headers": []})
            await send({"type": "http.response.body", "body": b"injected failure"})
            return
        await rpc(scope, receive, send)

    return wrapped
