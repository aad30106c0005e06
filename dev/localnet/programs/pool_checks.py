"""Checks and token movements the pool program's instructions share: account constraints (as `Check`s for the
specs), handler guards, and the pool-PDA-signed token CPIs."""

from __future__ import annotations

from solders.pubkey import Pubkey

from localnet.model_api import ProgramError
from localnet.programs.anchor import Check, Frame
from localnet.programs.pool_state import MIN_BET_TOKENS
from localnet.programs.system import SYSTEM_PROGRAM_ID
from localnet.spl_token import (
    TOKEN_PROGRAMS,
    TokenAccount,
    burn,
    create_associated_token_account,
    get_associated_token_address,
    transfer_checked,
    unpack_token_account,
)

# -- account constraints (step 4) ---------------------------------------------------------------------------


def has_one_mint(error: str = "InvalidMint") -> Check:
    """`has_one = mint @ InvalidMint` on `pool` (payout_winner has no custom error: 2001)."""

    def check(frame: Frame) -> None:
        frame.constraint(frame.pool.mint == frame.key("mint"), error, "pool")

    return check


def vault_mint_and_owner(frame: Frame) -> None:
    """`pool_token.mint == mint @ InvalidMint`, `pool_token.owner == pool @ InvalidParticipantToken`."""
    vault = frame.token("pool_token")
    frame.constraint(vault.mint == frame.key("mint"), "InvalidMint", "pool_token")
    frame.constraint(vault.owner == frame.key("pool"), "InvalidParticipantToken", "pool_token")


def vault_mint_and_owner_raw(frame: Frame) -> None:
    """donate's single raw constraint on the vault, without a custom error (2003)."""
    vault = frame.token("pool_token")
    ok = vault.mint == frame.key("mint") and vault.owner == frame.key("pool")
    frame.constraint(ok, "ConstraintRaw", "pool_token")


def participants_is_pool_account(frame: Frame) -> None:
    ok = frame.key("participants") == frame.pool.participants_account
    frame.constraint(ok, "InvalidParticipantsPda", "participants")


def is_ata_of(name: str, owner_of: str) -> Check:
    """`name == ATA(<owner_of>, mint, token_program) @ InvalidParticipantToken`; `owner_of` is an account name
    or one of the pool's wallet fields ("pool.treasury_wallet")."""

    def check(frame: Frame) -> None:
        owner = wallet(frame, owner_of)
        frame.constraint(frame.key(name) == ata(frame, owner), "InvalidParticipantToken", name)

    return check


# -- helpers for handlers ---------------------------------------------------------------------------------


def wallet(frame: Frame, ref: str) -> Pubkey:
    if ref.startswith("pool."):
        value = getattr(frame.pool, ref.removeprefix("pool."))
        if not isinstance(value, Pubkey):
            raise TypeError(f"{ref} is not a key")
        return value
    return frame.key(ref)


def ata(frame: Frame, owner: Pubkey) -> Pubkey:
    return get_associated_token_address(owner, frame.key("mint"), frame.key("token_program"))


def require_mint_owned_by_token_program(frame: Frame) -> None:
    state = frame.ctx.get(frame.key("mint"))
    owner = state.owner if state is not None else None
    frame.require(owner == frame.key("token_program"), "InvalidTokenProgram")


def require_vault_is_pool_token(frame: Frame) -> None:
    frame.require(frame.key("pool_token") == frame.pool.pool_token, "PoolTokenMismatch")


def require_not_paused(frame: Frame) -> None:
    frame.require(not frame.pool.paused, "Paused")


def require_not_processing(frame: Frame) -> None:
    # Always false between transactions (docs/program.md §2.6); the check is kept for its place in the order.
    frame.require(not frame.pool.processing, "PoolProcessing")


def require_config_hash(frame: Frame) -> None:
    frame.require(frame.pool.expected_config_hash() == frame.pool.config_hash, "ConfigMismatch")


