"""Comparing what the API says about a pool with the pool's accounts on the chain, field by field."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from solders.pubkey import Pubkey

from missout.chain.accounts import decode_participants, decode_pool
from missout.chain.addresses import ZERO_PUBKEY
from missout.chain.pda import find_participants_address
from missout.pools.status import db_status
from tests.support.verify_world import VerifyWorld


def _time(text: str | None) -> datetime | None:
    return None if text is None else datetime.fromisoformat(text.replace("Z", "+00:00"))


def chain_view(world: VerifyWorld, pool: Pubkey) -> dict[str, Any]:
    """The pool's fields as the chain holds them, named and shaped as `GET /api/pools/{address}` shows."""
    pool_account = world.chain.get_account(pool)
    assert pool_account is not None
    account = decode_pool(bytes(pool_account.data))
    listed_account = world.chain.get_account(find_participants_address(world.program_id, pool))
    assert listed_account is not None
    listed = decode_participants(bytes(listed_account.data))
    return {
        "address": str(pool),
        "mint": str(account.mint),
        "creator": str(account.creator),
        "status": db_status(account.status),
        "status_reason": account.status_reason,
        "paused": account.paused,
        "allow_mock": account.allow_mock,
        "entry_amount": str(account.amount),
        "total_amount": str(account.total_amount),
        "donated_amount": str(account.total_volume - account.amount * account.total_joins),
        "max_participants": account.max_participants,
        "participants_count": listed.count,
        "lock_duration_seconds": account.lock_duration,
        "fees": {
            "dev_bps": account.dev_fee_bps,
            "burn_bps": account.burn_fee_bps,
            "treasury_bps": account.treasury_fee_bps,
        },
        "winner": None if account.winner == ZERO_PUBKEY else str(account.winner),
        "randomness_account": None
        if account.randomness_account == ZERO_PUBKEY
        else str(account.randomness_account),
        "start_time": account.start_at,
        "expire_time": account.expire_at,
        "lock_start_time": account.lock_start_at,
        "unlock_time": account.unlock_at,
        "end_time": account.end_at,
        "close_time": account.close_at,
        "seated": [str(wallet) for wallet in listed.wallets],
    }


def api_view(detail: dict[str, Any]) -> dict[str, Any]:
    """The same fields taken from the API's answer."""
    times = ("start_time", "expire_time", "lock_start_time", "unlock_time", "end_time", "close_time")
    view = {
        name: detail[name] for name in chain_keys() if name not in times and name not in ("mint", "seated")
    }
    view["mint"] = detail["mint"]["address"]
    view.update({name: _time(detail[name]) for name in times})
    seated = sorted((p for p in detail["participants"] if p["seat"] is not None), key=lambda p: p["seat"])
    view["seated"] = [p["wallet"] for p in seated]
    return view


def chain_keys() -> tuple[str, ...]:
    return (
        "address",
        "mint",
        "creator",
        "status",
        "status_reason",
        "paused",
        "allow_mock",
        "entry_amount",
        "total_amount",
        "donated_amount",
        "max_participants",
        "participants_count",
        "lock_duration_seconds",
        "fees",
        "winner",
        "randomness_account",
        "start_time",
        "expire_time",
        "lock_start_time",
        "unlock_time",
        "end_time",
        "close_time",
        "seated",
    )
