"""Instruction builders (account order and flags per docs/program.md §3) and the typed decoders."""

from __future__ import annotations

import dataclasses

import pytest
from solders.instruction import Instruction
from solders.pubkey import Pubkey

from missout.chain.accounts import PoolStatus
from missout.chain.addresses import (
    ASSOCIATED_TOKEN_PROGRAM_ID,
    RENT_SYSVAR_ID,
    SYSTEM_PROGRAM_ID,
    TOKEN_2022_PROGRAM_ID,
    TOKEN_PROGRAM_ID,
)
from missout.chain.instruction_decoding import (
    CancelPoolInstruction,
    ClaimRefundInstruction,
    ClaimRentInstruction,
    CreatePoolInstruction,
    DonateInstruction,
    JoinPoolInstruction,
    UnsupportedInstructionError,
    decode_user_instruction,
)
from missout.chain.instructions import (
    MOCK_RANDOMNESS_ACCOUNT,
    CreatePoolArgs,
    build_admin_close_pool,
    build_cancel_pool,
    build_claim_refund,
    build_claim_refund_forfeit,
    build_claim_rent,
    build_create_pool,
    build_donate,
    build_finalize_forfeited_pool,
    build_force_expire,
    build_join_pool,
    build_pause_pool,
    build_payout_winner,
    build_request_randomness,
    build_select_winner,
    build_set_lock_duration,
    build_sweep_expired_pool,
    build_unlock_pool,
    build_unpause_pool,
)
from missout.chain.pda import associated_token_address, find_participants_address, find_pool_address
from missout.chain.pool_keys import PoolKeys
from missout.chain.program import (
    MalformedInstructionError,
    ProgramCodec,
    UnknownInstructionError,
    WrongProgramError,
)

from .conftest import key
from .test_accounts import sample_pool

PROGRAM_ID = Pubkey.from_string("4wgBJUHydWXXJKXYsmdGoGw1ufC3dxz8q2mukFYaAhSm")
DEV, TREASURY, PLAYER, MINT = key(1), key(2), key(20), key(10)
SALT = bytes(range(32))
POOL, _ = find_pool_address(PROGRAM_ID, MINT, SALT)
KEYS = PoolKeys(POOL, MINT, TOKEN_PROGRAM_ID)
PARTICIPANTS = find_participants_address(PROGRAM_ID, POOL)
ARGS = CreatePoolArgs(
    salt=SALT, max_participants=5, lock_duration=600, amount=20_000_000, dev_wallet=DEV, dev_fee_bps=500,
    burn_fee_bps=350, treasury_wallet=TREASURY, treasury_fee_bps=150, allow_mock=True,
)  # fmt: skip


def flags(instruction: Instruction) -> str:
    """Compact 'w'/'s' flags per account, e.g. 'w,ws,-' (order as on the wire)."""
    return ",".join(
        ("w" if m.is_writable else "") + ("s" if m.is_signer else "") or "-" for m in instruction.accounts
    )


def ata(owner: Pubkey) -> Pubkey:
    return associated_token_address(owner, MINT, TOKEN_PROGRAM_ID)


def test_create_pool_layout() -> None:
    ix = build_create_pool(PROGRAM_ID, MINT, TOKEN_PROGRAM_ID, ARGS, PLAYER)
    assert ix.program_id == PROGRAM_ID
    assert flags(ix) == "w,w,w,ws,w,-,-,-,-,w"
    assert [m.pubkey for m in ix.accounts] == [
        MINT, POOL, ata(PLAYER), PLAYER, KEYS.vault, TOKEN_PROGRAM_ID, ASSOCIATED_TOKEN_PROGRAM_ID,
        SYSTEM_PROGRAM_ID, RENT_SYSVAR_ID, PARTICIPANTS,
    ]  # fmt: skip
    data = bytes(ix.data)
    assert data[:8].hex() == "e992d18ecf6840bc"
    assert len(data) == 8 + 120
    args = data[8:]
    assert args[0:32] == SALT
    assert args[32] == 5
    assert int.from_bytes(args[33:41], "little") == 600
    assert int.from_bytes(args[41:49], "little") == 20_000_000
    assert args[49:81] == bytes(DEV)
    assert int.from_bytes(args[81:83], "little") == 500
    assert args[85:117] == bytes(TREASURY)
    assert int.from_bytes(args[117:119], "little") == 150
    assert args[119] == 1


