"""The actions a client reports, a report of one, and the record each becomes: the vocabulary of
`missout.pools.reports` and `missout.pools.reporting` (which re-export it) without their chain imports, so the
API's report routes can be declared at cold start while the chain work behind them loads on first use.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from enum import Enum


class Action(Enum):
    """The actions a client reports, as they appear in URLs; `.db` is the name in `used_signatures`."""

    CREATE = "create"
    JOIN = "join"
    DONATE = "donate"
    CANCEL = "cancel"
    CLAIM_REFUND = "claim-refund"
    CLAIM_RENT = "claim-rent"

    @property
    def db(self) -> str:
        return _DB_NAMES[self]

    @classmethod
    def from_db(cls, name: str) -> Action:
        return next(action for action, db in _DB_NAMES.items() if db == name)


_DB_NAMES = {
    Action.CREATE: "create_pool",
    Action.JOIN: "join_pool",
    Action.DONATE: "donate",
    Action.CANCEL: "cancel_pool",
    Action.CLAIM_REFUND: "claim_refund",
    Action.CLAIM_RENT: "claim_rent",
}


@dataclass(frozen=True, slots=True)
class ActionRecord:
    """One recorded action, as the API returns it (the same record for every repeat of the report)."""

    signature: str
    action: Action
    pool_id: int
    pool_address: str
    wallet: str
    amount: int  # base units moved by this action (0 for cancel and rent)
    slot: int
    block_time: datetime
    recorded_at: datetime
    # Why the pool can never pay out, when it cannot (docs/program.md §5.2, §9.2): a report on such a pool is
    # still recorded (it happened on chain), and the answer says why the player should not expect a payout.
    pool_unpayable_reason: str | None = None


@dataclass(frozen=True, slots=True)
class Report:
    """What a client reported: only names what to prove; nothing of it is recorded unproven."""

    action: Action
    pool: str
    signature: str
    wallet: str
    amount: int | None = None
