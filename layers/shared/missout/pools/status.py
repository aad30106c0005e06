"""The pool-record vocabulary, defined once: status strings in the database and their on-chain twins.

The chain's `PoolStatus` is a one-byte ordinal (docs/program.md §2.3); the database stores readable text
(`'winner_selected'`, not `5`) so SQL, logs and the API say what they mean. The two are tied here and nowhere
else: `db_status` and `chain_status` are the only conversions, and `db/tables.py` builds its CHECKs from the
tuples below.
"""

from __future__ import annotations

from types import MappingProxyType

from missout.chain.pool_constants import PoolStatus, StatusReason
from missout.pools.payability import UnpayableReason

# On-chain status -> database text. The names follow the program's own (lower snake case), in ordinal order.
_TO_DB: MappingProxyType[PoolStatus, str] = MappingProxyType(
    {status: status.name.lower() for status in PoolStatus}
)
_FROM_DB: MappingProxyType[str, PoolStatus] = MappingProxyType({text: s for s, text in _TO_DB.items()})

POOL_STATUSES: tuple[str, ...] = tuple(_TO_DB[s] for s in sorted(PoolStatus))
OPEN = _TO_DB[PoolStatus.OPEN]
ENDED = _TO_DB[PoolStatus.ENDED]
CANCELLED = _TO_DB[PoolStatus.CANCELLED]
CLOSED = _TO_DB[PoolStatus.CLOSED]
# Closed pools are finished for good: their accounts are gone or wiped (§2.2, §5.4), nothing is left to do.
TERMINAL_POOL_STATUSES: tuple[str, ...] = (CLOSED,)

# `Pool.status_reason` as the program writes it (3 is never written).
STATUS_REASONS: tuple[int, ...] = tuple(int(r) for r in sorted(StatusReason))

# Why a pool can never be paid out although it is not finished: the closed set `pools.payability` names
# (docs/program.md §5.1, §5.2, §9.2), which `pools.unpayable_reason`'s CHECK accepts.
UNPAYABLE_REASONS: tuple[str, ...] = tuple(reason.value for reason in UnpayableReason)


def db_status(status: PoolStatus) -> str:
    """The database text of an on-chain status."""
    return _TO_DB[PoolStatus(status)]


def chain_status(text: str) -> PoolStatus:
    """The on-chain status a database text stands for; ValueError for anything else."""
    try:
        return _FROM_DB[text]
    except KeyError:
        expected = ", ".join(POOL_STATUSES)
        raise ValueError(f"unknown pool status {text!r}; expected one of {expected}") from None
