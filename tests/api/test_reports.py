"""Reported on-chain actions through the real Lambda handler, proven against the local chain and recorded
in PostgreSQL behind pgBouncer: every answer the contract names, and each forged report refused with its
reason."""

from __future__ import annotations

from typing import Any

import pytest
from solders.keypair import Keypair
from solders.pubkey import Pubkey
from sqlalchemy import func, select
from sqlalchemy.engine import Engine

from missout import settings
from missout.chain.base58 import b58encode
from missout.db.tables import activity, mints, pools, used_signatures
from missout.wiring import reset_wiring
from tests.api.chain_api import Answer, away_from_a_window_edge, invoke
from tests.api.pool_checks import api_view, chain_view
from tests.support.runtime_support import token_transfer
from tests.support.verify_world import ENTRY, VerifyWorld


def _create(world: VerifyWorld, **changes: Any) -> tuple[str, Pubkey, Answer]:
    signature, pool = world.create_pool(**changes)
    answer = invoke(
        "POST",
        "/api/pools",
        body={"pool": str(pool), "signature": signature, "wallet": str(world.creator.pubkey())},
    )
    return signature, pool, answer


def _report(pool: Pubkey, action: str, signature: str, wallet: Keypair | Pubkey, **extra: str) -> Answer:
    who = wallet.pubkey() if isinstance(wallet, Keypair) else wallet
    return invoke(
        "POST", f"/api/pools/{pool}/{action}", body={"signature": signature, "wallet": str(who), **extra}
    )


def _matches_chain(world: VerifyWorld, pool: Pubkey) -> dict[str, Any]:
    detail = invoke("GET", f"/api/pools/{pool}")
    assert detail.status == 200, detail.body
    assert api_view(detail.body) == chain_view(world, pool)
    return detail.body  # type: ignore[no-any-return]


def test_create_is_recorded_from_the_chain_and_repeats_give_the_same_record(world: VerifyWorld) -> None:
    signature, pool, answer = _create(world)
    assert answer.status == 201, answer.body
    record = answer.body
    assert record["action"] == "create"
    assert record["pool"] == str(pool)
    assert record["amount"] == str(ENTRY)
    assert answer.headers["cache-control"] == "no-store"
    again = invoke(
        "POST",
        "/api/pools",
        body={"pool": str(pool), "signature": signature, "wallet": str(world.creator.pubkey())},
    )
    assert again.status == 200
    assert again.body == record
    detail = _matches_chain(world, pool)
    assert detail["mint"]["decimals"] == 6
    assert detail["mint"]["symbol"] is None  # the test mint carries no metadata
    assert detail["create_signature"] == signature


