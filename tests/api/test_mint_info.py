"""Mint facts as the API records them: decimals from the mint account, name and symbol from the Token-2022
metadata extension or the Metaplex metadata account, and null (never invented) when there is neither."""

from __future__ import annotations

import struct

import pytest
from solders.pubkey import Pubkey

from localnet.spl_token import Mint, pack_mint
from missout.chain.addresses import TOKEN_2022_PROGRAM_ID, TOKEN_PROGRAM_ID
from missout.pools.mint_info import METAPLEX_METADATA_PROGRAM_ID, MintDecodeError, decode_mint

MINT = Pubkey.new_unique()


def _borsh(text: str, pad: int = 0) -> bytes:
    raw = text.encode().ljust(pad, b"\x00")
    return struct.pack("<I", len(raw)) + raw


def _token_2022_mint(decimals: int, *extensions: tuple[int, bytes]) -> bytes:
    base = pack_mint(Mint(mint_authority=None, supply=10**9, decimals=decimals)).ljust(165, b"\x00")
    tlv = b"".join(struct.pack("<HH", kind, len(value)) + value for kind, value in extensions)
    return base + b"\x01" + tlv


def test_legacy_mint_without_metadata_has_no_name() -> None:
    data = pack_mint(Mint(mint_authority=None, supply=1, decimals=9))
    info = decode_mint(MINT, TOKEN_PROGRAM_ID, data)
    assert (info.decimals, info.name, info.symbol, info.token_program_name) == (9, None, None, "spl-token")


def test_token_2022_metadata_extension_names_the_mint() -> None:
    metadata = bytes(32) + bytes(MINT) + _borsh("Pool Coin") + _borsh("POOL") + _borsh("https://x") + bytes(4)
    close_authority = (3, bytes(32))  # an extension before it is skipped over
    data = _token_2022_mint(6, close_authority, (19, metadata))
    info = decode_mint(MINT, TOKEN_2022_PROGRAM_ID, data)
    assert (info.decimals, info.name, info.symbol, info.token_program_name) == (
        6,
        "Pool Coin",
        "POOL",
        "token-2022",
    )


def test_metaplex_metadata_names_a_legacy_mint_and_padding_is_dropped() -> None:
    data = pack_mint(Mint(mint_authority=None, supply=1, decimals=6))
    meta = bytes([4]) + bytes(32) + bytes(MINT) + _borsh("Meme", 32) + _borsh("MEM", 10) + _borsh("", 200)
    info = decode_mint(MINT, TOKEN_PROGRAM_ID, data, (METAPLEX_METADATA_PROGRAM_ID, meta))
    assert (info.name, info.symbol) == ("Meme", "MEM")


def test_metaplex_account_of_another_mint_or_owner_is_ignored() -> None:
    data = pack_mint(Mint(mint_authority=None, supply=1, decimals=6))
    other = bytes([4]) + bytes(32) + bytes(Pubkey.new_unique()) + _borsh("Fake", 32) + _borsh("FAK", 10)
    assert decode_mint(MINT, TOKEN_PROGRAM_ID, data, (METAPLEX_METADATA_PROGRAM_ID, other)).symbol is None
    mine = bytes([4]) + bytes(32) + bytes(MINT) + _borsh("Fake", 32) + _borsh("FAK", 10)
    assert decode_mint(MINT, TOKEN_PROGRAM_ID, data, (Pubkey.new_unique(), mine)).symbol is None


def test_an_account_of_another_program_is_not_a_mint() -> None:
    with pytest.raises(MintDecodeError):
        decode_mint(MINT, Pubkey.new_unique(), bytes(82))
