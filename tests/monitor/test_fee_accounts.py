"""The monitor creates the token accounts a crank pays into when they are missing: the DEV wallet's and the
treasury's ATA for `payout_winner`, the treasury's for `finalize_forfeited_pool` (docs/program.md §3.13,
§3.17), with the ATA program's `CreateIdempotent` in the crank's own transaction, paid by the DEV wallet,
under the mint's token program (Token or Token-2022). Once they exist, nothing is created again.

Everything runs on the local chain, where the real ATA and token programs (LiteSVM) execute the
`CreateIdempotent` next to the modelled pool program, and through real monitor ticks."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from solders.pubkey import Pubkey
from solders.signature import Signature
from sqlalchemy.engine import Engine

from localnet.spl_token import TOKEN_2022_ATA_LEN, TOKEN_2022_PROGRAM_ID, TOKEN_ACCOUNT_LEN, TOKEN_PROGRAM_ID
from missout.chain.accounts import PoolStatus
from missout.chain.addresses import ASSOCIATED_TOKEN_PROGRAM_ID
from missout.chain.rpc import RpcEndpoints, RpcEndpointsConfig
from missout.chain.switchboard import SwitchboardConfig
from missout.lifecycle import LifecycleSettings
from missout.monitor.service import MonitorService
from missout.referrals.payouts import PayoutCaps
from missout.settings import MonitorSettings
from tests.monitor.drive import drive_until, payouts
from tests.monitor.world import ENTRY, PROGRAM_ID, SECRET, MonitorWorld, plenty
from tests.support.database import TestDatabase
from tests.support.http_server import free_socket, serve_in_thread

pytestmark = [pytest.mark.integration, pytest.mark.localnet]

DAY = 86_400
DEV_BPS, TREASURY_BPS = 500, 100  # the fees of the worlds' pools


@pytest.fixture
def worlds(direct_engine: Engine) -> Iterator[list[MonitorWorld]]:
    made: list[MonitorWorld] = []
    yield made
    for world in made:
        world.close()


def bare_world(
    worlds: list[MonitorWorld], engine: Engine, token_program: Pubkey = TOKEN_PROGRAM_ID
) -> MonitorWorld:
    """A world in which neither the DEV wallet nor the treasury has a token account for the mint yet."""
    world = MonitorWorld(b"monitor-fee-accounts", engine, fee_accounts=False, token_program=token_program)
    worlds.append(world)
    for wallet in (world.dev.pubkey(), world.treasury.pubkey()):
        assert world.chain.get_account(world.funded.ata(wallet)) is None
    return world


def created_by(world: MonitorWorld, pool_id: int, crank: str) -> list[Pubkey]:
    """The owners whose ATA the crank's finalized transaction created with `CreateIdempotent` (checked to
    be paid by the DEV wallet and to come before the pool program's instruction)."""
    (intent,) = [i for i in world.intents(pool_id) if i["action"] == crank]
    assert (intent["status"], intent["attempt"]) == ("finalized", 1)
    record = world.chain.history.get(Signature.from_string(intent["signature"]))
    assert record is not None
    assert record.err is None
    keys = record.account_keys
    owners: list[Pubkey] = []
    programs = [keys[ix.program_id_index] for ix in record.transaction.message.instructions]
    for ix in record.transaction.message.instructions:
        if keys[ix.program_id_index] != ASSOCIATED_TOKEN_PROGRAM_ID:
            continue
        accounts = [keys[i] for i in bytes(ix.accounts)]
        assert bytes(ix.data) == bytes([1])  # CreateIdempotent
        assert accounts[0] == world.dev.pubkey()  # the DEV wallet pays the rent
        assert accounts[5] == world.token_program  # under the mint's own token program
        owners.append(accounts[2])
    if owners:
        last_creation = max(i for i, p in enumerate(programs) if p == ASSOCIATED_TOKEN_PROGRAM_ID)
        assert programs.index(PROGRAM_ID) > last_creation
    return owners


def assert_token_account(world: MonitorWorld, owner: Pubkey, amount: int) -> None:
    account = world.chain.get_account(world.funded.ata(owner))
    assert account is not None
    assert account.owner == world.token_program
    # A Token-2022 ATA carries the ImmutableOwner extension, which the real ATA program adds.
    size = TOKEN_2022_ATA_LEN if world.token_program == TOKEN_2022_PROGRAM_ID else TOKEN_ACCOUNT_LEN
    assert len(account.data) == size
    assert world.balance(owner) == amount


