"""ASGI wrappers around the local chain's app that let a test disturb the network: fail a JSON-RPC method or
the oracle gateway, or run a hook after a call was served."""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass, field

from starlette.types import ASGIApp, Message, Receive, Scope, Send

from missout.chain.switchboard.gateway import REVEAL_PATH


@dataclass
class Disturbance:
    """What to break right now; tests flip these between ticks."""

    gateway_down: bool = False
    rpc_down: bool = False  # every JSON-RPC call answers HTTP 503
    after: Callable[[str], None] | None = None  # called with the method name once a call was served
    calls: list[str] = field(default_factory=list)


def disturbed(app: ASGIApp, disturbance: Disturbance) -> ASGIApp:
    async def wrapped(scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await app(scope, receive, send)
            return
        path = scope["path"]
        if path.endswith(REVEAL_PATH) and disturbance.gateway_down:
            await _answer(send, 503)
            return
        if path != "/":
            await app(scope, receive, send)
            return
        body = b""
        while True:
            message = await receive()
            body += message.get("body", b"")
            if not message.get("more_body"):
                break
        method = str(json.loads(body).get("method", ""))
        disturbance.calls.append(method)
        if disturbance.rpc_down:
            await _answer(send, 503)
            return
        replayed = False

        async def replay() -> Message:
            nonlocal replayed
            if replayed:
                return await receive()
            replayed = True
            return {"type": "http.request", "body": body, "more_body": False}

        await app(scope, replay, send)
        if disturbance.after is not None:
            disturbance.after(method)

    return wrapped


async def _answer(send: Send, status: int) -> None:
    await send({"type": "http.response.start", "status": status, "headers": []})
    await send({"type": "http.response.body", "body": b"injected failure"})
