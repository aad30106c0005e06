"""The two instructions of a referral payout: create the recipient's associated token account if it is
missing (`CreateIdempotent`, so a retry or an existing account is not an error) and `TransferChecked` from
the treasury's account, under whichever token program owns the mint (Token or Token-2022)."""

from __future__ import annotations

import struct

from solders.instruction import AccountMeta, Instruction
from solders.pubkey import Pubkey

from missout.chain.addresses import TOKEN_PROGRAM_IDS
from missout.chain.pda import associated_token_address
from missout.chain.token_accounts import create_ata_idempotent

_TRANSFER_CHECKED = 12  # the token program's instruction index (same in Token-2022)
MINT_DECIMALS_OFFSET = 44  # mint layout: authority option (36) + supply (8), then decimals (u8)


def transfer_checked(
    source_owner: Pubkey, recipient: Pubkey, mint: Pubkey, token_program: Pubkey, amount: int, decimals: int
) -> Instruction:
    if token_program not in TOKEN_PROGRAM_IDS:
        raise ValueError(f"{token_program} is not a token program")
    return Instruction(
        token_program,
        struct.pack("<BQB", _TRANSFER_CHECKED, amount, decimals),
        [
            AccountMeta(associated_token_address(source_owner, mint, token_program), False, True),
            AccountMeta(mint, is_signer=False, is_writable=False),
            AccountMeta(associated_token_address(recipient, mint, token_program), False, True),
            AccountMeta(source_owner, is_signer=True, is_writable=False),
        ],
    )


def payout_instructions(
    treasury: Pubkey, recipient: Pubkey, mint: Pubkey, token_program: Pubkey, amount: int, decimals: int
) -> list[Instruction]:
    return [
        create_ata_idempotent(treasury, recipient, mint, token_program),
        transfer_checked(treasury, recipient, mint, token_program, amount, decimals),
    ]
