"""A client reports an on-chain action; we prove it on chain and record it once (docs/architecture.md).

    report ─► signature seen before? ─► same action, pool, wallet: the same record again (idempotent retry)
       │                             └► anything else: prove it anyway (one transaction may hold two actions),
       │                                 and if it does not hold this one, the signature is taken (409)
       ├─► the pool: recorded and live? else a join registers it from the chain, anything else is unknown
       ├─► RPC: verify the transaction (finalized, our program, this pool, this wallet, this amount),
       │        then read the pool's accounts at or after the transaction's slot
       └─► one database transaction: replay guard + activity + pool and participants from the chain state

Nothing from the request body is recorded: the body only names what to prove. All RPC happens before the
database transaction opens (see `missout.wiring`).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta
from typing import Any, TypeAlias

from solana.rpc.commitment import Finalized
from solders.pubkey import Pubkey
from solders.rpc.responses import GetSignaturesForAddressResp
from sqlalchemy.engine import Connection

from missout.blocking import run_blocking
from missout.chain.pool_keys import PoolKeys
from missout.chain.rpc import RpcSession
from missout.chain.verify import (
    AgeWindow,
    RejectReason,
    VerificationFailed,
    Verified,
    check_pool_config,
    parse_signature,
    verify_cancel_pool,
    verify_claim_refund,
    verify_claim_rent,
    verify_create_pool,
    verify_donate,
    verify_join_pool,
)
from missout.db.transaction import ConstraintViolation, transaction
from missout.pools import records, reports
from missout.pools.actions import Report as Report
from missout.pools.chain_state import ChainBehind, NotAPool, PoolChainState, PoolTokenKeys, read_pool_state
from missout.pools.reports import Action, ActionRecord, LivePool
from missout.pools.transient import once_more_if_unavailable
from missout.wiring import ChainWiring

# Registering a pool found on chain proves its create transaction whatever its age: the pool exists, only the
# create's signature and slot are wanted from it.
_ANY_AGE = AgeWindow(max_age=timedelta(days=36_500))
_REGISTRATION_RACE = frozenset({"uq_pools_pool_address_live", "uq_pools_create_signature"})
_CREATE_SEARCH_LIMIT = 1_000  # a pool sees at most ~20 joins, its donations and a dozen cranks


@dataclass(frozen=True, slots=True)
class Recorded:
    record: ActionRecord
    created: bool  # False: the same report was recorded before (or by a concurrent request)


@dataclass(frozen=True, slots=True)
class SignatureTaken:
    first_use: ActionRecord
    reason: VerificationFailed | None  # why the transaction does not prove this report either


@dataclass(frozen=True, slots=True)
class Rejected:
    reason: str  # a `RejectReason`, `ConfigRejectReason` or payability value
    detail: str


@dataclass(frozen=True, slots=True)
class Pending:
    detail: str


@dataclass(frozen=True, slots=True)
class PoolUnknown:
    detail: str


Outcome: TypeAlias = Recorded | SignatureTaken | Rejected | Pending | PoolUnknown


@dataclass(frozen=True, slots=True)
class Known:
    """What the database already holds about a report, read before any RPC."""

    uses: list[ActionRecord]  # every action recorded under the report's signature
    live: LivePool | None  # the live pool at the report's address


async def report_action(report: Report, wiring: ChainWiring, known: Known) -> Outcome:
    """Prove and record one report. Raises `RpcError` / `DatabaseUnavailable` for the caller's 503."""
    try:
        parse_signature(report.signature)
    except VerificationFailed as exc:
        return Rejected(exc.reason.value, exc.detail)
    try:
        Pubkey.from_string(report.pool)
    except ValueError:
        return PoolUnknown(f"{report.pool} is not a public key: no pool can be there")
    try:
        Pubkey.from_string(report.wallet)
    except ValueError:
        return Rejected("malformed_wallet", f"{report.wallet} is not a public key")
    uses, live = known.uses, known.live
    for use in uses:
        if use.action is report.action and use.pool_address == report.pool:
            return Recorded(use, created=False) if use.wallet == report.wallet else SignatureTaken(use, None)
    if live is None and report.action not in (Action.CREATE, Action.JOIN):
        return PoolUnknown(f"no pool is recorded at {report.pool}")
    if live is not None and report.action is Action.CREATE:
        # The address is taken by a live pool registered from another transaction.
        return Rejected("pool_already_registered", f"{report.pool} is already registered (pool {live.id})")
    async with wiring.rpc.session() as rpc:
        try:
            proven = await _prove(rpc, wiring, report, live)
        except VerificationFailed as exc:
            if exc.retryable:
                return Pending(exc.detail)
            if uses:
                return SignatureTaken(uses[0], exc)
            return Rejected(exc.reason.value, exc.detail)
        except ChainBehind as exc:
            return Pending(str(exc))
        except NotAPool as exc:
            return PoolUnknown(str(exc))
    if isinstance(proven, Rejected):
        return proven
    # The database work runs in a worker thread: the event loop keeps serving while it waits.
    return await run_blocking(_write, report, proven)


