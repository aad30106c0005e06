"""Reading Switchboard state over RPC: a randomness account, an oracle, and the oracle to commit to."""

from __future__ import annotations

from collections.abc import Collection
from dataclasses import dataclass

from aws_lambda_powertools.metrics import MetricUnit
from solders.pubkey import Pubkey

from missout.chain.rpc import RpcSession
from missout.chain.switchboard.accounts import (
    OracleAccount,
    QueueAccount,
    RandomnessAccount,
    SwitchboardAccountError,
)
from missout.chain.switchboard.config import SwitchboardConfig
from missout.chain.switchboard.health import GatewayHealthProbe
from missout.chain.switchboard.selection import (
    NO_HEALTH,
    NoEligibleOracle,
    OracleCandidate,
    Tier,
    select_oracle,
)
from missout.observability import logger, metrics

__all__ = ["ChosenOracle", "NoEligibleOracle", "choose_oracle", "load_oracle", "load_randomness"]

# Counted each time a commit's oracle was chosen without live health (no gateway answered, or none of the
# oracles they reported was eligible): a rising count means commits are routed blind.
FALLBACK_METRIC = "SwitchboardOracleFallback"


@dataclass(frozen=True, slots=True)
class ChosenOracle:
    key: Pubkey
    gateway_url: str
    tier: Tier = "fallback"  # "live": some gateway reported it healthy
    version: str | None = None


async def load_randomness(
    rpc: RpcSession, config: SwitchboardConfig, key: Pubkey
) -> RandomnessAccount | None:
    """The randomness account, or None when it does not exist yet (init not landed)."""
    account = await rpc.get_account_info(key)
    if account is None:
        return None
    if account.owner != config.program_id:
        raise SwitchboardAccountError(f"{key} is owned by {account.owner}, not {config.program_id}")
    return RandomnessAccount.decode(bytes(account.data))


async def load_oracle(rpc: RpcSession, config: SwitchboardConfig, key: Pubkey) -> OracleAccount:
    account = await rpc.get_account_info(key)
    if account is None or account.owner != config.program_id:
        raise SwitchboardAccountError(f"oracle {key} does not exist under {config.program_id}")
    return OracleAccount.decode(bytes(account.data))


async def choose_oracle(
    rpc: RpcSession,
    config: SwitchboardConfig,
    now: int,
    exclude: Collection[Pubkey] = (),
    *,
    health: GatewayHealthProbe | None = None,
) -> ChosenOracle:
    """The oracle a commit should bind, chosen as the SDK's selector does (`selection.select_oracle`).

    With `health`, every gateway the queue's oracles advertise is asked which oracles are healthy first; the
    commit is the only moment the oracle can be chosen (a committed request cannot be re-routed), so this is
    worth a round trip. When no gateway answers, the on-chain facts alone decide, said in a warning line and
    the `SwitchboardOracleFallback` metric. `exclude` skips oracles that already failed us, e.g. after a
    commit failed with an expired oracle key (docs/solana.md §1.8)."""
    queue_account = await rpc.get_account_info(config.queue)
    if queue_account is None or queue_account.owner != config.program_id:
        raise SwitchboardAccountError(f"queue {config.queue} does not exist under {config.program_id}")
    queue = QueueAccount.decode(bytes(queue_account.data))
    keys = [key for key in queue.oracle_keys if key not in exclude]
    accounts = await rpc.get_multiple_accounts(keys) if keys else []
    oracles: list[tuple[Pubkey, OracleAccount]] = []
    for key, account in zip(keys, accounts, strict=True):
        if account is None or account.owner != config.program_id:
            continue
        try:
            oracles.append((key, OracleAccount.decode(bytes(account.data))))
        except SwitchboardAccountError:
            continue  # one unreadable member must not stop the draw
    index = await health.collect(o.gateway_uri for _, o in oracles) if health and oracles else NO_HEALTH
    candidates = [OracleCandidate.build(key, o, queue.node_timeout, now, index) for key, o in oracles]
    if not candidates:
        raise NoEligibleOracle(f"no readable oracle on queue {config.queue} ({len(keys)} considered)")
    selection = select_oracle(candidates)
    chosen = selection.candidate
    details = {
        "oracle": str(chosen.key),
        "tier": selection.tier,
        "version": chosen.version,
        "live": selection.live_count,
        "eligible": selection.eligible_count,
        "gateways_answered": index.gateways_answered,
    }
    if health is not None and selection.tier == "fallback":
        reason = "no gateway answered" if index.gateways_answered == 0 else "no reported oracle is eligible"
        logger().warning(f"switchboard oracle chosen from on-chain facts only: {reason}", extra=details)
        metrics().add_metric(name=FALLBACK_METRIC, unit=MetricUnit.Count, value=1)
    else:
        logger().info("switchboard oracle chosen", extra=details)
    return ChosenOracle(chosen.key, chosen.gateway_url, selection.tier, chosen.version)
