"""What a successful verification proves, ready for the caller to record."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Generic, TypeAlias, TypeVar

from solders.pubkey import Pubkey
from solders.signature import Signature

from missout.chain.instruction_decoding import (
    CancelPoolInstruction,
    ClaimRefundInstruction,
    ClaimRentInstruction,
    CreatePoolInstruction,
    DonateInstruction,
    JoinPoolInstruction,
    UserInstruction,
)

InstructionT = TypeVar("InstructionT", bound=UserInstruction)


@dataclass(frozen=True, slots=True)
class Verified(Generic[InstructionT]):
    signature: Signature
    slot: int
    block_time: datetime  # timezone-aware UTC
    instruction: InstructionT  # accounts by IDL position and arguments, as the program read them
    mint: Pubkey
    vault: Pubkey
    # Tokens (base units) moved between the wallet and the pool, proven by the token transfer that ran and
    # the vault's balance delta: paid in for create/join/donate, what the program paid out for a refund
    # (the entry, less the burned 5 % for the creator), 0 for cancel and rent.
    amount: int
    vault_delta: int  # signed change of the vault balance (a refund's burn shows here, not in `amount`)


VerifiedCreatePool: TypeAlias = Verified[CreatePoolInstruction]
VerifiedJoinPool: TypeAlias = Verified[JoinPoolInstruction]
VerifiedDonate: TypeAlias = Verified[DonateInstruction]
VerifiedCancelPool: TypeAlias = Verified[CancelPoolInstruction]
VerifiedClaimRefund: TypeAlias = Verified[ClaimRefundInstruction]
VerifiedClaimRent: TypeAlias = Verified[ClaimRentInstruction]
