"""Which oracle a commit should bind: the SDK's randomness selector, in our words (docs/switchboard.md
"Oracle choice"). Pure: the caller reads the accounts and the gateways' health answers.

1. A candidate is eligible when the chain says so (gateway URI set, on the queue, verified quote, heartbeat
   within the queue's node timeout, quote not expired) and live health does not rule it out (restricted,
   gateway disabled, pull oracle disabled).
2. Eligible candidates some gateway lists as healthy form the "live" tier; only when there are none does the
   whole eligible set (the "fallback" tier, on-chain facts only) compete.
3. Within the tier, oracles on its majority software version are preferred.
4. Then the least loaded (fewest connections, then subscriptions), the most feeds, the freshest heartbeat, the
   latest quote expiry, and the key as the last tie-break so the choice is deterministic.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Literal

from solders.pubkey import Pubkey

from missout.chain.switchboard.accounts import OracleAccount

Tier = Literal["live", "fallback"]
_UNKNOWN_LOAD = 2**63  # a missing load figure ranks after every reported one


class NoEligibleOracle(RuntimeError):
    """The queue lists no oracle that passes the eligibility filter (or all were excluded)."""


class HealthAnswerInvalid(ValueError):
    """A gateway's healthy_oracles answer is not `{"oracles": [...]}`."""


def _int_or_none(value: object) -> int | None:
    return value if isinstance(value, int) and not isinstance(value, bool) else None


def _version(value: object) -> str | None:
    return value.strip() or None if isinstance(value, str) else None


@dataclass(frozen=True, slots=True)
class OracleHealth:
    """One oracle as a gateway's `/gateway/api/v1/healthy_oracles` reports it."""

    oracle: str  # `oracle_config.pull_oracle`: the oracle account's base58 key
    oracle_url: str
    version: str | None
    restricted: bool | None
    pull_oracle_enabled: bool  # `oracle_config.enable_pull_oracle == 1`
    active_connections: int | None
    total_subscriptions: int | None
    total_feeds: int | None
    priority_pairs: int  # distinct keys of `priority_pairs_status`

    def load_rank(self) -> tuple[int, int, int, int, str]:
        """Smaller is less loaded: how two gateways' reports of the same oracle are reconciled."""
        return (
            _UNKNOWN_LOAD if self.active_connections is None else self.active_connections,
            _UNKNOWN_LOAD if self.total_subscriptions is None else self.total_subscriptions,
            -(self.total_feeds or 0),
            -self.priority_pairs,
            self.oracle_url,
        )


def parse_healthy_oracles(body: object) -> list[OracleHealth]:
    """The entries of a healthy_oracles answer that name an oracle; malformed entries are skipped (a gateway
    that lists an oracle badly has said nothing about it), a malformed answer raises `HealthAnswerInvalid`."""
    if not isinstance(body, dict) or not isinstance(body.get("oracles"), list):
        raise HealthAnswerInvalid("healthy_oracles answer has no 'oracles' list")
    entries: list[OracleHealth] = []
    for item in body["oracles"]:
        config = item.get("oracle_config") if isinstance(item, dict) else None
        if not isinstance(config, dict) or not isinstance(config.get("pull_oracle"), str):
            continue
        restricted = config.get("restricted")
        priority = item.get("priority_pairs_status")
        entries.append(
            OracleHealth(
                oracle=config["pull_oracle"],
                oracle_url=str(item.get("oracle_url") or ""),
                version=_version(config.get("version")),
                restricted=restricted if isinstance(restricted, bool) else None,
                pull_oracle_enabled=config.get("enable_pull_oracle") == 1,
                active_connections=_int_or_none(item.get("active_connections")),
                total_subscriptions=_int_or_none(item.get("total_subscriptions")),
                total_feeds=_int_or_none(item.get("total_feeds")),
                priority_pairs=len(priority) if isinstance(priority, dict) else 0,
            )
        )
    return entries


def majority_version(versions: Iterable[str | None]) -> str | None:
    """The most common version (ties go to the one seen first); None when no version is known."""
    counts = Counter(v for v in versions if v)
    return counts.most_common(1)[0][0] if counts else None


