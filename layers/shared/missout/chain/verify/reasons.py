"""Why a reported transaction was refused: one `RejectReason` per distinct cause, carried by
`VerificationFailed`. Only "not found yet" is worth retrying; every other reason is final for that
signature (the transaction is immutable once finalized)."""

from __future__ import annotations

from enum import Enum


class RejectReason(Enum):
    # Before any RPC.
    MALFORMED_SIGNATURE = "malformed_signature"
    # Fetching.
    NOT_FOUND = "not_found"  # not finalized yet, or never landed: the only retryable reason
    UNSUPPORTED_VERSION = "unsupported_version"
    MISSING_METADATA = "missing_metadata"
    # The node's answer lacks what proves a token movement: pre/post token balances, or the inner
    # instructions (CPIs) that show each transfer. Without them nothing can be proven, so nothing is.
    MISSING_TOKEN_BALANCES = "missing_token_balances"  # noqa: S105 - a reason, not a secret
    MISSING_INNER_INSTRUCTIONS = "missing_inner_instructions"
    SIGNATURE_MISMATCH = "signature_mismatch"  # the node answered with another transaction
    # The transaction as a whole.
    TRANSACTION_FAILED = "transaction_failed"
    NO_BLOCK_TIME = "no_block_time"
    TOO_OLD = "too_old"
    IN_THE_FUTURE = "in_the_future"
    UNRESOLVABLE_LOOKUP_KEYS = "unresolvable_lookup_keys"
    MALFORMED_TRANSACTION = "malformed_transaction"  # an index outside the key list, undecodable data
    # The instruction.
    WRONG_PROGRAM = "wrong_program"  # our discriminator, but addressed to another program
    NO_MATCHING_INSTRUCTION = "no_matching_instruction"
    MULTIPLE_MATCHING_INSTRUCTIONS = "multiple_matching_instructions"
    MALFORMED_INSTRUCTION = "malformed_instruction"
    # create_pool shares its transaction with another instruction of our program (e.g. cancel_pool or
    # set_lock_duration), so the pool registered would not be the pool on chain.
    CREATE_NOT_ALONE = "create_not_alone"
    # Bindings to the claim.
    WRONG_POOL = "wrong_pool"
    POOL_NOT_DERIVED = "pool_not_derived"  # create_pool: the pool is not the PDA of (mint, salt)
    WRONG_MINT = "wrong_mint"  # the instruction names another mint than the registered pool's
    WRONG_VAULT = "wrong_vault"  # the instruction's vault is not the pool's canonical vault
    VAULT_NOT_EMPTY = "vault_not_empty"  # create_pool adopted a vault that already held tokens
    WRONG_WALLET = "wrong_wallet"
    WALLET_NOT_SIGNER = "wallet_not_signer"
    AMOUNT_MISMATCH = "amount_mismatch"  # the claimed amount is not what the instruction moved
    BALANCE_MISMATCH = "balance_mismatch"  # token balances did not move as the instruction says
    TRANSFER_NOT_FOUND = (
        "transfer_not_found"  # the token transfer the instruction makes is not among the CPIs
    )
    REFUND_MISMATCH = "refund_mismatch"  # the vault paid the wallet something else than the program pays it
    WRONG_TOKEN_ACCOUNT = "wrong_token_account"  # noqa: S105 - a token account of another mint or owner


RETRYABLE_REASONS = frozenset({RejectReason.NOT_FOUND})


class VerificationFailed(Exception):
    """The transaction does not prove the claimed action. `detail` is for logs and problem responses."""

    def __init__(self, reason: RejectReason, detail: str) -> None:
        super().__init__(f"{reason.value}: {detail}")
        self.reason = reason
        self.detail = detail

    @property
    def retryable(self) -> bool:
        """True when asking again later may succeed (the caller answers 202 / "pending")."""
        return self.reason in RETRYABLE_REASONS


class TransactionNotFound(VerificationFailed):
    """No finalized transaction with this signature (yet): the client may have reported it before it
    finalized. A separate class so callers can `except` it without inspecting the reason."""

    def __init__(self, detail: str) -> None:
        super().__init__(RejectReason.NOT_FOUND, detail)
