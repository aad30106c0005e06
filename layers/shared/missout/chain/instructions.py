"""Builders of every `ml` instruction as a solders `Instruction` (accounts in IDL order, PDAs and ATAs
derived). Crank builders take `user` = the DEV wallet that signs; user-signed builders (used by tests and
the player CLI) take the player's wallet. All accept an optional codec so an older IDL can be targeted.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import asdict, dataclass

from solders.instruction import Instruction
from solders.pubkey import Pubkey

from missout.chain.accounts import PoolAccount
from missout.chain.addresses import SYSTEM_PROGRAM_ID
from missout.chain.borsh import BorshValue
from missout.chain.pda import associated_token_address
from missout.chain.pool_keys import PoolKeys
from missout.chain.program import ProgramCodec, shipped_codec

# A mock randomness request passes the all-zero key (= System program id) as the randomness account.
MOCK_RANDOMNESS_ACCOUNT = SYSTEM_PROGRAM_ID


@dataclass(frozen=True, slots=True)
class CreatePoolArgs:
    salt: bytes
    max_participants: int
    lock_duration: int
    amount: int
    dev_wallet: Pubkey
    dev_fee_bps: int
    burn_fee_bps: int
    treasury_wallet: Pubkey
    treasury_fee_bps: int
    allow_mock: bool


def _build(
    codec: ProgramCodec | None,
    name: str,
    program_id: Pubkey,
    accounts: Mapping[str, Pubkey],
    args: Mapping[str, BorshValue] | None = None,
) -> Instruction:
    return (codec or shipped_codec()).build_instruction(name, program_id, accounts, args)


def _pool_token_accounts(keys: PoolKeys) -> dict[str, Pubkey]:
    return {
        "mint": keys.mint,
        "pool": keys.address,
        "pool_token": keys.vault,
        "token_program": keys.token_program,
    }


# -- cranks (signed by the DEV wallet) ---------------------------------------------------------------


def build_unlock_pool(
    program_id: Pubkey, pool: Pubkey, user: Pubkey, codec: ProgramCodec | None = None
) -> Instruction:
    return _build(codec, "unlock_pool", program_id, {"pool": pool, "user": user})


def build_request_randomness(
    program_id: Pubkey, pool: Pubkey, randomness: Pubkey, user: Pubkey, codec: ProgramCodec | None = None
) -> Instruction:
    """`randomness` = the Switchboard randomness account, or `MOCK_RANDOMNESS_ACCOUNT` for mock pools."""
    return _build(
        codec, "request_randomness", program_id, {"randomness": randomness, "pool": pool, "user": user}
    )


def build_select_winner(
    program_id: Pubkey, pool: Pubkey, randomness: Pubkey, user: Pubkey, codec: ProgramCodec | None = None
) -> Instruction:
    return _build(codec, "select_winner", program_id, {"pool": pool, "randomness": randomness, "user": user})


def build_payout_winner(
    program_id: Pubkey, keys: PoolKeys, pool: PoolAccount, user: Pubkey, codec: ProgramCodec | None = None
) -> Instruction:
    """Pays `pool.winner`; dev and treasury ATAs are those of the wallets stored in the pool (they must
    exist); the winner's ATA is created by the program if missing, paid by `user`."""
    accounts = _pool_token_accounts(keys) | {
        "winner_token": associated_token_address(pool.winner, keys.mint, keys.token_program),
        "dev_token": associated_token_address(pool.dev_wallet, keys.mint, keys.token_program),
        "treasury_token": associated_token_address(pool.treasury_wallet, keys.mint, keys.token_program),
        "winner_pubkey": pool.winner,
        "user": user,
    }
    return _build(codec, "payout_winner", program_id, accounts)


def build_claim_refund_forfeit(
    program_id: Pubkey,
    keys: PoolKeys,
    treasury_wallet: Pubkey,
    user: Pubkey,
    user_token: Pubkey | None = None,
    codec: ProgramCodec | None = None,
) -> Instruction:
    """Dev branch of `claim_refund`: the whole vault goes to the treasury ATA (30 days after close).

    `user_token` is unused by that branch but must be an existing token account; the default is the
    DEV wallet's own ATA for the mint.
    """
    token = user_token or associated_token_address(user, keys.mint, keys.token_program)
    return build_claim_refund(program_id, keys, treasury_wallet, user, token, codec)


def build_claim_rent(
    program_id: Pubkey,
    keys: PoolKeys,
    close_target: Pubkey,
    user: Pubkey,
    codec: ProgramCodec | None = None,
) -> Instruction:
    """`close_target` must be the creator (creator calling) or the treasury wallet (dev calling)."""
    accounts = _pool_token_accounts(keys) | {"close_target": close_target, "user": user}
    return _build(codec, "claim_rent", program_id, accounts)


