"""The records layer against real PostgreSQL through pgBouncer, fed with accounts the modelled program wrote
and the program's codec decoded: registration, sync after each step of a pool's life, stale reads, the
vault-equality check, re-use of a closed pool's address, and the payout record."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import pytest
from sqlalchemy import func, select

from localnet.spl_token import TokenAccount, pack_token_account
from missout.chain.events import WinnerSelectedEvent, decode_event
from missout.db import transaction
from missout.db.tables import activity, mints, participants, pool_payouts, pools, winner_totals
from missout.pools.records import (
    NotThisPool,
    PoolNotRegistered,
    Registration,
    record_payout,
    record_pool_account_closed,
    register_pool_from_chain,
    sync_pool_from_chain,
)
from tests.support.concurrency import run_concurrently
from tests.support.database import TestDatabase
from tests.support.factories import SIG, create_transaction, read_chain_pool, world_mint
from tests.support.pool_world import ENTRY, PoolWorld


def _register(world: PoolWorld, n: int = 1) -> Registration:
    with transaction() as conn:
        return register_pool_from_chain(
            conn,
            address=world.pool,
            state=read_chain_pool(world),
            mint=world_mint(world),
            create=create_transaction(world, n),
        )


def _sync(world: PoolWorld, pool_id: int) -> Any:
    with transaction() as conn:
        return sync_pool_from_chain(conn, pool_id, read_chain_pool(world))


def _pool_row(pool_id: int) -> Any:
    with transaction() as conn:
        return conn.execute(select(pools).where(pools.c.id == pool_id)).one()


def _seats(pool_id: int) -> dict[str, int | None]:
    with transaction() as conn:
        rows = conn.execute(
            select(participants.c.wallet, participants.c.seat).where(participants.c.pool_id == pool_id)
        )
        return {wallet: seat for wallet, seat in rows}


def _step(world: PoolWorld, name: str, signer: Any, **args: Any) -> None:
    world.chain.advance(seconds=1, slots=1)  # every chain step is a later slot, as on a real chain
    world.run(name, args or None, signer=signer)


def test_registration_records_mint_pool_creator_seat_and_entry(app_database: TestDatabase) -> None:
    world = PoolWorld(max_participants=3)
    world.create()
    registration = _register(world)
    create = create_transaction(world)

    assert registration.created
    assert (registration.sync.status, registration.sync.unpayable_reason) == ("open", None)
    row = _pool_row(registration.pool_id)
    assert (row.pool_address, row.mint, row.creator_wallet) == (
        str(world.pool),
        str(world.mint),
        str(world.creator),
    )
    assert (row.entry_amount, row.max_participants, row.total_amount, row.donated_amount) == (
        ENTRY,
        3,
        ENTRY,
        0,
    )
    assert (row.dev_fee_bps, row.burn_fee_bps, row.treasury_fee_bps, row.allow_mock) == (500, 350, 150, True)
    assert (row.status, row.status_reason, row.participants_count, row.synced_slot) == (
        "open",
        0,
        1,
        create.slot,
    )
    assert row.created_at == create.block_time
    assert row.start_time == datetime.fromtimestamp(world.chain.clock.unix_timestamp, UTC)
    with transaction() as conn:
        mint = conn.execute(select(mints)).one()
        seat = conn.execute(select(participants)).one()
        entry = conn.execute(select(activity)).one()
    assert (mint.address, mint.decimals, mint.token_program, mint.symbol) == (
        str(world.mint),
        6,
        "spl-token",
        None,
    )
    assert (seat.wallet, seat.seat, seat.join_signature, seat.joined_at) == (
        str(world.creator),
        0,
        create.signature,
        create.block_time,
    )
    assert (entry.kind, entry.wallet, entry.amount, entry.signature) == (
        "create_pool",
        str(world.creator),
        ENTRY,
        create.signature,
    )


def test_registering_one_create_transaction_again_adds_nothing(app_database: TestDatabase) -> None:
    world = PoolWorld()
    world.create()
    first = _register(world)
    _step(world, "join_pool", world.players[1], amount=ENTRY)
    again = _register(world)  # e.g. the client's report after the monitor found the pool

    assert (again.pool_id, again.created, again.sync.applied) == (first.pool_id, False, True)
    with transaction() as conn:
        counts = [
            conn.execute(select(func.count()).select_from(table)).scalar_one()
            for table in (mints, pools, participants, activity)
        ]
    assert counts == [1, 1, 2, 1]  # the join's seat came from the sync; its activity row is the report's job


def test_concurrent_registrations_create_one_pool(app_database: TestDatabase) -> None:
    world = PoolWorld()
    world.create()
    outcomes = run_concurrently(8, lambda _: _register(world))
    assert [o.error for o in outcomes if o.error] == []
    registrations = [o.value for o in outcomes if o.value is not None]
    assert sum(r.created for r in registrations) == 1
    assert len({r.pool_id for r in registrations}) == 1
    with transaction() as conn:
        assert conn.execute(select(func.count()).select_from(pools)).scalar_one() == 1
        assert conn.execute(select(func.count()).select_from(activity)).scalar_one() == 1


def test_sync_follows_joins_donations_and_the_lock(app_database: TestDatabase) -> None:
    world = PoolWorld(max_participants=3)
    world.create()
    pool_id = _register(world).pool_id
    _step(world, "donate", world.players[4], amount=ENTRY + 7)
    _step(world, "join_pool", world.players[1], amount=ENTRY)
    _step(world, "join_pool", world.players[2], amount=ENTRY)
    result = _sync(world, pool_id)

    row = _pool_row(pool_id)
    assert (result.status, row.status, row.status_reason) == ("locked", "locked", 4)
    assert (row.total_amount, row.donated_amount, row.participants_count) == (4 * ENTRY + 7, ENTRY + 7, 3)
    assert row.lock_start_time == datetime.fromtimestamp(world.chain.clock.unix_timestamp, UTC)
    assert row.synced_slot == world.chain.clock.slot
    assert _seats(pool_id) == {str(world.players[n]): n for n in range(3)}


def test_an_older_read_never_overwrites_a_newer_one(app_database: TestDatabase) -> None:
    world = PoolWorld(max_participants=2)
    world.create()
    pool_id = _register(world).pool_id
    open_read = read_chain_pool(world)
    _step(world, "join_pool", world.players[1], amount=ENTRY)
    _sync(world, pool_id)  # the newer read lands first
    with transaction() as conn:
        stale = sync_pool_from_chain(conn, pool_id, open_read)  # a slow reader's answer arrives late

    assert (stale.applied, stale.status) == (False, "locked")
    row = _pool_row(pool_id)
    assert (row.status, row.participants_count, row.synced_slot) == ("locked", 2, world.chain.clock.slot)


def test_a_refund_takes_the_seat_away_and_shifts_the_rest(app_database: TestDatabase) -> None:
    world = PoolWorld(max_participants=5)
    world.create()
    pool_id = _register(world).pool_id
    for n in (1, 2, 3):
        _step(world, "join_pool", world.players[n], amount=ENTRY)
    _sync(world, pool_id)
    _step(world, "cancel_pool", world.creator)
    _step(world, "claim_refund", world.players[1])  # the program shifts the tail left (docs/program.md §2.2)
    _sync(world, pool_id)

    row = _pool_row(pool_id)
    assert (row.status, row.status_reason, row.participants_count) == ("cancelled", 5, 3)
    assert row.close_time is not None
    p = [str(w) for w in world.players]
    assert _seats(pool_id) == {p[0]: 0, p[1]: None, p[2]: 1, p[3]: 2}


def test_a_vault_that_differs_from_the_pot_marks_the_pool_unpayable(app_database: TestDatabase) -> None:
    world = PoolWorld(max_participants=2)
    world.create()
    pool_id = _register(world).pool_id
    _step(world, "join_pool", world.players[1], amount=ENTRY)
    vault = world.chain.accounts[world.vault]  # a plain transfer of 1 base unit into the vault (§5.2)
    vault.data[:] = pack_token_account(TokenAccount(mint=world.mint, owner=world.pool, amount=2 * ENTRY + 1))
    result = _sync(world, pool_id)

    assert result.unpayable_reason == "vault_mismatch"
    assert _pool_row(pool_id).unpayable_reason == "vault_mismatch"


def test_a_sync_refuses_another_pool_s_account(app_database: TestDatabase) -> None:
    world, other = PoolWorld(), PoolWorld()
    world.create()
    other.create()
    pool_id = _register(world).pool_id
    with pytest.raises(NotThisPool), transaction() as conn:
        sync_pool_from_chain(conn, pool_id, read_chain_pool(other))
    with pytest.raises(PoolNotRegistered), transaction() as conn:
        sync_pool_from_chain(conn, pool_id + 1, read_chain_pool(world))


def test_a_closed_pool_s_address_is_registered_again_as_a_new_pool(app_database: TestDatabase) -> None:
    world = PoolWorld(max_participants=3)
    world.create()
    first = _register(world, 1).pool_id
    _step(world, "cancel_pool", world.creator)
    _step(world, "claim_refund", world.creator)
    _sync(world, first)
    _step(world, "claim_rent", world.creator)  # closes Pool, Participants and vault: the PDA is free again
    # Nobody recorded the close: the registration of the new pool at the same address must mend that.
    world.chain.advance(seconds=60, slots=5)
    world.create()
    second = _register(world, 2)

    assert second.created
    assert second.pool_id != first
    old, new = _pool_row(first), _pool_row(second.pool_id)
    assert (old.pool_address, old.status, old.rent_claimed) == (str(world.pool), "closed", True)
    assert (new.pool_address, new.status, new.create_signature) == (str(world.pool), "open", SIG(90_002))


def test_a_vanished_pool_account_closes_the_record_unless_newer_state_is_known(
    app_database: TestDatabase,
) -> None:
    world = PoolWorld()
    world.create()
    pool_id = _register(world).pool_id
    with transaction() as conn:
        assert not record_pool_account_closed(conn, pool_id, slot=world.chain.clock.slot - 1)  # older read
        assert record_pool_account_closed(conn, pool_id, slot=world.chain.clock.slot + 5)
    row = _pool_row(pool_id)
    assert (row.status, row.rent_claimed, row.next_check_at) == ("closed", True, None)


def _paid_out_world() -> tuple[PoolWorld, int, WinnerSelectedEvent]:
    world = PoolWorld(max_participants=2)
    world.create()
    pool_id = _register(world).pool_id
    _step(world, "join_pool", world.players[1], amount=ENTRY)
    world.chain.advance(seconds=600, slots=10)
    world.run("unlock_pool", signer=world.dev)
    _step(world, "request_randomness", world.dev)
    _step(world, "select_winner", world.dev)
    world.chain.advance(seconds=1, slots=1)
    world.payout()
    assert world.chain.last is not None
    events = [decode_event(raw) for raw in world.chain.last.events]
    event = next(e for e in events if isinstance(e, WinnerSelectedEvent))
    return world, pool_id, event


def test_a_paid_out_pool_keeps_its_seats_and_records_one_payout(app_database: TestDatabase) -> None:
    world, pool_id, event = _paid_out_world()
    result = _sync(world, pool_id)
    block_time = datetime.fromtimestamp(world.chain.clock.unix_timestamp, UTC)
    with transaction() as conn:
        recorded = record_payout(
            conn, pool_id, event, signature=SIG(4), slot=world.chain.clock.slot, block_time=block_time
        )
    with transaction() as conn:
        again = record_payout(
            conn, pool_id, event, signature=SIG(4), slot=world.chain.clock.slot, block_time=block_time
        )
        payout = conn.execute(select(pool_payouts)).one()
        totals = conn.execute(select(winner_totals)).one()

    row = _pool_row(pool_id)
    assert (result.status, row.status, row.total_amount, row.winner_wallet) == (
        "ended",
        "ended",
        0,
        str(event.winner),
    )
    assert row.end_time == block_time
    # Payout zeroed the on-chain count but kept the list: the record keeps who played.
    assert _seats(pool_id) == {str(world.players[0]): 0, str(world.players[1]): 1}
    assert row.participants_count == 2
    assert (recorded, again) == (True, False)
    pot = 2 * ENTRY
    assert (payout.total_amount, payout.mint, payout.winner) == (pot, str(world.mint), str(event.winner))
    assert (payout.dev_amount, payout.burn_amount, payout.treasury_amount) == (
        pot * 500 // 10_000,
        pot * 350 // 10_000,
        pot * 150 // 10_000,
    )
    assert (totals.wallet, totals.wins, totals.total_won, totals.biggest_win) == (
        str(event.winner),
        1,
        event.winner_amount,
        event.winner_amount,
    )
