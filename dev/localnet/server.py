"""The local chain over HTTP: JSON-RPC 2.0 at `POST /`, dev controls under `/localnet/`, and the Switchboard
oracle gateway under `/gateway/` when its model is available.

Handlers are async and call the chain directly, so requests are processed one at a time on the event loop:
the chain is a single-threaded state machine, as a validator's banking stage is per account lock.
"""

from __future__ import annotations

import json
import logging
import socket
from collections.abc import Awaitable, Callable
from typing import Any

from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from localnet.rpc_encoding import Json, RpcError
from localnet.rpc_methods import METHODS
from localnet.runtime import LocalChain

log = logging.getLogger(__name__)


def _error(request_id: Any, error: RpcError) -> Json:
    return {"jsonrpc": "2.0", "id": request_id, "error": error.to_json()}


def handle_rpc_request(chain: LocalChain, request: Any) -> Json:
    """One JSON-RPC request object to its response object (never raises)."""
    if not isinstance(request, dict) or request.get("jsonrpc") != "2.0" or "method" not in request:
        return _error(
            request.get("id") if isinstance(request, dict) else None, RpcError(-32600, "Invalid request")
        )
    request_id = request.get("id")
    method = METHODS.get(request["method"])
    if method is None:
        return _error(request_id, RpcError(-32601, "Method not found"))
    params = request.get("params") or []
    if not isinstance(params, list):
        return _error(request_id, RpcError(-32602, "Invalid params: expected an array"))
    try:
        return {"jsonrpc": "2.0", "id": request_id, "result": method(chain, params)}
    except RpcError as error:
        return _error(request_id, error)
    except (TypeError, ValueError, KeyError) as exc:
        return _error(request_id, RpcError(-32602, f"Invalid params: {exc}"))
    except Exception:
        log.exception("internal error in %s", request["method"])
        return _error(request_id, RpcError(-32603, "Internal error"))


def _rpc_endpoint(chain: LocalChain) -> Callable[[Request], Awaitable[Response]]:
    async def rpc(request: Request) -> Response:
        try:
            body = json.loads(await request.body())
        except ValueError:
            return JSONResponse(_error(None, RpcError(-32700, "Parse error")))
        chain.sync_wall_clock()
        if isinstance(body, list):
            if not body:
                return JSONResponse(_error(None, RpcError(-32600, "Invalid request")))
            return JSONResponse([handle_rpc_request(chain, item) for item in body])
        return JSONResponse(handle_rpc_request(chain, body))

    return rpc


def _clock_json(chain: LocalChain) -> Json:
    return {
        "slot": chain.clock.slot,
        "blockHeight": chain.clock.block_height,
        "unixTimestamp": chain.clock.unix_timestamp,
        "epoch": chain.clock.epoch,
        "latestBlockhash": str(chain.latest_blockhash()),
    }


def _control_routes(chain: LocalChain) -> list[Route]:
    """Dev/test controls (the player CLI and demos move time with these). Not part of any Solana API."""

    async def clock(request: Request) -> Response:
        chain.sync_wall_clock()
        return JSONResponse(_clock_json(chain))

    async def advance(request: Request) -> Response:
        body = await _json_body(request)
        try:
            chain.advance_slots(int(body.get("slots", 0)))
            chain.advance_time(int(body.get("seconds", 0)))
        except (TypeError, ValueError) as exc:
            return JSONResponse({"error": str(exc)}, status_code=400)
        return JSONResponse(_clock_json(chain))

    async def warp(request: Request) -> Response:
        body = await _json_body(request)
        slot, unix = body.get("slot"), body.get("unixTimestamp")
        try:
            chain.warp(
                slot=None if slot is None else int(slot), unix_timestamp=None if unix is None else int(unix)
            )
        except (TypeError, ValueError) as exc:
            return JSONResponse({"error": str(exc)}, status_code=400)
        return JSONResponse(_clock_json(chain))

    return [
        Route("/localnet/clock", clock, methods=["GET"]),
        Route("/localnet/advance", advance, methods=["POST"]),
        Route("/localnet/warp", warp, methods=["POST"]),
    ]


async def _json_body(request: Request) -> Json:
    try:
        body = json.loads(await request.body() or b"{}")
    except ValueError:
        return {}
    return body if isinstance(body, dict) else {}


def _gateway_routes(chain: LocalChain) -> list[Route]:
    """Switchboard's oracle gateways and their controls (`localnet.switchboard_routes`), answered by the
    Switchboard model registered on this chain. Imported lazily: the RPC works without the program models."""
    try:
        from localnet.switchboard_routes import switchboard_routes
    except ImportError as exc:
        log.warning("Switchboard model not importable (%s); /gateway not mounted", exc)
        return []
    return switchboard_routes(chain)


def bind_listening_socket(host: str, port: int) -> socket.socket:
    """A listening socket for `uvicorn.Server.serve(sockets=[...])`, so `port=0` resolves before serving.
    TCP_NODELAY is set here because connections accepted from a socket handed to uvicorn did not get it:
    measured 23 requests/s (Nagle + delayed ACK, ~43 ms each) without it, ~2 800/s with it."""
    sock = socket.create_server((host, port))
    sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
    return sock


def create_rpc_app(chain: LocalChain) -> Starlette:
    routes = [
        Route("/", _rpc_endpoint(chain), methods=["POST"]),
        *_control_routes(chain),
        *_gateway_routes(chain),
    ]
    return Starlette(routes=routes)
