"""Is a pool's configuration one we can crank and stand behind? (docs/original-backend.md W8, OC1.)

The program takes `dev_wallet`, `treasury_wallet`, every fee and `allow_mock` from whoever creates the
pool. A pool with a foreign dev wallet can never be cranked by us, one with foreign fees or treasury pays
someone else, and a mock pool has predictable randomness. Nothing bounds `amount × max_participants`
either: a pot too large for the payout's fee arithmetic fails with Overflow (6009) forever
(docs/program.md §5.1). Works on a verified `create_pool`'s arguments (`CreatePoolArgs`) and on a decoded
on-chain `PoolAccount` alike: both carry these eight fields.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import Enum
from typing import Protocol

from solders.pubkey import Pubkey

from missout.chain.config import ProgramConfig
from missout.pools.payability import pot_is_payable


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
    @property
    def amount(self) -> int: ...
    @property
    def max_participants(self) -> int: ...


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
    POT_OVERFLOW = "pot_overflow"  # the full pot of entries cannot be paid out in u64


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
    # Entries alone, every seat taken; donations are judged when they happen (payability, each report).
    pot = decoded.amount * decoded.max_participants
    payable = pot_is_payable(
        pot,
        dev_fee_bps=decoded.dev_fee_bps,
        burn_fee_bps=decoded.burn_fee_bps,
        treasury_fee_bps=decoded.treasury_fee_bps,
    )
    if not payable:
        violations.append(
            ConfigViolation(
                ConfigRejectReason.POT_OVERFLOW,
                f"{decoded.max_participants} entries of {decoded.amount} make a pot of {pot}, which the "
                "payout's u64 fee arithmetic cannot split",
            )
        )
    return tuple(violations)
