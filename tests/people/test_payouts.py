"""Referral payouts on the local chain (in process, real solana-py client) with PostgreSQL behind pgBouncer:
a full round (A refers B and C through the API, they play a pool the monitor's ticks pay out, A's allocation
is exact, A claims, the payout executor pays, A's token balance rises by exactly the claim), exactly-once
across an interrupted run, the caps, a failed payout that returns the amount to pending, and a claim paid by
the real monitor Lambda handler with the treasury key read from Secrets Manager (moto)."""

from __future__ import annotations

import asyncio
import json
from collections.abc import Callable, Iterator
from pathlib import Path

import boto3
import pytest
from moto import mock_aws
from solders.account import Account
from solders.keypair import Keypair
from sqlalchemy import select
from sqlalchemy.engine import Engine

from local_lambda import lambda_context
from localnet.spl_token import TOKEN_PROGRAM_ID, TokenAccount, pack_token_account
from missout.chain.pda import associated_token_address
from missout.db.tables import pool_payouts, referral_claims, referral_reward_events, referral_rewards
from missout.referrals.payouts import PayoutCaps, PayoutReport, pay_queued_claims
from tests.api.chain_api import Answer, invoke
from tests.monitor.served import monitor_handler_env
from tests.monitor.world import FAST_SEND, SECRET, MonitorWorld, plenty
from tests.people.signing import signed
from tests.support.database import TestDatabase
from tests.support.factories import insert_mint
from tests.support.http_server import free_socket, serve_in_thread

pytestmark = [pytest.mark.integration, pytest.mark.localnet]

NO_CAPS = PayoutCaps(per_claim=10**18, per_day=10**19)


class ReferralWorld(MonitorWorld):
    """A monitor world whose pools are played by wallets chosen in advance (so they can be referred first)."""

    def __init__(self, seed: bytes, engine: Engine) -> None:
        super().__init__(seed, engine)
        self.next_players: list[Keypair] = []

    def player(self) -> Keypair:
        if not self.next_players:
            return super().player()
        keypair = self.next_players.pop(0)
        self.chain.set_account(keypair.pubkey(), Account(100 * 10**9, b"", keypair.pubkey().default()))
        token = pack_token_account(TokenAccount(mint=self.mint, owner=keypair.pubkey(), amount=1_000 * 10**6))
        ata = associated_token_address(keypair.pubkey(), self.mint, TOKEN_PROGRAM_ID)
        self.chain.set_account(ata, Account(self.chain.minimum_balance(len(token)), token, TOKEN_PROGRAM_ID))
        return keypair

    def has_token_account(self, owner: Keypair) -> bool:
        return (
            self.chain.get_account(associated_token_address(owner.pubkey(), self.mint, TOKEN_PROGRAM_ID))
            is not None
        )

    def received(self, owner: Keypair) -> int:
        """The owner's token balance; 0 while it has no token account (a payout creates it)."""
        return self.balance(owner.pubkey()) if self.has_token_account(owner) else 0

    async def pay(self, caps: PayoutCaps = NO_CAPS, remaining_ms: Callable[[], int] = plenty) -> PayoutReport:
        async with self.rpc() as rpc:
            return await pay_queued_claims(
                self.app_engine, rpc, self.treasury, caps, remaining_ms, policy=FAST_SEND
            )


@pytest.fixture
def world(people_db: TestDatabase, direct_engine: Engine) -> Iterator[ReferralWorld]:
    made = ReferralWorld(b"people-referral-round", direct_engine)
    yield made
    made.close()


async def api(method: str, path: str, body: dict[str, object] | None = None) -> Answer:
    """The real handler runs its own event loop (as on Lambda): call it from a worker thread."""
    return await asyncio.to_thread(invoke, method, path, body=body)


async def claim(world: ReferralWorld, wallet: Keypair) -> dict[str, object]:
    body = await asyncio.to_thread(signed, wallet, "referral_claim", mint=str(world.mint))
    answer = await api("POST", f"/api/referrals/{wallet.pubkey()}/claim", body)
    assert answer.status == 202, answer.body
    assert isinstance(answer.body, dict)
    return answer.body


def pending(engine: Engine, wallet: Keypair) -> int:
    with engine.begin() as conn:
        return int(
            conn.execute(
                select(referral_rewards.c.amount_pending).where(
                    referral_rewards.c.referrer_wallet == str(wallet.pubkey())
                )
            ).scalar_one()
        )


