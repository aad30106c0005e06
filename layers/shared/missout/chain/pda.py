"""Program-derived addresses and the two hashes the program computes at `create_pool`
(docs/program.md §2.4, §2.5)."""

from __future__ import annotations

import hashlib

from solders.pubkey import Pubkey

from missout.chain.addresses import ASSOCIATED_TOKEN_PROGRAM_ID, TOKEN_PROGRAM_IDS

POOL_SEED = b"pool"
PARTICIPANTS_SEED = b"participants"
SALT_SIZE = 32


def find_pool_address(program_id: Pubkey, mint: Pubkey, salt: bytes) -> tuple[Pubkey, int]:
    """Pool PDA `["pool", mint, salt]` and its canonical bump."""
    if len(salt) != SALT_SIZE:
        raise ValueError(f"salt must be {SALT_SIZE} bytes, got {len(salt)}")
    return Pubkey.find_program_address([POOL_SEED, bytes(mint), salt], program_id)


def find_participants_address(program_id: Pubkey, pool: Pubkey) -> Pubkey:
    """Participants PDA `["participants", pool]` (its bump is never stored by the program)."""
    address, _bump = Pubkey.find_program_address([PARTICIPANTS_SEED, bytes(pool)], program_id)
    return address


def associated_token_address(owner: Pubkey, mint: Pubkey, token_program: Pubkey) -> Pubkey:
    """ATA with the token program in the seeds: a Token-2022 mint has different ATAs than a legacy one."""
    if token_program not in TOKEN_PROGRAM_IDS:
        raise ValueError(f"{token_program} is neither the Token nor the Token-2022 program")
    address, _bump = Pubkey.find_program_address(
        [bytes(owner), bytes(token_program), bytes(mint)], ASSOCIATED_TOKEN_PROGRAM_ID
    )
    return address


def vault_address(pool: Pubkey, mint: Pubkey, token_program: Pubkey) -> Pubkey:
    """The pool's token vault (`pool_token`): the ATA owned by the (off-curve) pool PDA."""
    return associated_token_address(pool, mint, token_program)


def token_program_of_vault(pool: Pubkey, mint: Pubkey, vault: Pubkey) -> Pubkey:
    """Which token program a pool uses, recovered from its stored vault key (saves reading the mint)."""
    for token_program in TOKEN_PROGRAM_IDS:
        if vault_address(pool, mint, token_program) == vault:
            return token_program
    raise ValueError(f"{vault} is not the vault of pool {pool} for mint {mint} under any token program")


def config_hash(
    *,
    salt: bytes,
    max_participants: int,
    lock_duration: int,
    amount: int,
    dev_wallet: Pubkey,
    dev_fee_bps: int,
    burn_fee_bps: int,
    treasury_wallet: Pubkey,
    treasury_fee_bps: int,
    start_time: int,
    duration: int,
) -> bytes:
    """sha256 over the 135-byte pre-image the program re-checks on join, donate and select (§2.5)."""
    if len(salt) != SALT_SIZE:
        raise ValueError(f"salt must be {SALT_SIZE} bytes")
    preimage = b"".join(
        (
            salt,
            max_participants.to_bytes(1, "little"),
            lock_duration.to_bytes(8, "little", signed=True),
            amount.to_bytes(8, "little"),
            bytes(dev_wallet),
            dev_fee_bps.to_bytes(2, "little"),
            burn_fee_bps.to_bytes(2, "little"),
            bytes(treasury_wallet),
            treasury_fee_bps.to_bytes(2, "little"),
            start_time.to_bytes(8, "little", signed=True),
            duration.to_bytes(8, "little", signed=True),
        )
    )
    return hashlib.sha256(preimage).digest()


def pool_id(*, salt: bytes, slot: int, creator: Pubkey) -> int:
    """The informational u64 `pool_id`: first 8 bytes (LE) of sha256(salt ‖ slot LE ‖ creator)."""
    digest = hashlib.sha256(salt + slot.to_bytes(8, "little") + bytes(creator)).digest()
    return int.from_bytes(digest[:8], "little")
