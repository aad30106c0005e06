"""Referral routes through the real handler, database behind pgBouncer: registration rules (first referrer
forever, no self-referral, no cycles, not after playing), the summary and lists, claims (one open claim per
mint, nothing pending) and 50 concurrent claims of one balance."""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor
from typing import Any

from solders.keypair import Keypair
from sqlalchemy import insert, select
from sqlalchemy.engine import Engine

from missout.db.tables import referral_claims, referral_reward_events, referral_rewards
from tests.api.chain_api import Answer, invoke
from tests.people.signing import signed
from tests.support.database import TestDatabase
from tests.support.factories import MINT, insert_mint, insert_participant, insert_pool


def register(referred: Keypair, referrer: Keypair) -> Answer:
    body = signed(
        referred, "referral_register", wallet=str(referred.pubkey()), referrer=str(referrer.pubkey())
    )
    return invoke("POST", "/api/referrals", body=body)


def claim(wallet: Keypair, mint: str = MINT) -> Answer:
    body = signed(wallet, "referral_claim", mint=mint)
    return invoke("POST", f"/api/referrals/{wallet.pubkey()}/claim", body=body)


def give_pending(engine: Engine, wallet: Keypair, amount: int, mint: str = MINT) -> None:
    with engine.begin() as conn:
        conn.execute(
            insert(referral_rewards).values(
                referrer_wallet=str(wallet.pubkey()), mint=mint, amount_pending=amount
            )
        )


def pending_of(engine: Engine, wallet: Keypair, mint: str = MINT) -> int:
    with engine.begin() as conn:
        return int(
            conn.execute(
                select(referral_rewards.c.amount_pending).where(
                    referral_rewards.c.referrer_wallet == str(wallet.pubkey()),
                    referral_rewards.c.mint == mint,
                )
            ).scalar_one()
        )


def test_first_referrer_wins_forever(people_db: TestDatabase) -> None:
    referred, first, second = Keypair(), Keypair(), Keypair()
    created = register(referred, first)
    assert created.status == 201
    assert created.body["referrer"] == str(first.pubkey())
    again = register(referred, second)
    assert again.status == 409
    assert again.problem()["reason"] == "already_referred"
    assert again.problem()["referrer"] == str(first.pubkey())


def test_self_referral_is_422_naming_the_referrer(people_db: TestDatabase) -> None:
    wallet = Keypair()
    answer = register(wallet, wallet)
    assert answer.status == 422
    assert answer.problem()["errors"][0]["field"] == "referrer"


def test_a_cycle_is_refused_at_any_depth(people_db: TestDatabase) -> None:
    a, b, c = Keypair(), Keypair(), Keypair()
    assert register(b, a).status == 201  # a referred b
    assert register(c, b).status == 201  # b referred c
    closing = register(a, c)  # c would refer a: a -> b -> c -> a
    assert closing.status == 409
    assert closing.problem()["reason"] == "cycle"
    assert register(a, b).status == 409  # the direct cycle too


def test_a_wallet_that_already_joined_a_pool_cannot_be_referred(
    people_db: TestDatabase, direct_engine: Engine
) -> None:
    player, referrer = Keypair(), Keypair()
    insert_mint(direct_engine)
    pool_id = insert_pool(direct_engine)
    insert_participant(direct_engine, pool_id, str(player.pubkey()), 0)
    answer = register(player, referrer)
    assert answer.status == 409
    assert answer.problem()["reason"] == "already_played"


def test_summary_lists_invited_and_amounts_per_mint_with_decimals(
    people_db: TestDatabase, direct_engine: Engine
) -> None:
    referrer, b, c = Keypair(), Keypair(), Keypair()
    assert register(b, referrer).status == 201
    assert register(c, referrer).status == 201
    insert_mint(direct_engine, decimals=9)
    give_pending(direct_engine, referrer, 12_345_678_901_234_567_890)  # above 2**63: still exact
    summary = invoke("GET", f"/api/referrals/{referrer.pubkey()}")
    assert summary.status == 200
    assert summary.body["invited"] == 2
    assert summary.body["balances"] == [
        {
            "mint": MINT,
            "decimals": 9,
            "symbol": "TEST",
            "earned": "12345678901234567890",
            "pending": "12345678901234567890",
            "claiming": "0",
            "claimed": "0",
        }
    ]
    assert invoke("GET", f"/api/referrals/{b.pubkey()}").body["referrer"] == str(referrer.pubkey())
    first = invoke("GET", f"/api/referrals/{referrer.pubkey()}/invited", query={"limit": "1"})
    assert first.status == 200
    assert [i["wallet"] for i in first.body["items"]] == [str(c.pubkey())]
    rest = invoke(
        "GET",
        f"/api/referrals/{referrer.pubkey()}/invited",
        query={"limit": "1", "before_id": str(first.body["next_before_id"])},
    )
    assert [i["wallet"] for i in rest.body["items"]] == [str(b.pubkey())]


