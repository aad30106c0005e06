"""Throughput of the local chain through solana-py's AsyncClient: sequential send + confirm of
(1) System transfers in process (ASGI transport), (2) over HTTP on 127.0.0.1 (uvicorn in this process),
(3) transactions calling a modelled program, alone and mixed with native instructions.

Run: .venv/bin/python bench/localnet_throughput.py [count]
"""

from __future__ import annotations

import asyncio
import sys
import time
from collections.abc import Callable
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "dev"))

import uvicorn
from solana.rpc.async_api import AsyncClient
from solana.rpc.models import TxOpts
from solders.account import Account
from solders.compute_budget import set_compute_unit_price
from solders.instruction import AccountMeta, Instruction
from solders.keypair import Keypair
from solders.message import Message
from solders.pubkey import Pubkey
from solders.system_program import TransferParams, transfer
from solders.transaction import VersionedTransaction

from localnet.model_api import AccountState, InvokeContext, ProgramError
from localnet.runtime import LocalChain
from localnet.server import bind_listening_socket, create_rpc_app
from localnet.transport import in_process_client

SYSTEM_PROGRAM_ID = Pubkey.default()


class CounterProgram:
    """Increments a u64 in an account it owns: the smallest modelled instruction that reads and writes."""

    name = "counter"

    def __init__(self) -> None:
        self.program_id = Pubkey.new_unique()

    def process(self, ctx: InvokeContext) -> None:
        key = ctx.accounts[0].pubkey
        state = ctx.get(key) or AccountState(ctx.minimum_balance(8), bytearray(8), self.program_id)
        state.data[:8] = (int.from_bytes(state.data[:8], "little") + 1).to_bytes(8, "little")
        ctx.put(key, state)
        if ctx.data == b"fail":  # after the write, so the runtime has something to revert
            raise ProgramError(custom=6000, log="failing on purpose")


InstructionsFor = Callable[[Keypair], list[Instruction]]


async def send_and_confirm(client: AsyncClient, payer: Keypair, count: int, build: InstructionsFor) -> float:
    opts = TxOpts(skip_confirmation=False)
    start = time.perf_counter()
    for _ in range(count):
        blockhash = (await client.get_latest_blockhash()).value.blockhash
        message = Message.new_with_blockhash(build(payer), payer.pubkey(), blockhash)
        await client.send_transaction(VersionedTransaction(message, [payer]), opts=opts)
    return count / (time.perf_counter() - start)


def new_chain() -> tuple[LocalChain, Keypair, CounterProgram, Pubkey]:
    chain = LocalChain()
    payer = Keypair()
    chain.set_account(payer.pubkey(), Account(10**15, b"", SYSTEM_PROGRAM_ID))
    counter = CounterProgram()
    chain.register(counter)
    counter_account = Pubkey.new_unique()
    chain.set_account(counter_account, Account(chain.minimum_balance(8), bytes(8), counter.program_id))
    return chain, payer, counter, counter_account


def system_transfer(payer: Keypair) -> list[Instruction]:
    return [
        transfer(TransferParams(from_pubkey=payer.pubkey(), to_pubkey=Keypair().pubkey(), lamports=10**6))
    ]


async def throughputs(count: int) -> dict[str, float]:
    """Transactions per second of each case, `count` sequential transactions each."""
    chain, payer, counter, counter_account = new_chain()
    increment = Instruction(counter.program_id, b"", [AccountMeta(counter_account, False, True)])

    def modelled(_: Keypair) -> list[Instruction]:
        return [increment]

    def mixed(p: Keypair) -> list[Instruction]:
        return [set_compute_unit_price(1_000), *system_transfer(p), increment]

    client = in_process_client(create_rpc_app(chain))
    results = {"system transfer, in process": await send_and_confirm(client, payer, count, system_transfer)}
    results["modelled instruction, in process"] = await send_and_confirm(client, payer, count, modelled)
    results["ComputeBudget + transfer + modelled, in process"] = await send_and_confirm(
        client, payer, count, mixed
    )
    await client.close()

    sock = bind_listening_socket("127.0.0.1", 0)
    server = uvicorn.Server(uvicorn.Config(create_rpc_app(chain), log_level="warning", lifespan="off"))
    serving = asyncio.create_task(server.serve(sockets=[sock]))
    while not server.started:  # noqa: ASYNC110 - uvicorn exposes no start event to wait on
        await asyncio.sleep(0.01)
    async with AsyncClient(f"http://127.0.0.1:{sock.getsockname()[1]}") as http_client:
        results["system transfer, HTTP 127.0.0.1"] = await send_and_confirm(
            http_client, payer, count, system_transfer
        )
        results["modelled instruction, HTTP 127.0.0.1"] = await send_and_confirm(
            http_client, payer, count, modelled
        )
    server.should_exit = True
    await serving
    sock.close()

    failing = Instruction(counter.program_id, b"fail", [AccountMeta(counter_account, False, True)])
    for name, instruction, preflight in [
        ("system transfer, LocalChain direct (no RPC)", None, True),
        ("modelled instruction, LocalChain direct (no RPC)", increment, True),
        ("failing modelled (revert + fee), LocalChain direct", failing, False),
    ]:
        start = time.perf_counter()
        for _ in range(count):
            instructions = [instruction] if instruction is not None else system_transfer(payer)
            message = Message.new_with_blockhash(instructions, payer.pubkey(), chain.latest_blockhash())
            chain.send_transaction(VersionedTransaction(message, [payer]), preflight=preflight)
        results[name] = count / (time.perf_counter() - start)
    return results


async def main(count: int) -> None:
    results = await throughputs(count)
    print(
        f"{count} sequential transactions each (getLatestBlockhash + sendTransaction + getSignatureStatuses):"
    )
    for name, per_second in results.items():
        print(f"  {name:<50} {per_second:8.0f} tx/s")


if __name__ == "__main__":
    asyncio.run(main(int(sys.argv[1]) if len(sys.argv) > 1 else 500))
