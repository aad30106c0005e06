"""The backend's Switchboard client against the local chain's independent model of Switchboard: the
instruction builders, account decoding, oracle choice and gateway client must together draw a winner."""

from __future__ import annotations

import asyncio
import hashlib
import json
from collections.abc import AsyncIterator, Callable
from dataclasses import replace

import pytest
from solders.pubkey import Pubkey
from starlette.types import ASGIApp, Receive, Scope, Send

from missout.chain.accounts import PoolStatus, decode_pool
from missout.chain.instructions import build_unlock_pool
from missout.chain.pda import associated_token_address
from missout.chain.rpc import RpcSession
from missout.chain.switchboard import (
    GatewayBadResponse,
    GatewayBudgetExhausted,
    GatewayClient,
    GatewayRejected,
    GatewayRetryPolicy,
    GatewayTooEarly,
    GatewayUnavailable,
    RandomnessAccount,
    SwitchboardAccountError,
    choose_oracle,
    commit_and_request,
    derive_randomness_keypair,
    is_dead_request,
    load_randomness,
    randomness_close,
    randomness_init,
    reveal_and_select,
)
from tests.support.crank_world import GATEWAY_URL, PROGRAM_ID, CrankWorld
from tests.support.switchboard_world import CONFIG, SECRET, gateway_http, plenty, submit

pytestmark = pytest.mark.localnet

FAST = GatewayRetryPolicy(request_timeout_s=0.5, max_attempts=3, first_delay_s=0.01, max_delay_s=0.02)


@pytest.fixture
def world() -> CrankWorld:
    return CrankWorld(b"switchboard-client-test")


@pytest.fixture
async def rpc(world: CrankWorld) -> AsyncIterator[RpcSession]:
    async with world.rpc() as session:
        yield session


async def test_full_draw_commits_reveals_and_selects_through_the_local_chain(
    world: CrankWorld, rpc: RpcSession
) -> None:
    dev = world.dev
    pool = world.full_pool(participants=3)
    await submit(rpc, dev, [build_unlock_pool(PROGRAM_ID, pool, dev.pubkey())])
    randomness = derive_randomness_keypair(SECRET, pool)
    key = randomness.pubkey()

    recent_slot = await rpc.get_slot()
    await submit(
        rpc, dev, [randomness_init(CONFIG, key, dev.pubkey(), dev.pubkey(), recent_slot)], randomness
    )
    created = await load_randomness(rpc, CONFIG, key)
    assert created is not None
    assert (created.authority, created.queue, created.is_committed) == (dev.pubkey(), CONFIG.queue, False)

    oracle = await choose_oracle(rpc, CONFIG, now=world.chain.clock.unix_timestamp)
    assert oracle.gateway_url == GATEWAY_URL
    await submit(rpc, dev, commit_and_request(CONFIG, PROGRAM_ID, pool, key, oracle.key, dev.pubkey()))
    assert world.pool_status(pool) is PoolStatus.RANDOMNESS_COMMITTED
    committed = await load_randomness(rpc, CONFIG, key)
    assert committed is not None
    assert committed.is_committed
    assert committed.oracle == oracle.key
    assert not committed.is_revealed

    world.chain.advance_slots(1)
    assert committed.is_revealable_at(await rpc.get_slot())
    async with gateway_http(world.app) as http:
        reveal = await GatewayClient(http, FAST).reveal(oracle.gateway_url, key, committed, plenty)
    bundle = reveal_and_select(CONFIG, PROGRAM_ID, pool, key, committed, reveal, dev.pubkey())
    await submit(rpc, dev, bundle)

    assert world.pool_status(pool) is PoolStatus.WINNER_SELECTED
    revealed = await load_randomness(rpc, CONFIG, key)
    assert revealed is not None
    assert revealed.is_revealed
    assert revealed.value == reveal.value
    pool_account = world.chain.get_account(pool)
    assert pool_account is not None
    state = decode_pool(bytes(pool_account.data))
    assert state.randomness_account == key
    assert state.randomness == int.from_bytes(reveal.value[:16], "little")


def test_randomness_keypair_is_deterministic_per_pool_and_never_shared() -> None:
    pool, other = Pubkey.new_unique(), Pubkey.new_unique()
    first = derive_randomness_keypair(SECRET, pool)
    assert derive_randomness_keypair(SECRET, pool).pubkey() == first.pubkey()
    assert bytes(derive_randomness_keypair(SECRET, pool)) == bytes(first)
    assert derive_randomness_keypair(SECRET, other).pubkey() != first.pubkey()
    assert derive_randomness_keypair(bytes(32) + b"x", pool).pubkey() != first.pubkey()
    with pytest.raises(ValueError, match="at least 32 bytes"):
        derive_randomness_keypair(b"short", pool)


