"""One verifier per action a client reports. Each proves, from the finalized transaction alone, that the
claimed wallet performed the claimed action on the claimed pool for the claimed amount (docs/solana.md §2.2,
docs/original-backend.md W2/W7/W8), and returns what was proven; or raises `VerificationFailed`.

Order (cheapest and least forgeable first): signature format → fetch → success → age → keys → the one
instruction of our program → pool → vault → wallet signed → amounts from token balance deltas.
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
)
from missout.chain.pda import find_pool_address
from missout.chain.program import ProgramCodec, shipped_codec
from missout.chain.verify.checks import (
    require_canonical_vault,
    require_delta,
    require_pool,
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
from missout.chain.verify.transaction_view import TransactionView, view_transaction
from missout.chain.verify.window import DEFAULT_WINDOW, AgeWindow, Clock, require_within_window, utc_now


@dataclass(frozen=True, slots=True)
class _Located(Generic[InstructionT]):
    fetched: FetchedTransaction
    view: TransactionView
    block_time: datetime
    instruction: InstructionT

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
    fetched = await fetch_transaction(fetcher, parsed)
    require_success(fetched)
    block_time = require_within_window(fetched.block_time, clock(), window)
    view = view_transaction(fetched)
    invoked = find_single_instruction(view, config.program_id, name, program)
    instruction = decode_as(invoked, config.program_id, expected, program)
    return _Located(fetched, view, block_time, instruction)


def _require_claimed_amount(instruction_amount: int, claimed: int) -> None:
    if instruction_amount != claimed:
        raise VerificationFailed(
            RejectReason.AMOUNT_MISMATCH,
            f"the instruction moves {instruction_amount}, the claim says {claimed}",
        )


def _prove_deposit(
    view: TransactionView,
    *,
    pool: Pubkey,
    mint: Pubkey,
    vault: Pubkey,
    user_token: Pubkey,
    wallet: Pubkey,
    amount: int,
) -> int:
    """The vault gained exactly `amount` and the wallet's token account lost exactly `amount`; returns the
    vault delta. A transaction that also moves tokens in or out of either account is refused: a stray
    transfer into the vault would break the program's vault-equals-total rule (OC2) anyway."""
    vault_delta = token_delta(view, vault, mint=mint, owner=pool, role="vault")
    require_delta(vault_delta, amount, "vault")
    user_delta = token_delta(view, user_token, mint=mint, owner=wallet, role="user token account")
    require_delta(user_delta, -amount, "user token account")
    return vault_delta


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
    configuration is in `result.instruction.args`; pass it to `check_pool_config` before registering."""
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
    require_signing_wallet(located.view, ix.user, wallet)
    if amount is not None:
        _require_claimed_amount(ix.args.amount, amount)
    vault_delta = _prove_deposit(
        located.view,
        pool=ix.pool,
        mint=ix.mint,
        vault=ix.pool_token,
        user_token=ix.user_token,
        wallet=wallet,
        amount=ix.args.amount,
    )
    return located.result(mint=ix.mint, vault=ix.pool_token, amount=ix.args.amount, vault_delta=vault_delta)


async def verify_join_pool(
    signature: str,
    *,
    pool: Pubkey,
    wallet: Pubkey,
    amount: int,
    config: ProgramConfig,
    fetcher: TransactionFetcher,
    clock: Clock = utc_now,
    window: AgeWindow = DEFAULT_WINDOW,
    codec: ProgramCodec | None = None,
) -> VerifiedJoinPool:
    """`amount` = the pool's entry amount as the caller knows it (the program requires equality)."""
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
    pool: Pubkey,
    wallet: Pubkey,
    amount: int,
    config: ProgramConfig,
    fetcher: TransactionFetcher,
    clock: Clock = utc_now,
    window: AgeWindow = DEFAULT_WINDOW,
    codec: ProgramCodec | None = None,
) -> VerifiedDonate:
    """The donor's source may be any token account they own (the program does not require their ATA)."""
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
    pool: Pubkey,
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
    require_pool(ix.pool, pool)
    require_canonical_vault(ix.pool, ix.mint, ix.token_program, ix.pool_token)
    require_signing_wallet(located.view, ix.user, wallet)
    _require_claimed_amount(ix.amount, amount)
    vault_delta = _prove_deposit(
        located.view,
        pool=ix.pool,
        mint=ix.mint,
        vault=ix.pool_token,
        user_token=ix.user_token,
        wallet=wallet,
        amount=ix.amount,
    )
    return located.result(mint=ix.mint, vault=ix.pool_token, amount=ix.amount, vault_delta=vault_delta)


async def verify_cancel_pool(
    signature: str,
    *,
    pool: Pubkey,
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
    require_pool(ix.pool, pool)
    require_canonical_vault(ix.pool, ix.mint, ix.token_program, ix.pool_token)
    require_signing_wallet(located.view, ix.user, wallet)
    vault_delta = token_delta(located.view, ix.pool_token, mint=ix.mint, owner=ix.pool, role="vault")
    require_delta(vault_delta, 0, "vault")
    return located.result(mint=ix.mint, vault=ix.pool_token, amount=0, vault_delta=0)


async def verify_claim_refund(
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
) -> VerifiedClaimRefund:
    """A participant's refund: their token account gained the refund and the vault lost at least that (the
    creator's 5 % burn leaves the vault too). `amount` = the refund the caller expects, or None. The dev
    branch (everything forfeited to the treasury) pays the caller nothing and is refused here."""
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
    require_pool(ix.pool, pool)
    require_canonical_vault(ix.pool, ix.mint, ix.token_program, ix.pool_token)
    require_signing_wallet(located.view, ix.user, wallet)
    refund = token_delta(located.view, ix.user_token, mint=ix.mint, owner=wallet, role="user token account")
    vault_delta = token_delta(located.view, ix.pool_token, mint=ix.mint, owner=ix.pool, role="vault")
    if refund <= 0 or -vault_delta < refund:
        raise VerificationFailed(
            RejectReason.BALANCE_MISMATCH,
            f"user token account changed by {refund}, vault by {vault_delta}: not a refund from the vault",
        )
    if amount is not None:
        _require_claimed_amount(refund, amount)
    return located.result(mint=ix.mint, vault=ix.pool_token, amount=refund, vault_delta=vault_delta)


async def verify_claim_rent(
    signature: str,
    *,
    pool: Pubkey,
    wallet: Pubkey,
    config: ProgramConfig,
    fetcher: TransactionFetcher,
    clock: Clock = utc_now,
    window: AgeWindow = DEFAULT_WINDOW,
    codec: ProgramCodec | None = None,
) -> VerifiedClaimRent:
    """`claim_rent` closes the vault (after burning what a cancelled pool still holds), so the vault must
    have no balance after the transaction; the rent itself is lamports and goes to `close_target`."""
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
    require_pool(ix.pool, pool)
    require_canonical_vault(ix.pool, ix.mint, ix.token_program, ix.pool_token)
    require_signing_wallet(located.view, ix.user, wallet)
    vault_delta = token_delta(located.view, ix.pool_token, mint=ix.mint, owner=ix.pool, role="vault")
    if ix.pool_token in located.view.post_token_balances:
        raise VerificationFailed(RejectReason.BALANCE_MISMATCH, f"vault {ix.pool_token} was not closed")
    return located.result(mint=ix.mint, vault=ix.pool_token, amount=0, vault_delta=vault_delta)
