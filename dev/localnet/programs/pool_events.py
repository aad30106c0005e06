"""The pool program's `emit!` calls, encoded through the IDL (docs/program.md §6). Enums are written as their
ordinal, as borsh 0.10's derive does (§2.3)."""

from __future__ import annotations

from typing import Any

from solders.pubkey import Pubkey

from localnet.programs.anchor import Frame
from localnet.programs.pool_state import PoolStatus


def _emit(frame: Frame, name: str, fields: dict[str, Any]) -> None:
    frame.ctx.emit_event(frame.idl.encode_event(name, fields))


def pool_state(frame: Frame, status: PoolStatus, count: int, total: int, reason: int) -> None:
    _emit(
        frame,
        "PoolStateEvent",
        {
            "pool_id": frame.key("pool"),
            "numerical_pool_id": frame.pool.pool_id,
            "status": int(status),
            "participant_count": count,
            "total_amount": total,
            "status_reason": reason,
        },
    )


def pool_activity(frame: Frame, action: str, amount: int, rank: int) -> None:
    """`action` is an `ActionType` variant name, e.g. "Joined"; every event carries the pool's three bps."""
    pool = frame.pool
    _emit(
        frame,
        "PoolActivityEvent",
        {
            "pool_id": frame.key("pool"),
            "numerical_pool_id": pool.pool_id,
            "action": action,
            "amount": amount,
            "participant_rank": rank,
            "dev_fee_percent": pool.dev_fee_bps,
            "burn_fee_percent": pool.burn_fee_bps,
            "treasury_fee_percent": pool.treasury_fee_bps,
        },
    )


def ui_hint(frame: Frame, hint: str) -> None:
    _emit(frame, "UIHint", {"pool_id": frame.key("pool"), "hint": hint})


def refund_burned(frame: Frame, user: Pubkey, amount: int, reason: int) -> None:
    _emit(frame, "RefundBurned", {"user": user, "amount": amount, "reason": reason})


def refund_claimed(frame: Frame, user: Pubkey, amount: int, burn_amount: int, reason: int) -> None:
    fields = {"pool_id": frame.key("pool"), "user": user, "amount": amount, "burn_amount": burn_amount}
    _emit(frame, "RefundClaimedEvent", {**fields, "reason": reason})


def forfeited_to_treasury(frame: Frame, amount: int) -> None:
    _emit(frame, "ForfeitedToTreasury", {"pool_id": frame.key("pool"), "amount": amount})


def rent_claimed(frame: Frame, caller: Pubkey, sent_to: Pubkey) -> None:
    fields = {"pool_id": frame.key("pool"), "caller": caller, "sent_to": sent_to, "timestamp": frame.now}
    _emit(frame, "RentClaimed", fields)


def winner_selected(frame: Frame, winner_amount: int, dev: int, burn: int, treasury: int) -> None:
    pool = frame.pool
    _emit(
        frame,
        "WinnerSelectedEvent",
        {
            "pool_id": frame.key("pool"),
            "numerical_pool_id": pool.pool_id,
            "winner": pool.winner,
            "winner_amount": winner_amount,
            "dev_amount": dev,
            "burn_amount": burn,
            "treasury_amount": treasury,
            "randomness": pool.randomness,
        },
    )
