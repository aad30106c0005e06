"""What we record about a pool's mint, read from the chain: its token program, its decimals, and its name and
symbol when the mint carries them.

Name and symbol come from the Token-2022 `TokenMetadata` extension stored in the mint itself, else from the
Metaplex Token Metadata account of the mint (PDA `["metadata", metaplex program, mint]`). A mint with neither
has no name or symbol (null), never a made-up one. Layouts: SPL Token mint base (82 bytes: decimals at 44),
Token-2022 TLV after the account-type byte at 165, Metaplex `Metadata` (key, update authority, mint, then
Borsh strings padded with NULs); see docs/api.md, "Mint metadata".
"""

from __future__ import annotations

import struct
from dataclasses import dataclass

from solders.pubkey import Pubkey

from missout.chain.addresses import TOKEN_2022_PROGRAM_ID, TOKEN_PROGRAM_ID

METAPLEX_METADATA_PROGRAM_ID = Pubkey.from_string("metaqbxxUerdq28cj1RbAWkYQm3ybzjb6a8bt518x1s")
MINT_BASE_LEN = 82
_DECIMALS_OFFSET = 44
_IS_INITIALIZED_OFFSET = 45
_ACCOUNT_TYPE_OFFSET = 165  # Token-2022: base state padded to the token-account size, then the type byte
_ACCOUNT_TYPE_MINT = 1
_EXTENSION_TOKEN_METADATA = 19
_METAPLEX_KEY_METADATA_V1 = 4
_MAX_TEXT = 200  # names, symbols, URIs longer than this are not metadata we show


class MintDecodeError(ValueError):
    """The account is not an initialized mint of a token program the pool program accepts."""


@dataclass(frozen=True, slots=True)
class MintAccount:
    address: Pubkey
    token_program: Pubkey
    decimals: int
    name: str | None
    symbol: str | None

    @property
    def token_program_name(self) -> str:
        return "token-2022" if self.token_program == TOKEN_2022_PROGRAM_ID else "spl-token"


def metaplex_metadata_address(mint: Pubkey) -> Pubkey:
    address, _bump = Pubkey.find_program_address(
        [b"metadata", bytes(METAPLEX_METADATA_PROGRAM_ID), bytes(mint)], METAPLEX_METADATA_PROGRAM_ID
    )
    return address


def decode_mint(
    address: Pubkey, owner: Pubkey, data: bytes, metaplex: tuple[Pubkey, bytes] | None = None
) -> MintAccount:
    """`owner` and `data` of the mint account; `metaplex` = (owner, data) of its Metaplex PDA if it exists."""
    if owner not in (TOKEN_PROGRAM_ID, TOKEN_2022_PROGRAM_ID):
        raise MintDecodeError(f"{address} is owned by {owner}, not a token program")
    if len(data) < MINT_BASE_LEN or data[_IS_INITIALIZED_OFFSET] != 1:
        raise MintDecodeError(f"{address} is not an initialized mint")
    name = symbol = None
    if owner == TOKEN_2022_PROGRAM_ID:
        name, symbol = _token_2022_metadata(data)
    if name is None and symbol is None and metaplex is not None:
        meta_owner, meta_data = metaplex
        if meta_owner == METAPLEX_METADATA_PROGRAM_ID:
            name, symbol = _metaplex_metadata(meta_data, address)
    return MintAccount(address, owner, data[_DECIMALS_OFFSET], name, symbol)


def _token_2022_metadata(data: bytes) -> tuple[str | None, str | None]:
    if len(data) <= _ACCOUNT_TYPE_OFFSET or data[_ACCOUNT_TYPE_OFFSET] != _ACCOUNT_TYPE_MINT:
        return None, None
    offset = _ACCOUNT_TYPE_OFFSET + 1
    while offset + 4 <= len(data):
        kind, length = struct.unpack_from("<HH", data, offset)
        if kind == 0:  # uninitialized entries are padding and end the list
            break
        value = data[offset + 4 : offset + 4 + length]
        if kind == _EXTENSION_TOKEN_METADATA:
            # update_authority (32), mint (32), name, symbol, uri, additional_metadata
            reader = _Strings(value, 64)
            return reader.text(), reader.text()
        offset += 4 + length
    return None, None


def _metaplex_metadata(data: bytes, mint: Pubkey) -> tuple[str | None, str | None]:
    # key (1), update_authority (32), mint (32), then name, symbol, uri
    if len(data) < 65 or data[0] != _METAPLEX_KEY_METADATA_V1 or data[33:65] != bytes(mint):
        return None, None
    reader = _Strings(data, 65)
    return reader.text(), reader.text()


class _Strings:
    """Consecutive Borsh strings (u32 length + UTF-8); Metaplex pads them with NULs, which are dropped."""

    def __init__(self, data: bytes, offset: int) -> None:
        self._data, self._offset = data, offset

    def text(self) -> str | None:
        if self._offset + 4 > len(self._data):
            return None
        (length,) = struct.unpack_from("<I", self._data, self._offset)
        start, end = self._offset + 4, self._offset + 4 + length
        if end > len(self._data):
            self._offset = len(self._data)
            return None
        self._offset = end
        try:
            value = self._data[start:end].decode("utf-8").rstrip("\x00").strip()
        except UnicodeDecodeError:
            return None
        if not value or len(value) > _MAX_TEXT or not value.isprintable():
            return None
        return value