@dataclass(frozen=True, slots=True)
class _Proven:
    verified: Verified[Any]
    state: PoolChainState | None  # None after claim_rent: the accounts are closed
    registration: Verified[Any] | None  # the pool's create, when a join registers the pool
    live: LivePool | None


@dataclass(frozen=True, slots=True)
class _Terms:
    """What the verifiers need to know of the pool beforehand: its keys, entry amount and creator."""

    keys: PoolKeys
    entry: int
    creator: Pubkey


async def _prove(
    rpc: RpcSession, wiring: ChainWiring, report: Report, live: LivePool | None
) -> _Proven | Rejected:
    program = wiring.program
    pool_key, wallet = Pubkey.from_string(report.pool), Pubkey.from_string(report.wallet)
    registration = None
    if report.action is Action.CREATE:
        verified: Verified[Any] = await verify_create_pool(
            report.signature,
            pool=pool_key,
            wallet=wallet,
            amount=None,
            config=program,
            fetcher=rpc,
            window=wiring.window,
        )
    else:
        if live is not None:
            terms = _Terms(live.keys, live.entry_amount, Pubkey.from_string(live.creator))
        else:  # a join for a pool we have not recorded: register it from the chain first
            found = await read_pool_state(rpc, program.program_id, pool_key)
            registration = await _find_create(rpc, wiring, found)
            terms = _Terms(PoolKeys.of(pool_key, found.pool), found.pool.amount, found.pool.creator)
        verified = await _verify_action(rpc, wiring, report, terms, wallet)
    if report.action is Action.CLAIM_RENT:
        return _Proven(verified, None, registration, live)
    state = await read_pool_state(
        rpc,
        program.program_id,
        pool_key,
        min_slot=verified.slot,
        expected=PoolTokenKeys(verified.mint, verified.vault),  # one read, not two (chain_state.py)
    )
    if live is not None and (str(state.pool.creator), state.pool.start_at) != (live.creator, live.start_time):
        # The record's pool was closed by claim_rent and the address re-used (docs/program.md §2.4) before
        # the monitor noticed: this report is about the new pool, which is registered like an unknown one.
        return await _prove(rpc, wiring, report, None)
    if live is None:
        violations = check_pool_config(state.pool, program, wiring.policy)
        if violations:
            first = violations[0]
            return Rejected(first.reason.value, "; ".join(v.detail for v in violations))
    return _Proven(verified, state, registration, live)


async def _verify_action(
    rpc: RpcSession, wiring: ChainWiring, report: Report, terms: _Terms, wallet: Pubkey
) -> Verified[Any]:
    config, window, signature, pool = wiring.program, wiring.window, report.signature, terms.keys
    match report.action:
        case Action.JOIN:
            amount = report.amount if report.amount is not None else terms.entry
            return await verify_join_pool(
                signature, pool=pool, wallet=wallet, amount=amount, config=config, fetcher=rpc, window=window
            )
        case Action.DONATE:
            assert report.amount is not None  # the route requires it
            return await verify_donate(
                signature,
                pool=pool,
                wallet=wallet,
                amount=report.amount,
                config=config,
                fetcher=rpc,
                window=window,
            )
        case Action.CANCEL:
            return await verify_cancel_pool(
                signature, pool=pool, wallet=wallet, config=config, fetcher=rpc, window=window
            )
        case Action.CLAIM_REFUND:
            refund = await verify_claim_refund(
                signature,
                pool=pool,
                wallet=wallet,
                entry=terms.entry,
                creator=terms.creator,
                config=config,
                fetcher=rpc,
                window=window,
            )
            if report.amount is not None and report.amount != refund.amount:
                raise VerificationFailed(
                    RejectReason.AMOUNT_MISMATCH,
                    f"the refund paid {refund.amount}, the report says {report.amount}",
                )
            return refund
        case Action.CLAIM_RENT:
            return await verify_claim_rent(
                signature, pool=pool, wallet=wallet, config=config, fetcher=rpc, window=window
            )
    raise AssertionError(f"unexpected action {report.action}")


