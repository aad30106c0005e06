"""When things go wrong: the oracle never reveals (the deadline is warned about, then missed: a dead end
watched, never cranked), the emergency draw of a mock-capable pool, a payout the winner's token account
refuses (back-off, then `stuck` with its metric), and a vault an outsider topped up (never paid into a
failing payout, logged once)."""

from __future__ import annotations

import dataclasses
from collections.abc import Iterator

import pytest
from solders.account import Account
from sqlalchemy.engine import Engine

from localnet.spl_token import TOKEN_PROGRAM_ID, pack_token_account, unpack_token_account
from missout.chain.accounts import PoolStatus, decode_pool
from missout.chain.pda import associated_token_address
from missout.monitor.service import emit_tick_metrics, stuck_pools
from tests.monitor.drive import drive_until, monitor_log, payouts
from tests.monitor.intercept import Disturbance, disturbed
from tests.monitor.world import MonitorWorld
from tests.support.database import TestDatabase

pytestmark = [pytest.mark.integration, pytest.mark.localnet]

DAY = 86_400


@pytest.fixture
def world(app_database: TestDatabase, direct_engine: Engine) -> Iterator[MonitorWorld]:
    made = MonitorWorld(b"monitor-failure-paths", direct_engine)
    yield made
    made.close()


def commit_slot(world: MonitorWorld, pool: object) -> int:
    account = world.chain.get_account(pool)  # type: ignore[arg-type]
    assert account is not None
    return decode_pool(bytes(account.data)).randomness_commit_slot


async def test_a_reveal_that_never_comes_is_warned_about_then_the_missed_deadline_is_never_cranked(
    world: MonitorWorld,
) -> None:
    pool, _ = world.make_pool(size=2, joined=2)
    pool_id = world.register(pool)
    down = Disturbance(gateway_down=True)
    gateway = disturbed(world.app, down)
    await world.tick(gateway=gateway)
    assert world.pool_status(pool) is PoolStatus.RANDOMNESS_COMMITTED
    committed_at = commit_slot(world, pool)

    world.chain.warp(slot=committed_at + 1_600)  # 1 400 slots left: below the 1 500 warning margin
    world.due_now()
    with monitor_log() as log:
        report = await world.tick(gateway=gateway)
    assert report.alerts["deadline_at_risk"] == 1
    assert report.min_slots_left == 1_400
    assert log.count("randomness deadline at risk") == 1

    world.chain.warp(slot=committed_at + 3_001)
    before = world.dev_transactions()
    with monitor_log() as log:
        for _ in range(3):
            world.due_now()
            report = await world.tick(gateway=gateway)
    assert report.dead_ends == {pool_id: "randomness_deadline_missed"}
    assert world.record(pool_id)["unpayable_reason"] == "randomness_deadline_missed"
    assert world.dev_transactions() == before  # watched, never cranked
    assert log.count("pool can never pay out") == 1  # logged once, when first seen


async def test_the_emergency_draw_pays_a_mock_capable_pool_whose_reveal_never_came(
    world: MonitorWorld,
) -> None:
    pool, _ = world.make_pool(size=3, joined=3, allow_mock=True)
    pool_id = world.register(pool)
    gateway = disturbed(world.app, Disturbance(gateway_down=True))
    await world.tick(gateway=gateway)  # the default settings commit real randomness even for such a pool
    assert world.pool_status(pool) is PoolStatus.RANDOMNESS_COMMITTED
    world.time_passes(DAY + 1)  # past unlock + 24 h, still well inside the 3 000 slots
    emergency = world.config()
    emergency = dataclasses.replace(
        emergency, lifecycle=dataclasses.replace(emergency.lifecycle, mock_randomness=True)
    )
    world.due_now()
    await drive_until(world, lambda: len(payouts(world)) == 1, config=emergency)
    assert world.pool_status(pool) is PoolStatus.ENDED
    actions = [(i["action"], i["status"]) for i in world.intents(pool_id)]
    assert ("select_winner", "finalized") in actions
    assert world.record(pool_id)["winner_wallet"] == payouts(world)[pool_id]["winner"]


async def test_a_payout_the_winner_account_refuses_backs_off_then_is_stuck_with_its_alarm_metric(
    world: MonitorWorld, capsys: pytest.CaptureFixture[str]
) -> None:
    pool, players = world.make_pool(size=2, joined=2)
    pool_id = world.register(pool)
    for player in players:  # whoever wins, their token account now has a delegate: payout refuses it (6040)
        ata = associated_token_address(player.pubkey(), world.mint, TOKEN_PROGRAM_ID)
        token = world.chain.get_account(ata)
        assert token is not None
        delegated = dataclasses.replace(unpack_token_account(bytes(token.data)), delegate=world.dev.pubkey())
        world.chain.set_account(ata, Account(token.lamports, pack_token_account(delegated), TOKEN_PROGRAM_ID))
    await world.tick()
    assert world.pool_status(pool) is PoolStatus.WINNER_SELECTED
    assert world.record(pool_id)["failure_count"] == 1  # the payout, refused in simulation: nothing sent

    failures = []
    for _ in range(2):  # up to the test policy's max_failures (3)
        world.due_now()
        await world.tick()
        failures.append(world.record(pool_id)["failure_count"])
    assert failures == [2, 3]
    record = world.record(pool_id)
    assert record["stuck_reason"] is not None
    assert "HasDelegate" in record["stuck_reason"]  # the program's error, for a person to read
    assert world.pool_status(pool) is PoolStatus.WINNER_SELECTED
    capsys.readouterr()
    assert stuck_pools(world.app_engine) == 1
    report = await world.tick()
    emit_tick_metrics(report, stuck_pools(world.app_engine), 0.1)
    assert '"StuckPools":[1.0]' in capsys.readouterr().out  # what the StuckPools alarm watches


async def test_a_vault_an_outsider_topped_up_is_never_cranked_into_a_failing_payout(
    world: MonitorWorld,
) -> None:
    pool, _ = world.make_pool(size=2, joined=2)
    pool_id = world.register(pool)
    vault = world.keys(pool).vault
    token = world.chain.get_account(vault)
    assert token is not None
    state = unpack_token_account(bytes(token.data))
    topped = dataclasses.replace(state, amount=state.amount + 1)  # a plain transfer of one base unit
    world.chain.set_account(vault, Account(token.lamports, pack_token_account(topped), TOKEN_PROGRAM_ID))
    before = world.dev_transactions()
    with monitor_log() as log:
        for _ in range(3):
            world.due_now()
            await world.tick()
    assert world.record(pool_id)["unpayable_reason"] == "vault_mismatch"
    assert world.dev_transactions() == before  # not even unlocked: the payout could never land
    assert world.intents(pool_id) == []
    assert log.count("pool can never pay out") == 1
