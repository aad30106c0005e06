"""A wallet's profile: nickname, avatar (a style or an uploaded image), display name, and its stats; and the
signed update with the original's nickname rules (3–20 letters, digits or underscores, unique whatever the
case; the first two changes are free, then one per 48 hours)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import func, select
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.engine import Connection

from missout.db.tables import mints, participants, profiles, winner_totals
from missout.profiles.patterns import NICKNAME_PATTERN as NICKNAME_PATTERN
from missout.refusals import Refused

AVATAR_STYLES = ("bottts", "identicon", "shapes", "thumbs", "pixel-art")


class ProfileRefused(Refused):
    """`reason`: nickname_taken or nickname_cooldown (then `until` says when the next change is allowed)."""

    def __init__(self, reason: str, detail: str, until: datetime | None = None) -> None:
        super().__init__(reason, detail)
        self.until = until


@dataclass(frozen=True, slots=True)
class MintWins:
    mint: str
    decimals: int
    symbol: str | None
    wins: int
    total_won: int
    biggest_win: int


@dataclass(frozen=True, slots=True)
class Profile:
    wallet: str
    nickname: str | None
    avatar_style: str
    avatar_key: str | None  # the checked object in the avatar bucket
    display_name: str
    nickname_changes: int
    next_nickname_change_at: datetime | None
    pools_joined: int
    pools_won: int
    won: list[MintWins]


@dataclass(frozen=True, slots=True)
class NicknameRule:
    free_changes: int
    cooldown: timedelta


def short_wallet(wallet: str) -> str:
    return f"{wallet[:4]}...{wallet[-4:]}"


def _next_change(count: int, last: datetime | None, rule: NicknameRule) -> datetime | None:
    if count < rule.free_changes or last is None:
        return None
    return last + rule.cooldown


def load_profile(conn: Connection, wallet: str, rule: NicknameRule) -> Profile:
    row = conn.execute(select(profiles).where(profiles.c.wallet == wallet)).one_or_none()
    joined = conn.execute(
        select(func.count(func.distinct(participants.c.pool_id))).where(participants.c.wallet == wallet)
    ).scalar_one()
    won_rows = conn.execute(
        select(
            winner_totals.c.mint,
            mints.c.decimals,
            mints.c.symbol,
            winner_totals.c.wins,
            winner_totals.c.total_won,
            winner_totals.c.biggest_win,
        )
        .join(mints, mints.c.address == winner_totals.c.mint)
        .where(winner_totals.c.wallet == wallet)
        .order_by(winner_totals.c.mint)
    ).all()
    won = [
        MintWins(r.mint, r.decimals, r.symbol, r.wins, int(r.total_won), int(r.biggest_win)) for r in won_rows
    ]
    nickname = row.nickname if row is not None else None
    count = row.nickname_change_count if row is not None else 0
    return Profile(
        wallet=wallet,
        nickname=nickname,
        avatar_style=row.avatar_style if row is not None else "bottts",
        avatar_key=row.avatar_url if row is not None else None,
        display_name=nickname or short_wallet(wallet),
        nickname_changes=count,
        next_nickname_change_at=_next_change(
            count, row.last_nickname_change if row is not None else None, rule
        ),
        pools_joined=int(joined),
        pools_won=sum(w.wins for w in won),
        won=won,
    )


def update_profile(
    conn: Connection,
    wallet: str,
    rule: NicknameRule,
    *,
    nickname: str | None = None,
    avatar_style: str | None = None,
) -> None:
    """Apply the changes given (None: unchanged). The row is locked for the cooldown check, and the
    case-insensitive UNIQUE index decides a nickname race."""
    conn.execute(insert(profiles).values(wallet=wallet).on_conflict_do_nothing(index_elements=["wallet"]))
    current = conn.execute(
        select(
            profiles.c.nickname,
            profiles.c.nickname_change_count,
            profiles.c.last_nickname_change,
            func.now().label("now"),
        )
        .where(profiles.c.wallet == wallet)
        .with_for_update()
    ).one()
    values: dict[str, object] = {"updated_at": func.now()}
    if avatar_style is not None:
        values["avatar_style"] = avatar_style
    if nickname is not None and nickname != current.nickname:
        until = _next_change(current.nickname_change_count, current.last_nickname_change, rule)
        if until is not None and until > current.now:
            raise ProfileRefused(
                "nickname_cooldown", f"the next nickname change is allowed at {until}", until
            )
        taken = conn.execute(
            select(profiles.c.wallet).where(
                func.lower(profiles.c.nickname) == nickname.lower(), profiles.c.wallet != wallet
            )
        ).first()
        if taken is not None:
            raise ProfileRefused("nickname_taken", f"the nickname {nickname!r} is taken")
        values.update(
            nickname=nickname,
            nickname_change_count=profiles.c.nickname_change_count + 1,
            last_nickname_change=func.now(),
        )
    conn.execute(profiles.update().where(profiles.c.wallet == wallet).values(**values))
