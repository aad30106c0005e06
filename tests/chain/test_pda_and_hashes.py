"""PDAs and the create-time hashes against docs/program.md §2.4-§2.5."""

from __future__ import annotations

import pytest
from solders.pubkey import Pubkey

from missout.chain.addresses import ASSOCIATED_TOKEN_PROGRAM_ID, TOKEN_2022_PROGRAM_ID, TOKEN_PROGRAM_ID
from missout.chain.pda import (
    associated_token_address,
    config_hash,
    find_participants_address,
    find_pool_address,
    pool_id,
    token_program_of_vault,
    vault_address,
)
from missout.chain.program import shipped_codec

from .conftest import key

PROGRAM_ID = Pubkey.from_string("4wgBJUHydWXXJKXYsmdGoGw1ufC3dxz8q2mukFYaAhSm")
SALT = bytes(range(32))


def test_config_hash_worked_example() -> None:
    digest = config_hash(
        salt=SALT,
        max_participants=5,
        lock_duration=600,
        amount=20_000_000,
        dev_wallet=key(1),
        dev_fee_bps=500,
        burn_fee_bps=350,
        treasury_wallet=key(2),
        treasury_fee_bps=150,
        start_time=1_700_000_000,
        duration=604_800,
    )
    assert digest.hex() == "e583e1060d1e7a1b2964700c6848965f7129b134ad2781b7aec83691606136fb"


def test_pool_id_worked_example() -> None:
    assert pool_id(salt=SALT, slot=300_000_000, creator=key(3)) == 14447576600794188205


def test_pool_and_participants_seeds_are_the_documented_bytes() -> None:
    mint = key(9)
    pool, bump = find_pool_address(PROGRAM_ID, mint, SALT)
    expected_pool, expected_bump = Pubkey.find_program_address(
        [bytes.fromhex("706f6f6c"), bytes(mint), SALT], PROGRAM_ID
    )
    assert (pool, bump) == (expected_pool, expected_bump)
    expected_participants, _ = Pubkey.find_program_address(
        [bytes.fromhex("7061727469636970616e7473"), bytes(pool)], PROGRAM_ID
    )
    assert find_participants_address(PROGRAM_ID, pool) == expected_participants


def test_idl_driven_derivation_agrees_with_the_handwritten_one() -> None:
    mint, user = key(9), key(7)
    instruction = shipped_codec().build_instruction(
        "create_pool",
        PROGRAM_ID,
        {"mint": mint, "user": user, "user_token": key(8), "token_program": TOKEN_2022_PROGRAM_ID},
        {
            "salt": SALT, "max_participants": 2, "lock_duration": 60, "amount": 1, "dev_wallet": key(1),
            "dev_fee_bps": 0, "burn_fee_bps": 0, "treasury_wallet": key(2), "treasury_fee_bps": 0,
            "allow_mock": False,
        },
    )  # fmt: skip
    pool, _ = find_pool_address(PROGRAM_ID, mint, SALT)
    keys = [meta.pubkey for meta in instruction.accounts]
    assert keys[1] == pool
    assert keys[4] == vault_address(pool, mint, TOKEN_2022_PROGRAM_ID)
    assert keys[9] == find_participants_address(PROGRAM_ID, pool)


def test_token_2022_atas_differ_and_the_vault_reveals_its_token_program() -> None:
    pool, mint = key(4), key(5)
    legacy = vault_address(pool, mint, TOKEN_PROGRAM_ID)
    extended = vault_address(pool, mint, TOKEN_2022_PROGRAM_ID)
    expected_legacy, _ = Pubkey.find_program_address(
        [bytes(pool), bytes(TOKEN_PROGRAM_ID), bytes(mint)], ASSOCIATED_TOKEN_PROGRAM_ID
    )
    assert legacy == expected_legacy
    assert legacy != extended
    assert token_program_of_vault(pool, mint, extended) == TOKEN_2022_PROGRAM_ID
    assert token_program_of_vault(pool, mint, legacy) == TOKEN_PROGRAM_ID
    with pytest.raises(ValueError, match="not the vault"):
        token_program_of_vault(pool, mint, key(6))


def test_rejects_bad_salt_and_foreign_token_program() -> None:
    with pytest.raises(ValueError, match="salt"):
        find_pool_address(PROGRAM_ID, key(1), b"short")
    with pytest.raises(ValueError, match="neither"):
        associated_token_address(key(1), key(2), key(3))
