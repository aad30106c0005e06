"""One verifier per action a client reports. Each proves, from the finalized transaction alone, that the
claimed wallet performed the claimed action on the claimed pool for the claimed amount (docs/solana.md §2.2,
docs/original-backend.md W2/W7/W8), and returns what was proven; or raises `VerificationFailed`.

Order (cheapest and least forgeable first): signature format → fetch → success → age → movement
metadata → keys → the one instruction of our program → pool, mint and vault → wallet signed → amounts,
from the token transfers that ran and the balance deltas.

A pool already registered is passed as the `PoolKeys` the record holds (address, mint, token program,
hence the vault); the instruction must name exactly those. Only `verify_create_pool` reads the keys from
the instruction, since nothing is registered yet.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Generic, TypeVar

from solders.pubkey import Pubkey

from missout.chain.config import ProgramConfig
from missout.chain.instruction_decoding import (
    CancelPoolInstruction,
    ClaimRefundInstruction,
    ClaimRentInstruction,
    CreatePoolInstruction,
    DonateInstruction,
    JoinPoolInstruction,
    decode_user_instruction,
)
from missout.chain.pda import find_pool_address
from missout.chain.pool_keys import PoolKeys
from missout.chain.program import DISCRIMINATOR_SIZE, InstructionDecodeError, ProgramCodec, shipped_codec
from missout.chain.verify.checks import (
    require_canonical_vault,
    require_delta,
    require_movement_metadata,
    require_pool,
    require_registered_pool,
    require_signing_wallet,
    require_success,
    token_delta,
)
from missout.chain.verify.fetch import (
    FetchedTransaction,
    TransactionFetcher,
    fetch_transaction,
    parse_signature,
)
from missout.chain.verify.matching import decode_as, find_single_instruction
from missout.chain.verify.node_answer import node_answer_panics_refused
from missout.chain.verify.reasons import RejectReason, VerificationFailed
from missout.chain.verify.results import (
    InstructionT,
    Verified,
    VerifiedCancelPool,
    VerifiedClaimRefund,
    VerifiedClaimRent,
    VerifiedCreatePool,
    VerifiedDonate,
    VerifiedJoinPool,
)
from missout.chain.verify.transaction_view import InvokedInstruction, TransactionView, view_transaction
from missout.chain.verify.transfers import require_transfer, transfers_between
from missout.chain.verify.window import DEFAULT_WINDOW, AgeWindow, Clock, require_within_window, utc_now


@dataclass(frozen=True, slots=True)
class _Located(Generic[InstructionT]):
    fetched: FetchedTransaction
    view: TransactionView
    block_time: datetime
    instruction: InstructionT
    invoked: InvokedInstruction
    codec: ProgramCodec

    def result(self, *, mint: Pubkey, vault: Pubkey, amount: int, vault_delta: int) -> Verified[InstructionT]:
        return Verified(
            signature=self.fetched.signature,
            slot=self.fetched.slot,
            block_time=self.block_time,
            instruction=self.instruction,
            mint=mint,
            vault=vault,
            amount=amount,
            vault_delta=vault_delta,
        )


async def _locate(
    signature: str,
    name: str,
    expected: type[InstructionT],
    *,
    config: ProgramConfig,
    fetcher: TransactionFetcher,
    clock: Clock,
    window: AgeWindow,
    codec: ProgramCodec | None,
) -> _Located[InstructionT]:
    """The steps every action shares, up to the decoded instruction."""
    program = codec or shipped_codec()
    parsed = parse_signature(signature)
    with node_answer_panics_refused("the node's answer"):
        fetched = await fetch_transaction(fetcher, parsed)
        require_success(fetched)
        block_time = require_within_window(fetched.block_time, clock(), window)
        view = view_transaction(fetched)
    require_movement_metadata(view)
    invoked = find_single_instruction(view, config.program_id, name, program)
    instruction = decode_as(invoked, config.program_id, expected, program)
    return _Located(fetched, view, block_time, instruction, invoked, program)


def _require_claimed_amount(instruction_amount: int, claimed: int) -> None:
    if instruction_amount != claimed:
        raise VerificationFailed(
            RejectReason.AMOUNT_MISMATCH,
            f"the instruction moves {instruction_amount}, the claim says {claimed}",
        )


def _prove_deposit(
    located: _Located[CreatePoolInstruction] | _Located[JoinPoolInstruction] | _Located[DonateInstruction],
    *,
    program_id: Pubkey,
    pool: Pubkey,
    mint: Pubkey,
    vault: Pubkey,
    user_token: Pubkey,
    token_program: Pubkey,
    wallet: Pubkey,
    amount: int,
) -> int:
    """The wallet's token account paid `amount` into the vault (the transfer ran), and the vault moved by
    exactly what our program's deposits into it say: this one, plus any other join or donate into the
    same pool in the transaction (each a real action, reported on its own). A transfer into the vault
    from anywhere else is refused: it would break the program's vault-equals-total rule (docs/program.md
    §5.2) anyway. Returns the vault delta."""
    view = located.view
    token_delta(view, user_token, mint=mint, owner=wallet, role="user token account")  # mint and owner
    require_transfer(
        view,
        token_program,
        source=user_token,
        destination=vault,
        authority=wallet,
        amount=amount,
        role="deposit",
    )
    vault_delta = token_delta(view, vault, mint=mint, owner=pool, role="vault")
    require_delta(vault_delta, _deposits_into(vault, located, program_id), "vault")
    return vault_delta


def _deposits_into(
    vault: Pubkey,
    located: _Located[CreatePoolInstruction] | _Located[JoinPoolInstruction] | _Located[DonateInstruction],
    program_id: Pubkey,
) -> int:
    """What our program's create/join/donate instructions in this transaction paid into `vault`."""
    names = ("create_pool", "join_pool", "donate")
    discriminators = {located.codec.idl.instruction(name).discriminator for name in names}
    total = 0
    for invoked in located.view.instructions:
        if invoked.program_id != program_id or invoked.data[:DISCRIMINATOR_SIZE] not in discriminators:
            continue
        try:
            decoded = decode_user_instruction(
                invoked.program_id,
                invoked.accounts,
                invoked.data,
                expected_program_id=program_id,
                codec=located.codec,
            )
        except InstructionDecodeError as exc:
            raise VerificationFailed(
                RejectReason.MALFORMED_INSTRUCTION, f"{invoked.location}: {exc}"
            ) from None
        if isinstance(decoded, CreatePoolInstruction) and decoded.pool_token == vault:
            total += decoded.args.amount
        elif isinstance(decoded, JoinPoolInstruction | DonateInstruction) and decoded.pool_token == vault:
            total += decoded.amount
    return total


