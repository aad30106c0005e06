"""The OpenAPI document tells the truth: schemathesis generates requests from it (valid and invalid) and
runs every one of its checks on the answers of the real app, in process, against the database behind
pgBouncer and the local chain. Bounded: a fixed number of examples per operation, no deadline."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
import schemathesis
from hypothesis import HealthCheck, settings
from hypothesis import strategies as st
from schemathesis.checks import CHECKS, CheckFunction, load_all_checks

from missout.chain.base58 import b58encode
from missout_api.app import create_app
from tests.api.chain_api import served_world
from tests.support.database import TestDatabase

# The formats the schema declares for what a pattern cannot say (base58 of exactly 64 / 32 bytes).
schemathesis.openapi.format("solana-signature", st.binary(min_size=64, max_size=64).map(b58encode))
schemathesis.openapi.format("solana-pubkey", st.binary(min_size=32, max_size=32).map(b58encode))
load_all_checks()
# Every registered check (the CLI's `--checks all`); max_response_time has no limit configured here.
ALL_CHECKS: list[CheckFunction] = [
    check  # type: ignore[misc]
    for check in CHECKS.get_all()
    if callable(check) and getattr(check, "__name__", "") != "max_response_time"
]

schema = schemathesis.openapi.from_asgi("/openapi.json", create_app())


@pytest.fixture
def chain_and_database(
    app_database: TestDatabase, roomy_limits: None, monkeypatch: pytest.MonkeyPatch
) -> Iterator[None]:
    with served_world(monkeypatch, seed=b"schemathesis"):
        yield


@schema.parametrize()
@settings(max_examples=25, deadline=None, suppress_health_check=list(HealthCheck))
def test_every_operation_keeps_its_contract(case: schemathesis.Case[Any], chain_and_database: None) -> None:
    case.call_and_validate(checks=ALL_CHECKS)
