"""Narrowing of decoded Borsh values to the Python types the typed dataclasses promise.

The generic codec returns `BorshValue`; these helpers turn a value into exactly the expected type or raise
`TypeError`, so a wrong IDL (or a field mapped to the wrong type) fails loudly instead of leaking `Any`.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import UTC, datetime

from solders.pubkey import Pubkey

from missout.chain.borsh import BorshValue


def as_int(values: Mapping[str, BorshValue], name: str) -> int:
    value = values[name]
    if not isinstance(value, int) or isinstance(value, bool):
        raise TypeError(f"{name}: expected int, got {type(value).__name__}")
    return value


def as_bool(values: Mapping[str, BorshValue], name: str) -> bool:
    value = values[name]
    if not isinstance(value, bool):
        raise TypeError(f"{name}: expected bool, got {type(value).__name__}")
    return value


def as_pubkey(values: Mapping[str, BorshValue], name: str) -> Pubkey:
    value = values[name]
    if not isinstance(value, Pubkey):
        raise TypeError(f"{name}: expected Pubkey, got {type(value).__name__}")
    return value


def as_bytes(values: Mapping[str, BorshValue], name: str) -> bytes:
    value = values[name]
    if not isinstance(value, bytes):
        raise TypeError(f"{name}: expected bytes, got {type(value).__name__}")
    return value


def as_pubkey_list(values: Mapping[str, BorshValue], name: str) -> tuple[Pubkey, ...]:
    value = values[name]
    if not isinstance(value, list) or not all(isinstance(item, Pubkey) for item in value):
        raise TypeError(f"{name}: expected a list of Pubkey")
    return tuple(item for item in value if isinstance(item, Pubkey))


def utc_from_unix(seconds: int) -> datetime | None:
    """Timezone-aware UTC time of an on-chain `i64` timestamp; None for the program's "unset" value 0."""
    if seconds == 0:
        return None
    return datetime.fromtimestamp(seconds, tz=UTC)
