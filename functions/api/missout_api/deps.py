"""What routes receive through FastAPI dependencies (`Annotated` types): the chain wiring and the rate limits.

The wiring is built once per process (`missout.wiring`); a deployment without chain settings still serves
the database-only reads, and the routes that need the chain answer 503 naming the missing variable.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Annotated, TypeVar

from fastapi import Depends, Request
from sqlalchemy.engine import Connection

from missout.blocking import run_blocking
from missout.db import transaction
from missout.ratelimit import (
    Limit,
    LimitState,
    PendingCount,
    count_hits_later,
    limit_header,
    policy_header,
    tightest,
)
from missout.settings import SettingsError
from missout.wiring import ChainWiring, RateLimits, chain_wiring, rate_limits
from missout_api.problems import ProblemException


async def _chain() -> ChainWiring:
    # Async dependencies run on the event loop; the first call builds the wiring (imports the chain stack),
    # so it is handed to a worker like any blocking call (a sync dependency would take FastAPI's own hop).
    try:
        return await run_blocking(chain_wiring)
    except SettingsError as exc:
        raise ProblemException(
            503,
            "Service unavailable",
            f"the chain is not configured: {exc}",
            type_="/problems/dependency-unavailable",
            headers={"Retry-After": "60"},
            dependency="chain",
        ) from None


async def _limits() -> RateLimits:
    # Async: settings are cached, so this never blocks, and a sync dependency would cost a thread hop.
    return rate_limits()


Chain = Annotated[ChainWiring, Depends(_chain)]
Limits = Annotated[RateLimits, Depends(_limits)]


def client_ip(request: Request) -> str:
    """The caller's address as API Gateway saw it (`requestContext.http.sourceIp`), never a header a client
    can set (X-Forwarded-For is client-controlled). Outside Lambda (`make dev`), the TCP peer."""
    event = request.scope.get("aws.event")
    if isinstance(event, dict):
        source = event.get("requestContext", {}).get("http", {}).get("sourceIp")
        if isinstance(source, str) and source:
            return source
    return request.client.host if request.client else "unknown"


def limits_for(request: Request, limits: RateLimits, wallet: str | None = None) -> list[Limit]:
    chosen = [Limit("ip", client_ip(request), limits.per_ip, limits.window_s)]
    if wallet is not None:
        chosen.append(Limit("wallet", wallet, limits.per_wallet, limits.window_s))
    return chosen


def counted(request: Request, pending: PendingCount) -> list[LimitState]:
    """The states of the request's count (`count_hits_later`, written last in its transaction so that it
    travels with the COMMIT), remembered for the response headers."""
    states = pending.states()
    request.state.rate_limit = states
    return states


def enforce(states: Sequence[LimitState]) -> None:
    """Raise the 429 once the counting transaction has committed (a refused request still counts)."""
    worst = tightest(states)
    if worst.exceeded:
        raise ProblemException(
            429,
            "Too many requests",
            f"over {worst.limit.limit} requests in {worst.limit.window_s} s from this {worst.limit.name}",
            type_="/problems/rate-limited",
            headers={"Retry-After": str(worst.reset_in_s)},
            limit=worst.limit.name,
        )


def count_alone(request: Request, limits: RateLimits, wallet: str | None = None) -> list[LimitState]:
    """Count this request against its IP limit (and `wallet`'s, if given) in a short transaction of its own,
    committed before the request's work: a request refused afterwards still counts. Its states, for
    `enforce` and the response headers."""
    with transaction() as conn:
        pending = count_hits_later(conn, limits_for(request, limits, wallet))
    return counted(request, pending)


T = TypeVar("T")


def counted_read(request: Request, limits: RateLimits, read: Callable[[Connection], T]) -> T:
    """A read route's query and its per-IP count in one transaction (the count last: it travels with the
    COMMIT), then the 429 if the limit was passed: the one shape every read route uses."""
    with transaction() as conn:
        result = read(conn)
        pending = count_hits_later(conn, limits_for(request, limits))
    enforce(counted(request, pending))
    return result


def rate_limit_headers(states: Sequence[LimitState]) -> dict[str, str]:
    if not states:
        return {}
    return {"RateLimit-Policy": policy_header(states), "RateLimit": limit_header(tightest(states))}
