"""Every verifier against mutated node answers: real transactions of every action from the local chain,
their `getTransaction` answers rewritten at random (a field replaced, removed or duplicated, an integer
pushed to an edge, a key swapped for another key of the same answer, a byte of the signed transaction
flipped), parsed again as solana-py would, and fed to the verifier. Whatever the node says, the verifier
either accepts the honest claim or refuses with a typed `VerificationFailed`: no other exception escapes,
and nothing it accepts differs from what the honest answer proves.

Examples per verifier: `MISSOUT_FUZZ_EXAMPLES` (default 400, about 3 000 in all for `make test`; a longer
run, e.g. 20 000, belongs to the reliability suite).
"""

from __future__ import annotations

import asyncio
import base64
import json
import os
from collections.abc import Awaitable, Callable, Iterator
from dataclasses import dataclass
from typing import Any

import pytest
from hypothesis import HealthCheck, event, given, settings
from hypothesis import strategies as st
from solders.pubkey import Pubkey
from solders.rpc.responses import GetTransactionResp
from solders.signature import Signature

from missout.chain.verify import (
    RejectReason,
    TransactionFetcher,
    VerificationFailed,
    Verified,
    parse_signature,
    verify_cancel_pool,
    verify_claim_refund,
    verify_claim_rent,
    verify_create_pool,
    verify_donate,
    verify_join_pool,
)
from tests.support.verify_world import ENTRY, VerifyWorld, verify_world

FUZZ_EXAMPLES = int(os.environ.get("MISSOUT_FUZZ_EXAMPLES", "400"))

Report = Callable[[TransactionFetcher], Awaitable[Verified[Any]]]


@dataclass(frozen=True)
class Case:
    """One honest transaction, its node answer (JSON) and the report that verifies it."""

    signature: str
    answer: str
    report: Report
    proven: tuple[int, Pubkey, Pubkey]  # amount, mint, vault of the honest verification


class Canned:
    def __init__(self, answer: GetTransactionResp) -> None:
        self.answer = answer

    async def get_transaction(self, signature: Signature) -> GetTransactionResp:
        return self.answer


def _reports(world: VerifyWorld) -> dict[str, tuple[str, Report]]:
    """One honest transaction per action; every claim is bound now (the chain is not needed later)."""
    now = world.now()
    common: dict[str, Any] = {"config": world.config, "clock": lambda: now}
    creator, player, other = world.creator.pubkey(), world.player.pubkey(), world.other.pubkey()
    create, pool = world.create_pool()
    join = world.join(pool, world.player)
    donate = world.donate(pool, world.other, 2 * ENTRY)
    _, cancelled = world.create_pool()
    cancel = world.cancel(cancelled)
    refunded = world.cancelled_pool_with_player()
    refund = world.refund(refunded, world.player)
    creator_refund = world.refund(refunded, world.creator)
    rent = world.claim_rent(refunded)
    keys, cancelled_keys, refunded_keys = world.keys(pool), world.keys(cancelled), world.keys(refunded)
    refund_claim: dict[str, Any] = {"pool": refunded_keys, "entry": ENTRY, "creator": creator, **common}
    return {
        "create_pool": (
            create,
            lambda f: verify_create_pool(
                create, pool=pool, wallet=creator, amount=ENTRY, fetcher=f, **common
            ),
        ),
        "join_pool": (
            join,
            lambda f: verify_join_pool(join, pool=keys, wallet=player, amount=ENTRY, fetcher=f, **common),
        ),
        "donate": (
            donate,
            lambda f: verify_donate(donate, pool=keys, wallet=other, amount=2 * ENTRY, fetcher=f, **common),
        ),
        "cancel_pool": (
            cancel,
            lambda f: verify_cancel_pool(cancel, pool=cancelled_keys, wallet=creator, fetcher=f, **common),
        ),
        "claim_refund": (
            refund,
            lambda f: verify_claim_refund(refund, wallet=player, fetcher=f, **refund_claim),
        ),
        "claim_refund_creator": (
            creator_refund,
            lambda f: verify_claim_refund(creator_refund, wallet=creator, fetcher=f, **refund_claim),
        ),
        "claim_rent": (
            rent,
            lambda f: verify_claim_rent(rent, pool=refunded_keys, wallet=creator, fetcher=f, **common),
        ),
    }


async def _capture() -> dict[str, Case]:
    cases: dict[str, Case] = {}
    async with verify_world() as world:
        for action, (signature, report) in _reports(world).items():
            answer = await world.fetcher.get_transaction(Signature.from_string(signature))
            honest = await report(Canned(answer))
            cases[action] = Case(signature, answer.to_json(), report, _proven(honest))
    return cases


def _proven(verified: Verified[Any]) -> tuple[int, Pubkey, Pubkey]:
    return (verified.amount, verified.mint, verified.vault)


@pytest.fixture(scope="module")
def cases() -> dict[str, Case]:
    return asyncio.run(_capture())


@pytest.fixture(scope="module")
def loop() -> Iterator[asyncio.AbstractEventLoop]:
    running = asyncio.new_event_loop()
    yield running
    running.close()


# -- mutations of a JSON answer --------------------------------------------------------------------------

Path = tuple[str | int, ...]

EDGE_INTS = [0, -1, 1, 2**31, 2**32, 2**53 + 1, 2**63 - 1, 2**63, 2**64 - 1, 2**64, 10**12, -(10**13)]
ints = st.one_of(st.sampled_from(EDGE_INTS), st.integers(min_value=-(2**65), max_value=2**65))


def _paths(node: Any, here: Path = ()) -> Iterator[Path]:
    yield here
    if isinstance(node, dict):
        for key, child in node.items():
            yield from _paths(child, (*here, key))
    elif isinstance(node, list):
        for index, child in enumerate(node):
            yield from _paths(child, (*here, index))


