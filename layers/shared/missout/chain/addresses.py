"""Well-known program and sysvar addresses the `ml` program works with (docs/program.md §1.2)."""

from __future__ import annotations

from solders.pubkey import Pubkey

TOKEN_PROGRAM_ID = Pubkey.from_string("TokenkegQfeZyiNwAJbNbGKPFXCWuBvf9Ss623VQ5DA")
TOKEN_2022_PROGRAM_ID = Pubkey.from_string("TokenzQdBNbLqP5VEhdkAS6EPFLC1PHnBqCXEpPxuEb")
ASSOCIATED_TOKEN_PROGRAM_ID = Pubkey.from_string("ATokenGPvbdGVxr1b2hvZbsiqW5xWH25efTNsLJA8knL")
SYSTEM_PROGRAM_ID = Pubkey.from_string("11111111111111111111111111111111")
RENT_SYSVAR_ID = Pubkey.from_string("SysvarRent111111111111111111111111111111111")
SWITCHBOARD_DEVNET_PROGRAM_ID = Pubkey.from_string("Aio4gaXjXzJNVLtzwtNVmSqGKpANtXhybbkhtAC94ji2")
SWITCHBOARD_MAINNET_PROGRAM_ID = Pubkey.from_string("SBondMDrcV3K4kxZR1HNVT7osZxAHVHgYXL5Ze1oMUv")

# The program's "unset" key (randomness_account, winner, cleared participant slots); equal to the System
# program id, which is why a mock randomness request passes the System program as `randomness`.
ZERO_PUBKEY = Pubkey.default()

TOKEN_PROGRAM_IDS = frozenset({TOKEN_PROGRAM_ID, TOKEN_2022_PROGRAM_ID})