async def verify_create_pool(
    signature: str,
    *,
    pool: Pubkey,
    wallet: Pubkey,
    amount: int | None,
    config: ProgramConfig,
    fetcher: TransactionFetcher,
    clock: Clock = utc_now,
    window: AgeWindow = DEFAULT_WINDOW,
    codec: ProgramCodec | None = None,
) -> VerifiedCreatePool:
    """`amount` = the entry amount the client claims (None to take it from the instruction). The pool's
    configuration is in `result.instruction.args`; pass it to `check_pool_config` before registering.

    Beyond the deposit, a create must stand alone and start clean, or the registered pool would not be
    the pool on chain: no other instruction of our program in the transaction (a cancel_pool or a
    set_lock_duration next to it changes the pool at once, docs/program.md §9.2), and a vault that held
    nothing before (`create_pool` adopts an existing vault, and a funded one can never pay out, §5.2)."""
    located = await _locate(
        signature,
        "create_pool",
        CreatePoolInstruction,
        config=config,
        fetcher=fetcher,
        clock=clock,
        window=window,
        codec=codec,
    )
    ix = located.instruction
    require_pool(ix.pool, pool)
    derived, _bump = find_pool_address(config.program_id, ix.mint, ix.args.salt)
    if derived != ix.pool:
        raise VerificationFailed(
            RejectReason.POOL_NOT_DERIVED, f"{ix.pool} is not the pool PDA {derived} of (mint, salt)"
        )
    require_canonical_vault(ix.pool, ix.mint, ix.token_program, ix.pool_token)
    _require_alone(located, config.program_id)
    require_signing_wallet(located.view, ix.user, wallet)
    if amount is not None:
        _require_claimed_amount(ix.args.amount, amount)
    _require_empty_before(located.view, ix.pool_token)
    vault_delta = _prove_deposit(
        located,
        program_id=config.program_id,
        pool=ix.pool,
        mint=ix.mint,
        vault=ix.pool_token,
        user_token=ix.user_token,
        token_program=ix.token_program,
        wallet=wallet,
        amount=ix.args.amount,
    )
    return located.result(mint=ix.mint, vault=ix.pool_token, amount=ix.args.amount, vault_delta=vault_delta)


