"""Reading a pool's accounts (missout.pools.chain_state) from the local chain over HTTP: one
`getMultipleAccounts` when the caller names the right mint and vault, two otherwise, and the same state
either way."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any

import pytest
from solders.keypair import Keypair
from solders.pubkey import Pubkey

from localnet.server import create_rpc_app
from missout.chain.rpc import RpcEndpoints, RpcSession
from missout.pools.chain_state import ChainBehind, PoolChainState, PoolTokenKeys, read_pool_state
from tests.reliability.servers import serve
from tests.support.verify_world import VerifyWorld, verify_world


class _CountedReads:
    """A real RPC session, counting the reads by method."""

    def __init__(self, session: RpcSession) -> None:
        self._session = session
        self.methods: list[str] = []

    async def read(self, method: str, call: Callable[[Any], Awaitable[Any]], parse: Any) -> Any:
        self.methods.append(method)
        return await self._session.read(method, call, parse)


async def _read(
    world: VerifyWorld, url: str, pool: Pubkey, **options: Any
) -> tuple[PoolChainState, list[str]]:
    async with RpcEndpoints([url]).session() as session:
        counted = _CountedReads(session)
        state = await read_pool_state(counted, world.program_id, pool, **options)  # type: ignore[arg-type]
        return state, counted.methods


async def test_the_right_mint_and_vault_make_it_one_read_with_the_same_state() -> None:
    async with verify_world() as world, serve(create_rpc_app(world.chain)) as url:
        _, pool = world.create_pool(max_participants=5)
        world.join(pool, world.wallet())
        plain, plain_reads = await _read(world, url, pool)
        hinted, hinted_reads = await _read(world, url, pool, expected=PoolTokenKeys(world.mint, plain.vault))
    assert plain_reads == ["getMultipleAccounts"] * 2
    assert hinted_reads == ["getMultipleAccounts"]
    assert hinted == plain
    assert hinted.mint.address == world.mint
    assert hinted.vault_balance == plain.vault_balance
    assert plain.vault_balance is not None
    assert plain.vault_balance > 0
    assert hinted.participants.count == 2  # the creator's seat and the join


@pytest.mark.parametrize("wrong", ["mint", "vault"])
async def test_a_wrong_guess_is_never_believed_the_pools_own_keys_are_read(wrong: str) -> None:
    stranger = Keypair().pubkey()
    async with verify_world() as world, serve(create_rpc_app(world.chain)) as url:
        _, pool = world.create_pool(max_participants=5)
        plain, _ = await _read(world, url, pool)
        guess = PoolTokenKeys(
            stranger if wrong == "mint" else world.mint, stranger if wrong == "vault" else plain.vault
        )
        hinted, reads = await _read(world, url, pool, expected=guess)
    assert reads == ["getMultipleAccounts"] * 2
    assert hinted == plain


async def test_a_view_older_than_the_transaction_is_refused_with_a_hint_too() -> None:
    async with verify_world() as world, serve(create_rpc_app(world.chain)) as url:
        _, pool = world.create_pool(max_participants=5)
        plain, _ = await _read(world, url, pool)
        with pytest.raises(ChainBehind):
            await _read(
                world, url, pool, expected=PoolTokenKeys(world.mint, plain.vault), min_slot=plain.slot + 1_000
            )
