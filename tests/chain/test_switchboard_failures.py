"""The real network's failure modes, reproduced by the local Switchboard model, against the backend's client:
a gateway that answers "too early", dead and unhealthy oracles, gateways that are all down, an oracle key that
expires before the reveal, a gateway that moved, and closing the account for its rent."""

from __future__ import annotations

import base64
from collections.abc import AsyncIterator

import httpx2
import pytest
from solders.pubkey import Pubkey

from localnet.programs.switchboard import randomness_reveal_ix
from localnet.programs.switchboard_gateway import OracleGateway
from missout.chain.accounts import PoolStatus, decode_pool
from missout.chain.rpc import RpcRequestRejected, RpcSession
from missout.chain.switchboard import (
    GatewayBudgetExhausted,
    GatewayClient,
    GatewayHealthProbe,
    GatewayUnavailable,
    PreparedReveal,
    RandomnessRequestDead,
    SwitchboardConfig,
    choose_oracle,
    fetch_reveal,
    is_dead_request,
    load_randomness,
    randomness_close,
    randomness_commit,
    reveal_and_select,
)
from missout.chain.switchboard.keys import reward_escrow_address
from missout.chain.switchboard.oracles import FALLBACK_METRIC
from missout.observability import metrics
from tests.support.crank_world import PROGRAM_ID, CrankWorld
from tests.support.switchboard_world import (
    CONFIG,
    FAST,
    CommittedDraw,
    RecordingSleep,
    commit_draw,
    edit_oracle,
    gateway_http,
    oracles,
    plenty,
    submit,
    unlocked_pool_with_randomness,
)

pytestmark = pytest.mark.localnet


@pytest.fixture
def world() -> CrankWorld:
    return CrankWorld(b"switchboard-failures", oracles=3)


@pytest.fixture
async def rpc(world: CrankWorld) -> AsyncIterator[RpcSession]:
    async with world.rpc() as session:
        yield session


@pytest.fixture
async def http(world: CrankWorld) -> AsyncIterator[httpx2.AsyncClient]:
    async with gateway_http(world.app) as client:
        yield client


def chain_now(world: CrankWorld) -> float:
    return float(world.chain.clock.unix_timestamp)


def index_of(world: CrankWorld, key: Pubkey) -> int:
    oracle = oracles(world).by_key(key)
    assert oracle is not None
    return oracle.index


async def reveal_and_finish(
    world: CrankWorld,
    rpc: RpcSession,
    gateway: GatewayClient,
    draw: CommittedDraw,
    config: SwitchboardConfig = CONFIG,
) -> PreparedReveal:
    """Ask for the reveal (the chain has moved past the seed slot) and land reveal + select_winner."""
    world.chain.advance_slots(2)
    prepared = await fetch_reveal(
        rpc, config, gateway, draw.randomness, remaining_ms=plenty, now=lambda: chain_now(world)
    )
    dev = world.dev.pubkey()
    bundle = reveal_and_select(
        config, PROGRAM_ID, draw.pool, draw.randomness, prepared.account, prepared.response, dev
    )
    await submit(rpc, world.dev, bundle)
    assert world.pool_status(draw.pool) is PoolStatus.WINNER_SELECTED
    return prepared


async def test_a_draw_survives_a_gateway_that_answers_too_early_a_few_times(
    world: CrankWorld, rpc: RpcSession, http: httpx2.AsyncClient
) -> None:
    draw = await commit_draw(world, rpc, http)
    chosen = oracles(world)[index_of(world, draw.oracle.key)]
    chosen.behaviour.too_early = 3
    sleep = RecordingSleep()
    await reveal_and_finish(world, rpc, GatewayClient(http, FAST, sleep=sleep), draw)
    assert chosen.behaviour.reveal_requests == 4  # three "too early" answers, then the reveal
    # The SDK's 3 s after the commit, then the backoff: 3 s, ×1.5, capped at 10 s.
    assert sleep.pauses == [3.0, 3.0, 4.5, 6.75]


async def test_a_draw_survives_one_dead_oracle_out_of_three(
    world: CrankWorld, rpc: RpcSession, http: httpx2.AsyncClient
) -> None:
    fleet = oracles(world)
    dead = fleet[1]
    dead.behaviour.down = True  # its gateway answers 503 to everything, and nobody reports it healthy
    # Make the dead oracle the one on-chain facts alone would choose (freshest heartbeat).
    edit_oracle(world, 1, last_heartbeat=world.chain.clock.unix_timestamp + 5)
    blind = await choose_oracle(rpc, CONFIG, world.chain.clock.unix_timestamp)
    assert blind.key == dead.key  # what the old on-chain-only choice would have committed to

    draw = await commit_draw(world, rpc, http)
    assert draw.oracle.key != dead.key
    assert draw.oracle.tier == "live"
    await reveal_and_finish(world, rpc, GatewayClient(http, FAST, sleep=RecordingSleep()), draw)
    assert dead.behaviour.reveal_requests == 0


