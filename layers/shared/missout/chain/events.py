"""Program events: Anchor `emit!` writes `Program data: <base64(discriminator ‖ borsh(event))>` log lines
(docs/program.md §6). Logs are informational (they can be truncated, and only lines emitted while our
program's frame is active are ours); security decisions use instructions and account state instead.
"""

from __future__ import annotations

import base64
import binascii
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from enum import IntEnum
from typing import TypeAlias

from solders.pubkey import Pubkey

from missout.chain.accounts import PoolStatus
from missout.chain.borsh import BorshValue
from missout.chain.program import AccountDecodeError, ProgramCodec, shipped_codec
from missout.chain.values import as_int, as_pubkey

PROGRAM_DATA_PREFIX = "Program data: "


class ActionType(IntEnum):
    """Wire ordinal (not the Rust discriminant, see docs/program.md §2.3)."""

    CREATED = 0
    JOINED = 1
    DONATED = 2
    CLOSED = 3
    ENDED = 4
    CANCELLED = 5
    RANDOMNESS_COMMITTED = 6
    RANDOMNESS_MOCK_COMMITTED = 7
    REACHED_MAX = 8
    UNLOCKED = 9
    ADMIN_CLOSED = 10
    EMERGENCY_REVEAL = 11
    EXPIRED = 12


class HintType(IntEnum):
    REACHED_MAX = 0
    NEAR_EXPIRE = 1
    UNLOCKED = 2


@dataclass(frozen=True, slots=True)
class PoolStateEvent:
    pool: Pubkey
    pool_id: int
    status: PoolStatus
    participant_count: int
    total_amount: int
    status_reason: int


@dataclass(frozen=True, slots=True)
class PoolActivityEvent:
    pool: Pubkey
    pool_id: int
    action: ActionType
    amount: int
    participant_rank: int
    dev_fee_bps: int
    burn_fee_bps: int
    treasury_fee_bps: int


@dataclass(frozen=True, slots=True)
class UIHint:
    pool: Pubkey
    hint: HintType


@dataclass(frozen=True, slots=True)
class RefundBurned:
    user: Pubkey
    amount: int
    reason: int


@dataclass(frozen=True, slots=True)
class RentClaimed:
    pool: Pubkey
    caller: Pubkey
    sent_to: Pubkey
    timestamp: int


@dataclass(frozen=True, slots=True)
class WinnerSelectedEvent:
    pool: Pubkey
    pool_id: int
    winner: Pubkey
    winner_amount: int
    dev_amount: int
    burn_amount: int
    treasury_amount: int
    randomness: int


@dataclass(frozen=True, slots=True)
class RefundClaimedEvent:
    pool: Pubkey
    user: Pubkey
    amount: int
    burn_amount: int
    reason: int


@dataclass(frozen=True, slots=True)
class ForfeitedToTreasury:
    pool: Pubkey
    amount: int


ProgramEvent: TypeAlias = (
    PoolStateEvent
    | PoolActivityEvent
    | UIHint
    | RefundBurned
    | RentClaimed
    | WinnerSelectedEvent
    | RefundClaimedEvent
    | ForfeitedToTreasury
)


def decode_event(data: bytes, codec: ProgramCodec | None = None) -> ProgramEvent | None:
    """Typed event from its raw bytes; None for a discriminator the IDL does not define.

    Raises `AccountDecodeError` when the discriminator is known but the body is malformed.
    """
    decoded = (codec or shipped_codec()).decode_event(data)
    if decoded is None:
        return None
    try:
        return _typed_event(decoded.name, decoded.fields)
    except (KeyError, TypeError, ValueError) as exc:
        raise AccountDecodeError(f"event {decoded.name}: {exc}") from exc