def test_randomness_decoding_reads_the_480_byte_layout_and_the_older_408_byte_one() -> None:
    data = bytearray(480)
    data[:8] = bytes([10, 66, 229, 135, 220, 239, 217, 114])
    data[104:112] = (77).to_bytes(8, "little")  # seed_slot
    data[184:192] = (555).to_bytes(8, "little")  # lut_slot
    data[408:472] = bytes(range(64))  # active_secp256k1_signer
    data[472:480] = (1_800_000_123).to_bytes(8, "little", signed=True)  # its expiration
    full = RandomnessAccount.decode(bytes(data))
    assert (full.seed_slot, full.reveal_slot, full.is_revealed) == (77, 0, False)
    assert (full.lut_slot, full.active_secp256k1_signer, full.active_secp256k1_expiration) == (
        555,
        bytes(range(64)),
        1_800_000_123,
    )
    short = RandomnessAccount.decode(bytes(data[:408]))
    assert (short.seed_slot, short.lut_slot, short.active_secp256k1_expiration) == (77, None, None)
    with pytest.raises(SwitchboardAccountError, match="too short"):
        RandomnessAccount.decode(bytes(data[:183]))
    with pytest.raises(SwitchboardAccountError, match="not a randomness account"):
        RandomnessAccount.decode(bytes(8) + bytes(data[8:]))


@pytest.mark.parametrize(
    ("seed_slot", "reveal_slot", "revealed"),
    [
        (0, 0, False),  # never committed
        (100, 0, False),  # committed, not revealed
        (100, 101, True),  # revealed after the commit
        (200, 101, False),  # re-committed: the older reveal does not count, even if not cleared
        (200, 200, False),  # a reveal can never land in the seed slot itself
    ],
)
def test_is_revealed_compares_reveal_slot_with_seed_slot(
    seed_slot: int, reveal_slot: int, revealed: bool
) -> None:
    account = replace(COMMITTED, seed_slot=seed_slot, reveal_slot=reveal_slot, value=bytes(range(32)))
    assert account.is_revealed is revealed


def test_a_request_is_dead_once_its_oracle_key_expires_and_not_before() -> None:
    account = replace(COMMITTED, active_secp256k1_expiration=1_000)
    assert not is_dead_request(account, now=969, margin_s=30)
    assert is_dead_request(account, now=970, margin_s=30)
    assert is_dead_request(account, now=1_000)
    assert not is_dead_request(replace(account, reveal_slot=COMMITTED.seed_slot + 1), now=2_000)  # revealed
    assert not is_dead_request(replace(account, seed_slot=0), now=2_000)  # nothing committed
    assert not is_dead_request(replace(account, active_secp256k1_expiration=None), now=2_000)  # unknown
    assert not is_dead_request(replace(account, active_secp256k1_expiration=0), now=2_000)


# -- gateway failures ------------------------------------------------------------------------------------

COMMITTED = RandomnessAccount(
    authority=Pubkey.new_unique(),
    queue=CONFIG.queue,
    seed_slothash=bytes(range(32)),
    seed_slot=1234,
    oracle=Pubkey.new_unique(),
    reveal_slot=0,
    value=bytes(32),
)
GOOD_BODY = {"signature": "A" * 86 + "==", "recovery_id": 0, "value": list(range(32))}


def scripted_gateway(answers: list[tuple[int, object]], seen: list[dict[str, object]]) -> ASGIApp:
    """A gateway that answers each request with the next (status, JSON body); a status of 0 hangs."""

    async def app(scope: Scope, receive: Receive, send: Send) -> None:
        assert scope["type"] == "http"
        body = b""
        while True:
            message = await receive()
            body += message.get("body", b"")
            if not message.get("more_body"):
                break
        seen.append(json.loads(body))
        status, answer = answers.pop(0) if len(answers) > 1 else answers[0]
        if status == 0:
            await asyncio.sleep(5)
        payload = json.dumps(answer).encode()
        await send({"type": "http.response.start", "status": status or 200, "headers": []})
        await send({"type": "http.response.body", "body": payload})

    return app


async def reveal_with(
    answers: list[tuple[int, object]], remaining: Callable[[], int] = plenty
) -> list[dict[str, object]]:
    seen: list[dict[str, object]] = []
    async with gateway_http(scripted_gateway(answers, seen)) as http:
        result = await GatewayClient(http, FAST).reveal(
            GATEWAY_URL, Pubkey.new_unique(), COMMITTED, remaining
        )
    assert len(result.signature) == 64
    assert result.value == bytes(range(32))
    return seen


async def test_gateway_request_body_is_what_the_sdk_sends() -> None:
    seen = await reveal_with([(200, GOOD_BODY)])
    assert seen[0]["slot"] == 1234
    assert seen[0]["slothash"] == list(range(32))
    assert len(str(seen[0]["randomness_key"])) == 64
    assert "rpc" not in seen[0]  # our RPC URL (maybe with a key) is not handed to the oracle operator


