"""The checks every action shares: the transaction succeeded, the node reported what proves movements, the
instruction names the registered pool (its address, mint and vault) and the claimed wallet, that wallet
signed, and token balances moved by exactly what the instruction says."""

from __future__ import annotations

from solders.pubkey import Pubkey

from missout.chain.errors import classify_transaction_error
from missout.chain.pda import vault_address
from missout.chain.pool_keys import PoolKeys
from missout.chain.verify.fetch import FetchedTransaction
from missout.chain.verify.reasons import RejectReason, VerificationFailed
from missout.chain.verify.transaction_view import TransactionView


def require_success(fetched: FetchedTransaction) -> None:
    """A failed transaction is still found (and still paid its fee), but changed nothing."""
    if fetched.meta.err is not None:
        error = classify_transaction_error(fetched.meta.err)
        raise VerificationFailed(
            RejectReason.TRANSACTION_FAILED, f"{error.source.value} error {error.name} (code {error.code})"
        )


def require_movement_metadata(view: TransactionView) -> None:
    """Token balances and inner instructions are the evidence of every movement (and non-movement) we
    prove; a node that did not record them proves nothing (null, unlike an empty list, means unknown)."""
    if not view.token_balances_reported:
        raise VerificationFailed(
            RejectReason.MISSING_TOKEN_BALANCES, "the node reported no pre/post token balances"
        )
    if not view.inner_instructions_reported:
        raise VerificationFailed(
            RejectReason.MISSING_INNER_INSTRUCTIONS, "the node reported no inner instructions"
        )


def require_registered_pool(*, pool: Pubkey, mint: Pubkey, vault: Pubkey, registered: PoolKeys) -> None:
    """The instruction names exactly the registered pool, its mint and its vault. Some instructions do
    not tie the mint or the vault to the pool on chain (claim_rent, docs/program.md §9.2), so a
    look-alike token account of the pool PDA for another mint would otherwise pass for the vault."""
    require_pool(pool, registered.address)
    if mint != registered.mint:
        raise VerificationFailed(
            RejectReason.WRONG_MINT, f"the instruction names mint {mint}, the pool's is {registered.mint}"
        )
    if vault != registered.vault:
        raise VerificationFailed(
            RejectReason.WRONG_VAULT, f"the instruction names vault {vault}, the pool's is {registered.vault}"
        )


def require_pool(instruction_pool: Pubkey, claimed_pool: Pubkey) -> None:
    if instruction_pool != claimed_pool:
        raise VerificationFailed(
            RejectReason.WRONG_POOL, f"the instruction acts on {instruction_pool}, not {claimed_pool}"
        )


def require_canonical_vault(pool: Pubkey, mint: Pubkey, token_program: Pubkey, vault: Pubkey) -> None:
    """The vault is the pool's ATA for its mint; the program stores that key and compares with it, so a
    mismatch here means a transaction we must not read balances from."""
    try:
        expected = vault_address(pool, mint, token_program)
    except ValueError as exc:
        raise VerificationFailed(RejectReason.WRONG_VAULT, str(exc)) from None
    if vault != expected:
        raise VerificationFailed(RejectReason.WRONG_VAULT, f"vault {vault} is not the pool's ATA {expected}")


def require_signing_wallet(view: TransactionView, instruction_user: Pubkey, claimed_wallet: Pubkey) -> None:
    """The program only checks `user: Signer`, which a PDA satisfies through `invoke_signed`; we require a
    real transaction signature from the claimed wallet (the fee payer may be anyone, e.g. a relayer)."""
    if instruction_user != claimed_wallet:
        raise VerificationFailed(
            RejectReason.WRONG_WALLET, f"the instruction's user is {instruction_user}, not {claimed_wallet}"
        )
    if claimed_wallet not in view.signers:
        raise VerificationFailed(
            RejectReason.WALLET_NOT_SIGNER, f"{claimed_wallet} did not sign the transaction"
        )


def token_delta(view: TransactionView, account: Pubkey, *, mint: Pubkey, owner: Pubkey, role: str) -> int:
    """Change of `account`'s token balance over the transaction (absent before = created, absent after =
    closed: both count as 0). Each balance reported must be of `mint` and owned by `owner`."""
    change = 0
    for sign, balances in ((-1, view.pre_token_balances), (1, view.post_token_balances)):
        balance = balances.get(account)
        if balance is None:
            continue
        if balance.mint != mint or balance.owner != owner:
            raise VerificationFailed(
                RejectReason.WRONG_TOKEN_ACCOUNT,
                f"{role} {account}: mint {balance.mint} of {balance.owner}, expected {mint} of {owner}",
            )
        change += sign * balance.amount
    return change


def require_delta(actual: int, expected: int, role: str) -> None:
    if actual != expected:
        raise VerificationFailed(
            RejectReason.BALANCE_MISMATCH, f"{role} balance changed by {actual}, expected {expected:+d}"
        )