async def test_unhealthy_restricted_and_expired_oracles_are_not_chosen(
    world: CrankWorld, rpc: RpcSession, http: httpx2.AsyncClient
) -> None:
    fleet = oracles(world)
    now = world.chain.clock.unix_timestamp
    probe = GatewayHealthProbe(http, timeout_s=1.0)
    fleet[0].behaviour.healthy = False  # up, but no gateway lists it
    fleet[1].behaviour.restricted = True
    chosen = await choose_oracle(rpc, CONFIG, now, health=probe)
    assert (chosen.key, chosen.tier) == (fleet[2].key, "live")

    edit_oracle(world, 2, valid_until=now - 1)  # its quote (and key) has expired on chain
    fleet[1].behaviour.restricted = False
    fleet[1].behaviour.pull_enabled = False
    fallback = await choose_oracle(rpc, CONFIG, now, health=probe)
    # Nobody eligible is reported healthy any more: the on-chain tier decides, and only oracle 0 passes it.
    assert (fallback.key, fallback.tier) == (fleet[0].key, "fallback")

    edit_oracle(world, 0, verification_status=8)  # "override" is not a verified quote for randomness
    with pytest.raises(RuntimeError, match="no eligible randomness oracle"):
        await choose_oracle(rpc, CONFIG, now, health=probe)


async def test_when_no_gateway_answers_the_on_chain_choice_is_logged_and_counted(
    world: CrankWorld, rpc: RpcSession, http: httpx2.AsyncClient, caplog: pytest.LogCaptureFixture
) -> None:
    for oracle in oracles(world).oracles:
        oracle.behaviour.down = True
    metrics().clear_metrics()
    try:
        chosen = await choose_oracle(
            rpc, CONFIG, world.chain.clock.unix_timestamp, health=GatewayHealthProbe(http, timeout_s=1.0)
        )
        counted = metrics().metric_set.get(FALLBACK_METRIC)
    finally:
        metrics().clear_metrics()
    assert chosen.tier == "fallback"
    assert counted is not None
    assert counted["Value"] == [1.0]
    warning = next(r for r in caplog.records if "on-chain facts only" in r.getMessage())
    assert warning.levelname == "WARNING"
    assert "no gateway answered" in warning.getMessage()
    assert (warning.__dict__["oracle"], warning.__dict__["gateways_answered"]) == (str(chosen.key), 0)


async def test_a_gateway_that_stays_down_exhausts_the_reveal_budget(
    world: CrankWorld, rpc: RpcSession, http: httpx2.AsyncClient
) -> None:
    draw = await commit_draw(world, rpc, http)
    assigned = oracles(world)[index_of(world, draw.oracle.key)]
    assigned.behaviour.down = True
    world.chain.advance_slots(2)
    sleep = RecordingSleep()
    budget = iter([60_000] * 3 + [0] * 10)  # room for the wait and two attempts
    with pytest.raises(GatewayBudgetExhausted) as caught:
        await fetch_reveal(
            rpc,
            CONFIG,
            GatewayClient(http, FAST, sleep=sleep),
            draw.randomness,
            remaining_ms=lambda: next(budget),
            now=lambda: chain_now(world),
        )
    assert isinstance(caught.value.last, GatewayUnavailable)
    assert assigned.behaviour.reveal_requests == 2
    assert world.pool_status(draw.pool) is PoolStatus.RANDOMNESS_COMMITTED


async def test_an_expired_oracle_key_is_detected_before_the_pool_deadline(
    world: CrankWorld, rpc: RpcSession, http: httpx2.AsyncClient
) -> None:
    now = world.chain.clock.unix_timestamp
    for index in range(3):
        edit_oracle(world, index, valid_until=now + 120)  # every oracle key expires in two minutes
    draw = await commit_draw(world, rpc, http)
    committed = await load_randomness(rpc, CONFIG, draw.randomness)
    assert committed is not None
    assert committed.active_secp256k1_expiration == now + 120
    assert not is_dead_request(committed, now)

    # The gateway is slow for a while; 100 s later the key is within the 30 s margin.
    world.chain.advance_time(100)
    world.chain.advance_slots(250)
    with pytest.raises(RandomnessRequestDead, match="oracle key expired"):
        await fetch_reveal(
            rpc,
            CONFIG,
            GatewayClient(http, FAST, sleep=RecordingSleep()),
            draw.randomness,
            remaining_ms=plenty,
            now=lambda: chain_now(world),
        )
    pool_account = world.chain.get_account(draw.pool)
    assert pool_account is not None
    deadline = decode_pool(bytes(pool_account.data)).randomness_deadline_slot
    assert world.chain.clock.slot < deadline - 2_000  # seen with most of the 3000 slots left

    # And the model agrees the request is dead: once expired, a correctly signed reveal is refused (6040).
    world.chain.advance_time(21)
    assert is_dead_request(committed, world.chain.clock.unix_timestamp)
    gateway = OracleGateway(world.chain.seed, oracles(world))
    index = index_of(world, draw.oracle.key)
    answer = gateway.reveal(committed.seed_slothash, draw.randomness, committed.seed_slot, index)
    reveal = randomness_reveal_ix(
        randomness=draw.randomness,
        authority=world.dev.pubkey(),
        payer=world.dev.pubkey(),
        oracle=draw.oracle.key,
        signature=base64.b64decode(answer["signature"]),
        recovery_id=0,
        value=bytes(answer["value"]),
    )
    with pytest.raises(RpcRequestRejected) as refused:
        await submit(rpc, world.dev, [reveal])
    assert refused.value.transaction_error is not None
    assert refused.value.transaction_error.code == 6040