def test_crank_layouts() -> None:
    pool = sample_pool(mint=MINT, winner=PLAYER, dev_wallet=DEV, treasury_wallet=TREASURY)
    randomness = key(30)
    cases = {
        "unlock_pool": (build_unlock_pool(PROGRAM_ID, POOL, DEV), "w,ws,-", [POOL, DEV, PARTICIPANTS]),
        "request_randomness": (
            build_request_randomness(PROGRAM_ID, POOL, randomness, DEV),
            "-,w,s,-",
            [randomness, POOL, DEV, PARTICIPANTS],
        ),
        "select_winner": (
            build_select_winner(PROGRAM_ID, POOL, randomness, DEV),
            "w,-,s,-",
            [POOL, randomness, DEV, PARTICIPANTS],
        ),
        "payout_winner": (
            build_payout_winner(PROGRAM_ID, KEYS, pool, DEV),
            "w,w,w,w,w,w,-,-,-,-,ws,w",
            [
                MINT, POOL, KEYS.vault, ata(PLAYER), ata(DEV), ata(TREASURY), TOKEN_PROGRAM_ID,
                ASSOCIATED_TOKEN_PROGRAM_ID, SYSTEM_PROGRAM_ID, PLAYER, DEV, PARTICIPANTS,
            ],
        ),
        "claim_refund": (
            build_claim_refund_forfeit(PROGRAM_ID, KEYS, TREASURY, DEV),
            "w,w,w,w,w,ws,-,w",
            [MINT, POOL, KEYS.vault, ata(DEV), ata(TREASURY), DEV, TOKEN_PROGRAM_ID, PARTICIPANTS],
        ),
        "claim_rent": (
            build_claim_rent(PROGRAM_ID, KEYS, TREASURY, DEV),
            "w,w,w,w,ws,-,w",
            [POOL, MINT, KEYS.vault, TREASURY, DEV, TOKEN_PROGRAM_ID, PARTICIPANTS],
        ),
        "sweep_expired_pool": (
            build_sweep_expired_pool(PROGRAM_ID, KEYS, DEV),
            "w,w,w,ws,-,-,-",
            [MINT, POOL, KEYS.vault, DEV, TOKEN_PROGRAM_ID, SYSTEM_PROGRAM_ID, PARTICIPANTS],
        ),
        "admin_close_pool": (
            build_admin_close_pool(PROGRAM_ID, KEYS, PLAYER, DEV),
            "w,w,w,w,ws,-,-",
            [MINT, POOL, KEYS.vault, PLAYER, DEV, TOKEN_PROGRAM_ID, SYSTEM_PROGRAM_ID],
        ),
        "finalize_forfeited_pool": (
            build_finalize_forfeited_pool(PROGRAM_ID, KEYS, TREASURY, DEV),
            "w,w,w,w,ws,-,w",
            [MINT, POOL, KEYS.vault, ata(TREASURY), DEV, TOKEN_PROGRAM_ID, PARTICIPANTS],
        ),
        "pause_pool": (build_pause_pool(PROGRAM_ID, POOL, DEV), "w,ws,-", [POOL, DEV, PARTICIPANTS]),
        "unpause_pool": (build_unpause_pool(PROGRAM_ID, POOL, DEV), "w,ws,-", [POOL, DEV, PARTICIPANTS]),
        "force_expire": (build_force_expire(PROGRAM_ID, POOL, DEV), "w,s", [POOL, DEV]),
    }  # fmt: skip
    discriminators = {
        "unlock_pool": "3313ea9cffb759fe", "request_randomness": "d505ada625ec1f12",
        "select_winner": "77422cec4f9e5233", "payout_winner": "c0f19d9e82960a08",
        "claim_refund": "0f101ea1ffe4613c", "claim_rent": "39e9338966651a65",
        "sweep_expired_pool": "b604a1dd62bc4991", "admin_close_pool": "5369b2bc3d7d75c8",
        "finalize_forfeited_pool": "c1d68978f9093ba1", "pause_pool": "a00f0cbda000f3f5",
        "unpause_pool": "f19481f3de7d7da0", "force_expire": "b5e9e196d53991a9",
    }  # fmt: skip
    for name, (ix, expected_flags, expected_keys) in cases.items():
        assert flags(ix) == expected_flags, name
        assert [m.pubkey for m in ix.accounts] == expected_keys, name
        assert bytes(ix.data) == bytes.fromhex(discriminators[name]), name


