"""The draw proof: `GET /api/pools/{address}/fairness` and `tools/verify_draw.py` recompute the winner from
the chain exactly as the program picked it."""

from __future__ import annotations

import json
import os

import pytest
from solders.pubkey import Pubkey

from missout.chain.accounts import PoolStatus, decode_pool
from missout.chain.instructions import (
    MOCK_RANDOMNESS_ACCOUNT,
    build_request_randomness,
    build_select_winner,
    build_unlock_pool,
)
from missout.pools.fairness import recompute_draw
from tests.api.chain_api import api_event, invoke
from tests.support.fresh_process import run_fresh
from tests.support.verify_world import VerifyWorld
from tools.verify_draw import main as verify_draw_main

LOCK = 60


def _drawn_pool(world: VerifyWorld, players: int = 3) -> Pubkey:
    """A full mock-randomness pool taken through unlock, request and select by the dev wallet."""
    _, pool = world.create_pool(max_participants=players, lock_duration=LOCK, allow_mock=True)
    for _ in range(players - 1):
        world.join(pool, world.wallet())
    world.chain.advance_time(LOCK + 1)
    world.chain.airdrop(world.dev.pubkey(), 10**9)
    dev, program = world.dev, world.program_id
    world.send([build_unlock_pool(program, pool, dev.pubkey())], [dev])
    world.send([build_request_randomness(program, pool, MOCK_RANDOMNESS_ACCOUNT, dev.pubkey())], [dev])
    world.chain.advance_slots(2)
    world.send([build_select_winner(program, pool, MOCK_RANDOMNESS_ACCOUNT, dev.pubkey())], [dev])
    return pool


def _pool_account(world: VerifyWorld, pool: Pubkey):  # type: ignore[no-untyped-def]
    account = world.chain.get_account(pool)
    assert account is not None
    return decode_pool(bytes(account.data))


def test_fairness_recomputes_the_programs_winner(world: VerifyWorld) -> None:
    pool = _drawn_pool(world)
    on_chain = _pool_account(world, pool)
    assert on_chain.status is PoolStatus.WINNER_SELECTED
    answer = invoke("GET", f"/api/pools/{pool}/fairness")
    assert answer.status == 200, answer.body
    proof = answer.body
    assert proof["matches"] is True
    assert proof["winner"] == proof["stored_winner"] == str(on_chain.winner)
    assert proof["pool_id"] == str(on_chain.pool_id)
    assert proof["randomness_hex"] == on_chain.randomness.to_bytes(16, "little").hex()
    assert proof["randomness_account"] is None  # mock randomness binds no Switchboard account
    # The participants in on-chain order, and the index the formula gives for them.
    expected = recompute_draw(
        on_chain.pool_id, on_chain.randomness, [Pubkey.from_string(p) for p in proof["participants"]]
    )
    assert proof["index"] == expected.index
    assert proof["participants"][0] == str(world.creator.pubkey())
    assert answer.headers["cache-control"].startswith("public")


def test_fairness_before_the_draw_is_409(world: VerifyWorld) -> None:
    _, pool = world.create_pool()
    answer = invoke("GET", f"/api/pools/{pool}/fairness")
    assert answer.status == 409
    assert answer.problem()["type"] == "/problems/no-draw-yet"


def test_fairness_of_no_pool_is_404(world: VerifyWorld) -> None:
    answer = invoke("GET", f"/api/pools/{world.mint}/fairness")  # a mint, not a pool
    assert answer.status == 404
    assert answer.problem()["type"] == "/problems/pool-not-found"


def test_verify_draw_tool_agrees_with_the_chain(
    world: VerifyWorld, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    import os

    pool = _drawn_pool(world, players=4)
    url = os.environ["SOLANA_RPC_URLS"]
    assert verify_draw_main([str(pool), "--rpc", url, "--json"]) == 0
    result = json.loads(capsys.readouterr().out)
    assert result["matches"] is True
    assert result["winner"] == str(_pool_account(world, pool).winner)
    assert len(result["participants"]) == 4


def test_verify_draw_tool_refuses_an_undrawn_pool(
    world: VerifyWorld, capsys: pytest.CaptureFixture[str]
) -> None:
    import os

    _, pool = world.create_pool()
    assert verify_draw_main([str(pool), "--rpc", os.environ["SOLANA_RPC_URLS"]]) == 2
    assert "no winner has been drawn" in capsys.readouterr().err


# A fresh interpreter that imports nothing but the API handler, then serves one fairness request: the chain
# stack must be absent after the import and present (and working) after the request.
_COLD_CHILD = """
import json, sys
from local_lambda import lambda_context
import missout_api.handler as api

chain_stack = ("solana", "httpx2", "solders", "missout.chain.switchboard", "missout_api.onchain.fairness")
before = [m for m in chain_stack if m in sys.modules]
event = json.loads(sys.argv[1])
response = api.handler(event, lambda_context("api", 29))
after = [m for m in chain_stack if m in sys.modules]
result = {"before": before, "after": after, "status": response["statusCode"], "body": response["body"]}
print(json.dumps(result))
"""


def test_fairness_from_a_cold_process_loads_the_chain_stack_on_first_use(world: VerifyWorld) -> None:
    pool = _drawn_pool(world)
    # The world's fixtures put the database and the served chain into this process's environment.
    names = ("DATABASE_URL", "SOLANA_RPC_URLS", "PROGRAM_ID", "DEV_WALLET_PUBKEY", "TREASURY_WALLET_PUBKEY")
    event = api_event("GET", f"/api/pools/{pool}/fairness")
    result = run_fresh(_COLD_CHILD, json.dumps(event), env={name: os.environ[name] for name in names})
    assert result["before"] == []
    assert result["status"] == 200, result["body"]
    assert json.loads(result["body"])["matches"] is True
    assert set(result["after"]) == {
        "solana",
        "httpx2",
        "solders",
        "missout.chain.switchboard",
        "missout_api.onchain.fairness",
    }
