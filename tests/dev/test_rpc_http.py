"""The local chain over real HTTP on 127.0.0.1: uvicorn in the test's event loop, and `python -m localnet`
as a process. Each test starts its server on an ephemeral port and stops it before returning."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
from collections.abc import AsyncIterator
from pathlib import Path

import httpx2
import pytest
from solana.rpc.async_api import AsyncClient
from solana.rpc.models import TxOpts
from solders.keypair import Keypair
from solders.system_program import TransferParams, transfer

from localnet.runtime import LocalChain
from localnet.server import create_rpc_app
from tests.support.funded_chain import SOL
from tests.support.http_server import serve_on_this_loop
from tests.support.runtime_support import funded, signed

REPO = Path(__file__).resolve().parents[2]


@pytest.fixture
async def served_chain() -> AsyncIterator[tuple[LocalChain, str]]:
    chain = LocalChain()
    async with serve_on_this_loop(create_rpc_app(chain)) as url:
        yield chain, url


async def test_send_and_confirm_over_http(served_chain: tuple[LocalChain, str]) -> None:
    chain, url = served_chain
    payer = funded(chain)
    receiver = Keypair().pubkey()
    ix = transfer(TransferParams(from_pubkey=payer.pubkey(), to_pubkey=receiver, lamports=SOL))
    async with AsyncClient(url) as client:
        blockhash = (await client.get_latest_blockhash()).value.blockhash
        tx = signed(chain, payer, [ix], blockhash=blockhash)
        sent = await client.send_transaction(tx, opts=TxOpts(skip_confirmation=False))
        balance = await client.get_balance(receiver)
        statuses = await client.get_signature_statuses([sent.value])

    assert balance.value == SOL
    assert statuses.value[0] is not None
    assert statuses.value[0].err is None


def test_python_m_localnet_serves_and_exits_on_sigterm() -> None:
    env = {**os.environ, "PYTHONPATH": str(REPO / "dev")}
    process = subprocess.Popen(
        [sys.executable, "-m", "localnet", "--host", "127.0.0.1", "--port", "0", "--frozen-clock"],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        env=env,
        text=True,
    )
    try:
        assert process.stdout is not None
        line = process.stdout.readline()
        url = line.strip().rsplit(" ", 1)[-1]
        health = httpx2.post(url, json={"jsonrpc": "2.0", "id": 1, "method": "getHealth"}, timeout=5)
        gateway = httpx2.get(f"{url}/gateway/api/v1/test", timeout=5)
        pool = httpx2.post(
            url,
            json={
                "jsonrpc": "2.0",
                "id": 2,
                "method": "getAccountInfo",
                "params": ["4wgBJUHydWXXJKXYsmdGoGw1ufC3dxz8q2mukFYaAhSm", {"encoding": "base64"}],
            },
            timeout=5,
        )
    finally:
        process.send_signal(signal.SIGTERM)
        code = process.wait(timeout=10)

    assert line.startswith("localnet RPC listening on http://127.0.0.1:")
    assert health.json()["result"] == "ok"
    assert gateway.status_code == 200
    assert pool.json()["result"]["value"]["executable"] is True  # the pool program is registered
    assert code == 0
