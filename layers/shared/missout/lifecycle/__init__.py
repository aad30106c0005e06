"""Pure lifecycle rules: on-chain pool state + chain clock -> the one next action (no I/O here)."""

from missout.lifecycle.decide import dead_end, next_action
from missout.lifecycle.decision import CHAIN_ACTIONS, Action, Alert, Decision
from missout.lifecycle.observed import LifecycleSettings, ObservedPool, RandomnessState

__all__ = [
    "CHAIN_ACTIONS",
    "Action",
    "Alert",
    "Decision",
    "LifecycleSettings",
    "ObservedPool",
    "RandomnessState",
    "dead_end",
    "next_action",
]
