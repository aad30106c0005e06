"""Addresses around a randomness account: its per-pool keypair, and the PDAs and ATA Switchboard's
instructions expect (docs/solana.md §1.2, §3.3 item 4)."""

from __future__ import annotations

import hashlib
import hmac
import struct

from solders.keypair import Keypair
from solders.pubkey import Pubkey

from missout.chain.addresses import TOKEN_PROGRAM_ID
from missout.chain.pda import associated_token_address
from missout.chain.switchboard.config import ADDRESS_LOOKUP_TABLE_PROGRAM_ID, WRAPPED_SOL_MINT

_RANDOMNESS_LABEL = b"missout-randomness"
MIN_SECRET_BYTES = 32


def derive_randomness_keypair(secret: bytes, pool: Pubkey) -> Keypair:
    """The randomness account keypair of `pool`: HMAC-SHA256(secret, label ‖ pool) as an ed25519 seed.

    Deterministic so a retry, a crashed run or an overlapping run all reach the *same* account (no orphaned
    accounts, no second rent payment), and per pool so an account bound to one pool is never committed for
    another (the re-roll risk of docs/solana.md §1.8). Losing the secret only loses the ability to close old
    accounts; leaking it lets nobody commit them (commit/reveal need the authority = the DEV wallet).
    """
    if len(secret) < MIN_SECRET_BYTES:
        raise ValueError(f"the randomness secret must be at least {MIN_SECRET_BYTES} bytes")
    seed = hmac.new(secret, _RANDOMNESS_LABEL + bytes(pool), hashlib.sha256).digest()
    return Keypair.from_seed(seed)


def program_state_address(program_id: Pubkey) -> Pubkey:
    return Pubkey.find_program_address([b"STATE"], program_id)[0]


def oracle_stats_address(program_id: Pubkey, oracle: Pubkey) -> Pubkey:
    return Pubkey.find_program_address([b"OracleRandomnessStats", bytes(oracle)], program_id)[0]


def reward_escrow_address(randomness: Pubkey) -> Pubkey:
    """The randomness account's wrapped-SOL ATA (legacy Token program)."""
    return associated_token_address(randomness, WRAPPED_SOL_MINT, TOKEN_PROGRAM_ID)


def lut_signer_address(program_id: Pubkey, randomness: Pubkey) -> Pubkey:
    return Pubkey.find_program_address([b"LutSigner", bytes(randomness)], program_id)[0]


def lut_address(program_id: Pubkey, randomness: Pubkey, recent_slot: int) -> Pubkey:
    """The address lookup table `randomness_init` creates: the ALT program's PDA of (signer, slot)."""
    signer = lut_signer_address(program_id, randomness)
    return Pubkey.find_program_address(
        [bytes(signer), struct.pack("<Q", recent_slot)], ADDRESS_LOOKUP_TABLE_PROGRAM_ID
    )[0]
