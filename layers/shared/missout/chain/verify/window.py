"""The age window: a reported transaction must have landed recently. It bounds how long a leaked or
forgotten signature stays usable; it is not replay protection (the UNIQUE signature column is)."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from missout.chain.verify.reasons import RejectReason, VerificationFailed

Clock = Callable[[], datetime]


def utc_now() -> datetime:
    return datetime.now(UTC)


@dataclass(frozen=True, slots=True)
class AgeWindow:
    max_age: timedelta = timedelta(minutes=10)  # clients may report late (retries, slow wallets)
    max_clock_skew: timedelta = timedelta(seconds=30)  # validators' block times run slightly ahead


DEFAULT_WINDOW = AgeWindow()


def require_within_window(block_time: int | None, now: datetime, window: AgeWindow) -> datetime:
    """The block time as an aware UTC datetime, if `now - max_age <= block_time <= now + skew`."""
    if now.tzinfo is None:
        raise ValueError("the verification clock must return timezone-aware datetimes")
    if block_time is None:
        # Skipping the check when the node omits the time was a gap in the original (docs/solana.md §2.3).
        raise VerificationFailed(RejectReason.NO_BLOCK_TIME, "the node reported no block time")
    # Compare as integers first: a node may report any i64, and `datetime.fromtimestamp` raises for values
    # outside its range (e.g. 10**12 or -10**13); only a time inside the window is converted.
    oldest, newest = now - window.max_age, now + window.max_clock_skew
    if block_time < oldest.timestamp():
        raise VerificationFailed(RejectReason.TOO_OLD, f"landed at {block_time}, now {now.isoformat()}")
    if block_time > newest.timestamp():
        raise VerificationFailed(RejectReason.IN_THE_FUTURE, f"landed at {block_time}, now {now.isoformat()}")
    return datetime.fromtimestamp(block_time, tz=UTC)
