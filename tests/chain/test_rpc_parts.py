"""Pure parts of the RPC layer: URL masking, the breaker's state machine, Retry-After parsing."""

from __future__ import annotations

import httpx2

from missout.chain.rpc import mask_url
from missout.chain.rpc.breaker import BreakerState, CircuitBreaker
from missout.chain.rpc.classify import is_solders_panic, parse_retry_after


def test_mask_url_hides_keys_in_query_path_and_userinfo() -> None:
    assert (
        mask_url("https://mainnet.helius-rpc.com/?api-key=abcd-1234")
        == "https://mainnet.helius-rpc.com/?api-key=***"
    )
    assert mask_url("https://x.g.alchemy.com/v2/AbCdEfGhIjKlMnOpQrSt") == "https://x.g.alchemy.com/v2/***"
    assert mask_url("https://user:pw@rpc.example.com:8899/") == "https://***@rpc.example.com:8899/"
    assert mask_url("http://127.0.0.1:8899/") == "http://127.0.0.1:8899/"


def state_of(breaker: CircuitBreaker) -> BreakerState:
    """Read through a call so mypy does not narrow the property between state changes."""
    return breaker.state


def test_breaker_half_open_allows_a_single_trial() -> None:
    now = [0.0]
    breaker = CircuitBreaker(failure_threshold=2, cooldown_seconds=10.0, clock=lambda: now[0])
    breaker.record_failure()
    assert state_of(breaker) is BreakerState.CLOSED
    breaker.record_failure()
    assert state_of(breaker) is BreakerState.OPEN
    assert not breaker.try_acquire()
    now[0] = 10.0
    assert breaker.try_acquire()
    assert not breaker.try_acquire()  # one trial at a time
    breaker.record_failure()  # failed trial: open again, cool-down restarts
    assert state_of(breaker) is BreakerState.OPEN
    assert breaker.seconds_until_trial() == 10.0
    now[0] = 20.0
    assert breaker.try_acquire()
    breaker.record_success()
    assert state_of(breaker) is BreakerState.CLOSED
    assert breaker.consecutive_failures == 0


def test_retry_after_seconds_and_dates() -> None:
    assert parse_retry_after(httpx2.Headers({"Retry-After": "3"})) == 3.0
    assert parse_retry_after(httpx2.Headers({})) is None
    assert parse_retry_after(httpx2.Headers({"Retry-After": "soon"})) is None
    assert parse_retry_after(httpx2.Headers({"Retry-After": "Wed, 21 Oct 2015 07:28:00 GMT"})) == 0.0


def test_panic_detection_matches_only_pyo3_panics() -> None:
    panic_type = type("PanicException", (BaseException,), {"__module__": "pyo3_runtime"})
    assert is_solders_panic(panic_type("boom"))
    assert not is_solders_panic(RuntimeError("PanicException"))
