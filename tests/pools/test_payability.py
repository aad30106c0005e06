"""`unpayable_reason` against the modelled pool program: each dead end is produced by real instructions,
read back through the backend's own `decode_pool`, and then the program really refuses the step the reason
says is impossible. Plus the reason table for every status, and a hypothesis run of whole pools (create,
joins, donation, stray transfer into the vault, draw, payout) where the payout succeeds exactly when no
reason is named."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import replace

import pytest
from hypothesis import HealthCheck, event, given, settings
from hypothesis import strategies as st

from localnet.model_api import ProgramError
from localnet.programs.pool_state import payout_split
from localnet.spl_token import Mint, TokenAccount, pack_mint, pack_token_account
from missout.chain.accounts import PoolAccount, PoolStatus, StatusReason, decode_pool
from missout.pools.payability import (
    RANDOMNESS_DEADLINE_SLOTS,
    UnpayableReason,
    full_pot,
    pot_is_payable,
    unpayable_reason,
)
from missout.pools.split import U16_MAX, U64_MAX
from tests.support.pool_world import ENTRY, PoolWorld

SLOT = 5_000


def _pool(world: PoolWorld) -> PoolAccount:
    return decode_pool(world.pool_data())


def _reason(world: PoolWorld) -> UnpayableReason | None:
    return unpayable_reason(
        _pool(world), vault_balance=world.balance(world.vault, account=True), slot=world.chain.clock.slot
    )


def _set_vault(world: PoolWorld, amount: int) -> None:
    """What a plain SPL transfer into the vault leaves behind (the model runs only the pool program)."""
    world.chain.accounts[world.vault].data[:] = pack_token_account(
        TokenAccount(mint=world.mint, owner=world.pool, amount=amount)
    )


def _big_supply(world: PoolWorld) -> None:
    """A mint whose supply covers the balances these tests hand out (burns subtract from it)."""
    world.chain.accounts[world.mint].data[:] = pack_mint(
        Mint(mint_authority=None, supply=U64_MAX, decimals=6)
    )


def _failure_of(step: Callable[[], object]) -> ProgramError | None:
    try:
        step()
    except ProgramError as failure:
        return failure
    return None


def _program_code(world: PoolWorld, name: str, **kw: object) -> int | None:
    with pytest.raises(ProgramError) as failure:
        world.run(name, **kw)  # type: ignore[arg-type]
    return failure.value.custom


def _payout_code(world: PoolWorld) -> int | None:
    winner = world.winner_pubkey()
    return _program_code(
        world, "payout_winner", signer=world.dev, winner_token=world.ata(winner), winner_pubkey=winner
    )


def _drawn(world: PoolWorld) -> None:
    """From a full, locked pool to WinnerSelected (mock randomness)."""
    world.chain.advance(seconds=600, slots=10)
    world.run("unlock_pool", signer=world.dev)
    world.run("request_randomness", signer=world.dev)
    world.run("select_winner", signer=world.dev)


@pytest.fixture
def open_pool() -> PoolAccount:
    world = PoolWorld()
    world.create()
    return _pool(world)


# -- each reason on the program model -----------------------------------------------------------------


def test_a_healthy_pool_is_payable_at_every_step_and_pays_out() -> None:
    world = PoolWorld()
    world.create()
    assert _reason(world) is None
    world.fill()
    assert _reason(world) is None
    _drawn(world)
    assert _reason(world) is None
    world.payout()
    assert _pool(world).status is PoolStatus.ENDED
    assert _reason(world) is None


def test_one_unit_sent_into_the_vault_is_vault_mismatch_and_payout_fails_6036() -> None:
    world = PoolWorld()
    world.create()
    _set_vault(world, ENTRY + 1)
    assert _reason(world) is UnpayableReason.VAULT_MISMATCH
    world.fill()
    _drawn(world)
    assert _reason(world) is UnpayableReason.VAULT_MISMATCH
    assert _payout_code(world) == 6036


def test_a_cancelled_pool_with_a_stray_transfer_is_not_a_dead_end() -> None:
    # docs/program.md §5.2: refunds pay fixed amounts; the excess is burned by claim_rent.
    world = PoolWorld()
    world.create()
    world.run("join_pool", {"amount": ENTRY}, signer=world.players[1])
    world.run("cancel_pool", signer=world.creator)
    _set_vault(world, 2 * ENTRY + 1)
    assert _reason(world) is None
    world.run("claim_refund", signer=world.players[1])
    world.run("claim_refund", signer=world.creator)
    assert _reason(world) is None  # refunds lower the vault, never `total_amount`


def test_a_pot_too_big_for_the_fee_arithmetic_is_pot_overflow_and_payout_fails_6009() -> None:
    world = PoolWorld(max_participants=2)
    _big_supply(world)
    big = 2 * 10**16  # 2 x 2e16 x 500 bps > 2^64 - 1
    for player in world.players[:2]:
        world.fund(player, big)
    world.create(amount=big)
    assert _reason(world) is UnpayableReason.POT_OVERFLOW  # already known while Open: the full pot
    world.run("join_pool", {"amount": big}, signer=world.players[1])
    _drawn(world)
    assert _reason(world) is UnpayableReason.POT_OVERFLOW
    assert _payout_code(world) == 6009


def test_randomness_deadline_is_inclusive_at_3000_slots_then_missed() -> None:
    world = PoolWorld()
    world.to_unlocked()
    world.run("request_randomness", signer=world.dev)
    world.chain.advance(slots=RANDOMNESS_DEADLINE_SLOTS)
    assert _reason(world) is None
    world.chain.advance(slots=1)
    assert _reason(world) is UnpayableReason.RANDOMNESS_DEADLINE_MISSED
    assert _program_code(world, "select_winner", signer=world.dev) == 6047


def test_the_deadline_at_its_last_slot_still_selects() -> None:
    world = PoolWorld()
    world.to_unlocked()
    world.run("request_randomness", signer=world.dev)
    world.chain.advance(slots=RANDOMNESS_DEADLINE_SLOTS)
    world.run("select_winner", signer=world.dev)
    assert _pool(world).status is PoolStatus.WINNER_SELECTED


@pytest.mark.parametrize("unpause", [False, True])
def test_pausing_a_cancelled_pool_is_paused_cancelled_and_refunds_fail_6021(unpause: bool) -> None:
    world = PoolWorld()
    world.create()
    world.run("join_pool", {"amount": ENTRY}, signer=world.players[1])
    world.run("cancel_pool", signer=world.creator)
    assert _reason(world) is None
    world.run("pause_pool", signer=world.dev)
    if unpause:
        world.run("unpause_pool", signer=world.dev)
    assert _reason(world) is UnpayableReason.PAUSED_CANCELLED
    assert _program_code(world, "claim_refund", signer=world.players[1]) == 6021


def test_a_paused_open_pool_is_not_a_dead_end() -> None:
    world = PoolWorld()
    world.create()
    world.run("pause_pool", signer=world.dev)
    assert _reason(world) is None
    world.run("unpause_pool", signer=world.dev)
    world.run("cancel_pool", signer=world.creator)
    assert _reason(world) is None


# -- the table, status by status ----------------------------------------------------------------------

PAID_OR_CLOSED = [PoolStatus.ENDED, PoolStatus.CANCELLED, PoolStatus.CLOSED]
PAYOUT_AHEAD = [status for status in PoolStatus if status not in PAID_OR_CLOSED]


@pytest.mark.parametrize("status", PAYOUT_AHEAD)
@pytest.mark.parametrize("delta", [-1, 1, 10**9])
def test_vault_mismatch_while_the_payout_is_ahead(
    open_pool: PoolAccount, status: PoolStatus, delta: int
) -> None:
    pool = replace(open_pool, status=status, status_reason=StatusReason.CANCELLED)
    balance = pool.total_amount + delta
    assert unpayable_reason(pool, vault_balance=balance, slot=SLOT) is UnpayableReason.VAULT_MISMATCH


@pytest.mark.parametrize("status", PAID_OR_CLOSED)
def test_no_vault_mismatch_once_paid_cancelled_or_closed(open_pool: PoolAccount, status: PoolStatus) -> None:
    pool = replace(open_pool, status=status, status_reason=StatusReason.CANCELLED)
    assert unpayable_reason(pool, vault_balance=pool.total_amount + 1, slot=SLOT) is None
    assert unpayable_reason(pool, vault_balance=0, slot=SLOT) is None


@pytest.mark.parametrize("status", PAYOUT_AHEAD)
def test_pot_overflow_while_the_payout_is_ahead(open_pool: PoolAccount, status: PoolStatus) -> None:
    total = U64_MAX // 500 + 1
    pool = replace(open_pool, status=status, total_amount=total, total_joins=open_pool.max_participants)
    assert unpayable_reason(pool, vault_balance=total, slot=SLOT) is UnpayableReason.POT_OVERFLOW
    payable = replace(pool, total_amount=total - 1)
    assert unpayable_reason(payable, vault_balance=total - 1, slot=SLOT) is None


def test_full_pot_counts_the_empty_seats_at_the_entry_price(open_pool: PoolAccount) -> None:
    pool = replace(open_pool, max_participants=5, total_joins=2, amount=7, total_amount=14 + 100)
    assert full_pot(pool) == 114 + 3 * 7
    assert full_pot(replace(pool, total_joins=5)) == 114
    assert full_pot(replace(pool, total_joins=9)) == 114  # never negative seats


def test_the_empty_seats_alone_can_overflow_an_open_pool(open_pool: PoolAccount) -> None:
    entry = U64_MAX // 500 // 3 + 1  # three full seats overflow the 500 bps product, one does not
    pool = replace(open_pool, max_participants=3, total_joins=1, amount=entry, total_amount=entry)
    assert unpayable_reason(pool, vault_balance=entry, slot=SLOT) is UnpayableReason.POT_OVERFLOW


def test_vault_mismatch_is_named_before_pot_overflow(open_pool: PoolAccount) -> None:
    pool = replace(open_pool, total_amount=U64_MAX, total_joins=open_pool.max_participants)
    assert unpayable_reason(pool, vault_balance=0, slot=SLOT) is UnpayableReason.VAULT_MISMATCH


def test_randomness_deadline_applies_only_to_randomness_committed(open_pool: PoolAccount) -> None:
    committed = replace(open_pool, status=PoolStatus.RANDOMNESS_COMMITTED, randomness_commit_slot=100)
    balance = committed.total_amount
    late = 100 + RANDOMNESS_DEADLINE_SLOTS + 1
    assert unpayable_reason(committed, vault_balance=balance, slot=late - 1) is None
    assert (
        unpayable_reason(committed, vault_balance=balance, slot=late)
        is UnpayableReason.RANDOMNESS_DEADLINE_MISSED
    )
    for status in set(PoolStatus) - {PoolStatus.RANDOMNESS_COMMITTED, PoolStatus.CANCELLED}:
        other = replace(committed, status=status)
        assert unpayable_reason(other, vault_balance=balance, slot=late) is None, status
    # The program skips the deadline when no commit slot is recorded (docs/program.md §3.12 step 4).
    unset = replace(committed, randomness_commit_slot=0)
    assert unpayable_reason(unset, vault_balance=balance, slot=late) is None


@pytest.mark.parametrize("reason", [0, 2, 3, 4])
def test_cancelled_with_a_reason_refunds_do_not_accept_is_paused_cancelled(
    open_pool: PoolAccount, reason: int
) -> None:
    pool = replace(open_pool, status=PoolStatus.CANCELLED, status_reason=reason)
    assert unpayable_reason(pool, vault_balance=0, slot=SLOT) is UnpayableReason.PAUSED_CANCELLED


@pytest.mark.parametrize("reason", [StatusReason.EXPIRED, StatusReason.CANCELLED, StatusReason.ADMIN_CLOSED])
def test_cancelled_with_a_refundable_reason_is_fine(open_pool: PoolAccount, reason: StatusReason) -> None:
    pool = replace(open_pool, status=PoolStatus.CANCELLED, status_reason=int(reason))
    assert unpayable_reason(pool, vault_balance=12345, slot=SLOT) is None


@pytest.mark.parametrize("status", sorted(set(PoolStatus) - {PoolStatus.CANCELLED}))
def test_a_paused_reason_outside_cancelled_is_not_a_dead_end(
    open_pool: PoolAccount, status: PoolStatus
) -> None:
    pool = replace(open_pool, status=status, status_reason=StatusReason.PAUSED, paused=True)
    assert unpayable_reason(pool, vault_balance=pool.total_amount, slot=SLOT) is None


def test_reason_values_are_the_record_strings() -> None:
    assert [reason.value for reason in UnpayableReason] == [
        "vault_mismatch",
        "pot_overflow",
        "randomness_deadline_missed",
        "paused_cancelled",
    ]


# -- the fee arithmetic --------------------------------------------------------------------------------


def test_pot_bounds_at_the_documented_thresholds() -> None:
    # docs/program.md §5.1: payout is impossible once T > floor((2^64 - 1) / b) for the largest fee b.
    for bps, limit in (
        (500, 36_893_488_147_419_103),
        (150, 122_978_293_824_730_344),
        (10_000, 1_844_674_407_370_955),
    ):
        assert pot_is_payable(limit, dev_fee_bps=bps, burn_fee_bps=0, treasury_fee_bps=0)
        assert not pot_is_payable(limit + 1, dev_fee_bps=0, burn_fee_bps=0, treasury_fee_bps=bps)
    assert pot_is_payable(U64_MAX, dev_fee_bps=0, burn_fee_bps=0, treasury_fee_bps=0)
    assert not pot_is_payable(U64_MAX + 1, dev_fee_bps=0, burn_fee_bps=0, treasury_fee_bps=0)
    assert not pot_is_payable(-1, dev_fee_bps=0, burn_fee_bps=0, treasury_fee_bps=0)


def test_fees_above_the_pot_are_not_payable() -> None:
    # Only reachable with a fee sum above 10 000 bps, which create refuses; the winner's share would be < 0,
    # and the payout's checked subtraction fails (docs/program.md §5.1). Below the pot they are payable.
    assert not pot_is_payable(100, dev_fee_bps=10_000, burn_fee_bps=100, treasury_fee_bps=0)
    assert pot_is_payable(1, dev_fee_bps=6_000, burn_fee_bps=5_000, treasury_fee_bps=0)


bps = st.integers(min_value=0, max_value=U16_MAX)  # any fee a Pool can hold (create keeps the sum ≤ 10 000)
# Base-unit amounts spread over every order of magnitude up to an eighth of u64, so pools land on both
# sides of the fee-overflow thresholds (plain integers() would mostly draw small values) while four
# entries and a donation still fit the joins' checked adds.
big_amounts = st.sampled_from(range(7, 19)).flatmap(
    lambda exp: st.integers(min_value=2 * 10**exp, max_value=min(2 * 10 ** (exp + 1), U64_MAX // 8))
)


@settings(max_examples=500, deadline=None)
@given(pot=st.integers(min_value=0, max_value=U64_MAX), fees=st.tuples(bps, bps, bps))
def test_pot_is_payable_agrees_with_the_program_models_payout_split(
    pot: int, fees: tuple[int, int, int]
) -> None:
    dev, burn, treasury = fees
    split = payout_split(pot, dev, burn, treasury)
    payable = pot_is_payable(pot, dev_fee_bps=dev, burn_fee_bps=burn, treasury_fee_bps=treasury)
    assert payable == (split is not None)
    if split is not None:
        assert split.winner + split.dev + split.burn + split.treasury == pot
        assert min(split.winner, split.dev, split.burn, split.treasury) >= 0


# -- whole pools on the program model -------------------------------------------------------------------


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    seats=st.integers(min_value=2, max_value=4),
    entry=big_amounts,
    fees=st.sampled_from(
        [(500, 350, 150), (500, 350, 150), (10_000, 0, 0), (0, 150, 0), (0, 0, 0), (1, 1, 1)]
    ),
    donation=st.one_of(st.just(0), big_amounts),
    stray=st.sampled_from([0, 0, 0, 1]),
)
def test_payout_succeeds_exactly_when_no_reason_is_named(
    seats: int, entry: int, fees: tuple[int, int, int], donation: int, stray: int
) -> None:
    world = PoolWorld(max_participants=seats, fees=fees)
    _big_supply(world)
    for player in world.players[:seats]:
        world.fund(player, entry + donation)
    world.create(amount=entry)
    if donation:
        world.run("donate", {"amount": donation}, signer=world.players[0])
    if stray:
        _set_vault(world, world.balance(world.vault, account=True) + stray)
    for player in world.players[1:seats]:
        world.run("join_pool", {"amount": entry}, signer=player)
    predicted = _reason(world)
    event(f"predicted {predicted}")
    _drawn(world)
    assert _reason(world) is predicted
    failure = _failure_of(world.payout)
    if predicted is None:
        assert failure is None, failure.log
        assert _pool(world).status is PoolStatus.ENDED
        assert world.balance(world.vault, account=True) == 0
    else:
        assert failure is not None
        assert failure.custom == (6036 if predicted is UnpayableReason.VAULT_MISMATCH else 6009)
