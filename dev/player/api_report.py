"""Tell the local API what the player just did on chain, the way a client reports its transactions.

A missing route (a 404 that is not a domain problem, or a 405) or an API that is not running is "not
available yet", never a failure of the command. "Not finalized yet" (202) is reported again after the
API's Retry-After, a few times. Only the chain decides whether
the action happened; the report is a courtesy to the backend.
"""

from __future__ import annotations

import asyncio
from typing import Any

import httpx

NOT_AVAILABLE = "API: endpoint not available yet"
_TIMEOUT_S = 10.0
# 202 means "not finalized yet": report again after Retry-After, a few times, as a real client would.
_PENDING_ATTEMPTS = 4
_MAX_WAIT_S = 15.0


async def post_report(api: httpx.AsyncClient, path: str, body: dict[str, Any]) -> str:
    """POST `body` to `path`; one line saying what the API answered."""
    for attempt in range(_PENDING_ATTEMPTS):
        try:
            response = await api.post(path, json=body, timeout=_TIMEOUT_S)
        except httpx.TransportError:
            return NOT_AVAILABLE
        if response.status_code != 202 or attempt + 1 == _PENDING_ATTEMPTS:
            break
        await asyncio.sleep(_retry_after(response))
    if response.status_code == 405 or (response.status_code == 404 and not _is_domain_problem(response)):
        return NOT_AVAILABLE
    if response.status_code == 202:
        return "API: pending (the transaction is not finalized yet; nothing recorded)"
    if response.status_code == 200:
        return "API: recorded (200, reported before)"
    if response.is_success:
        return f"API: recorded ({response.status_code})"
    return f"API: refused ({response.status_code}): {_reason(response)}"


def _retry_after(response: httpx.Response) -> float:
    try:
        return min(_MAX_WAIT_S, max(0.5, float(response.headers.get("retry-after", "2"))))
    except ValueError:
        return 2.0


def _is_domain_problem(response: httpx.Response) -> bool:
    """An RFC 9457 answer with a specific `type` means the route exists and refused this report (e.g. pool
    not found). The API answers an unknown route with the generic type `about:blank`."""
    content_type: str = response.headers.get("content-type", "")
    if not content_type.startswith("application/problem+json"):
        return False
    try:
        body = response.json()
    except ValueError:
        return False
    return isinstance(body, dict) and body.get("type", "about:blank") != "about:blank"


def _reason(response: httpx.Response) -> str:
    try:
        body = response.json()
    except ValueError:
        return response.text[:200]
    if isinstance(body, dict):
        return str(body.get("detail") or body.get("title") or body)[:200]
    return str(body)[:200]
