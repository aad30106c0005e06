"""The two instructions of a referral payout: create the recipient's associated token account if it is
missing (`CreateIdempotent`, so a retry or an existing account is not an error) and `TransferChecked` from
the treasury's account, under whichever token program owns the mint (Token or Token-2022)."""

from __future__ import annotations

import struct

from solders.instruction import AccountMeta, Instruction
from solders.pubkey import Pubkey

from missout.chain.addresses import ASSOCIATED_TOKEN_PROGRAM_ID, SYSTEM_PROGRAM_ID, TOKEN_PROGRAM_IDS
from missout.chain.pda import associated_token_address

_CREATE_IDEMPOTENT = 1  # the associated-token-account program's instruction index
_TRANSFER_CHECKED = 12  # the token program's instruction index (same in Token-2022)
MINT_DECIMALS_OFFSET = 44  # mint layout: authority option (36) + supply (8), then decimals (u8)


def create_ata_idempotent(payer: Pubkey, owner: Pubkey, mint: Pubkey, token_program: Pubkey) -> Instruction:
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
