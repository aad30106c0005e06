"""Smoke test against Switchboard's real devnet deployment: init -> commit -> reveal -> close with the
backend's own client (oracle choice by live gateway health, the reveal flow, the close builder). It catches
drift the local model cannot: a changed account list, a changed gateway answer, a moved layout.

Runs only when asked to (docs/switchboard.md "Devnet smoke test"):
* `SOLANA_RPC_URLS` points at devnet (checked by genesis hash), and
* `SWITCHBOARD_DEVNET_KEYPAIR` names a solana-keygen keypair file holding >= 0.05 devnet SOL.
Otherwise it is skipped (allow-listed in tests/skip_allowlist.txt). It costs about 0.0001 SOL in fees; the
rent it locks is returned by the close.
"""

from __future__ import annotations

import asyncio
import os
import time
from collections.abc import Callable
from pathlib import Path

import httpx2
import pytest
from solana.rpc.commitment import Confirmed, Finalized
from solana.rpc.models import TxOpts
from solders.instruction import Instruction
from solders.keypair import Keypair
from solders.rpc.responses import GetBalanceResp, GetGenesisHashResp, GetSlotResp
from solders.signature import Signature
from solders.transaction_status import TransactionConfirmationStatus

from missout.chain.rpc import RpcEndpoints, RpcEndpointsConfig, RpcSession
from missout.chain.send.prepare import sign_transaction
from missout.chain.signer import load_dev_wallet
from missout.chain.switchboard import (
    GatewayClient,
    GatewayHealthProbe,
    SwitchboardConfig,
    choose_oracle,
    fetch_reveal,
    load_randomness,
    randomness_close,
    randomness_commit,
    randomness_init,
    randomness_reveal,
)
from missout.settings import ChainSettings, SignerSettings, load
from tests.support.crank_world import CrankWorld
from tests.support.switchboard_world import RecordingSleep, gateway_http

KEYPAIR_VARIABLE = "SWITCHBOARD_DEVNET_KEYPAIR"
DEVNET_GENESIS_HASH = "EtWTRABZaYq6iMfeYKouRu166VU2xqa1wcaWoxPkrZBG"
MIN_BALANCE = 50_000_000  # lamports: rent of the randomness account, its escrow and lookup table, and fees
CONFIRM_TIMEOUT_S = 90.0
LANDED = (TransactionConfirmationStatus.Confirmed, TransactionConfirmationStatus.Finalized)


def configured() -> tuple[list[str], Path] | None:
    path = os.environ.get(KEYPAIR_VARIABLE, "").strip()
    urls = load(ChainSettings).rpc_urls
    return (urls, Path(path)) if path and urls else None


async def send_and_confirm(
    rpc: RpcSession, payer: Keypair, instructions: list[Instruction], *extra: Keypair
) -> Signature:
    blockhash = (await rpc.get_latest_blockhash()).value.blockhash
    tx = sign_transaction(instructions, 400_000, 10_000, blockhash, payer, extra)
    signature = await rpc.send_raw_transaction(bytes(tx), TxOpts(skip_preflight=False))
    deadline = time.monotonic() + CONFIRM_TIMEOUT_S
    while time.monotonic() < deadline:
        status = (await rpc.get_signature_statuses([signature])).value[0]
        if status is not None:
            assert status.err is None, f"{signature} failed: {status.err}"
            if status.confirmation_status in LANDED:
                return signature
        await asyncio.sleep(1.0)
    raise AssertionError(f"{signature} not confirmed within {CONFIRM_TIMEOUT_S} s")


