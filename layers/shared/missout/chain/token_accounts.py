"""Associated token accounts a transaction needs to exist: the ATA program's `CreateIdempotent`, and which of
a set of owners' ATAs are missing on chain.

`CreateIdempotent` (instruction 1 of the ATA program) creates the account when it is absent and succeeds
without a change when the owner's ATA for the mint is already there, so putting it in front of an
instruction that needs the account is safe to repeat: a retried or re-signed transaction cannot fail on it.
The address depends on the token program (docs/program.md §1.3): the caller passes the mint's own program,
Token or Token-2022, and the ATA program creates the account under it.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING

from solders.account import Account
from solders.instruction import AccountMeta, Instruction
from solders.pubkey import Pubkey

from missout.chain.addresses import ASSOCIATED_TOKEN_PROGRAM_ID, SYSTEM_PROGRAM_ID
from missout.chain.pda import associated_token_address

if TYPE_CHECKING:  # only a type here: building the instruction needs no RPC client imported
    from missout.chain.rpc import RpcSession

_CREATE_IDEMPOTENT = 1  # the associated-token-account program's instruction index


def create_ata_idempotent(payer: Pubkey, owner: Pubkey, mint: Pubkey, token_program: Pubkey) -> Instruction:
    """`owner`'s ATA for `mint` under `token_program`, created if missing (rent paid by `payer`, a signer)."""
    return Instruction(
        ASSOCIATED_TOKEN_PROGRAM_ID,
        bytes([_CREATE_IDEMPOTENT]),
        [
            AccountMeta(payer, is_signer=True, is_writable=True),
            AccountMeta(
                associated_token_address(owner, mint, token_program), is_signer=False, is_writable=True
            ),
            AccountMeta(owner, is_signer=False, is_writable=False),
            AccountMeta(mint, is_signer=False, is_writable=False),
            AccountMeta(SYSTEM_PROGRAM_ID, is_signer=False, is_writable=False),
            AccountMeta(token_program, is_signer=False, is_writable=False),
        ],
    )


def needs_creating(account: Account | None) -> bool:
    """No account at the address, or only lamports someone sent there (still the System program's): the ATA
    program's create handles both. An account some program already owns is left alone: if it is not a usable
    token account, the instruction that needs it fails with that program's error, which a person must see."""
    return account is None or account.owner == SYSTEM_PROGRAM_ID


async def missing_ata_creations(
    rpc: RpcSession, payer: Pubkey, owners: Sequence[Pubkey], mint: Pubkey, token_program: Pubkey
) -> list[Instruction]:
    """`CreateIdempotent` for each distinct owner whose ATA for `mint` does not exist yet (one
    `getMultipleAccounts` for all of them); an empty list when they all exist."""
    distinct = list(dict.fromkeys(owners))  # e.g. one wallet as both DEV and treasury: one account
    addresses = [associated_token_address(owner, mint, token_program) for owner in distinct]
    accounts = await rpc.get_multiple_accounts(addresses)
    return [
        create_ata_idempotent(payer, owner, mint, token_program)
        for owner, account in zip(distinct, accounts, strict=True)
        if needs_creating(account)
    ]