def _strings(node: Any) -> list[str]:
    return [leaf for leaf in _leaves(node) if isinstance(leaf, str)]


def _leaves(node: Any) -> Iterator[Any]:
    if isinstance(node, dict):
        for child in node.values():
            yield from _leaves(child)
    elif isinstance(node, list):
        for child in node:
            yield from _leaves(child)
    else:
        yield node


def _get(root: Any, path: Path) -> Any:
    for step in path:
        root = root[step]
    return root


def _set(root: dict[str, Any], path: Path, value: Any) -> None:
    _get(root, path[:-1])[path[-1]] = value


def _mutate(data: st.DataObject, body: dict[str, Any]) -> str:
    """Apply one random mutation to `body["result"]` (in place); returns its kind, for the statistics."""
    result = body["result"]
    path = data.draw(st.sampled_from(list(_paths(result))))
    target = _get(result, path)
    kind = data.draw(st.sampled_from(["replace", "remove", "duplicate", "nudge", "swap_string", "flip_byte"]))
    if not path:  # the whole result: the node has nothing (or nonsense)
        body["result"] = data.draw(st.sampled_from([None, {}, []]))
        return "result"
    parent, last = _get(result, path[:-1]), path[-1]
    if kind == "remove":
        del parent[last]
    elif kind == "duplicate" and isinstance(parent, list):
        parent.insert(int(last), target)
    elif kind == "nudge" and isinstance(target, int) and not isinstance(target, bool):
        _set(
            result, path, data.draw(st.sampled_from([target + 1, target - 1, 0, -target, 2 * target, 2**64]))
        )
    elif kind == "swap_string" and isinstance(target, str):
        _set(result, path, data.draw(st.sampled_from(_strings(result))))
    elif kind == "flip_byte":
        transaction = result.get("transaction")
        if not isinstance(transaction, list) or not transaction or not isinstance(transaction[0], str):
            return "flip_byte (no transaction)"
        try:
            raw = bytearray(base64.b64decode(transaction[0], validate=True))
        except ValueError:
            return "flip_byte (not base64 any more)"
        if not raw:
            return "flip_byte (no bytes)"
        index = data.draw(st.integers(min_value=0, max_value=len(raw) - 1))
        raw[index] = data.draw(st.integers(min_value=0, max_value=255))
        transaction[0] = base64.b64encode(bytes(raw)).decode()
    else:
        _set(result, path, data.draw(_replacement(target, result)))
        kind = "replace"
    return kind


def _replacement(target: Any, result: dict[str, Any]) -> st.SearchStrategy[Any]:
    """Mostly a value of the same JSON type (so solana-py still parses the answer and the verifier sees
    it), sometimes anything at all."""
    anything = st.one_of(st.none(), st.booleans(), ints, st.text(max_size=12))
    if isinstance(target, bool):
        same: st.SearchStrategy[Any] = st.booleans()
    elif isinstance(target, int):
        same = ints
    elif isinstance(target, str):
        keys = st.binary(min_size=32, max_size=32).map(lambda raw: str(Pubkey.from_bytes(raw)))
        same = st.one_of(st.sampled_from(_strings(result)), keys, st.text(max_size=12))
    elif isinstance(target, list):
        same = st.sampled_from([[], target[:1], target[::-1], target + target[-1:]])
    elif isinstance(target, dict):
        same = st.just({})
    else:
        same = anything
    return st.one_of(same, same, same, anything)


def _tampered(data: st.DataObject, answer: str) -> GetTransactionResp | None:
    body = json.loads(answer)
    for _ in range(data.draw(st.integers(min_value=1, max_value=3))):
        event(f"mutation: {_mutate(data, body)}")
        if not isinstance(body.get("result"), dict):
            break
    try:
        parsed = GetTransactionResp.from_json(json.dumps(body))
    except Exception:
        return None
    return parsed if isinstance(parsed, GetTransactionResp) else None


# -- the properties ---------------------------------------------------------------------------------------

ACTIONS = [
    "create_pool",
    "join_pool",
    "donate",
    "cancel_pool",
    "claim_refund",
    "claim_refund_creator",
    "claim_rent",
]


@pytest.mark.parametrize("action", ACTIONS)
@settings(
    max_examples=FUZZ_EXAMPLES,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(data=st.data())
def test_mutated_node_answers_are_accepted_honestly_or_refused_typed(
    cases: dict[str, Case], loop: asyncio.AbstractEventLoop, action: str, data: st.DataObject
) -> None:
    case = cases[action]
    answer = _tampered(data, case.answer)
    if answer is None:
        event("unparseable by solana-py")
        return
    try:
        verified = loop.run_until_complete(case.report(Canned(answer)))
    except VerificationFailed as refused:
        event(f"refused: {refused.reason.value}")
        return
    event("accepted")
    assert _proven(verified) == case.proven
    assert str(verified.signature) == case.signature


@settings(max_examples=FUZZ_EXAMPLES, deadline=None)
@given(
    text=st.one_of(
        st.none(),
        st.integers(),
        st.binary(max_size=100),
        st.text(max_size=120),
        st.lists(st.text(max_size=3)),
    )
)
def test_any_reported_signature_parses_or_is_malformed(text: object) -> None:
    outcome = _parse(text)
    if isinstance(outcome, VerificationFailed):
        assert outcome.reason is RejectReason.MALFORMED_SIGNATURE
    else:
        assert str(outcome) == text


def _parse(text: object) -> Signature | VerificationFailed:
    try:
        return parse_signature(text)
    except VerificationFailed as refused:
        return refused
