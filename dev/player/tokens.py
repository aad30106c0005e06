"""A test mint the pool program accepts, built with the token programs' real instructions.

create_pool refuses a mint that can still be minted or frozen (docs/program.md §3.1: 6013
MintHasMintAuthority, 6014 MintHasFreezeAuthority), so the test mint gets no freeze authority and its mint
authority is revoked in the same transaction that mints the whole supply: the CLI's authority key only ever
signs that one transaction.
"""

from __future__ import annotations

from solders.instruction import Instruction
from solders.pubkey import Pubkey
from solders.system_program import CreateAccountParams, create_account
from spl.token.instructions import (
    create_idempotent_associated_token_account,
    initialize_mint2,
    mint_to_checked,
    set_authority,
)
from spl.token.models import AuthorityType, InitializeMint2Params, MintToCheckedParams, SetAuthorityParams

from localnet.spl_token import MINT_LEN, get_associated_token_address

# Owners funded per transaction: each adds two instructions and two keys; a transaction is at most 1232 bytes.
OWNERS_PER_TRANSACTION = 4


def create_funded_mint(
    *,
    authority: Pubkey,
    mint: Pubkey,
    decimals: int,
    token_program: Pubkey,
    mint_rent: int,
    amounts: dict[Pubkey, int],
) -> list[list[Instruction]]:
    """Transactions (in order) that create `mint`, give each owner in `amounts` an associated token account
    holding its amount, then revoke the mint authority so the supply is fixed. `authority` pays for all of
    it; the first transaction must also be signed by the mint's keypair."""
    create = [
        create_account(
            CreateAccountParams(
                from_pubkey=authority, to_pubkey=mint, lamports=mint_rent, space=MINT_LEN, owner=token_program
            )
        ),
        initialize_mint2(
            InitializeMint2Params(
                decimals=decimals, program_id=token_program, mint=mint, mint_authority=authority
            )
        ),
    ]
    funding: list[Instruction] = []
    for owner, amount in amounts.items():
        funding.append(create_idempotent_associated_token_account(authority, owner, mint, token_program))
        params = MintToCheckedParams(
            program_id=token_program,
            mint=mint,
            dest=get_associated_token_address(owner, mint, token_program),
            mint_authority=authority,
            amount=amount,
            decimals=decimals,
        )
        funding.append(mint_to_checked(params))
    per_batch = 2 * OWNERS_PER_TRANSACTION
    batches = [create] + [funding[i : i + per_batch] for i in range(0, len(funding), per_batch)]
    revoke = SetAuthorityParams(
        program_id=token_program,
        account=mint,
        authority=AuthorityType.MINT_TOKENS,
        current_authority=authority,
        new_authority=None,
    )
    batches[-1].append(set_authority(revoke))
    return batches


def ensure_token_accounts(
    payer: Pubkey, owners: list[Pubkey], mint: Pubkey, token_program: Pubkey
) -> list[Instruction]:
    """Idempotent ATA creation: a no-op for owners that already have one."""
    return [create_idempotent_associated_token_account(payer, owner, mint, token_program) for owner in owners]