def test_rewards_list_shows_each_pools_allocation(people_db: TestDatabase, direct_engine: Engine) -> None:
    from missout.db.tables import referral_allocations

    referrer = Keypair()
    insert_mint(direct_engine)
    pool_id = insert_pool(direct_engine)
    with direct_engine.begin() as conn:
        conn.execute(insert(referral_allocations).values(pool_id=pool_id, mint=MINT, total=500))
        conn.execute(
            insert(referral_reward_events).values(
                pool_id=pool_id, mint=MINT, referrer_wallet=str(referrer.pubkey()), amount=500
            )
        )
    page = invoke("GET", f"/api/referrals/{referrer.pubkey()}/rewards")
    assert page.status == 200
    assert [(r["pool_id"], r["amount"], r["decimals"]) for r in page.body["items"]] == [(pool_id, "500", 6)]


def test_a_claim_moves_pending_into_a_queued_claim_readable_by_id(
    people_db: TestDatabase, direct_engine: Engine
) -> None:
    referrer = Keypair()
    insert_mint(direct_engine)
    give_pending(direct_engine, referrer, 7_000)
    answer = claim(referrer)
    assert answer.status == 202, answer.body
    assert answer.body["amount"] == "7000"
    assert answer.body["status"] == "queued"
    assert pending_of(direct_engine, referrer) == 0
    status = invoke("GET", f"/api/referrals/claims/{answer.body['id']}")
    assert status.status == 200
    assert status.body["status"] == "queued"
    listed = invoke("GET", f"/api/referrals/{referrer.pubkey()}/claims")
    assert [c["id"] for c in listed.body["items"]] == [answer.body["id"]]
    summary = invoke("GET", f"/api/referrals/{referrer.pubkey()}").body["balances"][0]
    assert (summary["pending"], summary["claiming"], summary["earned"]) == ("0", "7000", "7000")
    assert invoke("GET", "/api/referrals/claims/999999").status == 404


def test_a_second_claim_while_one_is_open_is_409_and_takes_nothing(
    people_db: TestDatabase, direct_engine: Engine
) -> None:
    referrer = Keypair()
    insert_mint(direct_engine)
    give_pending(direct_engine, referrer, 7_000)
    assert claim(referrer).status == 202
    give_pending_more = 3_000
    with direct_engine.begin() as conn:
        conn.execute(
            referral_rewards.update()
            .where(referral_rewards.c.referrer_wallet == str(referrer.pubkey()))
            .values(amount_pending=give_pending_more)
        )
    second = claim(referrer)
    assert second.status == 409
    assert second.problem()["reason"] == "claim_open"
    assert pending_of(direct_engine, referrer) == give_pending_more


def test_a_claim_with_nothing_pending_is_409(people_db: TestDatabase, direct_engine: Engine) -> None:
    insert_mint(direct_engine)
    answer = claim(Keypair())
    assert answer.status == 409
    assert answer.problem()["reason"] == "nothing_pending"


def test_fifty_concurrent_claims_of_one_balance_take_at_most_what_was_pending(
    people_db: TestDatabase, direct_engine: Engine
) -> None:
    referrer = Keypair()
    insert_mint(direct_engine)
    pending = 1_000_000
    give_pending(direct_engine, referrer, pending)
    bodies: list[dict[str, Any]] = [signed(referrer, "referral_claim", mint=MINT) for _ in range(50)]
    with ThreadPoolExecutor(max_workers=16) as pool:
        answers = list(
            pool.map(lambda b: invoke("POST", f"/api/referrals/{referrer.pubkey()}/claim", body=b), bodies)
        )
    statuses = sorted(a.status for a in answers)
    assert set(statuses) <= {202, 409}, statuses
    with direct_engine.begin() as conn:
        claimed = [int(a) for a in conn.execute(select(referral_claims.c.amount)).scalars()]
    assert sum(claimed) <= pending
    assert sum(claimed) + pending_of(direct_engine, referrer) == pending  # nothing lost, nothing made up
    assert statuses.count(202) == len(claimed) == 1
