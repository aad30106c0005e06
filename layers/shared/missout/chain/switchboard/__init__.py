"""Switchboard On-Demand randomness: per-pool keypairs, the four instructions, account decoding, oracle
choice by live health, the gateway client, the reveal flow and the two draw bundles (docs/solana.md §1,
docs/switchboard.md).

The names below are loaded on first use, each from its own module: the signer needs only the key derivation
and the monitor's reads only the account decoders, while the gateway client, oracle choice, reveal and the
draw bundles are needed only by a tick that acts on a pool (`missout.monitor.act`).
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
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

_HOME = {
    "OracleAccount": "accounts",
    "QueueAccount": "accounts",
    "RandomnessAccount": "accounts",
    "SwitchboardAccountError": "accounts",
    "is_dead_request": "accounts",
    "commit_and_request": "bundles",
    "reveal_and_select": "bundles",
    "SwitchboardConfig": "config",
    "GatewayBadResponse": "gateway",
    "GatewayBudgetExhausted": "gateway",
    "GatewayClient": "gateway",
    "GatewayError": "gateway",
    "GatewayRejected": "gateway",
    "GatewayRetryPolicy": "gateway",
    "GatewayTooEarly": "gateway",
    "GatewayUnavailable": "gateway",
    "RevealResponse": "gateway",
    "GatewayHealthProbe": "health",
    "randomness_close": "instructions",
    "randomness_commit": "instructions",
    "randomness_init": "instructions",
    "randomness_reveal": "instructions",
    "derive_randomness_keypair": "keys",
    "ChosenOracle": "oracles",
    "NoEligibleOracle": "oracles",
    "choose_oracle": "oracles",
    "load_oracle": "oracles",
    "load_randomness": "oracles",
    "PreparedReveal": "reveal",
    "RandomnessRequestDead": "reveal",
    "fetch_reveal": "reveal",
    "HealthIndex": "selection",
    "OracleCandidate": "selection",
    "OracleHealth": "selection",
    "OracleSelection": "selection",
    "select_oracle": "selection",
}

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


def __getattr__(name: str) -> Any:
    home = _HOME.get(name)
    if home is None:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    return getattr(importlib.import_module(f"{__name__}.{home}"), name)