def build_sweep_expired_pool(
    program_id: Pubkey, keys: PoolKeys, user: Pubkey, codec: ProgramCodec | None = None
) -> Instruction:
    accounts = _pool_token_accounts(keys) | {"user": user}
    return _build(codec, "sweep_expired_pool", program_id, accounts)


def build_admin_close_pool(
    program_id: Pubkey, keys: PoolKeys, creator: Pubkey, user: Pubkey, codec: ProgramCodec | None = None
) -> Instruction:
    accounts = _pool_token_accounts(keys) | {"creator_wallet": creator, "user": user}
    return _build(codec, "admin_close_pool", program_id, accounts)


def build_finalize_forfeited_pool(
    program_id: Pubkey,
    keys: PoolKeys,
    treasury_wallet: Pubkey,
    user: Pubkey,
    codec: ProgramCodec | None = None,
) -> Instruction:
    accounts = _pool_token_accounts(keys) | {
        "treasury_token": associated_token_address(treasury_wallet, keys.mint, keys.token_program),
        "user": user,
    }
    return _build(codec, "finalize_forfeited_pool", program_id, accounts)


def build_pause_pool(
    program_id: Pubkey, pool: Pubkey, user: Pubkey, codec: ProgramCodec | None = None
) -> Instruction:
    return _build(codec, "pause_pool", program_id, {"pool": pool, "user": user})


def build_unpause_pool(
    program_id: Pubkey, pool: Pubkey, user: Pubkey, codec: ProgramCodec | None = None
) -> Instruction:
    return _build(codec, "unpause_pool", program_id, {"pool": pool, "user": user})


def build_force_expire(
    program_id: Pubkey, pool: Pubkey, user: Pubkey, codec: ProgramCodec | None = None
) -> Instruction:
    return _build(codec, "force_expire", program_id, {"pool": pool, "user": user})


# -- user-signed -------------------------------------------------------------------------------------


def build_create_pool(
    program_id: Pubkey,
    mint: Pubkey,
    token_program: Pubkey,
    args: CreatePoolArgs,
    user: Pubkey,
    codec: ProgramCodec | None = None,
) -> Instruction:
    """Pool, vault and Participants are derived from (mint, salt); the creator pays from their ATA."""
    accounts = {
        "mint": mint,
        "user": user,
        "user_token": associated_token_address(user, mint, token_program),
        "token_program": token_program,
    }
    arguments: dict[str, BorshValue] = dict(asdict(args))
    return _build(codec, "create_pool", program_id, accounts, arguments)


def build_join_pool(
    program_id: Pubkey, keys: PoolKeys, amount: int, user: Pubkey, codec: ProgramCodec | None = None
) -> Instruction:
    """`amount` must equal the pool's entry amount exactly (6029 otherwise)."""
    accounts = _pool_token_accounts(keys) | {
        "user_token": associated_token_address(user, keys.mint, keys.token_program),
        "user": user,
    }
    return _build(codec, "join_pool", program_id, accounts, {"amount": amount})


def build_donate(
    program_id: Pubkey,
    keys: PoolKeys,
    amount: int,
    user: Pubkey,
    user_token: Pubkey | None = None,
    codec: ProgramCodec | None = None,
) -> Instruction:
    """Any token account of the donor works as the source; the default is their ATA."""
    token = user_token or associated_token_address(user, keys.mint, keys.token_program)
    accounts = _pool_token_accounts(keys) | {"user_token": token, "user": user}
    return _build(codec, "donate", program_id, accounts, {"amount": amount})


def build_cancel_pool(
    program_id: Pubkey, keys: PoolKeys, user: Pubkey, codec: ProgramCodec | None = None
) -> Instruction:
    accounts = _pool_token_accounts(keys) | {"user": user}
    return _build(codec, "cancel_pool", program_id, accounts)


def build_claim_refund(
    program_id: Pubkey,
    keys: PoolKeys,
    treasury_wallet: Pubkey,
    user: Pubkey,
    user_token: Pubkey | None = None,
    codec: ProgramCodec | None = None,
) -> Instruction:
    """Participant refund into the claimant's ATA; the treasury ATA must exist even for this branch."""
    accounts = _pool_token_accounts(keys) | {
        "user_token": user_token or associated_token_address(user, keys.mint, keys.token_program),
        "treasury_token": associated_token_address(treasury_wallet, keys.mint, keys.token_program),
        "user": user,
    }
    return _build(codec, "claim_refund", program_id, accounts)


def build_set_lock_duration(
    program_id: Pubkey, pool: Pubkey, new_lock_duration: int, user: Pubkey, codec: ProgramCodec | None = None
) -> Instruction:
    """Warning (docs/program.md §9.2): any increase leaves `config_hash` stale and bricks later joins."""
    return _build(
        codec,
        "set_lock_duration",
        program_id,
        {"pool": pool, "user": user},
        {"new_lock_duration": new_lock_duration},
    )