def test_mock_randomness_account_is_the_zero_key() -> None:
    ix = build_request_randomness(PROGRAM_ID, POOL, MOCK_RANDOMNESS_ACCOUNT, DEV)
    assert bytes(ix.accounts[0].pubkey) == bytes(32)


def test_token_2022_pool_uses_token_2022_atas() -> None:
    keys = PoolKeys(POOL, MINT, TOKEN_2022_PROGRAM_ID)
    ix = build_join_pool(PROGRAM_ID, keys, 20_000_000, PLAYER)
    assert ix.accounts[2].pubkey == associated_token_address(POOL, MINT, TOKEN_2022_PROGRAM_ID)
    assert ix.accounts[3].pubkey == associated_token_address(PLAYER, MINT, TOKEN_2022_PROGRAM_ID)
    assert ix.accounts[5].pubkey == TOKEN_2022_PROGRAM_ID


def test_pool_keys_recover_the_token_program_from_the_account() -> None:
    vault = associated_token_address(POOL, MINT, TOKEN_2022_PROGRAM_ID)
    keys = PoolKeys.of(POOL, sample_pool(mint=MINT, pool_token=vault))
    assert keys.token_program == TOKEN_2022_PROGRAM_ID
    assert PoolKeys.of(POOL, sample_pool(mint=MINT, pool_token=None)).token_program == TOKEN_PROGRAM_ID


def _decode(ix: Instruction) -> object:
    return decode_user_instruction(
        ix.program_id, [m.pubkey for m in ix.accounts], bytes(ix.data), expected_program_id=PROGRAM_ID
    )


def test_user_instructions_round_trip() -> None:
    create = _decode(build_create_pool(PROGRAM_ID, MINT, TOKEN_PROGRAM_ID, ARGS, PLAYER))
    assert isinstance(create, CreatePoolInstruction)
    assert (create.pool, create.user, create.args) == (POOL, PLAYER, ARGS)

    join = _decode(build_join_pool(PROGRAM_ID, KEYS, 20_000_000, PLAYER))
    assert join == JoinPoolInstruction(
        MINT, POOL, KEYS.vault, ata(PLAYER), PLAYER, TOKEN_PROGRAM_ID, PARTICIPANTS, 20_000_000
    )
    donate = _decode(build_donate(PROGRAM_ID, KEYS, 21_000_000, PLAYER, user_token=key(40)))
    assert donate == DonateInstruction(
        MINT, POOL, KEYS.vault, key(40), PLAYER, TOKEN_PROGRAM_ID, PARTICIPANTS, 21_000_000
    )
    cancel = _decode(build_cancel_pool(PROGRAM_ID, KEYS, PLAYER))
    assert cancel == CancelPoolInstruction(MINT, POOL, KEYS.vault, PLAYER, TOKEN_PROGRAM_ID)
    refund = _decode(build_claim_refund(PROGRAM_ID, KEYS, TREASURY, PLAYER))
    assert refund == ClaimRefundInstruction(
        MINT, POOL, KEYS.vault, ata(PLAYER), ata(TREASURY), PLAYER, TOKEN_PROGRAM_ID, PARTICIPANTS
    )
    rent = _decode(build_claim_rent(PROGRAM_ID, KEYS, PLAYER, PLAYER))
    assert rent == ClaimRentInstruction(
        POOL, MINT, KEYS.vault, PLAYER, PLAYER, TOKEN_PROGRAM_ID, PARTICIPANTS
    )


