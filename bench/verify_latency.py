"""Latency of verifying one reported join in process: the real solana-py AsyncClient fetching from the
local chain through the ASGI transport (no port), then every check. Also the fetch alone and the checks
alone (on an already fetched response), so the split is visible.

Run: .venv/bin/python bench/verify_latency.py [runs]   (default 200)
"""

from __future__ import annotations

import asyncio
import statistics
import sys
import time
from collections.abc import Awaitable, Callable
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path[:0] = [str(ROOT), str(ROOT / "dev"), str(ROOT / "layers/shared")]

from solders.rpc.responses import GetTransactionResp  # noqa: E402
from solders.signature import Signature  # noqa: E402

from missout.chain.verify import TransactionFetcher, verify_join_pool  # noqa: E402
from tests.support.verify_world import ENTRY, VerifyWorld, verify_world  # noqa: E402


class _Canned:
    """Returns one response already fetched: isolates the checks from the RPC round trip."""

    def __init__(self, response: GetTransactionResp) -> None:
        self.response = response

    async def get_transaction(self, signature: Signature) -> GetTransactionResp:
        return self.response


async def _timed(runs: int, action: Callable[[], Awaitable[object]]) -> list[float]:
    await action()  # warm-up: imports, codec cache, first request
    samples = []
    for _ in range(runs):
        started = time.perf_counter()
        await action()
        samples.append((time.perf_counter() - started) * 1000)
    return samples


def _report(label: str, samples: list[float]) -> None:
    ordered = sorted(samples)
    p95 = ordered[max(0, round(0.95 * len(ordered)) - 1)]
    print(f"{label:<34} median {statistics.median(ordered):7.3f} ms   p95 {p95:7.3f} ms   (n={len(ordered)})")


async def latencies(runs: int) -> dict[str, list[float]]:
    """Milliseconds per call of: the fetch alone, the checks alone, and the whole verification."""
    async with verify_world() as world:
        _, pool = world.create_pool()
        signature = world.join(pool, world.player)

        def verify(fetcher: TransactionFetcher) -> Callable[[], Awaitable[object]]:
            return lambda: verify_join_pool(
                signature,
                pool=world.keys(pool),
                wallet=world.player.pubkey(),
                amount=ENTRY,
                config=world.config,
                fetcher=fetcher,
                clock=world.now,
            )

        fetched = await world.fetcher.get_transaction(Signature.from_string(signature))
        return {
            "fetch only (getTransaction)": await _timed(runs, lambda: _fetch(world, signature)),
            "checks only (canned response)": await _timed(runs, verify(_Canned(fetched))),
            "verify_join_pool (fetch + checks)": await _timed(runs, verify(world.fetcher)),
        }


async def main(runs: int) -> None:
    for label, samples in (await latencies(runs)).items():
        _report(label, samples)


async def _fetch(world: VerifyWorld, signature: str) -> GetTransactionResp:
    return await world.fetcher.get_transaction(Signature.from_string(signature))


if __name__ == "__main__":
    asyncio.run(main(int(sys.argv[1]) if len(sys.argv) > 1 else 200))