@dataclass(frozen=True, slots=True)
class HealthIndex:
    """What the gateways that answered said, merged: per oracle the least-loaded report."""

    by_oracle: dict[str, OracleHealth]
    majority_version: str | None
    gateways_answered: int

    @classmethod
    def merge(cls, snapshots: Sequence[Sequence[OracleHealth]]) -> HealthIndex:
        by_oracle: dict[str, OracleHealth] = {}
        for snapshot in snapshots:
            for entry in snapshot:
                known = by_oracle.get(entry.oracle)
                if known is None or entry.load_rank() < known.load_rank():
                    by_oracle[entry.oracle] = entry
        version = majority_version(entry.version for snapshot in snapshots for entry in snapshot)
        return cls(by_oracle=by_oracle, majority_version=version, gateways_answered=len(snapshots))


NO_HEALTH = HealthIndex(by_oracle={}, majority_version=None, gateways_answered=0)


@dataclass(frozen=True, slots=True)
class OracleCandidate:
    key: Pubkey
    gateway_url: str
    version: str | None
    is_on_queue: bool
    is_verified: bool
    heartbeat_fresh: bool
    quote_fresh: bool
    live_healthy: bool
    restricted: bool | None  # None: no gateway said
    gateway_enabled: bool | None
    pull_oracle_enabled: bool | None
    last_heartbeat: int
    valid_until: int
    active_connections: int | None = None
    total_subscriptions: int | None = None
    total_feeds: int | None = None

    @classmethod
    def build(
        cls, key: Pubkey, oracle: OracleAccount, node_timeout: int, now: int, health: HealthIndex
    ) -> OracleCandidate:
        report = health.by_oracle.get(str(key))
        return cls(
            key=key,
            gateway_url=oracle.gateway_uri,
            version=report.version if report and report.version else health.majority_version,
            is_on_queue=oracle.is_on_queue,
            is_verified=oracle.is_verified,
            heartbeat_fresh=oracle.heartbeat_fresh(now, node_timeout),
            quote_fresh=oracle.quote_fresh(now),
            live_healthy=report is not None,
            restricted=report.restricted if report else None,
            gateway_enabled=bool(oracle.gateway_uri) if report else None,
            pull_oracle_enabled=report.pull_oracle_enabled if report else None,
            last_heartbeat=oracle.last_heartbeat,
            valid_until=oracle.valid_until,
            active_connections=report.active_connections if report else None,
            total_subscriptions=report.total_subscriptions if report else None,
            total_feeds=report.total_feeds if report else None,
        )

    @property
    def is_eligible(self) -> bool:
        return (
            bool(self.gateway_url)
            and self.is_on_queue
            and self.is_verified
            and self.heartbeat_fresh
            and self.quote_fresh
            and self.restricted is not True
            and self.gateway_enabled is not False
            and self.pull_oracle_enabled is not False
        )

    def rank(self) -> tuple[int, int, int, int, int, str]:
        """Smaller is preferred: least loaded, most feeds, freshest heartbeat, latest quote expiry."""
        return (
            _UNKNOWN_LOAD if self.active_connections is None else self.active_connections,
            _UNKNOWN_LOAD if self.total_subscriptions is None else self.total_subscriptions,
            _UNKNOWN_LOAD if self.total_feeds is None else -self.total_feeds,
            -self.last_heartbeat,
            -self.valid_until,
            str(self.key),
        )


@dataclass(frozen=True, slots=True)
class OracleSelection:
    candidate: OracleCandidate
    tier: Tier
    majority_version: str | None
    live_count: int  # eligible and reported healthy
    eligible_count: int


def select_oracle(candidates: Sequence[OracleCandidate]) -> OracleSelection:
    eligible = [c for c in candidates if c.is_eligible]
    if not eligible:
        raise NoEligibleOracle(f"no eligible randomness oracle among {len(candidates)} candidates")
    live = [c for c in eligible if c.live_healthy]
    pool = live or eligible
    version = majority_version(c.version for c in pool)
    preferred = [c for c in pool if c.version == version] if version else pool
    chosen = min(preferred or pool, key=OracleCandidate.rank)
    return OracleSelection(
        candidate=chosen,
        tier="live" if live else "fallback",
        majority_version=version,
        live_count=len(live),
        eligible_count=len(eligible),
    )
