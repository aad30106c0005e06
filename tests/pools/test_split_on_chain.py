"""`payout_split` against a real `payout_winner` on the local chain, at the edges of the fee arithmetic.

The local chain runs LiteSVM with the real SPL Token program; the pool program itself is our Python model
of it (dev/localnet/programs), so this compares the backend's split with the model's payout and with the
token movements the real token program makes. Each case takes a pool through a real draw, then rewrites
the drawn Pool's `total_amount` and fees (and the vault's balance, so the vault-equality rule of
docs/program.md §5.2 holds): pots and fees `create_pool` would never accept (pot 1, fees of 10 000 bps and
more in all, up to u16, pots at the u64 limits), which is where the program's checked arithmetic decides.
The payout is sent and read back through the real solana-py client; what moved is read by the monitor's own
reader (`payout_facts`), a refusal is classified from the landed transaction's error.
"""

from __future__ import annotations

import dataclasses
from collections.abc import AsyncIterator

import pytest
from solana.rpc.models import TxOpts
from solders.account import Account
from solders.pubkey import Pubkey

from localnet.idl import load_idl
from localnet.programs.pool_state import decode_pool as model_decode_pool
from localnet.programs.pool_state import encode_pool as model_encode_pool
from localnet.spl_token import Mint, pack_mint
from missout.chain.accounts import PoolAccount, PoolStatus, decode_pool
from missout.chain.errors import ProgramErrorCode, classify_transaction_error
from missout.chain.instructions import (
    MOCK_RANDOMNESS_ACCOUNT,
    build_payout_winner,
    build_request_randomness,
    build_select_winner,
    build_unlock_pool,
)
from missout.chain.pool_keys import PoolKeys
from missout.chain.rpc import RpcSession
from missout.chain.send.prepare import sign_transaction
from missout.chain.verify.fetch import fetch_transaction
from missout.monitor.payout_tx import payout_facts
from missout.pools.payability import pot_is_payable
from missout.pools.split import U16_MAX, U64_MAX, SplitOverflow, payout_split
from tests.support.crank_world import PROGRAM_ID, CrankWorld
from tests.support.funded_chain import fund_tokens, token_balance, write_account

pytestmark = pytest.mark.localnet

IDL = load_idl()