def _require_alone(located: _Located[CreatePoolInstruction], program_id: Pubkey) -> None:
    others = [
        ix for ix in located.view.instructions if ix.program_id == program_id and ix is not located.invoked
    ]
    if others:
        where = ", ".join(ix.location for ix in others)
        raise VerificationFailed(
            RejectReason.CREATE_NOT_ALONE, f"other instructions of program {program_id} at {where}"
        )


def _require_empty_before(view: TransactionView, vault: Pubkey) -> None:
    before = view.pre_token_balances.get(vault)
    if before is not None and before.amount != 0:
        raise VerificationFailed(
            RejectReason.VAULT_NOT_EMPTY, f"vault {vault} held {before.amount} before the create"
        )


async def verify_join_pool(
    signature: str,
    *,
    pool: PoolKeys,
    wallet: Pubkey,
    amount: int,
    config: ProgramConfig,
    fetcher: TransactionFetcher,
    clock: Clock = utc_now,
    window: AgeWindow = DEFAULT_WINDOW,
    codec: ProgramCodec | None = None,
) -> VerifiedJoinPool:
    """`pool` = the registered pool's keys; `amount` = its entry amount as the record knows it (the
    program requires equality)."""
    return await _verify_deposit(
        signature,
        "join_pool",
        JoinPoolInstruction,
        pool=pool,
        wallet=wallet,
        amount=amount,
        config=config,
        fetcher=fetcher,
        clock=clock,
        window=window,
        codec=codec,
    )


async def verify_donate(
    signature: str,
    *,
    pool: PoolKeys,
    wallet: Pubkey,
    amount: int,
    config: ProgramConfig,
    fetcher: TransactionFetcher,
    clock: Clock = utc_now,
    window: AgeWindow = DEFAULT_WINDOW,
    codec: ProgramCodec | None = None,
) -> VerifiedDonate:
    """The donor's source may be any token account they own (the program does not require their ATA).
    A donation that makes the pot unpayable really happened and is accepted: the caller records it and
    marks the pool with `missout.pools.payability.unpayable_reason`."""
    return await _verify_deposit(
        signature,
        "donate",
        DonateInstruction,
        pool=pool,
        wallet=wallet,
        amount=amount,
        config=config,
        fetcher=fetcher,
        clock=clock,
        window=window,
        codec=codec,
    )


_Deposit = TypeVar("_Deposit", JoinPoolInstruction, DonateInstruction)


async def _verify_deposit(
    signature: str,
    name: str,
    instruction_type: type[_Deposit],
    *,
    pool: PoolKeys,
    wallet: Pubkey,
    amount: int,
    config: ProgramConfig,
    fetcher: TransactionFetcher,
    clock: Clock,
    window: AgeWindow,
    codec: ProgramCodec | None,
) -> Verified[_Deposit]:
    """Join and donate have the same accounts and the same proof: the wallet's tokens went into the vault."""
    located = await _locate(
        signature,
        name,
        instruction_type,
        config=config,
        fetcher=fetcher,
        clock=clock,
        window=window,
        codec=codec,
    )
    ix = located.instruction
    require_registered_pool(pool=ix.pool, mint=ix.mint, vault=ix.pool_token, registered=pool)
    require_signing_wallet(located.view, ix.user, wallet)
    _require_claimed_amount(ix.amount, amount)
    vault_delta = _prove_deposit(
        located,
        program_id=config.program_id,
        pool=ix.pool,
        mint=ix.mint,
        vault=ix.pool_token,
        user_token=ix.user_token,
        token_program=pool.token_program,
        wallet=wallet,
        amount=ix.amount,
    )
    return located.result(mint=ix.mint, vault=ix.pool_token, amount=ix.amount, vault_delta=vault_delta)


async def verify_cancel_pool(
    signature: str,
    *,
    pool: PoolKeys,
    wallet: Pubkey,
    config: ProgramConfig,
    fetcher: TransactionFetcher,
    clock: Clock = utc_now,
    window: AgeWindow = DEFAULT_WINDOW,
    codec: ProgramCodec | None = None,
) -> VerifiedCancelPool:
    """Cancelling moves no tokens (the vault keeps everything for refunds), so the vault must not move."""
    located = await _locate(
        signature,
        "cancel_pool",
        CancelPoolInstruction,
        config=config,
        fetcher=fetcher,
        clock=clock,
        window=window,
        codec=codec,
    )
    ix = located.instruction
    require_registered_pool(pool=ix.pool, mint=ix.mint, vault=ix.pool_token, registered=pool)
    require_signing_wallet(located.view, ix.user, wallet)
    vault_delta = token_delta(located.view, ix.pool_token, mint=ix.mint, owner=ix.pool, role="vault")
    require_delta(vault_delta, 0, "vault")
    return located.result(mint=ix.mint, vault=ix.pool_token, amount=0, vault_delta=0)


