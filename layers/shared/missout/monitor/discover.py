"""Find pools nobody reported: one `getProgramAccounts` over the program's Pool accounts that name our DEV
wallet (docs/solana.md §3.7, §3.8), registered from the chain so the monitor drives them like any other.

A client that never calls the API still gets its pool cranked and recorded (docs/original-backend.md §3.5:
the original only ever looked at rows in its own table). The pool's identity is its create transaction, the
oldest successful transaction that names the pool.
"""

from __future__ import annotations

import struct
from dataclasses import dataclass
from datetime import UTC, datetime

from solana.rpc.commitment import Finalized
from solana.rpc.models import MemcmpOpts
from solders.pubkey import Pubkey
from solders.rpc.responses import GetSignaturesForAddressResp
from sqlalchemy import select
from sqlalchemy.engine import Engine

from missout.chain.accounts import POOL_ACCOUNT
from missout.chain.program import shipped_codec
from missout.chain.queries import pool_filters
from missout.chain.rpc import RpcSession
from missout.db.tables import pools
from missout.db.transaction import transaction
from missout.monitor.read import read_pools
from missout.observability import logger
from missout.pools.records import ChainPool, CreateTransaction, MintInfo, register_pool_from_chain
from missout.pools.status import TERMINAL_POOL_STATUSES

_MINT_DECIMALS = 44  # SPL mint layout: authority option 0..36, supply 36..44, decimals 44
_HISTORY_LIMIT = 1_000


@dataclass(frozen=True, slots=True)
class Discovery:
    seen: int  # pools of ours on chain
    registered: list[int]  # new records
    failed: dict[str, str]  # address -> why it could not be registered (tried again next sweep)


def our_pool_filters(dev_wallet: Pubkey) -> list[int | MemcmpOpts]:
    offset = shipped_codec().field_offsets(POOL_ACCOUNT)["dev_wallet"]
    return [*pool_filters(), MemcmpOpts(offset=offset, bytes=str(dev_wallet))]


async def discover_pools(
    rpc: RpcSession, engine: Engine | None, program_id: Pubkey, dev_wallet: Pubkey
) -> Discovery:
    keyed = await rpc.get_program_accounts(program_id, our_pool_filters(dev_wallet))
    on_chain = [entry.pubkey for entry in keyed]
    with transaction(engine) as conn:
        known = set(
            conn.execute(
                select(pools.c.pool_address).where(
                    pools.c.pool_address.in_([str(a) for a in on_chain]),
                    pools.c.status.not_in(TERMINAL_POOL_STATUSES),
                )
            ).scalars()
        )
    unknown = [address for address in on_chain if str(address) not in known]
    registered: list[int] = []
    failed: dict[str, str] = {}
    for address in unknown:
        try:
            registered.append(await _register(rpc, engine, program_id, address))
        except Exception as exc:  # one odd pool must not stop the others; it is retried next sweep
            failed[str(address)] = f"{type(exc).__name__}: {exc}"[:300]
    if registered or failed:
        logger().info(
            "pools discovered on chain",
            extra={"seen": len(on_chain), "registered": registered, "failed": failed},
        )
    return Discovery(len(on_chain), registered, failed)


async def _register(rpc: RpcSession, engine: Engine | None, program_id: Pubkey, address: Pubkey) -> int:
    snapshot = await read_pools(rpc, program_id, [address])
    read = snapshot.pools[address]
    if read.observed is None or read.participants is None:
        raise ValueError(read.problem or "the pool disappeared")
    pool = read.observed.pool
    mint_account = await rpc.get_account_info(pool.mint)
    if mint_account is None:
        raise ValueError(f"mint {pool.mint} does not exist")
    decimals = struct.unpack_from("<B", bytes(mint_account.data), _MINT_DECIMALS)[0]
    create = await _create_transaction(rpc, program_id, address)
    state = ChainPool(pool, read.participants, read.observed.vault_amount or 0, snapshot.clock.slot)
    with transaction(engine) as conn:
        registration = register_pool_from_chain(
            conn,
            address=address,
            state=state,
            mint=MintInfo(pool.mint, decimals, mint_account.owner),
            create=create,
        )
    return registration.pool_id


async def _create_transaction(rpc: RpcSession, program_id: Pubkey, address: Pubkey) -> CreateTransaction:
    """The oldest successful transaction naming the pool that runs `create_pool` on it."""
    # The verifier package loads when a new pool is first found on chain, not at the monitor's init: most
    # ticks find none.
    from missout.chain.verify.fetch import fetch_transaction
    from missout.chain.verify.transaction_view import view_transaction

    response = await rpc.read(
        "getSignaturesForAddress",
        lambda c: c.get_signatures_for_address(address, limit=_HISTORY_LIMIT, commitment=Finalized),
        GetSignaturesForAddressResp,
    )
    create = shipped_codec().idl.instruction("create_pool").discriminator
    for entry in reversed(response.value):  # newest first from the node
        if entry.err is not None:
            continue
        fetched = await fetch_transaction(rpc, entry.signature)
        view = view_transaction(fetched)
        if any(
            ix.program_id == program_id and ix.data[:8] == create and address in ix.accounts
            for ix in view.instructions
        ):
            when = fetched.block_time
            return CreateTransaction(
                signature=str(entry.signature),
                slot=fetched.slot,
                block_time=datetime.fromtimestamp(when, tz=UTC) if when else datetime.now(UTC),
            )
    raise ValueError(f"no create_pool transaction found for {address}")
