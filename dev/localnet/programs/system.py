"""What a modelled program does through CPIs to the System program: create an account and move lamports.

Errors are the System program's own (`SystemError` codes as `Custom(n)`), because that is what a client sees
when, for example, an Anchor `init` hits an address that is already in use.
"""

from __future__ import annotations

import struct

from solders.pubkey import Pubkey

from localnet.model_api import AccountState, InnerInstruction, InvokeContext, ProgramError

SYSTEM_PROGRAM_ID = Pubkey.default()

# SystemError ordinals (solana-program `system_instruction::SystemError`).
ACCOUNT_ALREADY_IN_USE = 0
RESULT_WITH_NEGATIVE_LAMPORTS = 1

_CREATE_ACCOUNT = 0
_TRANSFER = 2


def _require_signer(ctx: InvokeContext, key: Pubkey, pda_signer: Pubkey | None) -> None:
    if key != pda_signer and not ctx.is_signer(key):
        raise ProgramError(builtin="MissingRequiredSignature", log=f"{key}'s signer privilege escalated")


def _debit(ctx: InvokeContext, payer: Pubkey, lamports: int) -> None:
    state = ctx.get(payer)
    balance = state.lamports if state is not None else 0
    if state is None or balance < lamports:
        raise ProgramError(
            custom=RESULT_WITH_NEGATIVE_LAMPORTS,
            log=f"Transfer: insufficient lamports {balance}, need {lamports}",
        )
    state.lamports -= lamports
    ctx.put(payer, state)


def create_account(
    ctx: InvokeContext,
    *,
    payer: Pubkey,
    new_account: Pubkey,
    space: int,
    owner: Pubkey,
    pda_signer: Pubkey | None = None,
    stack_height: int = 2,
) -> None:
    """`CreateAccount` funded with the rent-exempt minimum. If the address already holds lamports (someone
    sent SOL there first) only the shortfall is paid and the account is allocated/assigned, as Anchor's `init`
    does. `pda_signer` names a new account that is a PDA the calling program signs for with its seeds."""
    existing = ctx.get(new_account)
    if existing is not None and (existing.data or existing.owner != SYSTEM_PROGRAM_ID):
        raise ProgramError(
            custom=ACCOUNT_ALREADY_IN_USE,
            log=f"Create Account: account Address {{ address: {new_account}, base: None }} already in use",
        )
    rent = ctx.minimum_balance(space)
    held = existing.lamports if existing is not None else 0
    _require_signer(ctx, new_account, pda_signer)
    if held == 0:
        _require_signer(ctx, payer, None)
        _debit(ctx, payer, rent)
        data = struct.pack("<IQQ", _CREATE_ACCOUNT, rent, space) + bytes(owner)
        ctx.record_cpi(InnerInstruction(SYSTEM_PROGRAM_ID, (payer, new_account), data, stack_height))
        ctx.put(new_account, AccountState(lamports=rent, data=bytearray(space), owner=owner))
        return
    shortfall = max(rent - held, 0)
    if shortfall:
        transfer_lamports(
            ctx, source=payer, destination=new_account, lamports=shortfall, stack_height=stack_height
        )
    ctx.put(new_account, AccountState(lamports=held + shortfall, data=bytearray(space), owner=owner))


def transfer_lamports(
    ctx: InvokeContext, *, source: Pubkey, destination: Pubkey, lamports: int, stack_height: int = 2
) -> None:
    """System `Transfer` from a signing wallet."""
    _require_signer(ctx, source, None)
    _debit(ctx, source, lamports)
    target = ctx.get(destination) or AccountState(lamports=0, data=bytearray(), owner=SYSTEM_PROGRAM_ID)
    target.lamports += lamports
    ctx.put(destination, target)
    data = struct.pack("<IQ", _TRANSFER, lamports)
    ctx.record_cpi(InnerInstruction(SYSTEM_PROGRAM_ID, (source, destination), data, stack_height))
