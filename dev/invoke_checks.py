"""What each event in `events/` must get back from its function, for `dev/invoke.py --check-all`.

Events are named after their function (`api_*` → ApiFunction, `monitor_*` → MonitorFunction). Every API answer
must be an API Gateway v2 response with a JSON body and no 5xx; the events listed in `EXPECTED_API` must also
get their status and media type (and, for problems, name their field). An event that is not listed gets the
general checks only, and the summary line says so.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

FUNCTION_BY_PREFIX = {"api_": "ApiFunction", "monitor_": "MonitorFunction"}
JSON = "application/json"
PROBLEM = "application/problem+json"


class CheckFailed(Exception):
    """The answer is not what the event must get; the message says what differs."""


@dataclass(frozen=True)
class Expected:
    status: int
    media_type: str
    body_keys: tuple[str, ...] = ()
    problem_field: str | None = None
    header: str | None = None  # a response header that must be present


PROBLEM_KEYS = ("type", "title", "status")
EXPECTED_API: Mapping[str, Expected] = {
    "api_get_health.json": Expected(200, JSON, body_keys=("status", "time", "database")),
    "api_get_pools.json": Expected(200, JSON, body_keys=("items", "next_cursor")),
    "api_not_found.json": Expected(404, PROBLEM, body_keys=PROBLEM_KEYS),
    "api_method_not_allowed.json": Expected(405, PROBLEM, body_keys=PROBLEM_KEYS, header="allow"),
    "api_bad_query.json": Expected(422, PROBLEM, body_keys=PROBLEM_KEYS, problem_field="limit"),
    # Against an empty database and a fresh local chain (what CI has): the pool is unknown to both.
    "api_get_pool.json": Expected(404, PROBLEM, body_keys=PROBLEM_KEYS),
    "api_get_claimable.json": Expected(200, JSON, body_keys=("refunds", "rents")),
    "api_post_join.json": Expected(404, PROBLEM, body_keys=PROBLEM_KEYS),
}


def function_for_event(event_name: str) -> str:
    for prefix, logical_id in FUNCTION_BY_PREFIX.items():
        if event_name.startswith(prefix):
            return logical_id
    raise CheckFailed(f"{event_name}: no function for this name (prefixes: {', '.join(FUNCTION_BY_PREFIX)})")


def check_answer(event_name: str, answer: Any) -> str:
    """A short summary of the answer when it is right; CheckFailed naming the difference otherwise."""
    if function_for_event(event_name) == "MonitorFunction":
        return _check_monitor(answer)
    return _check_api(event_name, answer)


def _check_api(event_name: str, answer: Any) -> str:
    if not isinstance(answer, dict) or not isinstance(answer.get("statusCode"), int):
        raise CheckFailed(f"not an API Gateway response: {str(answer)[:200]}")
    status: int = answer["statusCode"]
    headers = {k.lower(): v for k, v in (answer.get("headers") or {}).items()}
    media_type = str(headers.get("content-type", "")).split(";")[0].strip()
    if answer.get("isBase64Encoded"):
        raise CheckFailed("body is base64-encoded; API Gateway clients expect readable JSON")
    try:
        body = json.loads(answer.get("body") or "null")
    except json.JSONDecodeError as exc:
        raise CheckFailed(f"{status}: body is not JSON ({exc})") from exc
    if status >= 500:
        raise CheckFailed(f"{status} {media_type}: {str(body)[:300]}")
    expected = EXPECTED_API.get(event_name)
    if expected is None:
        return f"{status} {media_type} (general checks only: no expectation in dev/invoke_checks.py)"
    if (status, media_type) != (expected.status, expected.media_type):
        wanted = f"{expected.status} {expected.media_type}"
        raise CheckFailed(f"got {status} {media_type}, expected {wanted}: {str(body)[:300]}")
    missing = [key for key in expected.body_keys if not isinstance(body, dict) or key not in body]
    if missing:
        raise CheckFailed(f"{status}: body lacks {', '.join(missing)}: {str(body)[:300]}")
    if expected.header and expected.header not in headers:
        raise CheckFailed(f"{status}: no {expected.header} header")
    if expected.problem_field is not None:
        fields = [e.get("field") for e in body.get("errors", []) if isinstance(e, dict)]
        if expected.problem_field not in fields:
            raise CheckFailed(f"{status}: the problem does not name {expected.problem_field}: {body}")
    return f"{status} {media_type}"


def _check_monitor(answer: Any) -> str:
    if not isinstance(answer, dict):
        raise CheckFailed(f"not a run summary: {str(answer)[:200]}")
    ticks, failed = answer.get("ticks"), answer.get("failed_ticks")
    if not isinstance(ticks, int) or ticks < 1 or failed != 0:
        raise CheckFailed(f"expected at least one tick and no failed tick: {answer}")
    return f"{ticks} tick(s), 0 failed, stopped: {answer.get('stopped_because')}"
