"""Discriminators, sizes and offsets pinned to docs/program.md (numbers typed from the doc, not computed)."""

from __future__ import annotations

import hashlib
import json

from missout.chain.errors import ProgramErrorCode
from missout.chain.idl import shipped_idl
from missout.chain.program import ProgramCodec, shipped_codec

from .conftest import LAYER_IDL

INSTRUCTION_DISCRIMINATORS = {
    "create_pool": "e992d18ecf6840bc",
    "join_pool": "0e413e107411c36b",
    "donate": "79badad34946c4b4",
    "set_lock_duration": "c5c6834b1974146f",
    "cancel_pool": "d30b1b64fc73394d",
    "admin_close_pool": "5369b2bc3d7d75c8",
    "sweep_expired_pool": "b604a1dd62bc4991",
    "claim_refund": "0f101ea1ffe4613c",
    "claim_rent": "39e9338966651a65",
    "unlock_pool": "3313ea9cffb759fe",
    "request_randomness": "d505ada625ec1f12",
    "select_winner": "77422cec4f9e5233",
    "payout_winner": "c0f19d9e82960a08",
    "pause_pool": "a00f0cbda000f3f5",
    "unpause_pool": "f19481f3de7d7da0",
    "force_expire": "b5e9e196d53991a9",
    "finalize_forfeited_pool": "c1d68978f9093ba1",
}

EVENT_DISCRIMINATORS = {
    "PoolStateEvent": "48a94d43acd90373",
    "PoolActivityEvent": "74ddcb6e728b617c",
    "UIHint": "e5024679d91ae797",
    "RefundBurned": "36b44b956f1a1cd9",
    "RentClaimed": "21110479e4076488",
    "WinnerSelectedEvent": "58444c46ebfe075c",
    "RefundClaimedEvent": "4d53ac7beb3a9ae9",
    "ForfeitedToTreasury": "276e82f0133e1f74",
}

# docs/program.md §2.1, offsets including the discriminator.
LATEST_POOL_OFFSETS = {
    "pool_id": 8, "salt": 16, "mint": 48, "pool_token": 80, "creator": 112, "start_time": 144,
    "duration": 152, "expire_time": 160, "end_time": 168, "unlock_time": 176, "close_time": 184,
    "max_participants": 192, "lock_duration": 193, "lock_start_time": 201, "amount": 209,
    "total_amount": 217, "total_volume": 225, "total_joins": 233, "total_donations": 237,
    "dev_wallet": 241, "dev_fee_bps": 273, "burn_fee_bps": 275, "treasury_wallet": 277,
    "treasury_fee_bps": 309, "randomness": 311, "randomness_account": 327,
    "randomness_deadline_slot": 359, "bump": 367, "status": 368, "paused": 369, "version": 370,
    "schema": 371, "config_hash": 372, "allow_mock": 404, "randomness_commit_slot": 405,
    "initialized": 413, "last_join_time": 414, "status_reason": 422, "participants_account": 423,
    "winner": 455, "processing": 487,
}  # fmt: skip


# The deployed program's IDL, canonicalised: any edit to the shipped copy must be deliberate (and the layouts
# pinned in this file re-checked against docs/program.md).
SHIPPED_IDL_SHA256 = "6e3dc944e9e08cc7e30349f9d2bc0640286c96b8cc67802eb3ad6841ffc8bb42"


def test_shipped_idl_is_the_deployed_programs() -> None:
    canonical = json.dumps(json.loads(LAYER_IDL.read_text(encoding="utf-8")), sort_keys=True)
    assert hashlib.sha256(canonical.encode()).hexdigest() == SHIPPED_IDL_SHA256


def test_instruction_discriminators_match_the_program() -> None:
    idl = shipped_idl()
    assert {i.name: i.discriminator.hex() for i in idl.instructions} == INSTRUCTION_DISCRIMINATORS


def test_account_and_event_discriminators_match_the_program() -> None:
    codec = shipped_codec()
    assert codec.account_discriminator("Pool").hex() == "f19a6d0411b16dbc"
    assert codec.account_discriminator("Participants").hex() == "ae1c6be4a4fa53aa"
    assert {e.name: e.discriminator.hex() for e in codec.idl.events} == EVENT_DISCRIMINATORS


def test_latest_pool_is_488_bytes_with_documented_offsets() -> None:
    codec = shipped_codec()
    assert codec.account_size("Pool") == 488
    assert codec.field_offsets("Pool") == LATEST_POOL_OFFSETS


def test_participants_is_649_bytes() -> None:
    codec = shipped_codec()
    assert codec.account_size("Participants") == 649
    assert codec.field_offsets("Participants") == {"list": 8, "count": 648}


def test_seed_era_pool_is_455_bytes_with_shifted_offsets(seed_era_codec: ProgramCodec) -> None:
    offsets = seed_era_codec.field_offsets("Pool")
    assert seed_era_codec.account_size("Pool") == 455
    assert (offsets["creator"], offsets["status"], offsets["allow_mock"], offsets["winner"]) == (
        80,
        336,
        372,
        423,
    )
    assert "pool_token" not in offsets
    assert "processing" not in offsets


def test_error_enum_equals_the_idl_errors() -> None:
    assert {(e.code, e.name) for e in shipped_idl().errors} == {(c.value, c.name) for c in ProgramErrorCode}
    assert ProgramErrorCode(6021).name == "InvalidPoolStatus"
    assert ProgramErrorCode(6068).name == "PoolTokenMismatch"
