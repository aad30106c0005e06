"""Helpers for driving the backend's Switchboard client through the local chain (`CrankWorld`): sending
instructions over RPC, the gateways over the chain's own HTTP app, a sleep that records instead of waiting,
and the steps of a draw up to the reveal."""

from __future__ import annotations

from dataclasses import dataclass, field

import httpx2
from solana.rpc.models import TxOpts
from solders.instruction import Instruction
from solders.keypair import Keypair
from solders.pubkey import Pubkey
from starlette.types import ASGIApp

from localnet.programs.switchboard_oracles import OracleFleet, edit_oracle_account
from localnet.switchboard_routes import switchboard_program
from missout.chain.instructions import build_unlock_pool
from missout.chain.rpc import RpcSession
from missout.chain.send.prepare import sign_transaction
from missout.chain.switchboard import (
    ChosenOracle,
    GatewayHealthProbe,
    GatewayRetryPolicy,
    SwitchboardConfig,
    choose_oracle,
    commit_and_request,
    derive_randomness_keypair,
    randomness_init,
)
from tests.support.crank_world import PROGRAM_ID, CrankWorld

SECRET = bytes(range(32))
CONFIG = SwitchboardConfig.devnet()  # the local chain models the devnet program and queue
# Real pauses would only slow the tests down: `RecordingSleep` stands in for them and keeps the figures.
FAST = GatewayRetryPolicy(request_timeout_s=0.5, max_attempts=6)


async def submit(rpc: RpcSession, payer: Keypair, instructions: list[Instruction], *extra: Keypair) -> None:
    """Sign with a fresh blockhash and send with preflight: a failing transaction raises."""
    blockhash = (await rpc.get_latest_blockhash()).value.blockhash
    tx = sign_transaction(instructions, 400_000, 1, blockhash, payer, extra)
    await rpc.send_raw_transaction(bytes(tx), TxOpts(skip_preflight=False))


def gateway_http(app: ASGIApp) -> httpx2.AsyncClient:
    """An HTTP client whose every request is answered by `app` in process (whatever the host)."""
    return httpx2.AsyncClient(transport=httpx2.ASGITransport(app=app))


@dataclass
class RecordingSleep:
    """An `asyncio.sleep` stand-in: records each pause and returns at once."""

    pauses: list[float] = field(default_factory=list)

    async def __call__(self, seconds: float) -> None:
        self.pauses.append(seconds)


def plenty() -> int:
    return 600_000


@dataclass(frozen=True)
class CommittedDraw:
    pool: Pubkey
    randomness: Pubkey
    oracle: ChosenOracle


async def unlocked_pool_with_randomness(world: CrankWorld, rpc: RpcSession) -> tuple[Pubkey, Keypair]:
    """A full pool unlocked by the DEV wallet, and its randomness account initialised (not committed)."""
    dev = world.dev
    pool = world.full_pool(participants=3)
    await submit(rpc, dev, [build_unlock_pool(PROGRAM_ID, pool, dev.pubkey())])
    randomness = derive_randomness_keypair(SECRET, pool)
    recent_slot = await rpc.get_slot()
    init = randomness_init(CONFIG, randomness.pubkey(), dev.pubkey(), dev.pubkey(), recent_slot)
    await submit(rpc, dev, [init], randomness)
    return pool, randomness


async def commit_draw(
    world: CrankWorld, rpc: RpcSession, http: httpx2.AsyncClient, *, with_health: bool = True
) -> CommittedDraw:
    """Unlock, init, choose the oracle (asking the gateways unless told not to) and commit + request."""
    pool, randomness = await unlocked_pool_with_randomness(world, rpc)
    probe = GatewayHealthProbe(http, timeout_s=1.0) if with_health else None
    oracle = await choose_oracle(rpc, CONFIG, world.chain.clock.unix_timestamp, health=probe)
    dev = world.dev.pubkey()
    await submit(
        rpc, world.dev, commit_and_request(CONFIG, PROGRAM_ID, pool, randomness.pubkey(), oracle.key, dev)
    )
    return CommittedDraw(pool, randomness.pubkey(), oracle)


def oracles(world: CrankWorld) -> OracleFleet:
    """The local queue's oracles, whose `behaviour` tests change."""
    program = switchboard_program(world.chain)
    assert program is not None
    return program.fleet


def edit_oracle(world: CrankWorld, index: int, **changes: int | str) -> None:
    """Change oracle `index`'s on-chain account (`valid_until`, `last_heartbeat`, `verification_status`,
    `gateway_url`)."""
    key = oracles(world)[index].key
    account = world.chain.get_account(key)
    assert account is not None
    world.chain.set_account(key, edit_oracle_account(account, changes))
