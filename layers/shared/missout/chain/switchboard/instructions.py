"""The four Switchboard On-Demand randomness instructions, encoded by hand (there is no Python SDK worth
depending on, docs/solana.md §1.7). Account orders follow the deployed `sb_on_demand` IDL (docs/solana.md
§1.2; `randomness_close` in docs/switchboard.md); the local chain's model reads the same facts independently
and localnet tests run these against it."""

from __future__ import annotations

import struct

from solders.instruction import AccountMeta, Instruction
from solders.pubkey import Pubkey

from missout.chain.addresses import ASSOCIATED_TOKEN_PROGRAM_ID, SYSTEM_PROGRAM_ID, TOKEN_PROGRAM_ID
from missout.chain.switchboard.config import (
    ADDRESS_LOOKUP_TABLE_PROGRAM_ID,
    SLOT_HASHES_SYSVAR,
    WRAPPED_SOL_MINT,
    SwitchboardConfig,
    anchor_discriminator,
)
from missout.chain.switchboard.keys import (
    lut_address,
    lut_signer_address,
    oracle_stats_address,
    program_state_address,
    reward_escrow_address,
)

RANDOMNESS_INIT = anchor_discriminator("global", "randomness_init")
RANDOMNESS_COMMIT = anchor_discriminator("global", "randomness_commit")
RANDOMNESS_REVEAL = anchor_discriminator("global", "randomness_reveal")
RANDOMNESS_CLOSE = anchor_discriminator("global", "randomness_close")

REVEAL_SIGNATURE_BYTES = 64
REVEAL_VALUE_BYTES = 32


def _writable(key: Pubkey, *, signer: bool = False) -> AccountMeta:
    return AccountMeta(key, is_signer=signer, is_writable=True)


def _readonly(key: Pubkey, *, signer: bool = False) -> AccountMeta:
    return AccountMeta(key, is_signer=signer, is_writable=False)


def randomness_init(
    config: SwitchboardConfig, randomness: Pubkey, authority: Pubkey, payer: Pubkey, recent_slot: int
) -> Instruction:
    """Create `randomness` (which must sign: it is a fresh keypair's account) with `authority` as the only
    key allowed to commit and reveal it. `recent_slot` seeds the lookup-table address, so it must be a slot
    the chain still remembers (take `getSlot` at finalized just before)."""
    program_id = config.program_id
    accounts = [
        _writable(randomness, signer=True),
        _writable(reward_escrow_address(randomness)),
        _readonly(authority, signer=True),
        _writable(config.queue),
        _writable(payer, signer=True),
        _readonly(SYSTEM_PROGRAM_ID),
        _readonly(TOKEN_PROGRAM_ID),
        _readonly(ASSOCIATED_TOKEN_PROGRAM_ID),
        _readonly(WRAPPED_SOL_MINT),
        _readonly(program_state_address(program_id)),
        _readonly(lut_signer_address(program_id, randomness)),
        _writable(lut_address(program_id, randomness, recent_slot)),
        _readonly(ADDRESS_LOOKUP_TABLE_PROGRAM_ID),
    ]
    return Instruction(program_id, RANDOMNESS_INIT + struct.pack("<Q", recent_slot), accounts)


def randomness_commit(
    config: SwitchboardConfig, randomness: Pubkey, oracle: Pubkey, authority: Pubkey
) -> Instruction:
    """Bind `randomness` to the current slot hash and to `oracle` (one of the queue's oracles)."""
    accounts = [
        _writable(randomness),
        _readonly(config.queue),
        _writable(oracle),
        _readonly(SLOT_HASHES_SYSVAR),
        _readonly(authority, signer=True),
    ]
    return Instruction(config.program_id, RANDOMNESS_COMMIT, accounts)


def randomness_reveal(
    config: SwitchboardConfig,
    randomness: Pubkey,
    oracle: Pubkey,
    authority: Pubkey,
    payer: Pubkey,
    signature: bytes,
    recovery_id: int,
    value: bytes,
    *,
    queue: Pubkey | None = None,
) -> Instruction:
    """Store the oracle's signed `value`; the program verifies `signature` against the committed seed.
    `queue` should be the randomness account's own queue (`RandomnessAccount.queue`); `config.queue` is only
    the fallback for callers that have not read the account."""
    if len(signature) != REVEAL_SIGNATURE_BYTES:
        raise ValueError(f"reveal signature must be {REVEAL_SIGNATURE_BYTES} bytes, got {len(signature)}")
    if len(value) != REVEAL_VALUE_BYTES:
        raise ValueError(f"reveal value must be {REVEAL_VALUE_BYTES} bytes, got {len(value)}")
    if not 0 <= recovery_id <= 255:
        raise ValueError(f"recovery id {recovery_id} does not fit in a u8")
    program_id = config.program_id
    accounts = [
        _writable(randomness),
        _readonly(oracle),
        _readonly(queue or config.queue),
        _writable(oracle_stats_address(program_id, oracle)),
        _readonly(authority, signer=True),
        _writable(payer, signer=True),
        _readonly(SLOT_HASHES_SYSVAR),
        _readonly(SYSTEM_PROGRAM_ID),
        _writable(reward_escrow_address(randomness)),
        _readonly(TOKEN_PROGRAM_ID),
        _readonly(WRAPPED_SOL_MINT),
        _readonly(program_state_address(program_id)),
    ]
    data = RANDOMNESS_REVEAL + signature + bytes([recovery_id]) + value
    return Instruction(program_id, data, accounts)


def randomness_close(
    config: SwitchboardConfig, randomness: Pubkey, authority: Pubkey, lut_slot: int
) -> Instruction:
    """Close `randomness` and its reward escrow, paying their rent to `authority` (which signs). `lut_slot` is
    the account's own `lut_slot` (`RandomnessAccount.lut_slot`, the `recent_slot` of its init): the lookup
    table is addressed by it. No arguments; accounts in the deployed IDL's order."""
    program_id = config.program_id
    accounts = [
        _writable(randomness),
        _writable(reward_escrow_address(randomness)),
        _writable(authority, signer=True),
        _readonly(program_state_address(program_id)),
        _readonly(SYSTEM_PROGRAM_ID),
        _readonly(TOKEN_PROGRAM_ID),
        _readonly(WRAPPED_SOL_MINT),
        _writable(lut_address(program_id, randomness, lut_slot)),
        _readonly(lut_signer_address(program_id, randomness)),
        _readonly(ADDRESS_LOOKUP_TABLE_PROGRAM_ID),
    ]
    return Instruction(program_id, RANDOMNESS_CLOSE, accounts)