async def _find_create(rpc: RpcSession, wiring: ChainWiring, state: PoolChainState) -> Verified[Any]:
    """The create transaction of the pool now at `state.address`: among the address's finalized signatures,
    the successful one that landed at the pool's `start_time` (an address re-used after `claim_rent` also
    lists the earlier pool's transactions), proven as a create by that pool's creator."""
    response = await rpc.read(
        "getSignaturesForAddress",
        lambda c: c.get_signatures_for_address(
            state.address, limit=_CREATE_SEARCH_LIMIT, commitment=Finalized
        ),
        GetSignaturesForAddressResp,
    )
    candidates = [s for s in response.value if s.err is None and s.block_time == state.pool.start_time]
    last_error: VerificationFailed | None = None
    for candidate in reversed(candidates):  # oldest first
        try:
            return await verify_create_pool(
                str(candidate.signature),
                pool=state.address,
                wallet=state.pool.creator,
                amount=state.pool.amount,
                config=wiring.program,
                fetcher=rpc,
                window=_ANY_AGE,
            )
        except VerificationFailed as exc:
            last_error = exc
    raise NotAPool(
        f"{state.address}: no create transaction found on chain"
        + (f" ({last_error.reason.value})" if last_error else "")
    )


def _write(report: Report, proven: _Proven) -> Outcome:
    """Two reports registering the same pool at once: the loser's insert trips the live-address key (checked
    before the create-signature arbiter); once the winner has committed, a second attempt finds its row."""

    def attempt() -> Outcome:
        with transaction() as conn:
            return _record(conn, report, proven)

    try:
        return once_more_if_unavailable(attempt)
    except ConstraintViolation as exc:
        if proven.live is not None or exc.constraint not in _REGISTRATION_RACE:
            raise
    return once_more_if_unavailable(attempt)


def _record(conn: Connection, report: Report, proven: _Proven) -> Outcome:
    """Replay guard first: of two concurrent reports of one action, the second waits on the first's row and
    then writes nothing. Then the pool and its seats from the chain state read after the transaction."""
    verified, state = proven.verified, proven.state
    if proven.live is not None:
        pool_id = proven.live.id
        records.lock_pool_first(conn, pool_id)  # as registration does: the pool row, then what references it
    else:
        assert state is not None
        create = proven.registration or verified
        registration = records.register_pool_from_chain(
            conn,
            address=state.address,
            state=_chain_pool(state),
            mint=records.MintInfo(state.mint.address, state.mint.decimals, state.mint.token_program),
            create=records.CreateTransaction(str(create.signature), create.slot, create.block_time),
        )
        pool_id = registration.pool_id
        reports.set_mint_names(conn, str(state.mint.address), state.mint.name, state.mint.symbol)
        if proven.registration is not None:  # the create is recorded too, as if its creator had reported it
            _claim(conn, Action.CREATE, create, pool_id, str(state.pool.creator), create.amount)
    created = _claim(conn, report.action, verified, pool_id, report.wallet, verified.amount)
    if created:
        if state is not None:
            records.sync_pool_from_chain(conn, pool_id, _chain_pool(state))
        else:
            records.record_pool_account_closed(conn, pool_id, slot=verified.slot)
        if report.action is Action.JOIN:
            reports.mark_joined(conn, pool_id, report.wallet, report.signature, verified.block_time)
        elif report.action is Action.CLAIM_REFUND:
            reports.mark_refunded(conn, pool_id, report.wallet, report.signature)
    for use in reports.find_uses(conn, report.signature):
        if use.action is report.action and use.pool_id == pool_id:
            if use.wallet != report.wallet:
                return SignatureTaken(use, None)
            return Recorded(use, created=created)
    raise RuntimeError(f"{report.signature} was recorded but cannot be read back")


def _chain_pool(state: PoolChainState) -> records.ChainPool:
    return records.ChainPool(
        pool=state.pool,
        participants=state.participants,
        vault_balance=state.vault_balance or 0,
        slot=state.slot,
    )


def _claim(
    conn: Connection, action: Action, verified: Verified[Any], pool_id: int, wallet: str, amount: int
) -> bool:
    return reports.claim_signature(
        conn,
        signature=str(verified.signature),
        action=action,
        pool_id=pool_id,
        wallet=wallet,
        amount=amount,
        slot=verified.slot,
        block_time=verified.block_time,
    )
