"""Profiles through the real handler: the read with stats, the signed update, nickname rules (shape, unique
whatever the case, two free changes then one per 48 hours)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from solders.keypair import Keypair
from sqlalchemy import insert, update
from sqlalchemy.engine import Engine

from missout.db.tables import profiles, winner_totals
from tests.api.chain_api import Answer, invoke
from tests.people.signing import signed
from tests.support.database import TestDatabase
from tests.support.factories import MINT, insert_mint, insert_participant, insert_pool, key


def rename(wallet: Keypair, nickname: str) -> Answer:
    body = signed(wallet, "profile_update", nickname=nickname)
    return invoke("POST", f"/api/profiles/{wallet.pubkey()}", body=body)


def test_an_unknown_wallet_has_a_default_profile(people_db: TestDatabase) -> None:
    wallet = str(Keypair().pubkey())
    answer = invoke("GET", f"/api/profiles/{wallet}")
    assert answer.status == 200
    body = answer.body
    assert body["nickname"] is None
    assert body["display_name"] == f"{wallet[:4]}...{wallet[-4:]}"
    assert body["avatar_url"] == f"https://api.dicebear.com/7.x/bottts/svg?seed={wallet}"
    assert (body["pools_joined"], body["pools_won"], body["won"]) == (0, 0, [])


def test_stats_count_pools_joined_and_wins_per_mint(people_db: TestDatabase, direct_engine: Engine) -> None:
    wallet = str(Keypair().pubkey())
    insert_mint(direct_engine)
    for n in range(3):
        pool_id = insert_pool(direct_engine, pool_address=key(100 + n), create_signature=f"{n + 2}" * 64)
        insert_participant(direct_engine, pool_id, wallet, 0)
    with direct_engine.begin() as conn:
        conn.execute(
            insert(winner_totals).values(
                wallet=wallet,
                mint=MINT,
                wins=2,
                total_won=2**70,
                biggest_win=2**63,
                last_win_at=datetime.now(UTC),
            )
        )
    body = invoke("GET", f"/api/profiles/{wallet}").body
    assert (body["pools_joined"], body["pools_won"]) == (3, 2)
    assert body["won"] == [
        {
            "mint": MINT,
            "decimals": 6,
            "symbol": "TEST",
            "wins": 2,
            "total_won": str(2**70),
            "biggest_win": str(2**63),
        }
    ]


def test_a_signed_update_sets_the_nickname_and_style(people_db: TestDatabase) -> None:
    wallet = Keypair()
    body = signed(wallet, "profile_update", nickname="Lucky_7", avatar_style="identicon")
    answer = invoke("POST", f"/api/profiles/{wallet.pubkey()}", body=body)
    assert answer.status == 200, answer.body
    assert answer.body["display_name"] == "Lucky_7"
    assert answer.body["avatar_style"] == "identicon"
    assert invoke("GET", f"/api/profiles/{wallet.pubkey()}").body["nickname"] == "Lucky_7"


def test_an_update_signed_by_another_wallet_is_401_and_changes_nothing(people_db: TestDatabase) -> None:
    owner, thief = Keypair(), Keypair()
    body = signed(thief, "profile_update", nickname="Stolen")
    answer = invoke("POST", f"/api/profiles/{owner.pubkey()}", body=body)
    assert answer.status == 401
    assert invoke("GET", f"/api/profiles/{owner.pubkey()}").body["nickname"] is None


def test_a_nickname_of_the_wrong_shape_is_422(people_db: TestDatabase) -> None:
    answer = rename(Keypair(), "no spaces!")
    assert answer.status == 422
    assert answer.problem()["errors"][0]["field"] == "nickname"


def test_a_taken_nickname_is_409_whatever_the_case(people_db: TestDatabase) -> None:
    assert rename(Keypair(), "Alice").status == 200
    answer = rename(Keypair(), "aLiCe")
    assert answer.status == 409
    assert answer.problem()["reason"] == "nickname_taken"


def test_two_changes_are_free_then_one_per_48_hours(people_db: TestDatabase, direct_engine: Engine) -> None:
    wallet = Keypair()
    assert rename(wallet, "first").status == 200
    assert rename(wallet, "second").status == 200
    third = rename(wallet, "third")
    assert third.status == 409
    assert third.problem()["reason"] == "nickname_cooldown"
    retry_at = datetime.fromisoformat(third.problem()["retry_at"])
    assert timedelta(hours=47, minutes=59) < retry_at - datetime.now(UTC) <= timedelta(hours=48)
    assert invoke("GET", f"/api/profiles/{wallet.pubkey()}").body["nickname"] == "second"
    with direct_engine.begin() as conn:  # 48 hours later
        conn.execute(
            update(profiles).values(last_nickname_change=datetime.now(UTC) - timedelta(hours=48, seconds=1))
        )
    assert rename(wallet, "third").status == 200