# (pot, (dev, burn, treasury) bps): each side of every way the program's split can refuse.
CASES = [
    (0, (U16_MAX, U16_MAX, U16_MAX)),  # nothing to split: every part 0, nothing moves
    (1, (500, 350, 150)),  # every fee floors to 0: the winner takes the one unit
    (1, (10_000, 0, 0)),  # the whole pot to the dev wallet, nothing to the winner
    (1, (6_000, 5_000, 0)),  # 11 000 bps in all, yet both fees floor to 0: the payout succeeds
    (2, (6_000, 5_000, 0)),  # 11 000 bps: fees 1 + 1 = the pot, the winner gets 0
    (100, (10_000, 100, 0)),  # fees 100 + 1 exceed the pot: the winner's checked subtraction fails
    (3, (U16_MAX, U16_MAX, U16_MAX)),  # the largest u16 fees: 19 x 3 far above the pot
    (U64_MAX // 10_000, (10_000, 0, 0)),  # the largest pot a 100 % fee can multiply
    (U64_MAX // 10_000 + 1, (10_000, 0, 0)),  # one more: the product leaves u64
    (U64_MAX, (0, 0, 0)),  # the largest pot, no fee
    (U64_MAX, (0, 0, 1)),  # the largest pot, the smallest fee: the product leaves u64
]


@pytest.fixture(scope="module")
def world() -> CrankWorld:
    world = CrankWorld(b"split-on-chain-test")
    # Burns take from the supply (a checked subtraction in the token program): make room for any pot.
    supply = pack_mint(Mint(mint_authority=None, supply=U64_MAX, decimals=6))
    write_account(world.chain, world.mint, supply, world.funded.token_program)
    return world


@pytest.fixture
async def rpc(world: CrankWorld) -> AsyncIterator[RpcSession]:
    async with world.rpc() as session:
        yield session


def _read_pool(world: CrankWorld, pool: Pubkey) -> PoolAccount:
    account = world.chain.get_account(pool)
    assert account is not None
    return decode_pool(bytes(account.data))


def _drawn_pool(world: CrankWorld) -> Pubkey:
    """A full two-seat mock-randomness pool taken through unlock, request and select by the dev wallet."""
    pool = world.full_pool(participants=2, allow_mock=True)
    dev = world.dev
    world.submit(dev, [build_unlock_pool(PROGRAM_ID, pool, dev.pubkey())])
    world.submit(dev, [build_request_randomness(PROGRAM_ID, pool, MOCK_RANDOMNESS_ACCOUNT, dev.pubkey())])
    world.chain.advance_slots(2)
    world.submit(dev, [build_select_winner(PROGRAM_ID, pool, MOCK_RANDOMNESS_ACCOUNT, dev.pubkey())])
    assert world.pool_status(pool) is PoolStatus.WINNER_SELECTED
    return pool


def _set_pot(world: CrankWorld, pool: Pubkey, pot: int, fees: tuple[int, int, int]) -> PoolAccount:
    """The drawn pool now owes `pot` with these fees, its vault holds exactly `pot`, and the winner's, dev's
    and treasury's token accounts hold 0 (so even a u64-sized share fits in them)."""
    account = world.chain.get_account(pool)
    assert account is not None
    stored = model_decode_pool(IDL, bytes(account.data))
    rewritten = dataclasses.replace(
        stored, total_amount=pot, dev_fee_bps=fees[0], burn_fee_bps=fees[1], treasury_fee_bps=fees[2]
    )
    world.chain.set_account(pool, Account(account.lamports, model_encode_pool(IDL, rewritten), account.owner))
    decoded = _read_pool(world, pool)
    assert decoded.pool_token is not None  # the latest layout names its vault
    fund_tokens(world.chain, world.mint, pool, pot, at=decoded.pool_token)
    for owner in (decoded.winner, decoded.dev_wallet, decoded.treasury_wallet):
        world.token_account(owner, 0)
    return decoded


@pytest.mark.parametrize(("pot", "fees"), CASES, ids=[f"{pot}-{'/'.join(map(str, f))}" for pot, f in CASES])
async def test_the_split_is_what_the_chain_pays_or_refuses(
    world: CrankWorld, rpc: RpcSession, pot: int, fees: tuple[int, int, int]
) -> None:
    pool = _drawn_pool(world)
    decoded = _set_pot(world, pool, pot, fees)
    payout = build_payout_winner(
        PROGRAM_ID, PoolKeys(pool, world.mint, world.funded.token_program), decoded, world.dev.pubkey()
    )
    blockhash = (await rpc.get_latest_blockhash()).value.blockhash
    tx = sign_transaction([payout], 400_000, 1, blockhash, world.dev)
    sent = await rpc.send_raw_transaction(bytes(tx), TxOpts(skip_preflight=True))
    landed = await fetch_transaction(rpc, sent)

    # The numbers the backend feeds its split come from the chain's own bytes, decoded by the backend.
    assert (decoded.total_amount, decoded.dev_fee_bps, decoded.burn_fee_bps, decoded.treasury_fee_bps) == (
        pot,
        *fees,
    )
    payable = pot_is_payable(pot, dev_fee_bps=fees[0], burn_fee_bps=fees[1], treasury_fee_bps=fees[2])
    try:
        split = payout_split(pot, dev_bps=fees[0], burn_bps=fees[1], treasury_bps=fees[2])
    except SplitOverflow:
        assert landed.meta.err is not None
        assert classify_transaction_error(landed.meta.err).program_error is ProgramErrorCode.Overflow
        assert not payable
        assert world.pool_status(pool) is PoolStatus.WINNER_SELECTED  # the failure reverted everything
        return
    assert landed.meta.err is None, landed.meta.log_messages
    assert payable
    facts = payout_facts(landed, PROGRAM_ID, pool)
    moved = (facts.winner_amount, facts.dev_amount, facts.burn_amount, facts.treasury_amount)
    assert moved == (split.winner, split.dev, split.burn, split.treasury)
    assert facts.total_amount == pot
    assert decoded.pool_token is not None
    assert token_balance(world.chain, decoded.pool_token) == 0
    assert world.pool_status(pool) is PoolStatus.ENDED
