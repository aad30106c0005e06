"""The local chain's own IDL reading and the pure formulas, against docs/program.md's worked examples."""

from __future__ import annotations

import base64
import struct

import pytest
from solders.pubkey import Pubkey

from localnet.idl import IdlDecodeError, load_idl
from localnet.programs.pool_state import (
    Pool,
    compute_pool_id,
    config_hash,
    creator_refund_burn,
    decode_pool,
    payout_split,
    winner_index,
)
from localnet.programs.switchboard import RANDOMNESS_COMMIT, RANDOMNESS_INIT, RANDOMNESS_REVEAL

IDL = load_idl()


@pytest.mark.parametrize(
    ("name", "hex_discriminator"),
    [
        ("create_pool", "e992d18ecf6840bc"),
        ("join_pool", "0e413e107411c36b"),
        ("claim_rent", "39e9338966651a65"),
        ("finalize_forfeited_pool", "c1d68978f9093ba1"),
        ("select_winner", "77422cec4f9e5233"),
    ],
)
def test_instruction_discriminators_match_the_reference(name: str, hex_discriminator: str) -> None:
    assert IDL.instruction(name).discriminator.hex() == hex_discriminator


def test_account_and_event_discriminators_match_the_reference() -> None:
    assert IDL.account_discriminators["Pool"].hex() == "f19a6d0411b16dbc"
    assert IDL.account_discriminators["Participants"].hex() == "ae1c6be4a4fa53aa"
    assert IDL.event_discriminators["WinnerSelectedEvent"].hex() == "58444c46ebfe075c"


def test_switchboard_discriminators_match_solana_notes() -> None:
    assert list(RANDOMNESS_INIT) == [9, 9, 204, 33, 50, 116, 113, 15]
    assert list(RANDOMNESS_COMMIT) == [52, 170, 152, 201, 179, 133, 242, 141]
    assert list(RANDOMNESS_REVEAL) == [197, 181, 187, 10, 30, 58, 20, 73]


def test_create_pool_args_are_120_bytes_at_the_documented_offsets_and_round_trip() -> None:
    dev = Pubkey.from_bytes(bytes([1]) * 32)
    args = {
        "salt": bytes(range(32)),
        "max_participants": 5,
        "lock_duration": 600,
        "amount": 20_000_000,
        "dev_wallet": dev,
        "dev_fee_bps": 500,
        "burn_fee_bps": 350,
        "treasury_wallet": dev,
        "treasury_fee_bps": 150,
        "allow_mock": True,
    }
    data = IDL.encode_instruction("create_pool", args)
    body = data[8:]
    assert len(body) == 120
    assert (body[32], struct.unpack_from("<q", body, 33)[0], struct.unpack_from("<Q", body, 41)[0]) == (
        5,
        600,
        20_000_000,
    )
    assert (struct.unpack_from("<H", body, 117)[0], body[119]) == (150, 1)
    assert IDL.decode_instruction(data) == ("create_pool", args)


def test_bad_bool_argument_does_not_decode() -> None:
    data = bytearray(IDL.encode_instruction("join_pool", {"amount": 1}))
    with pytest.raises(IdlDecodeError):
        IDL.decode_instruction(bytes(data[:10]))


def test_account_lists_come_from_the_idl_with_flags_and_seeds() -> None:
    ix = IDL.instruction("select_winner")
    assert [meta.name for meta in ix.accounts] == ["pool", "randomness", "user", "participants"]
    assert [(meta.writable, meta.signer) for meta in ix.accounts] == [
        (True, False),
        (False, False),
        (False, True),
        (False, False),
    ]
    pool = Pubkey.new_unique()
    expected = Pubkey.find_program_address([b"participants", bytes(pool)], IDL.address)
    assert IDL.find_pda(ix, "participants", {"pool": pool}, {}) == expected


def test_config_hash_and_pool_id_worked_example() -> None:
    """docs/program.md §2.5."""
    blank = decode_pool(IDL, IDL.account_discriminators["Pool"] + bytes(480))
    pool: Pool = blank
    pool.salt, pool.max_participants, pool.lock_duration, pool.amount = bytes(range(32)), 5, 600, 20_000_000
    pool.dev_wallet = Pubkey.from_bytes(bytes([1]) * 32)
    pool.treasury_wallet = Pubkey.from_bytes(bytes([2]) * 32)
    pool.dev_fee_bps, pool.burn_fee_bps, pool.treasury_fee_bps = 500, 350, 150
    pool.start_time, pool.duration = 1_700_000_000, 604_800
    assert config_hash(pool).hex() == "e583e1060d1e7a1b2964700c6848965f7129b134ad2781b7aec83691606136fb"
    creator = Pubkey.from_bytes(bytes([3]) * 32)
    assert compute_pool_id(bytes(range(32)), 300_000_000, creator) == 14447576600794188205


def test_winner_formula_worked_example() -> None:
    """docs/program.md §4.3: index 2 of 5."""
    assert winner_index(14447576600794188205, 222146188002524544078196617713552433123, 5) == 2


def test_payout_split_example_and_overflow() -> None:
    split = payout_split(100_000_007, 500, 350, 150)
    assert split is not None
    assert (split.dev, split.burn, split.treasury, split.winner) == (
        5_000_000,
        3_500_000,
        1_500_000,
        90_000_007,
    )
    assert split.dev + split.burn + split.treasury + split.winner == 100_000_007
    assert payout_split(36_893_488_147_419_104, 500, 0, 0) is None  # just above (2^64-1)/500


def test_creator_refund_burn_is_five_percent_floored() -> None:
    assert creator_refund_burn(20_000_000) == 1_000_000
    assert creator_refund_burn(20_000_019) == 1_000_000


def test_pool_state_event_example_bytes() -> None:
    """docs/program.md §6.2's example line."""
    data = IDL.encode_event(
        "PoolStateEvent",
        {
            "pool_id": Pubkey.default(),
            "numerical_pool_id": 7,
            "status": "Open",
            "participant_count": 2,
            "total_amount": 40_000_000,
            "status_reason": 0,
        },
    )
    assert (
        base64.b64encode(data).decode()
        == "SKlNQ6zZA3MAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAcAAAAAAAAAAAIAWmICAAAAAAA="
    )
    assert IDL.decode_event(data)[1]["status"] == "Open"


def test_action_type_is_written_as_its_ordinal() -> None:
    data = IDL.encode_event(
        "PoolActivityEvent",
        {
            "pool_id": Pubkey.default(),
            "numerical_pool_id": 1,
            "action": "Expired",
            "amount": 0,
            "participant_rank": 0,
            "dev_fee_percent": 0,
            "burn_fee_percent": 0,
            "treasury_fee_percent": 0,
        },
    )
    assert data[48] == 12