def refund_owed(entry: int, *, creator: bool) -> int:
    """What `claim_refund` pays a participant (docs/program.md §5.3): the entry back, less the burned
    ⌊entry/20⌋ when the claimant is the pool's creator."""
    return entry - entry // 20 if creator else entry


async def verify_claim_refund(
    signature: str,
    *,
    pool: PoolKeys,
    wallet: Pubkey,
    entry: int,
    creator: Pubkey,
    config: ProgramConfig,
    fetcher: TransactionFetcher,
    clock: Clock = utc_now,
    window: AgeWindow = DEFAULT_WINDOW,
    codec: ProgramCodec | None = None,
) -> VerifiedClaimRefund:
    """A participant's refund. `entry` and `creator` are the registered pool's entry amount and creator:
    the program pays exactly `refund_owed(entry, creator=wallet == creator)`, and the proof is that
    transfer from the vault to the wallet's token account among the inner instructions (balance deltas
    alone would count a side payment into the same account as refund). The dev branch (everything
    forfeited to the treasury) pays the caller nothing and is refused here."""
    located = await _locate(
        signature,
        "claim_refund",
        ClaimRefundInstruction,
        config=config,
        fetcher=fetcher,
        clock=clock,
        window=window,
        codec=codec,
    )
    ix = located.instruction
    require_registered_pool(pool=ix.pool, mint=ix.mint, vault=ix.pool_token, registered=pool)
    require_signing_wallet(located.view, ix.user, wallet)
    if wallet == config.dev_wallet:
        raise VerificationFailed(
            RejectReason.REFUND_MISMATCH, "the dev wallet takes the forfeit branch: nothing is refunded"
        )
    token_delta(located.view, ix.user_token, mint=ix.mint, owner=wallet, role="user token account")
    owed = refund_owed(entry, creator=wallet == creator)
    paid = transfers_between(
        located.view, pool.token_program, source=ix.pool_token, destination=ix.user_token
    )
    if not paid:
        raise VerificationFailed(
            RejectReason.TRANSFER_NOT_FOUND, f"no transfer from the vault to {ix.user_token}"
        )
    if [transfer.amount for transfer in paid] != [owed]:
        raise VerificationFailed(
            RejectReason.REFUND_MISMATCH,
            f"the vault paid {[t.amount for t in paid]} to {ix.user_token}, the program pays {owed}",
        )
    vault_delta = token_delta(located.view, ix.pool_token, mint=ix.mint, owner=ix.pool, role="vault")
    return located.result(mint=ix.mint, vault=ix.pool_token, amount=owed, vault_delta=vault_delta)


async def verify_claim_rent(
    signature: str,
    *,
    pool: PoolKeys,
    wallet: Pubkey,
    config: ProgramConfig,
    fetcher: TransactionFetcher,
    clock: Clock = utc_now,
    window: AgeWindow = DEFAULT_WINDOW,
    codec: ProgramCodec | None = None,
) -> VerifiedClaimRent:
    """`claim_rent` closes the vault (after burning what a cancelled pool still holds), so the registered
    vault must have existed before and be gone after; the rent itself is lamports and goes to
    `close_target`. The program does not tie the mint or vault to the pool here (docs/program.md §9.2),
    so the registered keys are what make a look-alike vault fail."""
    located = await _locate(
        signature,
        "claim_rent",
        ClaimRentInstruction,
        config=config,
        fetcher=fetcher,
        clock=clock,
        window=window,
        codec=codec,
    )
    ix = located.instruction
    require_registered_pool(pool=ix.pool, mint=ix.mint, vault=ix.pool_token, registered=pool)
    require_signing_wallet(located.view, ix.user, wallet)
    vault_delta = token_delta(located.view, ix.pool_token, mint=ix.mint, owner=ix.pool, role="vault")
    if ix.pool_token not in located.view.pre_token_balances:
        raise VerificationFailed(RejectReason.BALANCE_MISMATCH, f"vault {ix.pool_token} did not exist before")
    if ix.pool_token in located.view.post_token_balances:
        raise VerificationFailed(RejectReason.BALANCE_MISMATCH, f"vault {ix.pool_token} was not closed")
    return located.result(mint=ix.mint, vault=ix.pool_token, amount=0, vault_delta=vault_delta)
