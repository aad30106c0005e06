"""Helpers to run ticks until a condition holds, and to read what the chain and the record say."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any

from solders.pubkey import Pubkey
from sqlalchemy import select

from missout.chain.accounts import decode_participants, decode_pool
from missout.db.tables import activity, pool_payouts
from missout.monitor.tick import TickConfig
from missout.observability import logger
from tests.monitor.world import MonitorWorld


async def drive_until(
    world: MonitorWorld,
    done: Callable[[], bool],
    *,
    ticks: int = 40,
    config: TickConfig | None = None,
) -> int:
    """Tick (the chain moving one slot between ticks) until `done()`; the number of ticks it took."""
    for count in range(1, ticks + 1):
        await world.tick(config)
        if done():
            return count
        world.chain.advance_slots(1)
        await asyncio.sleep(0.02)
    raise AssertionError(f"not done after {ticks} ticks")


def payouts(world: MonitorWorld) -> dict[int, dict[str, Any]]:
    with world.engine.begin() as conn:
        return {row.pool_id: dict(row._mapping) for row in conn.execute(select(pool_payouts))}


def payout_activity(world: MonitorWorld) -> list[dict[str, Any]]:
    with world.engine.begin() as conn:
        query = select(activity).where(activity.c.kind == "payout").order_by(activity.c.id)
        return [dict(row._mapping) for row in conn.execute(query)]


def chain_winner(world: MonitorWorld, pool: Pubkey) -> tuple[str, list[str]]:
    account = world.chain.get_account(pool)
    assert account is not None
    state = decode_pool(bytes(account.data))
    participants = world.chain.get_account(state.participants_account)
    assert participants is not None
    seats = decode_participants(bytes(participants.data)).slots[: state.max_participants]
    return str(state.winner), [str(seat) for seat in seats]


class LogLines(logging.Handler):
    """The messages the monitor's logger emits during a test (a handler of its own: the logger's stream
    handler keeps whatever stdout existed when it was first built)."""

    def __init__(self) -> None:
        super().__init__(level=logging.DEBUG)
        self.messages: list[str] = []

    def emit(self, record: logging.LogRecord) -> None:
        self.messages.append(record.getMessage())

    def count(self, message: str) -> int:
        return sum(1 for line in self.messages if line == message)


@contextmanager
def monitor_log() -> Iterator[LogLines]:
    lines = LogLines()
    target = logger()._logger  # the standard-library logger behind Powertools'
    target.addHandler(lines)
    try:
        yield lines
    finally:
        target.removeHandler(lines)