def give_pending(world: ReferralWorld, wallet: Keypair, amount: int) -> None:
    insert_mint(world.engine, address=str(world.mint))
    with world.engine.begin() as conn:
        conn.execute(
            referral_rewards.insert().values(
                referrer_wallet=str(wallet.pubkey()), mint=str(world.mint), amount_pending=amount
            )
        )


async def test_a_full_referral_round_pays_the_referrer_exactly_its_allocation(world: ReferralWorld) -> None:
    a, b, c = Keypair(), Keypair(), Keypair()
    for referred in (b, c):
        body = await asyncio.to_thread(
            signed, referred, "referral_register", wallet=str(referred.pubkey()), referrer=str(a.pubkey())
        )
        assert (await api("POST", "/api/referrals", body)).status == 201
    world.next_players = [b, c]
    pool = world.full_pool(participants=2)
    pool_id = world.register(pool)
    for _ in range(30):  # the monitor's real ticks drive it to the payout
        await world.tick()
        if world.record(pool_id)["status"] == "ended":
            break
        world.chain.advance_slots(1)
        await asyncio.sleep(0.05)
    assert world.record(pool_id)["status"] == "ended"

    with world.engine.begin() as conn:
        treasury_amount = int(conn.execute(select(pool_payouts.c.treasury_amount)).scalar_one())
        events = conn.execute(
            select(referral_reward_events.c.referrer_wallet, referral_reward_events.c.amount)
        ).all()
    assert treasury_amount == 2 * 20_000_000 * 100 // 10_000  # the world's pools pay 1 % to the treasury
    # B and C share one referrer, A: the whole treasury share is A's, once (not once per referred player).
    assert [(w, int(x)) for w, x in events] == [(str(a.pubkey()), treasury_amount)]
    assert pending(world.engine, a) == treasury_amount

    queued = await claim(world, a)
    assert queued["amount"] == str(treasury_amount)
    assert not world.has_token_account(a)
    treasury_before = world.balance(world.treasury.pubkey())

    report = await world.pay()
    assert report.paid == [queued["id"]]
    assert world.received(a) == treasury_amount  # its account was created and credited exactly
    assert world.balance(world.treasury.pubkey()) == treasury_before - treasury_amount
    status = (await api("GET", f"/api/referrals/claims/{queued['id']}")).body
    assert status["status"] == "paid"
    assert status["signature"] is not None
    summary = (await api("GET", f"/api/referrals/{a.pubkey()}")).body["balances"][0]
    assert (summary["pending"], summary["claiming"], summary["claimed"]) == ("0", "0", str(treasury_amount))

    again = await world.pay()  # nothing left to pay: no second transfer
    assert again == PayoutReport()
    assert world.received(a) == treasury_amount


async def test_an_interrupted_payout_is_resumed_with_the_same_bytes_and_pays_once(
    world: ReferralWorld,
) -> None:
    a = Keypair()
    give_pending(world, a, 4_000)
    world.token_account(world.treasury.pubkey(), 1_000_000)
    queued = await claim(world, a)

    def until_signed() -> int:
        """Time runs out the moment the signed bytes are recorded, before the first send."""
        with world.engine.begin() as conn:
            status = conn.execute(select(referral_claims.c.status)).scalar_one()
        return 0 if status == "sending" else 60_000

    first = await world.pay(remaining_ms=until_signed)
    assert first.waiting == [queued["id"]]
    with world.engine.begin() as conn:
        row = conn.execute(select(referral_claims)).one()._mapping
    assert row["status"] == "sending"
    assert row["attempt"] == 1
    assert world.received(a) == 0  # recorded, never sent

    second = await world.pay()
    assert second.paid == [queued["id"]]
    with world.engine.begin() as conn:
        paid = conn.execute(select(referral_claims)).one()._mapping
    assert paid["signature"] == row["signature"]
    assert paid["attempt"] == 1
    assert world.received(a) == 4_000
    assert (await world.pay()) == PayoutReport()
    assert world.received(a) == 4_000


