"""Typed reading of the user-signed instructions the API verifies (create_pool, join_pool, donate,
cancel_pool, claim_refund, claim_rent): accounts by their IDL position, arguments decoded.

Input is one instruction as found in a fetched transaction: its program id, its own account keys in order
(the verifier resolves compiled indices against static + lookup-table keys first) and its data.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import TypeAlias

from solders.pubkey import Pubkey

from missout.chain.instructions import CreatePoolArgs
from missout.chain.program import DecodedInstruction, InstructionDecodeError, ProgramCodec, shipped_codec
from missout.chain.values import as_bool, as_bytes, as_int, as_pubkey


class UnsupportedInstructionError(InstructionDecodeError):
    """A valid instruction of the program, but not one a user reports to the API (e.g. a crank)."""

    def __init__(self, name: str) -> None:
        super().__init__(f"{name} is not a user instruction")
        self.name = name


@dataclass(frozen=True, slots=True)
class CreatePoolInstruction:
    mint: Pubkey
    pool: Pubkey
    user_token: Pubkey
    user: Pubkey
    pool_token: Pubkey
    token_program: Pubkey
    participants: Pubkey
    args: CreatePoolArgs


@dataclass(frozen=True, slots=True)
class JoinPoolInstruction:
    mint: Pubkey
    pool: Pubkey
    pool_token: Pubkey
    user_token: Pubkey
    user: Pubkey
    token_program: Pubkey
    participants: Pubkey
    amount: int


@dataclass(frozen=True, slots=True)
class DonateInstruction:
    mint: Pubkey
    pool: Pubkey
    pool_token: Pubkey
    user_token: Pubkey
    user: Pubkey
    token_program: Pubkey
    participants: Pubkey
    amount: int


@dataclass(frozen=True, slots=True)
class CancelPoolInstruction:
    mint: Pubkey
    pool: Pubkey
    pool_token: Pubkey
    user: Pubkey
    token_program: Pubkey


@dataclass(frozen=True, slots=True)
class ClaimRefundInstruction:
    mint: Pubkey
    pool: Pubkey
    pool_token: Pubkey
    user_token: Pubkey
    treasury_token: Pubkey
    user: Pubkey
    token_program: Pubkey
    participants: Pubkey


@dataclass(frozen=True, slots=True)
class ClaimRentInstruction:
    pool: Pubkey
    mint: Pubkey
    pool_token: Pubkey
    close_target: Pubkey
    user: Pubkey
    token_program: Pubkey
    participants: Pubkey


UserInstruction: TypeAlias = (
    CreatePoolInstruction
    | JoinPoolInstruction
    | DonateInstruction
    | CancelPoolInstruction
    | ClaimRefundInstruction
    | ClaimRentInstruction
)


def decode_user_instruction(
    program_id: Pubkey,
    account_keys: Sequence[Pubkey],
    data: bytes,
    *,
    expected_program_id: Pubkey,
    codec: ProgramCodec | None = None,
) -> UserInstruction:
    """Raises a subclass of `InstructionDecodeError` for another program, an unknown discriminator,
    short data or too few accounts, and `UnsupportedInstructionError` for the program's other
    instructions. Never raises anything else for hostile input."""
    decoded = (codec or shipped_codec()).decode_instruction(
        program_id, expected_program_id, account_keys, data
    )
    try:
        return _typed(decoded)
    except (KeyError, TypeError, ValueError) as exc:
        if isinstance(exc, InstructionDecodeError):
            raise
        raise InstructionDecodeError(f"{decoded.name}: {exc}") from exc


def _typed(decoded: DecodedInstruction) -> UserInstruction:
    a, args = decoded.accounts, decoded.args
    if decoded.name == "create_pool":
        return CreatePoolInstruction(
            mint=a["mint"],
            pool=a["pool"],
            user_token=a["user_token"],
            user=a["user"],
            pool_token=a["pool_token"],
            token_program=a["token_program"],
            participants=a["participants"],
            args=CreatePoolArgs(
                salt=as_bytes(args, "salt"),
                max_participants=as_int(args, "max_participants"),
                lock_duration=as_int(args, "lock_duration"),
                amount=as_int(args, "amount"),
                dev_wallet=as_pubkey(args, "dev_wallet"),
                dev_fee_bps=as_int(args, "dev_fee_bps"),
                burn_fee_bps=as_int(args, "burn_fee_bps"),
                treasury_wallet=as_pubkey(args, "treasury_wallet"),
                treasury_fee_bps=as_int(args, "treasury_fee_bps"),
                allow_mock=as_bool(args, "allow_mock"),
            ),
        )
    if decoded.name in ("join_pool", "donate"):
        instruction_type = JoinPoolInstruction if decoded.name == "join_pool" else DonateInstruction
        return instruction_type(
            mint=a["mint"],
            pool=a["pool"],
            pool_token=a["pool_token"],
            user_token=a["user_token"],
            user=a["user"],
            token_program=a["token_program"],
            participants=a["participants"],
            amount=as_int(args, "amount"),
        )
    if decoded.name == "cancel_pool":
        return CancelPoolInstruction(
            mint=a["mint"],
            pool=a["pool"],
            pool_token=a["pool_token"],
            user=a["user"],
            token_program=a["token_program"],
        )
    if decoded.name == "claim_refund":
        return ClaimRefundInstruction(
            mint=a["mint"],
            pool=a["pool"],
            pool_token=a["pool_token"],
            user_token=a["user_token"],
            treasury_token=a["treasury_token"],
            user=a["user"],
            token_program=a["token_program"],
            participants=a["participants"],
        )
    if decoded.name == "claim_rent":
        return ClaimRentInstruction(
            pool=a["pool"],
            mint=a["mint"],
            pool_token=a["pool_token"],
            close_target=a["close_target"],
            user=a["user"],
            token_program=a["token_program"],
            participants=a["participants"],
        )
    raise UnsupportedInstructionError(decoded.name)
