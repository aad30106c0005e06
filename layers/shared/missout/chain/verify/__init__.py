"""Verification of client-reported transactions: prove, from the finalized transaction, that the claimed
wallet did the claimed action on the claimed pool for the claimed amount (docs/solana.md §2)."""

from missout.chain.verify.actions import (
    refund_owed,
    verify_cancel_pool,
    verify_claim_refund,
    verify_claim_rent,
    verify_create_pool,
    verify_donate,
    verify_join_pool,
)
from missout.chain.verify.fetch import TransactionFetcher, parse_signature
from missout.chain.verify.pool_config import (
    ConfigRejectReason,
    ConfigViolation,
    PoolConfigPolicy,
    check_pool_config,
)
from missout.chain.verify.reasons import RejectReason, TransactionNotFound, VerificationFailed
from missout.chain.verify.results import (
    Verified,
    VerifiedCancelPool,
    VerifiedClaimRefund,
    VerifiedClaimRent,
    VerifiedCreatePool,
    VerifiedDonate,
    VerifiedJoinPool,
)
from missout.chain.verify.window import DEFAULT_WINDOW, AgeWindow, Clock

__all__ = [
    "DEFAULT_WINDOW",
    "AgeWindow",
    "Clock",
    "ConfigRejectReason",
    "ConfigViolation",
    "PoolConfigPolicy",
    "RejectReason",
    "TransactionFetcher",
    "TransactionNotFound",
    "VerificationFailed",
    "Verified",
    "VerifiedCancelPool",
    "VerifiedClaimRefund",
    "VerifiedClaimRent",
    "VerifiedCreatePool",
    "VerifiedDonate",
    "VerifiedJoinPool",
    "check_pool_config",
    "parse_signature",
    "refund_owed",
    "verify_cancel_pool",
    "verify_claim_refund",
    "verify_claim_rent",
    "verify_create_pool",
    "verify_donate",
    "verify_join_pool",
]