@pytest.mark.parametrize(
    ("token_program", "missing"),
    [
        (TOKEN_PROGRAM_ID, ("dev", "treasury")),
        (TOKEN_2022_PROGRAM_ID, ("dev", "treasury")),
        (TOKEN_PROGRAM_ID, ("treasury",)),
    ],
    ids=["token-both-missing", "token2022-both-missing", "token-treasury-missing"],
)
async def test_a_payout_creates_the_missing_fee_accounts_and_a_second_pool_creates_nothing(
    app_database: TestDatabase,
    direct_engine: Engine,
    worlds: list[MonitorWorld],
    token_program: Pubkey,
    missing: tuple[str, ...],
) -> None:
    world = bare_world(worlds, direct_engine, token_program)
    wallets = {"dev": world.dev.pubkey(), "treasury": world.treasury.pubkey()}
    for name, wallet in wallets.items():
        if name not in missing:
            world.token_account(wallet)  # this one exists already
    treasury_lamports = world.chain.get_balance(world.treasury.pubkey())

    pool = world.full_pool(participants=3)
    pool_id = world.register(pool)
    await drive_until(world, lambda: pool_id in payouts(world))

    assert world.pool_status(pool) is PoolStatus.ENDED
    assert created_by(world, pool_id, "payout_winner") == [wallets[name] for name in missing]
    total = 3 * ENTRY
    paid = payouts(world)[pool_id]
    assert (paid["total_amount"], paid["dev_amount"], paid["treasury_amount"]) == (
        total,
        total * DEV_BPS // 10_000,
        total * TREASURY_BPS // 10_000,
    )
    assert paid["winner_amount"] == total - paid["dev_amount"] - paid["treasury_amount"]
    assert_token_account(world, wallets["dev"], paid["dev_amount"])
    assert_token_account(world, wallets["treasury"], paid["treasury_amount"])
    assert world.chain.get_balance(world.treasury.pubkey()) == treasury_lamports  # paid nothing
    record = world.record(pool_id)
    assert (record["failure_count"], record["stuck_reason"]) == (0, None)  # the first payout landed

    # A second pool in the same mint: the accounts exist now, and the payout creates nothing.
    second = world.full_pool(participants=2)
    second_id = world.register(second)
    await drive_until(world, lambda: second_id in payouts(world))
    assert created_by(world, second_id, "payout_winner") == []
    again = payouts(world)[second_id]
    assert again["total_amount"] == 2 * ENTRY
    assert world.balance(wallets["dev"]) == paid["dev_amount"] + again["dev_amount"]
    assert world.balance(wallets["treasury"]) == paid["treasury_amount"] + again["treasury_amount"]


async def test_a_payout_whose_fee_accounts_exist_creates_nothing(
    app_database: TestDatabase, direct_engine: Engine, worlds: list[MonitorWorld]
) -> None:
    world = MonitorWorld(b"monitor-fee-accounts", direct_engine)  # both accounts made at the start
    worlds.append(world)
    pool = world.full_pool(participants=2)
    pool_id = world.register(pool)
    await drive_until(world, lambda: pool_id in payouts(world))
    assert created_by(world, pool_id, "payout_winner") == []
    paid = payouts(world)[pool_id]
    assert world.balance(world.dev.pubkey()) == paid["dev_amount"] == 2 * ENTRY * DEV_BPS // 10_000
    assert (
        world.balance(world.treasury.pubkey())
        == paid["treasury_amount"]
        == 2 * ENTRY * TREASURY_BPS // 10_000
    )


async def test_a_forfeit_creates_the_missing_treasury_account_and_moves_the_vault_into_it(
    app_database: TestDatabase, direct_engine: Engine, worlds: list[MonitorWorld]
) -> None:
    world = bare_world(worlds, direct_engine)
    pool, players = world.make_pool(size=3, joined=2)
    pool_id = world.register(pool)
    world.cancel(pool, players[0])  # nobody refunds: after 30 days the vault is forfeited
    quick = world.config(
        lifecycle=LifecycleSettings(dev_wallet=world.dev.pubkey(), idle_recheck_s=0, open_recheck_s=0)
    )
    await world.tick(quick)
    world.time_passes(30 * DAY + 2)
    await drive_until(world, lambda: world.record(pool_id)["status"] == "closed", config=quick)
    assert world.pool_status(pool) is PoolStatus.CLOSED
    assert created_by(world, pool_id, "finalize_forfeited_pool") == [world.treasury.pubkey()]
    assert_token_account(world, world.treasury.pubkey(), 2 * ENTRY)  # the whole vault
    # Only what finalize needs: the DEV wallet's account was not made.
    assert world.chain.get_account(world.funded.ata(world.dev.pubkey())) is None


async def test_the_monitor_service_pays_out_into_fee_accounts_it_creates(
    app_database: TestDatabase, direct_engine: Engine, worlds: list[MonitorWorld]
) -> None:
    """`MonitorService.tick` (what the Lambda handler runs each tick) over real HTTP to the local chain."""
    sock = free_socket()
    url = f"http://127.0.0.1:{sock.getsockname()[1]}"
    world = MonitorWorld(b"monitor-fee-accounts", direct_engine, url, fee_accounts=False)
    worlds.append(world)
    pool = world.full_pool(participants=2)
    pool_id = world.register(pool)
    # Run ticks up to the draw only (unlock, request, reveal + select), so the service makes the payout.
    to_draw = world.config(steps_per_pool=3)
    await drive_until(world, lambda: world.pool_status(pool) is PoolStatus.WINNER_SELECTED, config=to_draw)
    assert [i["action"] for i in world.intents(pool_id)][-1] == "select_winner"
    world.due_now()
    service = MonitorService(
        holder="fee-accounts-test",
        settings=MonitorSettings(probe_gateway_health=False),
        program_id=PROGRAM_ID,
        switchboard=SwitchboardConfig.devnet(),
        dev=world.dev,
        randomness_secret=SECRET,
        engine=world.app_engine,
        rpc=RpcEndpoints([url], RpcEndpointsConfig(backoff_base_s=0.01, backoff_max_s=0.05)),
        payout_caps=PayoutCaps(10**15, 10**16),
    )
    with serve_in_thread(world.app, sock):
        report = await service.tick(plenty)
    assert report.actions[("payout", "done")] == 1
    assert world.pool_status(pool) is PoolStatus.ENDED
    assert created_by(world, pool_id, "payout_winner") == [world.dev.pubkey(), world.treasury.pubkey()]
    paid = payouts(world)[pool_id]  # recorded in the same tick, from the payout transaction
    assert_token_account(world, world.dev.pubkey(), paid["dev_amount"])
    assert_token_account(world, world.treasury.pubkey(), paid["treasury_amount"])
    assert paid["dev_amount"] == 2 * ENTRY * DEV_BPS // 10_000
    assert paid["treasury_amount"] == 2 * ENTRY * TREASURY_BPS // 10_000