def minimum_amount(frame: Frame) -> int:
    scale: int = 10 ** frame.mint().decimals
    return MIN_BET_TOKENS * scale


def validate_token(frame: Frame, name: str, owner: Pubkey) -> None:
    """The program's usual token-account validation: mint, owner, not frozen."""
    account = frame.token(name)
    frame.require(account.mint == frame.key("mint"), "InvalidMint")
    frame.require(account.owner == owner, "InvalidParticipantToken")
    frame.require(not account.is_frozen, "FrozenAccount")


def validate_token_strict(frame: Frame, name: str, owner: Pubkey) -> None:
    """The stricter validation for accounts the pool pays into: also no delegate, no close authority."""
    validate_token(frame, name, owner)
    account = frame.token(name)
    frame.require(account.delegate is None, "HasDelegate")
    frame.require(account.close_authority is None, "HasCloseAuthority")


# -- init_if_needed ATAs (step 3) ------------------------------------------------------------------------


def init_associated_account(frame: Frame, name: str, authority_name: str, payer_name: str) -> None:
    """`init_if_needed` with `associated_token::mint = mint, authority = <authority>`: create it through the
    ATA program when absent, otherwise check what Anchor checks on an existing one (2014/2015/2023/3014)."""
    key, authority, token_program = frame.key(name), frame.key(authority_name), frame.key("token_program")
    state = frame.ctx.get(key)
    if state is None or state.owner == SYSTEM_PROGRAM_ID:
        if key != ata(frame, authority):
            raise ProgramError(
                builtin="InvalidSeeds", log="Associated address does not match seed derivation"
            )
        create_associated_token_account(
            frame.ctx,
            payer=frame.key(payer_name),
            owner=authority,
            mint=frame.key("mint"),
            token_program=token_program,
        )
        frame.reload_token(name)
        return
    if state.owner not in TOKEN_PROGRAMS:
        frame.fail("AccountOwnedByWrongProgram", account=name)
    account: TokenAccount = unpack_token_account(bytes(state.data))
    frame.constraint(account.mint == frame.key("mint"), "ConstraintTokenMint", name)
    frame.constraint(account.owner == authority, "ConstraintTokenOwner", name)
    frame.constraint(state.owner == token_program, "ConstraintTokenTokenProgram", name)
    expected = get_associated_token_address(authority, frame.key("mint"), token_program)
    frame.constraint(key == expected, "AccountNotAssociatedTokenAccount", name)
    frame.tokens[name] = account


# -- token movements ----------------------------------------------------------------------------------------


def deposit(frame: Frame, source: str, amount: int) -> None:
    """`TransferChecked(source -> vault)` signed by the user."""
    transfer_checked(
        frame.ctx,
        token_program=frame.key("token_program"),
        source=frame.key(source),
        mint=frame.key("mint"),
        destination=frame.key("pool_token"),
        authority=frame.key("user"),
        amount=amount,
        decimals=frame.mint().decimals,
    )


def pay_from_vault(frame: Frame, destination: Pubkey, amount: int) -> None:
    """`TransferChecked(vault -> destination)` signed by the pool PDA."""
    transfer_checked(
        frame.ctx,
        token_program=frame.key("token_program"),
        source=frame.key("pool_token"),
        mint=frame.key("mint"),
        destination=destination,
        authority=frame.key("pool"),
        amount=amount,
        decimals=frame.mint().decimals,
        signer_seeds=frame.pool.signer_seeds(),
    )


def burn_from_vault(frame: Frame, amount: int, *, checked: bool) -> None:
    """`Burn` (claim_refund, claim_rent) or `BurnChecked` (payout_winner), signed by the pool PDA."""
    burn(
        frame.ctx,
        token_program=frame.key("token_program"),
        account=frame.key("pool_token"),
        mint=frame.key("mint"),
        authority=frame.key("pool"),
        amount=amount,
        decimals=frame.mint().decimals if checked else None,
        signer_seeds=frame.pool.signer_seeds(),
    )
