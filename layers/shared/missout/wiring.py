"""What the API needs from settings, built once per process: the program's identity, the RPC endpoints, the
verifier's policy and the rate limits.

How async chain I/O and the synchronous `transaction()` meet
------------------------------------------------------------
Routes that talk to the chain are `async def`. Chain I/O is awaited on the request's event loop through a
session opened per request (`async with wiring.rpc.session() as rpc`). The session hands out the clients
`RpcEndpoints` keeps for that loop (httpx clients belong to the loop that made them): the API handler keeps
one loop per thread and uvicorn (`make dev`) runs one, so requests after the first reuse the clients, their
keep-alive connections and the process's one TLS context (`missout.chain.rpc.clients`). Database
work is plain synchronous code in `with transaction() as conn:` blocks, handed to the process's persistent
worker threads with `missout.blocking.run_blocking`, so a slow statement never blocks the loop.

The two never nest: a request first does all its RPC (verify the transaction, read the accounts), then opens
one short database transaction that writes what was proven. No database transaction is ever open across an
RPC call, so a slow node cannot hold a pgBouncer server connection or a row lock. Anything that changed in
between is caught by UNIQUE keys and by the slot each row records (a sync never writes older chain state
over newer).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta
from functools import cache
from typing import TYPE_CHECKING

from missout.settings import ApiSettings, SettingsError, api_settings, chain_settings

if TYPE_CHECKING:
    from missout.chain.config import ProgramConfig
    from missout.chain.rpc import RpcEndpoints
    from missout.chain.verify import AgeWindow, PoolConfigPolicy


@dataclass(frozen=True)
class RateLimits:
    window_s: int
    per_ip: int
    per_wallet: int


@dataclass(frozen=True)
class ChainWiring:
    """Everything a reporting route needs to prove and read on-chain state."""

    program: ProgramConfig
    rpc: RpcEndpoints
    policy: PoolConfigPolicy
    window: AgeWindow


def rate_limits(settings: ApiSettings | None = None) -> RateLimits:
    s = settings or api_settings()
    return RateLimits(
        window_s=s.rate_limit_window_s, per_ip=s.rate_limit_per_ip, per_wallet=s.rate_limit_per_wallet
    )


@cache
def chain_wiring() -> ChainWiring:
    """Built on first use and kept for the life of the process (a warm Lambda keeps its endpoint health).

    Raises `SettingsError` when the chain is not configured: reads that only need the database keep working.
    The chain stack (solders, solana-py, the verifier) is imported here, by the first request that needs the
    chain, not when the API's dependencies are declared: the database-only routes never load it.
    """
    from solders.pubkey import Pubkey

    from missout.chain.config import ProgramConfig
    from missout.chain.rpc import RpcEndpoints, RpcEndpointsConfig
    from missout.chain.verify import AgeWindow, PoolConfigPolicy

    chain, api = chain_settings(), api_settings()
    if not chain.rpc_urls:
        raise SettingsError("invalid configuration: SOLANA_RPC_URLS: missing")
    missing = [
        name
        for name, value in (
            ("DEV_WALLET_PUBKEY", chain.dev_wallet_pubkey),
            ("TREASURY_WALLET_PUBKEY", chain.treasury_wallet_pubkey),
        )
        if not value
    ]
    if missing:
        raise SettingsError("invalid configuration: " + "; ".join(f"{name}: missing" for name in missing))
    assert chain.dev_wallet_pubkey is not None
    assert chain.treasury_wallet_pubkey is not None
    program = ProgramConfig(
        program_id=Pubkey.from_string(chain.program_id),
        dev_wallet=Pubkey.from_string(chain.dev_wallet_pubkey),
        treasury_wallet=Pubkey.from_string(chain.treasury_wallet_pubkey),
        switchboard_program_id=Pubkey.from_string(chain.switchboard_program_id),
    )
    policy = PoolConfigPolicy(
        dev_fee_bps=api.pool_dev_fee_bps,
        burn_fee_bps=api.pool_burn_fee_bps,
        treasury_fee_bps=api.pool_treasury_fee_bps,
        allow_mock=api.pool_allow_mock,
    )
    window = AgeWindow(max_age=timedelta(seconds=api.report_max_age_s))
    # An API Gateway request has 30 s: two passes over the endpoints at 5 s each fit, three at 10 s do not.
    rpc = RpcEndpoints(chain.rpc_urls, RpcEndpointsConfig(request_timeout_s=5.0, read_rounds=2))
    return ChainWiring(program=program, rpc=rpc, policy=policy, window=window)


def reset_wiring() -> None:
    """Forget the wiring (tests change settings between cases)."""
    chain_wiring.cache_clear()