async def test_a_commit_to_an_oracle_whose_key_expired_is_refused(world: CrankWorld, rpc: RpcSession) -> None:
    _, randomness = await unlocked_pool_with_randomness(world, rpc)
    edit_oracle(world, 0, valid_until=world.chain.clock.unix_timestamp)
    commit = randomness_commit(CONFIG, randomness.pubkey(), oracles(world)[0].key, world.dev.pubkey())
    with pytest.raises(RpcRequestRejected) as refused:
        await submit(rpc, world.dev, [commit])
    assert refused.value.transaction_error is not None
    assert refused.value.transaction_error.code == 6040


async def test_the_reveal_goes_to_the_gateway_the_oracle_advertises_at_reveal_time(
    world: CrankWorld, rpc: RpcSession, http: httpx2.AsyncClient
) -> None:
    draw = await commit_draw(world, rpc, http)
    index = index_of(world, draw.oracle.key)
    path = "" if index == 0 else f"/oracle{index}"
    edit_oracle(world, index, gateway_url=f"http://moved.localnet.invalid{path}")
    asked: list[str] = []

    async def record(request: httpx2.Request) -> None:
        asked.append(str(request.url))

    async with httpx2.AsyncClient(
        transport=httpx2.ASGITransport(app=world.app), event_hooks={"request": [record]}
    ) as moved:
        await reveal_and_finish(world, rpc, GatewayClient(moved, FAST, sleep=RecordingSleep()), draw)
    assert asked == [f"http://moved.localnet.invalid{path}/gateway/api/v1/randomness_reveal"]


async def test_the_reveal_names_the_queue_of_the_randomness_account_not_the_configured_one(
    world: CrankWorld, rpc: RpcSession, http: httpx2.AsyncClient
) -> None:
    draw = await commit_draw(world, rpc, http)
    misconfigured = SwitchboardConfig(CONFIG.program_id, Pubkey.new_unique())
    gateway = GatewayClient(http, FAST, sleep=RecordingSleep())
    prepared = await reveal_and_finish(world, rpc, gateway, draw, misconfigured)
    assert prepared.account.queue == CONFIG.queue


@pytest.mark.parametrize(
    ("committed_ago", "pauses"),
    [
        (None, [3.0]),  # unknown: the SDK's full wait
        (1.25, [1.75]),  # what is left of the 3 s
        (60.0, []),  # a later monitor tick asks at once
    ],
)
async def test_the_first_reveal_waits_only_what_is_left_of_3s_after_the_commit(
    world: CrankWorld,
    rpc: RpcSession,
    http: httpx2.AsyncClient,
    committed_ago: float | None,
    pauses: list[float],
) -> None:
    draw = await commit_draw(world, rpc, http)
    world.chain.advance_slots(2)
    sleep = RecordingSleep()
    await fetch_reveal(
        rpc,
        CONFIG,
        GatewayClient(http, FAST, sleep=sleep),
        draw.randomness,
        remaining_ms=plenty,
        committed_at=None if committed_ago is None else chain_now(world) - committed_ago,
        now=lambda: chain_now(world),
    )
    assert sleep.pauses == pauses


async def test_closing_the_randomness_account_returns_its_rent_to_the_authority(
    world: CrankWorld, rpc: RpcSession, http: httpx2.AsyncClient
) -> None:
    draw = await commit_draw(world, rpc, http)
    await reveal_and_finish(world, rpc, GatewayClient(http, FAST, sleep=RecordingSleep()), draw)
    account = await load_randomness(rpc, CONFIG, draw.randomness)
    assert account is not None
    assert account.lut_slot is not None
    escrow = reward_escrow_address(draw.randomness)
    rent = world.chain.get_balance(draw.randomness) + world.chain.get_balance(escrow)
    assert rent > 0
    dev = world.dev.pubkey()

    wrong_table = randomness_close(CONFIG, draw.randomness, dev, account.lut_slot + 1)
    with pytest.raises(RpcRequestRejected):
        await submit(rpc, world.dev, [wrong_table])

    before = world.chain.get_balance(dev)
    await submit(rpc, world.dev, [randomness_close(CONFIG, draw.randomness, dev, account.lut_slot)])
    fee = 5_000 + -(-400_000 // 1_000_000)  # one signature, 400 000 CU at 1 micro-lamport, rounded up
    assert world.chain.get_balance(dev) == before + rent - fee
    assert world.chain.get_account(draw.randomness) is None
    assert world.chain.get_account(escrow) is None
    assert await load_randomness(rpc, CONFIG, draw.randomness) is None