async def test_a_failed_payout_returns_the_amount_to_pending_and_says_why(world: ReferralWorld) -> None:
    a = Keypair()
    give_pending(world, a, 5_000)  # the treasury's token account holds nothing: the transfer cannot succeed
    queued = await claim(world, a)
    assert pending(world.engine, a) == 0

    report = await world.pay()
    assert report.failed == [queued["id"]]
    assert pending(world.engine, a) == 5_000
    status = (await api("GET", f"/api/referrals/claims/{queued['id']}")).body
    assert status["status"] == "failed"
    # The token program's InsufficientFunds (custom error 1) in the transfer (after the two budget
    # instructions and the account creation).
    assert status["error"] == "the payout would fail: custom Custom(1) (1) in instruction 3"
    assert world.received(a) == 0
    assert (await claim(world, a))["amount"] == "5000"  # claimable again


async def test_caps_fail_a_claim_above_the_per_claim_cap_and_hold_one_past_the_daily_cap(
    world: ReferralWorld,
) -> None:
    a, b = Keypair(), Keypair()
    give_pending(world, a, 5_000)
    with world.engine.begin() as conn:
        conn.execute(
            referral_rewards.insert().values(
                referrer_wallet=str(b.pubkey()), mint=str(world.mint), amount_pending=900
            )
        )
    world.token_account(world.treasury.pubkey(), 1_000_000)
    too_big, within = await claim(world, a), await claim(world, b)

    report = await world.pay(PayoutCaps(per_claim=1_000, per_day=10**9))
    assert report.failed == [too_big["id"]]
    assert report.paid == [within["id"]]
    assert pending(world.engine, a) == 5_000
    assert "per-claim cap" in (await api("GET", f"/api/referrals/claims/{too_big['id']}")).body["error"]

    held = await claim(world, a)  # 5 000 more would take today's 900 past a 1 000 daily cap
    report = await world.pay(PayoutCaps(per_claim=10_000, per_day=1_000))
    assert report.waiting == [held["id"]]
    assert (await api("GET", f"/api/referrals/claims/{held['id']}")).body["status"] == "queued"
    assert world.received(a) == 0


SCHEDULED_EVENT = Path(__file__).resolve().parents[2] / "events" / "monitor_scheduled.json"


async def test_the_monitor_handler_pays_a_claim_with_the_treasury_key_from_secrets_manager(
    world: ReferralWorld, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    """As deployed: the scheduled event reaches the real handler, which reads the treasury key from Secrets
    Manager (moto; any real AWS call would fail on the dead proxy) and pays the queued claim on chain. The run
    gets 10 s: the sender keeps 5 s of any run in reserve (`SendPolicy.safety_margin_ms`)."""
    from missout_monitor.handler import handler

    a = Keypair()
    give_pending(world, a, 4_000)
    world.token_account(world.treasury.pubkey(), 1_000_000)
    world.chain.follow_wall_clock()  # slots move on by themselves, so the payout reaches finalized
    queued = await claim(world, a)
    sock = free_socket()
    url = f"http://127.0.0.1:{sock.getsockname()[1]}"
    for name, value in {
        "AWS_DEFAULT_REGION": "eu-central-1",
        "AWS_ACCESS_KEY_ID": "testing",
        "AWS_SECRET_ACCESS_KEY": "testing",
        "HTTPS_PROXY": "http://127.0.0.1:9",
    }.items():
        monkeypatch.setenv(name, value)
    monkeypatch.delenv("TREASURY_WALLET_KEYPAIR_PATH", raising=False)
    with mock_aws():
        secrets = boto3.client("secretsmanager", region_name="eu-central-1")
        stored = secrets.create_secret(
            Name="missout/test/treasury", SecretString=json.dumps(list(bytes(world.treasury)))
        )
        with (
            monitor_handler_env(
                monkeypatch,
                tmp_path,
                rpc_url=url,
                dev=world.dev,
                randomness_secret=SECRET,
                TREASURY_WALLET_PUBKEY=str(world.treasury.pubkey()),
                TREASURY_WALLET_SECRET_ARN=str(stored["ARN"]),
            ),
            serve_in_thread(world.app, sock),
        ):
            summary = await asyncio.to_thread(
                handler, json.loads(SCHEDULED_EVENT.read_text()), lambda_context("monitor", 10.0)
            )
    assert summary["failed_ticks"] == 0
    status = (await api("GET", f"/api/referrals/claims/{queued['id']}")).body
    assert world.received(a) == 4_000, (status["status"], status.get("error"), summary)
    assert status["status"] == "paid"
    assert status["signature"] is not None
