"""Find a pool's payout transaction on chain and read what it paid, from its token balance changes.

The amounts recorded are what the finalized transaction moved, not a recomputation (docs/original-backend.md
W9, W14): the winner's, the DEV wallet's and the treasury's token accounts' changes, and the burn as what
left the vault without arriving anywhere. The program's `WinnerSelectedEvent` in the same transaction is the
first cross-check (and the only way to tell two shares apart when two roles share one token account, e.g. a
DEV wallet that also won); the program's split of the pot (`missout.pools.split`) is the second.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import TYPE_CHECKING

from solana.rpc.commitment import Finalized
from solders.pubkey import Pubkey
from solders.rpc.responses import GetSignaturesForAddressResp
from solders.signature import Signature

from missout.chain.accounts import PoolAccount
from missout.chain.events import WinnerSelectedEvent, events_from_logs
from missout.chain.program import shipped_codec
from missout.chain.rpc import RpcSession
from missout.pools.split import payout_split

if TYPE_CHECKING:
    from missout.chain.verify.fetch import FetchedTransaction
    from missout.chain.verify.transaction_view import TransactionView

PAYOUT_INSTRUCTION = "payout_winner"
# Where payout_winner names its token accounts (docs/program.md §3.13, IDL order).
_POOL, _VAULT, _WINNER_TOKEN, _DEV_TOKEN, _TREASURY_TOKEN = 1, 2, 3, 4, 5
_SIGNATURES_SEARCHED = 100


class PayoutUnreadable(RuntimeError):
    """The transaction found is not a clean payout of this pool, or its numbers do not add up."""


@dataclass(frozen=True, slots=True)
class PayoutFacts:
    signature: str
    slot: int
    block_time: datetime
    winner: Pubkey
    winner_amount: int
    dev_amount: int
    treasury_amount: int
    burn_amount: int
    total_amount: int

    def __post_init__(self) -> None:
        parts = self.winner_amount + self.dev_amount + self.treasury_amount + self.burn_amount
        if parts != self.total_amount or min(parts, self.total_amount) < 0:
            raise PayoutUnreadable(f"parts {parts} do not sum to the pot {self.total_amount}")


async def find_payout_signature(rpc: RpcSession, program_id: Pubkey, pool: Pubkey) -> Signature | None:
    """The pool's successful payout among its recent finalized transactions (newest first): the way to
    find a payout someone else made (anyone may pay after the 7-day timeout, docs/program.md §5.7)."""
    # The verifier package loads on the first payout read, not at the monitor's init (most ticks read none).
    from missout.chain.verify.fetch import fetch_transaction
    from missout.chain.verify.transaction_view import view_transaction

    response = await rpc.read(
        "getSignaturesForAddress",
        lambda c: c.get_signatures_for_address(pool, limit=_SIGNATURES_SEARCHED, commitment=Finalized),
        GetSignaturesForAddressResp,
    )
    for entry in response.value:
        if entry.err is not None:
            continue
        fetched = await fetch_transaction(rpc, entry.signature)
        if _payout_instruction(view_transaction(fetched), program_id, pool) is not None:
            return entry.signature
    return None


async def read_payout(
    rpc: RpcSession, program_id: Pubkey, pool: PoolAccount, address: Pubkey, signature: Signature
) -> PayoutFacts:
    from missout.chain.verify.fetch import fetch_transaction  # see find_payout_signature

    fetched = await fetch_transaction(rpc, signature)
    facts = payout_facts(fetched, program_id, address)
    cross_check(facts, pool)
    return facts


def cross_check(facts: PayoutFacts, pool: PoolAccount) -> None:
    """The program's split of the pot that left the vault (`missout.pools.split`) must be what moved: a
    disagreement means we misread the transaction, and nothing is recorded."""
    try:
        expected = payout_split(
            facts.total_amount,
            dev_bps=pool.dev_fee_bps,
            burn_bps=pool.burn_fee_bps,
            treasury_bps=pool.treasury_fee_bps,
        )
    except ValueError as exc:
        raise PayoutUnreadable(f"the pool's fees cannot split {facts.total_amount}: {exc}") from exc
    moved = (facts.winner_amount, facts.dev_amount, facts.burn_amount, facts.treasury_amount)
    if moved != (expected.winner, expected.dev, expected.burn, expected.treasury):
        raise PayoutUnreadable(f"moved {moved}, the program's split is {expected}")


def payout_facts(fetched: FetchedTransaction, program_id: Pubkey, pool: Pubkey) -> PayoutFacts:
    from missout.chain.verify.transaction_view import view_transaction  # see find_payout_signature

    if fetched.meta.err is not None:
        raise PayoutUnreadable(f"{fetched.signature} failed on chain")
    view = view_transaction(fetched)
    accounts = _payout_instruction(view, program_id, pool)
    if accounts is None:
        raise PayoutUnreadable(f"{fetched.signature} holds no payout_winner for {pool}")
    events = [
        e
        for e in events_from_logs(fetched.meta.log_messages or [], program_id)
        if isinstance(e, WinnerSelectedEvent) and e.pool == pool
    ]
    if len(events) != 1:
        raise PayoutUnreadable(f"{fetched.signature}: {len(events)} WinnerSelectedEvent for {pool}")
    event = events[0]
    vault, winner_token, dev_token, treasury_token = (
        accounts[_VAULT],
        accounts[_WINNER_TOKEN],
        accounts[_DEV_TOKEN],
        accounts[_TREASURY_TOKEN],
    )
    paid_out = -_delta(view, vault)
    shares = {winner_token: 0, dev_token: 0, treasury_token: 0}
    for account, amount in (
        (winner_token, event.winner_amount),
        (dev_token, event.dev_amount),
        (treasury_token, event.treasury_amount),
    ):
        shares[account] += amount
    # The balance changes are the truth; the event must agree with them account by account.
    for account, expected in shares.items():
        moved = _delta(view, account)
        if moved != expected:
            raise PayoutUnreadable(f"{account} received {moved}, the event says {expected}")
    if len(shares) == 3:  # three distinct accounts: each share is its own account's change
        winner_amount = _delta(view, winner_token)
        dev_amount = _delta(view, dev_token)
        treasury_amount = _delta(view, treasury_token)
    else:
        winner_amount, dev_amount, treasury_amount = (
            event.winner_amount,
            event.dev_amount,
            event.treasury_amount,
        )
    burned = paid_out - winner_amount - dev_amount - treasury_amount
    if burned != event.burn_amount:
        raise PayoutUnreadable(f"the vault lost {burned} to the burn, the event says {event.burn_amount}")
    when = fetched.block_time
    return PayoutFacts(
        signature=str(fetched.signature),
        slot=fetched.slot,
        block_time=datetime.fromtimestamp(when, tz=UTC) if when is not None else datetime.now(UTC),
        winner=event.winner,
        winner_amount=winner_amount,
        dev_amount=dev_amount,
        treasury_amount=treasury_amount,
        burn_amount=burned,
        total_amount=paid_out,
    )


def _delta(view: TransactionView, account: Pubkey) -> int:
    before = view.pre_token_balances.get(account)
    after = view.post_token_balances.get(account)
    return (after.amount if after else 0) - (before.amount if before else 0)


def _payout_instruction(view: TransactionView, program_id: Pubkey, pool: Pubkey) -> Sequence[Pubkey] | None:
    discriminator = shipped_codec().idl.instruction(PAYOUT_INSTRUCTION).discriminator
    for instruction in view.instructions:
        if (
            instruction.program_id == program_id
            and instruction.data[:8] == discriminator
            and len(instruction.accounts) > _TREASURY_TOKEN
            and instruction.accounts[_POOL] == pool
        ):
            return instruction.accounts
    return None