def test_set_lock_duration_encodes_i64() -> None:
    ix = build_set_lock_duration(PROGRAM_ID, POOL, 3_600, PLAYER)
    assert bytes(ix.data) == bytes.fromhex("c5c6834b1974146f") + (3_600).to_bytes(8, "little")
    assert flags(ix) == "w,ws,-"


def test_trailing_data_is_ignored_like_the_program_does() -> None:
    ix = build_join_pool(PROGRAM_ID, KEYS, 20_000_000, PLAYER)
    decoded = decode_user_instruction(
        PROGRAM_ID, [m.pubkey for m in ix.accounts], bytes(ix.data) + b"junk", expected_program_id=PROGRAM_ID
    )
    assert isinstance(decoded, JoinPoolInstruction)
    assert decoded.amount == 20_000_000


def test_garbage_is_a_typed_error_never_a_crash() -> None:
    ix = build_join_pool(PROGRAM_ID, KEYS, 20_000_000, PLAYER)
    accounts = [m.pubkey for m in ix.accounts]
    data = bytes(ix.data)
    with pytest.raises(WrongProgramError):
        decode_user_instruction(key(99), accounts, data, expected_program_id=PROGRAM_ID)
    with pytest.raises(MalformedInstructionError):
        decode_user_instruction(PROGRAM_ID, accounts, data[:5], expected_program_id=PROGRAM_ID)
    with pytest.raises(MalformedInstructionError):
        decode_user_instruction(PROGRAM_ID, accounts, data[:12], expected_program_id=PROGRAM_ID)
    with pytest.raises(MalformedInstructionError):
        decode_user_instruction(PROGRAM_ID, accounts[:6], data, expected_program_id=PROGRAM_ID)
    with pytest.raises(UnknownInstructionError):
        decode_user_instruction(PROGRAM_ID, accounts, b"\xff" * 16, expected_program_id=PROGRAM_ID)
    create = build_create_pool(PROGRAM_ID, MINT, TOKEN_PROGRAM_ID, ARGS, PLAYER)
    bad_bool = bytes(create.data)[:-1] + b"\x02"
    with pytest.raises(MalformedInstructionError, match="bool"):
        decode_user_instruction(
            PROGRAM_ID, [m.pubkey for m in create.accounts], bad_bool, expected_program_id=PROGRAM_ID
        )
    with pytest.raises(UnsupportedInstructionError):
        _decode(build_unlock_pool(PROGRAM_ID, POOL, DEV))


def test_builders_reject_out_of_range_args() -> None:
    from missout.chain.borsh import BorshEncodeError

    with pytest.raises(BorshEncodeError):
        build_join_pool(PROGRAM_ID, KEYS, -1, PLAYER)
    with pytest.raises(BorshEncodeError):
        build_create_pool(
            PROGRAM_ID, MINT, TOKEN_PROGRAM_ID, dataclasses.replace(ARGS, max_participants=256), PLAYER
        )


def test_seed_era_idl_orders_payout_accounts_its_own_way(seed_era_codec: ProgramCodec) -> None:
    pool = sample_pool(mint=MINT, winner=PLAYER, status=PoolStatus.WINNER_SELECTED)
    ix = build_payout_winner(PROGRAM_ID, KEYS, pool, DEV, codec=seed_era_codec)
    assert ix.accounts[7].pubkey == SYSTEM_PROGRAM_ID
    assert ix.accounts[8].pubkey == ASSOCIATED_TOKEN_PROGRAM_ID