async def test_gateway_request_carries_the_configured_public_rpc_url() -> None:
    seen: list[dict[str, object]] = []
    async with gateway_http(scripted_gateway([(200, GOOD_BODY)], seen)) as http:
        client = GatewayClient(http, FAST, rpc_url="https://api.devnet.solana.com")
        await client.reveal(GATEWAY_URL, Pubkey.new_unique(), COMMITTED, plenty)
    assert seen[0]["rpc"] == "https://api.devnet.solana.com"


async def test_gateway_500_is_retried_with_backoff() -> None:
    seen = await reveal_with([(500, {"error": "boom"}), (200, GOOD_BODY)])
    assert len(seen) == 2


@pytest.mark.parametrize(
    ("answer", "error", "message"),
    [
        ((500, {"error": "boom"}), GatewayUnavailable, "HTTP 500"),
        ((200, {**GOOD_BODY, "signature": "AAAA"}), GatewayBadResponse, "3 bytes"),
        ((200, {**GOOD_BODY, "value": list(range(31))}), GatewayBadResponse, "32 bytes"),
        ((200, {**GOOD_BODY, "recovery_id": 256}), GatewayBadResponse, "u8"),
        ((200, ["not", "an", "object"]), GatewayBadResponse, "not a JSON object"),
        ((0, GOOD_BODY), GatewayUnavailable, "no answer within"),
    ],
)
async def test_gateway_failures_are_classified_and_retried_until_the_attempts_run_out(
    answer: tuple[int, object], error: type[Exception], message: str
) -> None:
    seen: list[dict[str, object]] = []
    async with gateway_http(scripted_gateway([answer], seen)) as http:
        with pytest.raises(error, match=message):
            await GatewayClient(http, FAST).reveal(GATEWAY_URL, Pubkey.new_unique(), COMMITTED, plenty)
    assert len(seen) == FAST.max_attempts


async def test_gateway_too_early_4xx_is_retried_until_it_answers() -> None:
    seen = await reveal_with([(400, {"error": "slot not found"}), (425, {}), (200, GOOD_BODY)])
    assert len(seen) == 3


@pytest.mark.parametrize("status", [401, 403, 404, 405, 413, 415])
async def test_gateway_4xx_about_the_request_itself_is_not_retried(status: int) -> None:
    seen: list[dict[str, object]] = []
    async with gateway_http(scripted_gateway([(status, {"error": "no"})], seen)) as http:
        with pytest.raises(GatewayRejected, match=f"HTTP {status}") as caught:
            await GatewayClient(http, FAST).reveal(GATEWAY_URL, Pubkey.new_unique(), COMMITTED, plenty)
    assert not isinstance(caught.value, GatewayTooEarly)
    assert len(seen) == 1


async def test_gateway_stops_when_the_time_budget_cannot_fit_another_attempt() -> None:
    budget = iter([60_000, 100])  # room for the first attempt only
    seen: list[dict[str, object]] = []
    async with gateway_http(scripted_gateway([(503, {})], seen)) as http:
        with pytest.raises(GatewayBudgetExhausted) as caught:
            await GatewayClient(http, FAST).reveal(
                GATEWAY_URL, Pubkey.new_unique(), COMMITTED, lambda: next(budget)
            )
    assert isinstance(caught.value.last, GatewayUnavailable)
    assert len(seen) == 1


def test_backoff_grows_by_half_and_is_capped() -> None:
    policy = GatewayRetryPolicy()
    assert [policy.delay_after(n) for n in (1, 2, 3, 4, 5)] == [3.0, 4.5, 6.75, 10.0, 10.0]


def test_randomness_close_names_its_accounts_in_the_deployed_idl_order() -> None:
    randomness, authority = Pubkey.new_unique(), Pubkey.new_unique()
    ix = randomness_close(CONFIG, randomness, authority, lut_slot=4242)
    program = CONFIG.program_id
    lut_signer = Pubkey.find_program_address([b"LutSigner", bytes(randomness)], program)[0]
    alt_program = Pubkey.from_string("AddressLookupTab1e1111111111111111111111111")
    lut = Pubkey.find_program_address([bytes(lut_signer), (4242).to_bytes(8, "little")], alt_program)[0]
    wsol = Pubkey.from_string("So11111111111111111111111111111111111111112")
    token = Pubkey.from_string("TokenkegQfeZyiNwAJbNbGKPFXCWuBvf9Ss623VQ5DA")
    expected = [
        (randomness, False, True),
        (associated_token_address(randomness, wsol, token), False, True),
        (authority, True, True),
        (Pubkey.find_program_address([b"STATE"], program)[0], False, False),
        (Pubkey.default(), False, False),
        (token, False, False),
        (wsol, False, False),
        (lut, False, True),
        (lut_signer, False, False),
        (alt_program, False, False),
    ]
    assert [(m.pubkey, m.is_signer, m.is_writable) for m in ix.accounts] == expected
    assert ix.program_id == program
    assert bytes(ix.data) == hashlib.sha256(b"global:randomness_close").digest()[:8]  # no arguments
