"""Is a pool's configuration one we can crank and stand behind? (docs/original-backend.md W8, OC1.)

The program takes `dev_wallet`, `treasury_wallet`, every fee and `allow_mock` from whoever creates the
pool. A pool with a foreign dev wallet can never be cranked by us, one with foreign fees or treasury pays
someone else, and a mock pool has predictable randomness. Works on a verified `create_pool`'s arguments
(`CreatePoolArgs`) and on a decoded on-chain `PoolAccount` alike: both carry these six fields.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import Enum
from typing import Protocol

from solders.pubkey import Pubkey

from missout.chain.config import ProgramConfig


class PoolEconomics(Protocol):
    @property
    def dev_wallet(self) -> Pubkey: ...
    @property
    def treasury_wallet(self) -> Pubkey: ...
    @property
    def dev_fee_bps(self) -> int: ...
    @property
    def burn_fee_bps(self) -> int: ...
    @property
    def treasury_fee_bps(self) -> int: ...
    @property
    def allow_mock(self) -> bool: ...


@dataclass(frozen=True, slots=True)
class PoolConfigPolicy:
    """The fees our pools must carry, and whether mock randomness is acceptable (local chain, devnet)."""

    dev_fee_bps: int
    burn_fee_bps: int
    treasury_fee_bps: int
    allow_mock: bool = False


class ConfigRejectReason(Enum):
    FOREIGN_DEV_WALLET = "foreign_dev_wallet"
    FOREIGN_TREASURY = "foreign_treasury"
    DEV_FEE_NOT_EXPECTED = "dev_fee_not_expected"
    BURN_FEE_NOT_EXPECTED = "burn_fee_not_expected"
    TREASURY_FEE_NOT_EXPECTED = "treasury_fee_not_expected"
    MOCK_NOT_ALLOWED = "mock_not_allowed"


@dataclass(frozen=True, slots=True)
class ConfigViolation:
    reason: ConfigRejectReason
    detail: str


def check_pool_config(
    decoded: PoolEconomics, config: ProgramConfig, policy: PoolConfigPolicy
) -> tuple[ConfigViolation, ...]:
    """Every way the pool's configuration differs from ours; empty when it is acceptable."""
    violations: list[ConfigViolation] = []

    def expect(reason: ConfigRejectReason, name: str, actual: object, expected: object) -> None:
        if actual != expected:
            violations.append(ConfigViolation(reason, f"{name} is {actual}, expected {expected}"))

    expect(ConfigRejectReason.FOREIGN_DEV_WALLET, "dev_wallet", decoded.dev_wallet, config.dev_wallet)
    expect(
        ConfigRejectReason.FOREIGN_TREASURY,
        "treasury_wallet",
        decoded.treasury_wallet,
        config.treasury_wallet,
    )
    expect(ConfigRejectReason.DEV_FEE_NOT_EXPECTED, "dev_fee_bps", decoded.dev_fee_bps, policy.dev_fee_bps)
    expect(
        ConfigRejectReason.BURN_FEE_NOT_EXPECTED, "burn_fee_bps", decoded.burn_fee_bps, policy.burn_fee_bps
    )
    expect(
        ConfigRejectReason.TREASURY_FEE_NOT_EXPECTED,
        "treasury_fee_bps",
        decoded.treasury_fee_bps,
        policy.treasury_fee_bps,
    )
    if decoded.allow_mock and not policy.allow_mock:
        violations.append(ConfigViolation(ConfigRejectReason.MOCK_NOT_ALLOWED, "allow_mock is set"))
    return tuple(violations)
