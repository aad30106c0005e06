"""The player CLI's report line for the answers the API added: a repeat (200) and "not finalized yet" (202,
reported again after Retry-After until it is recorded or the attempts run out)."""

from __future__ import annotations

import httpx
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from player.api_report import post_report

PATH, BODY = "/api/pools/p/join", {"signature": "s", "wallet": "w"}


def _scripted(statuses: list[int]) -> tuple[httpx.AsyncClient, list[int]]:
    seen: list[int] = []

    async def answer(request: Request) -> Response:
        status = statuses[min(len(seen), len(statuses) - 1)]
        seen.append(status)
        return JSONResponse({}, status_code=status, headers={"Retry-After": "0"} if status == 202 else None)

    app = Starlette(routes=[Route(PATH, answer, methods=["POST"])])
    return httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://api.invalid"), seen


async def test_pending_is_reported_again_until_recorded() -> None:
    client, seen = _scripted([202, 202, 201])
    async with client:
        assert await post_report(client, PATH, BODY) == "API: recorded (201)"
    assert seen == [202, 202, 201]


async def test_still_pending_after_the_attempts_says_so() -> None:
    client, seen = _scripted([202])
    async with client:
        line = await post_report(client, PATH, BODY)
    assert line.startswith("API: pending")
    assert len(seen) == 4


async def test_a_repeat_says_it_was_recorded_before() -> None:
    client, _ = _scripted([200])
    async with client:
        assert await post_report(client, PATH, BODY) == "API: recorded (200, reported before)"
