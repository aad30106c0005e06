"""Switchboard On-Demand randomness: per-pool keypairs, the three instructions, account decoding, oracle
choice, the gateway client and the two draw bundles (docs/solana.md §1)."""

from missout.chain.switchboard.accounts import (
    OracleAccount,
    QueueAccount,
    RandomnessAccount,
    SwitchboardAccountError,
)
from missout.chain.switchboard.bundles import commit_and_request, reveal_and_select
from missout.chain.switchboard.config import SwitchboardConfig
from missout.chain.switchboard.gateway import (
    GatewayBadResponse,
    GatewayBudgetExhausted,
    GatewayClient,
    GatewayError,
    GatewayRejected,
    GatewayRetryPolicy,
    GatewayUnavailable,
    RevealResponse,
)
from missout.chain.switchboard.instructions import randomness_commit, randomness_init, randomness_reveal
from missout.chain.switchboard.keys import derive_randomness_keypair
from missout.chain.switchboard.oracles import (
    ChosenOracle,
    NoEligibleOracle,
    choose_oracle,
    load_oracle,
    load_randomness,
)

__all__ = [
    "ChosenOracle",
    "GatewayBadResponse",
    "GatewayBudgetExhausted",
    "GatewayClient",
    "GatewayError",
    "GatewayRejected",
    "GatewayRetryPolicy",
    "GatewayUnavailable",
    "NoEligibleOracle",
    "OracleAccount",
    "QueueAccount",
    "RandomnessAccount",
    "RevealResponse",
    "SwitchboardAccountError",
    "SwitchboardConfig",
    "choose_oracle",
    "commit_and_request",
    "derive_randomness_keypair",
    "load_oracle",
    "load_randomness",
    "randomness_commit",
    "randomness_init",
    "randomness_reveal",
    "reveal_and_select",
]