def test_join_donate_cancel_refund_and_rent_each_recorded_once(
    world: VerifyWorld, direct_engine: Engine
) -> None:
    _, pool, created = _create(world, max_participants=3)
    assert created.status == 201
    join = world.join(pool, world.player)
    assert _report(pool, "join", join, world.player).status == 201
    assert _report(pool, "join", join, world.player).status == 200
    donation = world.send([world.donate_ix(pool, world.other.pubkey(), ENTRY)], [world.other])
    answer = _report(pool, "donate", donation, world.other, amount=str(ENTRY))
    assert answer.status == 201, answer.body
    assert answer.body["amount"] == str(ENTRY)
    detail = _matches_chain(world, pool)
    assert detail["donated_amount"] == str(ENTRY)
    assert [d["signature"] for d in detail["donations"]] == [donation]

    cancel = world.cancel(pool)
    assert _report(pool, "cancel", cancel, world.creator).status == 201
    assert _matches_chain(world, pool)["status"] == "cancelled"
    claimable = invoke("GET", "/api/pools/claimable", query={"wallet": str(world.player.pubkey())})
    assert [p["address"] for p in claimable.body["refunds"]] == [str(pool)]

    refund = world.refund(pool, world.player)
    answer = _report(pool, "claim-refund", refund, world.player)
    assert answer.status == 201, answer.body
    assert answer.body["amount"] == str(ENTRY)  # a participant gets the whole entry back
    creator_refund = world.refund(pool, world.creator)
    answer = _report(pool, "claim-refund", creator_refund, world.creator)
    assert answer.body["amount"] == str(ENTRY - ENTRY // 20)  # the creator's 5 % is burned
    detail = _matches_chain(world, pool)
    assert [p["refund_claimed"] for p in detail["participants"]] == [True, True]

    rent = world.claim_rent(pool)
    answer = _report(pool, "claim-rent", rent, world.creator)
    assert answer.status == 201, answer.body
    closed = invoke("GET", f"/api/pools/{pool}").body
    assert (closed["status"], closed["rent_claimed"]) == ("closed", True)

    with direct_engine.connect() as conn:
        kinds = (
            conn.execute(select(used_signatures.c.action).order_by(used_signatures.c.used_at)).scalars().all()
        )
        assert sorted(kinds) == sorted(
            [
                "create_pool",
                "join_pool",
                "donate",
                "cancel_pool",
                "claim_refund",
                "claim_refund",
                "claim_rent",
            ]
        )
        assert conn.execute(select(func.count()).select_from(activity)).scalar_one() == 7


def test_a_join_for_an_unrecorded_pool_registers_it_first(world: VerifyWorld, direct_engine: Engine) -> None:
    create_signature, pool = world.create_pool()  # never reported
    join = world.join(pool, world.player)
    answer = _report(pool, "join", join, world.player)
    assert answer.status == 201, answer.body
    detail = _matches_chain(world, pool)
    assert detail["create_signature"] == create_signature
    assert [p["join_signature"] for p in detail["participants"]] == [create_signature, join]
    # The create is on record as the creator's action: reporting it now is a repeat.
    repeat = invoke(
        "POST",
        "/api/pools",
        body={"pool": str(pool), "signature": create_signature, "wallet": str(world.creator.pubkey())},
    )
    assert repeat.status == 200
    with direct_engine.connect() as conn:
        assert conn.execute(select(func.count()).select_from(pools)).scalar_one() == 1


def test_a_mint_name_and_symbol_come_from_its_metaplex_metadata(world: VerifyWorld) -> None:
    from solders.account import Account

    from missout.pools.mint_info import METAPLEX_METADATA_PROGRAM_ID, metaplex_metadata_address

    def borsh(text: str, width: int) -> bytes:
        raw = text.encode().ljust(width, b"\x00")
        return len(raw).to_bytes(4, "little") + raw

    data = (
        bytes([4])
        + bytes(32)
        + bytes(world.mint)
        + borsh("Test Token", 32)
        + borsh("TST", 10)
        + borsh("", 200)
    )
    world.chain.set_account(
        metaplex_metadata_address(world.mint),
        Account(world.chain.minimum_balance(len(data)), data, METAPLEX_METADATA_PROGRAM_ID),
    )
    _, pool, answer = _create(world)
    assert answer.status == 201
    assert invoke("GET", f"/api/pools/{pool}").body["mint"]["symbol"] == "TST"


def test_a_signature_used_for_something_else_is_409_naming_the_first_use(world: VerifyWorld) -> None:
    _, pool, _ = _create(world)
    join = world.join(pool, world.player)
    first = _report(pool, "join", join, world.player)
    answer = _report(pool, "donate", join, world.player, amount=str(ENTRY))
    assert answer.status == 409
    problem = answer.problem()
    assert problem["type"] == "/problems/signature-used"
    assert problem["first_use"] == first.body
    assert problem["reason"] == "no_matching_instruction"
    # The same action and pool reported under another wallet is not a repeat either.
    other = _report(pool, "join", join, world.other)
    assert other.status == 409


def test_forged_reports_are_refused_with_the_verifiers_reason(world: VerifyWorld) -> None:
    _, pool, _ = _create(world)
    _, other_pool, _ = _create(world)

    elsewhere = world.join(other_pool, world.player)  # a join of another pool, never reported
    assert _rejected(_report(pool, "join", elsewhere, world.player)) == "wrong_pool"

    create_signature, fresh_pool = world.create_pool()  # a create reported as a join (pool unrecorded)
    assert (
        _rejected(_report(fresh_pool, "join", create_signature, world.creator)) == "no_matching_instruction"
    )

    join = world.join(pool, world.player)  # signed by the player, reported for someone else
    assert _rejected(_report(pool, "join", join, world.other)) in ("wrong_wallet", "wallet_not_signer")

    vault = world.keys(pool).vault  # tokens sent straight into the vault, no program call
    transfer = world.send(
        [token_transfer(world.ata(world.other.pubkey()), world.mint, vault, world.other.pubkey(), ENTRY)],
        [world.other],
    )
    assert _rejected(_report(pool, "join", transfer, world.other)) == "no_matching_instruction"

    too_long = b58encode(b"\x07" * 65)  # the right alphabet and length, but 65 bytes: no signature
    assert _rejected(_report(pool, "join", too_long, world.player)) == "malformed_signature"


def _rejected(answer: Answer) -> str:
    assert answer.status == 422, answer.body
    problem = answer.problem()
    assert problem["type"] == "/problems/rejected-report"
    return str(problem["reason"])


def test_an_unknown_signature_is_202_with_retry_after(world: VerifyWorld, direct_engine: Engine) -> None:
    _, pool, _ = _create(world)
    unknown = b58encode(bytes(range(64)))
    answer = _report(pool, "join", unknown, world.player)
    assert answer.status == 202
    assert answer.body["status"] == "pending"
    assert int(answer.headers["retry-after"]) > 0
    with direct_engine.connect() as conn:
        assert conn.execute(select(func.count()).select_from(used_signatures)).scalar_one() == 1  # the create


def test_an_unknown_pool_is_404(world: VerifyWorld) -> None:
    donation_target = world.mint  # not a pool
    answer = _report(donation_target, "donate", b58encode(bytes(64)), world.player, amount=str(ENTRY))
    assert answer.status == 404
    assert answer.problem()["type"] == "/problems/pool-not-found"


def test_a_donation_report_needs_its_amount(world: VerifyWorld) -> None:
    _, pool, _ = _create(world)
    answer = _report(pool, "donate", b58encode(bytes(64)), world.player)
    assert answer.status == 422
    assert answer.problem()["errors"][0]["field"] == "amount"


def test_a_pool_with_a_foreign_dev_wallet_is_refused(world: VerifyWorld, direct_engine: Engine) -> None:
    _, _, answer = _create(world, dev_wallet=Keypair().pubkey())
    assert _rejected(answer) == "foreign_dev_wallet"
    with direct_engine.connect() as conn:
        assert conn.execute(select(func.count()).select_from(pools)).scalar_one() == 0
        assert conn.execute(select(func.count()).select_from(mints)).scalar_one() == 0


def test_rpc_down_is_503_with_retry_after(world: VerifyWorld, monkeypatch: pytest.MonkeyPatch) -> None:
    signature, pool = world.create_pool()
    monkeypatch.setenv("SOLANA_RPC_URLS", "http://127.0.0.1:9")  # discard port: nothing listens
    settings.clear_caches()
    reset_wiring()
    answer = invoke(
        "POST",
        "/api/pools",
        body={"pool": str(pool), "signature": signature, "wallet": str(world.creator.pubkey())},
    )
    assert answer.status == 503
    assert answer.problem()["dependency"] == "chain"
    assert int(answer.headers["retry-after"]) > 0


def test_the_wallet_limit_applies_to_reports(world: VerifyWorld, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("API_RATE_LIMIT_PER_WALLET", "2")
    settings.clear_caches()
    _, pool, _ = _create(world)
    join = world.join(pool, world.player)
    away_from_a_window_edge(margin_s=20.0)  # the four reports below must fall in one window
    statuses = [_report(pool, "join", join, world.player).status for _ in range(3)]
    assert statuses == [201, 200, 429]
    limited = _report(pool, "join", join, world.player)
    assert limited.problem()["limit"] == "wallet"
    assert '"wallet";q=2;w=60' in limited.headers["ratelimit-policy"]


def test_a_join_on_a_pool_made_unpayable_is_recorded_and_the_answer_says_why(world: VerifyWorld) -> None:
    """One stray unit sent straight into the vault breaks the program's vault-must-equal rule for good
    (docs/program.md §5.2): the join still happened and is recorded, but the player is told the pool can never
    pay out, the pool shows the reason, and the list can leave such pools out."""
    _, pool, created = _create(world)
    assert created.status == 201, created.body
    assert created.body["pool_unpayable_reason"] is None
    vault = world.keys(pool).vault
    world.send(
        [token_transfer(world.ata(world.other.pubkey()), world.mint, vault, world.other.pubkey(), 1)],
        [world.other],
    )
    join = _report(pool, "join", world.join(pool, world.player), world.player)
    assert join.status == 201, join.body
    assert join.body["pool_unpayable_reason"] == "vault_mismatch"
    detail = invoke("GET", f"/api/pools/{pool}")
    assert detail.body["unpayable_reason"] == "vault_mismatch"
    listed = invoke("GET", "/api/pools")
    assert [p["unpayable_reason"] for p in listed.body["items"]] == ["vault_mismatch"]
    assert invoke("GET", "/api/pools", query={"payable_only": "true"}).body["items"] == []