async def test_init_commit_reveal_close_on_devnet() -> None:
    setup = configured()
    if setup is None:
        pytest.skip(f"devnet smoke test: needs SOLANA_RPC_URLS at devnet and a funded {KEYPAIR_VARIABLE}")
    urls, keypair_path = setup
    payer = load_dev_wallet(SignerSettings(dev_wallet_keypair_path=keypair_path))
    # Confirmed reads see each step as soon as it has landed.
    endpoints = RpcEndpoints(urls, RpcEndpointsConfig(commitment=Confirmed))
    async with endpoints.session() as rpc, httpx2.AsyncClient() as http:
        genesis = await rpc.read("getGenesisHash", lambda c: c.get_genesis_hash(), GetGenesisHashResp)
        if str(genesis.value) != DEVNET_GENESIS_HASH:
            pytest.skip("devnet smoke test: SOLANA_RPC_URLS does not point at devnet")
        me = payer.pubkey()
        balance = await rpc.read("getBalance", lambda c: c.get_balance(me), GetBalanceResp)
        assert balance.value >= MIN_BALANCE, f"{me} needs at least 0.05 devnet SOL"
        await init_commit_reveal_close(rpc, GatewayClient(http), GatewayHealthProbe(http), payer)


@pytest.mark.localnet
async def test_the_smoke_flow_itself_runs_against_the_local_chain() -> None:
    """The devnet test's steps, checked offline so they are known to work before anyone spends devnet SOL."""
    world = CrankWorld(b"switchboard-smoke-offline", oracles=2)
    sleep = RecordingSleep()
    async with world.rpc() as rpc, gateway_http(world.app) as http:
        world.chain.advance_slots(3)
        gateway = GatewayClient(http, sleep=sleep)
        await init_commit_reveal_close(
            rpc, gateway, GatewayHealthProbe(http), world.dev, advance=lambda: world.chain.advance_slots(2)
        )
    (pause,) = sleep.pauses  # the post-commit wait only: every request was answered at once
    assert 2.0 < pause <= 3.0


async def init_commit_reveal_close(
    rpc: RpcSession,
    gateway: GatewayClient,
    health: GatewayHealthProbe,
    payer: Keypair,
    advance: Callable[[], None] = lambda: None,
) -> None:
    """init -> commit -> reveal -> close of a fresh randomness account paid and owned by `payer`.
    `advance` moves a local chain along where a real one moves by itself."""
    config = SwitchboardConfig.devnet()
    randomness = Keypair()
    key, me = randomness.pubkey(), payer.pubkey()
    # A finalized slot, as the SDK takes it, so the lookup-table address is on every fork.
    recent_slot = (await rpc.read("getSlot", lambda c: c.get_slot(Finalized), GetSlotResp)).value
    await send_and_confirm(rpc, payer, [randomness_init(config, key, me, me, recent_slot)], randomness)
    created = await load_randomness(rpc, config, key)
    assert created is not None
    assert (created.authority, created.queue, created.lut_slot) == (me, config.queue, recent_slot)

    oracle = await choose_oracle(rpc, config, int(time.time()), health=health)
    await send_and_confirm(rpc, payer, [randomness_commit(config, key, oracle.key, me)])
    committed_at = time.time()
    committed = await load_randomness(rpc, config, key)
    assert committed is not None
    assert committed.is_committed
    assert committed.oracle == oracle.key
    assert committed.active_secp256k1_expiration  # the 480-byte layout carries the bound key's expiry

    advance()
    prepared = await fetch_reveal(
        rpc, config, gateway, key, remaining_ms=lambda: 120_000, committed_at=committed_at
    )
    response = prepared.response
    reveal = randomness_reveal(
        config,
        key,
        prepared.account.oracle,
        me,
        me,
        response.signature,
        response.recovery_id,
        response.value,
        queue=prepared.account.queue,
    )
    await send_and_confirm(rpc, payer, [reveal])
    revealed = await load_randomness(rpc, config, key)
    assert revealed is not None
    assert revealed.is_revealed
    assert revealed.value == response.value

    assert revealed.lut_slot is not None
    await send_and_confirm(rpc, payer, [randomness_close(config, key, me, revealed.lut_slot)])
    assert await load_randomness(rpc, config, key) is None
