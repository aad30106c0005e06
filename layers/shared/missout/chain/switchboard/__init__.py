"""Switchboard On-Demand randomness: per-pool keypairs, the four instructions, account decoding, oracle
choice by live health, the gateway client, the reveal flow and the two draw bundles (docs/solana.md §1,
docs/switchboard.md)."""

from missout.chain.switchboard.accounts import (
    OracleAccount,
    QueueAccount,
    RandomnessAccount,
    SwitchboardAccountError,
    is_dead_request,
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
    GatewayTooEarly,
    GatewayUnavailable,
    RevealResponse,
)
from missout.chain.switchboard.health import GatewayHealthProbe
from missout.chain.switchboard.instructions import (
    randomness_close,
    randomness_commit,
    randomness_init,
    randomness_reveal,
)
from missout.chain.switchboard.keys import derive_randomness_keypair
from missout.chain.switchboard.oracles import (
    ChosenOracle,
    NoEligibleOracle,
    choose_oracle,
    load_oracle,
    load_randomness,
)
from missout.chain.switchboard.reveal import PreparedReveal, RandomnessRequestDead, fetch_reveal
from missout.chain.switchboard.selection import (
    HealthIndex,
    OracleCandidate,
    OracleHealth,
    OracleSelection,
    select_oracle,
)

__all__ = [
    "ChosenOracle",
    "GatewayBadResponse",
    "GatewayBudgetExhausted",
    "GatewayClient",
    "GatewayError",
    "GatewayHealthProbe",
    "GatewayRejected",
    "GatewayRetryPolicy",
    "GatewayTooEarly",
    "GatewayUnavailable",
    "HealthIndex",
    "NoEligibleOracle",
    "OracleAccount",
    "OracleCandidate",
    "OracleHealth",
    "OracleSelection",
    "PreparedReveal",
    "QueueAccount",
    "RandomnessAccount",
    "RandomnessRequestDead",
    "RevealResponse",
    "SwitchboardAccountError",
    "SwitchboardConfig",
    "choose_oracle",
    "commit_and_request",
    "derive_randomness_keypair",
    "fetch_reveal",
    "is_dead_request",
    "load_oracle",
    "load_randomness",
    "randomness_close",
    "randomness_commit",
    "randomness_init",
    "randomness_reveal",
    "reveal_and_select",
    "select_oracle",
]
