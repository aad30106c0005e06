"""The Switchboard oracle gateways over HTTP, and the controls that drive their failure modes.

Gateway of oracle 0 at `/gateway/api/v1/...`, of oracle i at `/oracle<i>/gateway/api/v1/...` (the paths the
oracle accounts advertise). Controls, not part of any Switchboard API:

* `GET  /localnet/switchboard/oracles` lists every oracle with its behaviour and on-chain state;
* `POST /localnet/switchboard/oracles/<i>` changes it: behaviour fields (`healthy`, `down`, `too_early`,
  `restricted`, `pull_enabled`, `version`, `active_connections`, `total_subscriptions`) and on-chain fields
  (`valid_until`, `last_heartbeat`, `verification_status`, `gateway_url`).
"""

from __future__ import annotations

import struct
from typing import Any

from solders.account import Account
from solders.pubkey import Pubkey
from starlette.requests import Request
from starlette.responses import JSONResponse, PlainTextResponse, Response
from starlette.routing import Route

from localnet.programs.switchboard import SwitchboardProgram
from localnet.programs.switchboard_gateway import GatewayAnswer, OracleGateway
from localnet.programs.switchboard_oracles import (
    BEHAVIOUR_FIELDS,
    O_LAST_HEARTBEAT,
    O_VALID_UNTIL,
    O_VERIFICATION_STATUS,
    ORACLE_FIELDS,
    OracleFleet,
    edit_oracle_account,
)
from localnet.runtime import LocalChain
from localnet.server import _json_body

API = "/gateway/api/v1"


def switchboard_program(chain: LocalChain) -> SwitchboardProgram | None:
    return next((p for p in chain.programs.values() if isinstance(p, SwitchboardProgram)), None)


def _respond(answer: GatewayAnswer) -> Response:
    if isinstance(answer.body, str):
        return PlainTextResponse(answer.body, status_code=answer.status)
    return JSONResponse(answer.body, status_code=answer.status)


def switchboard_routes(chain: LocalChain) -> list[Route]:
    program = switchboard_program(chain)
    fleet = program.fleet if program else OracleFleet(chain.seed)
    gateway = OracleGateway(chain.seed, fleet, current_slot=lambda: chain.clock.slot)

    def index_of(request: Request) -> int | None:
        index = int(request.path_params.get("index", 0))
        return index if 0 <= index < len(fleet.oracles) else None

    async def reveal(request: Request) -> Response:
        index = index_of(request)
        if index is None:
            return PlainTextResponse("no such oracle", status_code=404)
        chain.sync_wall_clock()
        return _respond(gateway.answer_reveal(index, await _json_body(request)))

    async def healthy_oracles(request: Request) -> Response:
        index = index_of(request)
        if index is None:
            return PlainTextResponse("no such oracle", status_code=404)
        return _respond(gateway.answer_healthy_oracles(index))

    async def test(request: Request) -> Response:
        index = index_of(request)
        if index is None:
            return PlainTextResponse("no such oracle", status_code=404)
        return _respond(gateway.answer_test(index))

    async def list_oracles(request: Request) -> Response:
        return JSONResponse({"oracles": [_describe(chain, fleet, i) for i in range(len(fleet.oracles))]})

    async def change_oracle(request: Request) -> Response:
        index = index_of(request)
        if index is None:
            return JSONResponse({"error": "no such oracle"}, status_code=404)
        changes = await _json_body(request)
        behaviour = {k: v for k, v in changes.items() if k in BEHAVIOUR_FIELDS}
        on_chain = {k: v for k, v in changes.items() if k in ORACLE_FIELDS}
        unknown = set(changes) - set(behaviour) - set(on_chain)
        if unknown:
            return JSONResponse({"error": f"unknown fields: {sorted(unknown)}"}, status_code=400)
        oracle = fleet[index]
        try:
            updated = _edited_account(chain, oracle.key, on_chain) if on_chain else None
            oracle.behaviour.update(behaviour)  # both validated before the chain is written
        except ValueError as exc:
            return JSONResponse({"error": str(exc)}, status_code=400)
        if updated is not None:
            chain.set_account(oracle.key, updated)
        return JSONResponse(_describe(chain, fleet, index))

    routes = []
    for prefix in ("", "/oracle{index:int}"):
        routes += [
            Route(f"{prefix}{API}/randomness_reveal", reveal, methods=["POST"]),
            Route(f"{prefix}{API}/healthy_oracles", healthy_oracles, methods=["GET"]),
            Route(f"{prefix}{API}/test", test, methods=["GET"]),
        ]
    return [
        *routes,
        Route("/localnet/switchboard/oracles", list_oracles, methods=["GET"]),
        Route("/localnet/switchboard/oracles/{index:int}", change_oracle, methods=["POST"]),
    ]


def _edited_account(chain: LocalChain, key: Pubkey, changes: dict[str, Any]) -> Account:
    account = chain.get_account(key)
    if account is None:
        raise ValueError("the oracle account does not exist on this chain")
    return edit_oracle_account(account, changes)


def _describe(chain: LocalChain, fleet: OracleFleet, index: int) -> dict[str, Any]:
    oracle = fleet[index]
    description = oracle.describe()
    account = chain.get_account(oracle.key)
    if account is not None:
        data = bytes(account.data)
        description["valid_until"] = struct.unpack_from("<q", data, O_VALID_UNTIL)[0]
        description["last_heartbeat"] = struct.unpack_from("<q", data, O_LAST_HEARTBEAT)[0]
        description["verification_status"] = data[O_VERIFICATION_STATUS]
    return description