def events_from_logs(
    logs: Iterable[str], program_id: Pubkey, codec: ProgramCodec | None = None
) -> list[ProgramEvent]:
    """Events emitted by `program_id` itself, in order, from a transaction's log messages.

    A `Program data:` line belongs to the innermost program frame open at that point; lines printed while
    another program (or a CPI from ours) is running are skipped, so look-alike lines cannot be injected.
    Undecodable lines are skipped too: logs are evidence, not input to trust.
    """
    ours = str(program_id)
    frames: list[str] = []
    events: list[ProgramEvent] = []
    for line in logs:
        words = line.split()
        if len(words) >= 3 and words[0] == "Program" and words[2] == "invoke":
            frames.append(words[1])
        elif len(words) >= 3 and words[0] == "Program" and words[2] in ("success", "failed:"):
            if frames and frames[-1] == words[1]:
                frames.pop()
        elif line.startswith(PROGRAM_DATA_PREFIX) and frames and frames[-1] == ours:
            event = _decode_logged(line[len(PROGRAM_DATA_PREFIX) :], codec)
            if event is not None:
                events.append(event)
    return events


def _decode_logged(encoded: str, codec: ProgramCodec | None) -> ProgramEvent | None:
    try:
        raw = base64.b64decode(encoded.strip(), validate=True)
        return decode_event(raw, codec)
    except (binascii.Error, ValueError):
        return None


def _typed_event(name: str, fields: Mapping[str, BorshValue]) -> ProgramEvent:
    if name == "PoolStateEvent":
        return PoolStateEvent(
            pool=as_pubkey(fields, "pool_id"),
            pool_id=as_int(fields, "numerical_pool_id"),
            status=PoolStatus(as_int(fields, "status")),
            participant_count=as_int(fields, "participant_count"),
            total_amount=as_int(fields, "total_amount"),
            status_reason=as_int(fields, "status_reason"),
        )
    if name == "PoolActivityEvent":
        return PoolActivityEvent(
            pool=as_pubkey(fields, "pool_id"),
            pool_id=as_int(fields, "numerical_pool_id"),
            action=ActionType(as_int(fields, "action")),
            amount=as_int(fields, "amount"),
            participant_rank=as_int(fields, "participant_rank"),
            # The program names these "*_percent" but stores basis points.
            dev_fee_bps=as_int(fields, "dev_fee_percent"),
            burn_fee_bps=as_int(fields, "burn_fee_percent"),
            treasury_fee_bps=as_int(fields, "treasury_fee_percent"),
        )
    if name == "UIHint":
        return UIHint(pool=as_pubkey(fields, "pool_id"), hint=HintType(as_int(fields, "hint")))
    if name == "RefundBurned":
        return RefundBurned(
            user=as_pubkey(fields, "user"), amount=as_int(fields, "amount"), reason=as_int(fields, "reason")
        )
    if name == "RentClaimed":
        return RentClaimed(
            pool=as_pubkey(fields, "pool_id"),
            caller=as_pubkey(fields, "caller"),
            sent_to=as_pubkey(fields, "sent_to"),
            timestamp=as_int(fields, "timestamp"),
        )
    if name == "WinnerSelectedEvent":
        return WinnerSelectedEvent(
            pool=as_pubkey(fields, "pool_id"),
            pool_id=as_int(fields, "numerical_pool_id"),
            winner=as_pubkey(fields, "winner"),
            winner_amount=as_int(fields, "winner_amount"),
            dev_amount=as_int(fields, "dev_amount"),
            burn_amount=as_int(fields, "burn_amount"),
            treasury_amount=as_int(fields, "treasury_amount"),
            randomness=as_int(fields, "randomness"),
        )
    if name == "RefundClaimedEvent":
        return RefundClaimedEvent(
            pool=as_pubkey(fields, "pool_id"),
            user=as_pubkey(fields, "user"),
            amount=as_int(fields, "amount"),
            burn_amount=as_int(fields, "burn_amount"),
            reason=as_int(fields, "reason"),
        )
    if name == "ForfeitedToTreasury":
        return ForfeitedToTreasury(pool=as_pubkey(fields, "pool_id"), amount=as_int(fields, "amount"))
    raise ValueError(f"no typed form for event {name}")
