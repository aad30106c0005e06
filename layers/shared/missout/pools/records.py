"""Keep the database's record of a pool in line with the chain: register it, sync it, record its end.

The API (after verifying a report) and the monitor (on each tick) both read the chain first and then call
these with the decoded accounts, inside their own short transaction: every function takes a `Connection`
and never commits, and none of them does I/O other than SQL (no transaction stays open across an RPC call).

The chain is the truth: a sync overwrites the record's dynamic fields with the decoded state, but never with
state older than what the row already mirrors (`pools.synced_slot`), and never onto a row that is a
different pool (a closed pool's address can be re-created, docs/program.md §2.4).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING, Any

from solders.pubkey import Pubkey
from sqlalchemy import bindparam, func, select, text, update
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.engine import Connection

from missout.chain.accounts import ParticipantsAccount, PoolAccount, PoolStatus
from missout.chain.addresses import TOKEN_2022_PROGRAM_ID, TOKEN_PROGRAM_ID
from missout.db.tables import activity, mints, participants, pool_payouts, pools, winner_totals
from missout.db.written import answers_deferred, write_statement
from missout.pools.payability import unpayable_reason
from missout.pools.status import CLOSED, db_status

if TYPE_CHECKING:  # only the payout's callers build events (the monitor loads the event codecs on first use)
    from missout.chain.events import WinnerSelectedEvent

_ZERO_KEY = Pubkey.default()
_TOKEN_PROGRAMS = {TOKEN_PROGRAM_ID: "spl-token", TOKEN_2022_PROGRAM_ID: "token-2022"}


class PoolNotRegistered(LookupError):
    """No pool row has this id."""


class NotThisPool(ValueError):
    """The decoded account is another pool than the row (re-created at a closed pool's address)."""


@dataclass(frozen=True)
class ChainPool:
    """One read of a pool from the chain, all at one slot."""

    pool: PoolAccount
    participants: ParticipantsAccount
    vault_balance: int  # the vault's token amount; 0 when the account does not exist
    slot: int  # the context slot the accounts were read at


@dataclass(frozen=True)
class MintInfo:
    address: Pubkey
    decimals: int  # from the mint account
    token_program: Pubkey  # the mint account's owner


@dataclass(frozen=True)
class CreateTransaction:
    """The finalized `create_pool` transaction: the pool's identity."""

    signature: str
    slot: int
    block_time: datetime


@dataclass(frozen=True)
class SyncResult:
    pool_id: int
    applied: bool  # False: the row already mirrored a newer slot, nothing was written
    status: str
    unpayable_reason: str | None


@dataclass(frozen=True)
class Registration:
    pool_id: int
    created: bool  # False: this create transaction was registered before
    sync: SyncResult


def register_pool_from_chain(
    conn: Connection, *, address: Pubkey, state: ChainPool, mint: MintInfo, create: CreateTransaction
) -> Registration:
    """Record a pool created on chain (its mint too), then bring it in line with `state`.

    Idempotent on `create.signature`: a second call (a client's report after the monitor found the pool, or
    a retried report) registers nothing new and only syncs. A live row at the same address with another
    create signature is an earlier pool whose accounts `claim_rent` closed (the only way the address can be
    free again, docs/program.md §2.4, §5.4): it is marked closed first."""
    pool = state.pool
    if pool.mint != mint.address:
        raise NotThisPool(f"pool's mint {pool.mint} is not {mint.address}")
    _ensure_mint(conn, mint)
    pool_id = _pool_id_by_create_signature(conn, create.signature)
    created = pool_id is None
    if pool_id is None:
        _close_earlier_pool_at(conn, str(address), create.signature)
        pool_id = _insert_pool(conn, address=address, pool=pool, create=create)
    if pool_id is None:  # a concurrent registration of the same transaction won the insert
        pool_id = _pool_id_by_create_signature(conn, create.signature)
        created = False
    assert pool_id is not None
    sync = sync_pool_from_chain(conn, pool_id, state)
    _record_creator_entry(conn, pool_id, pool, create)
    return Registration(pool_id=pool_id, created=created, sync=sync)


def lock_pool_first(conn: Connection, pool_id: int) -> None:
    """Take the pool row's lock (the one `sync_pool_from_chain` takes) before anything else in the
    transaction, so every writer of a pool locks in one order: the row first, then the rows that reference it.
    A report that wrote its replay guard first and then waited here deadlocked with one that held the row and
    waited on that guard (a second report of the same signature). Written, not waited for: it travels with
    the transaction's next statement and is answered before it (written.py)."""
    write_statement(conn, f"SELECT id FROM pools WHERE id = {int(pool_id)} FOR NO KEY UPDATE")  # noqa: S608


# A sync runs on every recorded report and every monitor tick that acts: its statements are built once, so
# SQLAlchemy keeps their cache keys instead of rebuilding and walking them per call (docs/PERFORMANCE.md).
_SYNC_READ = (
    select(
        pools.c.mint,
        pools.c.creator_wallet,
        pools.c.entry_amount,
        pools.c.start_time,
        pools.c.synced_slot,
        pools.c.status,
        pools.c.unpayable_reason,
    )
    .where(pools.c.id == bindparam("row_id"))
    # FOR NO KEY UPDATE, not FOR UPDATE: the sync never changes the row's key, and this strength does not
    # conflict with the FOR KEY SHARE lock that every insert referencing the pool takes (used_signatures,
    # activity, participants). With FOR UPDATE, two reports of one pool that had each inserted such a row
    # waited for each other here: PostgreSQL found the deadlock and failed one of them (a 500).
    .with_for_update(key_share=True)
)
# The columns to set come as parameters named after them (`_dynamic_fields` and the sync's own).
_SYNC_WRITE = update(pools).where(pools.c.id == bindparam("row_id")).values(updated_at=func.now())


def sync_pool_from_chain(conn: Connection, pool_id: int, state: ChainPool) -> SyncResult:
    """Write the decoded state onto the pool's row and its seats, unless the row mirrors a newer slot.

    The row is locked for the rest of the caller's transaction, so two syncs of one pool apply in turn and
    the older read is the one dropped. The seats and the row are written without waiting for their answers
    (written.py): the caller's next statement, or its COMMIT, carries them."""
    row = conn.execute(_SYNC_READ, {"row_id": pool_id}).first()
    if row is None:
        raise PoolNotRegistered(f"no pool with id {pool_id}")
    pool = state.pool
    if (row.mint, row.creator_wallet, row.entry_amount, row.start_time) != (
        str(pool.mint),
        str(pool.creator),
        pool.amount,
        pool.start_at,
    ):
        raise NotThisPool(f"pool {pool_id} is not the pool decoded from the chain")
    if state.slot < row.synced_slot:
        return SyncResult(pool_id, applied=False, status=row.status, unpayable_reason=row.unpayable_reason)

    reason = unpayable_reason(pool, vault_balance=state.vault_balance, slot=state.slot)
    values = _dynamic_fields(pool) | {
        "unpayable_reason": None if reason is None else reason.value,
        "synced_slot": state.slot,
    }
    listed = _listed_wallets(pool, state.participants)
    # Writes only, nothing read back: they go out with the caller's next statement or its COMMIT (written.py).
    with answers_deferred(conn):
        if listed is not None:
            _seat_participants(conn, pool_id, listed)
            values["participants_count"] = len(listed)
        conn.execute(_SYNC_WRITE, values | {"row_id": pool_id})
    return SyncResult(
        pool_id, applied=True, status=values["status"], unpayable_reason=values["unpayable_reason"]
    )


def record_pool_account_closed(conn: Connection, pool_id: int, *, slot: int) -> bool:
    """The pool account is gone from the chain: only `claim_rent` closes it (docs/program.md §3.9, §5.4), so
    the pool is closed and its rent claimed. Returns False when the row mirrors a newer slot already."""
    result = conn.execute(
        update(pools)
        .where(pools.c.id == pool_id, pools.c.synced_slot <= slot)
        .values(
            status=CLOSED,
            status_reason=0,
            rent_claimed=True,
            next_check_at=None,
            unpayable_reason=None,
            synced_slot=slot,
            updated_at=func.now(),
        )
    )
    return result.rowcount == 1


def record_payout(
    conn: Connection,
    pool_id: int,
    event: WinnerSelectedEvent,
    *,
    signature: str,
    slot: int,
    block_time: datetime,
) -> bool:
    """Record a pool's payout from its `WinnerSelectedEvent` (docs/program.md §3.13) and add it to the
    winner's totals, in the caller's transaction. Returns False (and adds nothing) when the pool's payout
    was recorded before: the primary key makes a second recording a no-op, so totals count each payout once.

    `referral_amount` stays 0: the program pays no referrals; our referral share is allocated off chain
    from the treasury's part."""
    parts = {
        "winner_amount": event.winner_amount,
        "dev_amount": event.dev_amount,
        "burn_amount": event.burn_amount,
        "treasury_amount": event.treasury_amount,
    }
    mint = conn.execute(select(pools.c.mint).where(pools.c.id == pool_id)).scalar_one_or_none()
    if mint is None:
        raise PoolNotRegistered(f"no pool with id {pool_id}")
    inserted = conn.execute(
        insert(pool_payouts)
        .values(
            pool_id=pool_id,
            mint=mint,
            signature=signature,
            winner=str(event.winner),
            total_amount=sum(parts.values()),
            slot=slot,
            block_time=block_time,
            **parts,
        )
        .on_conflict_do_nothing(index_elements=["pool_id"])
        .returning(pool_payouts.c.pool_id)
    ).first()
    if inserted is None:
        return False
    totals = insert(winner_totals).values(
        wallet=str(event.winner),
        mint=mint,
        wins=1,
        total_won=event.winner_amount,
        biggest_win=event.winner_amount,
        last_win_at=block_time,
    )
    conn.execute(
        totals.on_conflict_do_update(
            index_elements=["wallet", "mint"],
            set_={
                "wins": winner_totals.c.wins + 1,
                "total_won": winner_totals.c.total_won + totals.excluded.total_won,
                "biggest_win": func.greatest(winner_totals.c.biggest_win, totals.excluded.biggest_win),
                "last_win_at": func.greatest(winner_totals.c.last_win_at, totals.excluded.last_win_at),
            },
        )
    )
    return True


def _dynamic_fields(pool: PoolAccount) -> dict[str, Any]:
    """The row's columns that follow the chain after creation, from the decoded account."""
    return {
        "status": db_status(pool.status),
        "status_reason": pool.status_reason,
        "paused": pool.paused,
        "total_amount": pool.total_amount,
        # Cumulative entries + donations minus the entries (one per join, the creator's included).
        "donated_amount": pool.total_volume - pool.amount * pool.total_joins,
        "lock_duration_seconds": pool.lock_duration,  # `set_lock_duration` may change it while Open
        "expire_time": pool.expire_at,
        "lock_start_time": pool.lock_start_at,
        "unlock_time": pool.unlock_at,
        "end_time": pool.end_at,
        "close_time": pool.close_at,
        "winner_wallet": _key_or_none(pool.winner),
        "randomness_account": _key_or_none(pool.randomness_account),
        "randomness_commit_slot": pool.randomness_commit_slot or None,
    }


def _key_or_none(key: Pubkey) -> str | None:
    return None if key == _ZERO_KEY else str(key)


# Each wallet's seat is its index in the on-chain list; a wallet no longer listed (refunded) loses its seat.
# One statement rewrites every seat of the pool: UNIQUE(pool_id, seat) is DEFERRABLE, so it is checked once
# the whole permutation is done, not row by row. The wallets travel as one comma-separated text (base58 has
# no comma): a list parameter would be escaped character by character in Python by the driver.
_RESEAT = text(
    """
    UPDATE participants
    SET seat = array_position(string_to_array(:wallets, ','), wallet) - 1
    WHERE pool_id = :pool_id
      AND seat IS DISTINCT FROM array_position(string_to_array(:wallets, ','), wallet) - 1
    """
)
# Seats found on chain before anyone reported them: their rows first, their seats in the next statement.
_SEAT_ROWS = text(
    """
    INSERT INTO participants (pool_id, wallet)
    SELECT :pool_id, unnest(string_to_array(:wallets, ','))
    ON CONFLICT (pool_id, wallet) DO NOTHING
    """
)


def _listed_wallets(pool: PoolAccount, listed: ParticipantsAccount) -> list[str] | None:
    """The wallets seated on chain, in order; None when the chain no longer says (the record keeps its own).

    Payout zeroes `count` but keeps the list, and an Ended pool never had a refund, so its seats are the
    first `total_joins` entries; a Closed pool's list is wiped or gone (docs/program.md §2.2, §3.17)."""
    if pool.status is PoolStatus.CLOSED:
        return None
    seated = (
        listed.slots[: min(pool.total_joins, len(listed.slots))]
        if pool.status is PoolStatus.ENDED
        else listed.wallets
    )
    return [str(wallet) for wallet in seated]


def _seat_participants(conn: Connection, pool_id: int, wallets: list[str]) -> None:
    listed = {"pool_id": pool_id, "wallets": ",".join(wallets)}
    if wallets:
        conn.execute(_SEAT_ROWS, listed)
    conn.execute(_RESEAT, listed)


def _ensure_mint(conn: Connection, mint: MintInfo) -> None:
    program = _TOKEN_PROGRAMS.get(mint.token_program)
    if program is None:
        raise ValueError(f"mint {mint.address} is owned by {mint.token_program}, not a token program")
    # Symbol and name are metadata the API fills in; decimals and program never change for a mint.
    conn.execute(
        insert(mints)
        .values(address=str(mint.address), token_program=program, decimals=mint.decimals)
        .on_conflict_do_nothing(index_elements=["address"])
    )


def _pool_id_by_create_signature(conn: Connection, signature: str) -> int | None:
    return conn.execute(select(pools.c.id).where(pools.c.create_signature == signature)).scalar_one_or_none()


def _close_earlier_pool_at(conn: Connection, address: str, create_signature: str) -> None:
    conn.execute(
        update(pools)
        .where(
            pools.c.pool_address == address,
            pools.c.status != CLOSED,
            pools.c.create_signature != create_signature,
        )
        .values(status=CLOSED, status_reason=0, rent_claimed=True, next_check_at=None, updated_at=func.now())
    )


def _insert_pool(
    conn: Connection, *, address: Pubkey, pool: PoolAccount, create: CreateTransaction
) -> int | None:
    """The fields fixed at creation; everything that follows the chain is written by the sync right after.
    `created_at` is the create transaction's block time, so a pool found late still lists in chain order."""
    return conn.execute(
        insert(pools)
        .values(
            pool_address=str(address),
            mint=str(pool.mint),
            creator_wallet=str(pool.creator),
            entry_amount=pool.amount,
            max_participants=pool.max_participants,
            lock_duration_seconds=pool.lock_duration,
            status=db_status(pool.status),
            start_time=pool.start_at,
            dev_fee_bps=pool.dev_fee_bps,
            burn_fee_bps=pool.burn_fee_bps,
            treasury_fee_bps=pool.treasury_fee_bps,
            allow_mock=pool.allow_mock,
            create_signature=create.signature,
            created_at=create.block_time,
        )
        .on_conflict_do_nothing(index_elements=["create_signature"])
        .returning(pools.c.id)
    ).scalar_one_or_none()


def _record_creator_entry(
    conn: Connection, pool_id: int, pool: PoolAccount, create: CreateTransaction
) -> None:
    """The creator's seat and entry come from the create transaction itself (docs/program.md §3.1)."""
    creator = str(pool.creator)
    conn.execute(
        update(participants)
        .where(participants.c.pool_id == pool_id, participants.c.wallet == creator)
        .where(participants.c.join_signature.is_(None))
        .values(join_signature=create.signature, joined_at=create.block_time)
    )
    conn.execute(
        insert(activity)
        .values(
            pool_id=pool_id,
            wallet=creator,
            kind="create_pool",
            amount=pool.amount,
            signature=create.signature,
            slot=create.slot,
            block_time=create.block_time,
        )
        .on_conflict_do_nothing(index_elements=["signature", "pool_id", "kind", "wallet"])
    )
