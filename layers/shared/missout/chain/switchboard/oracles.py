"""Reading Switchboard state over RPC: a randomness account, and the oracle to commit to."""

from __future__ import annotations

from collections.abc import Collection
from dataclasses import dataclass

from solders.pubkey import Pubkey

from missout.chain.rpc import RpcSession
from missout.chain.switchboard.accounts import (
    OracleAccount,
    QueueAccount,
    RandomnessAccount,
    SwitchboardAccountError,
)
from missout.chain.switchboard.config import SwitchboardConfig


class NoEligibleOracle(RuntimeError):
    """The queue lists no oracle that passes the eligibility filter (or all were excluded)."""


@dataclass(frozen=True, slots=True)
class ChosenOracle:
    key: Pubkey
    gateway_url: str


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
    rpc: RpcSession, config: SwitchboardConfig, now: int, exclude: Collection[Pubkey] = ()
) -> ChosenOracle:
    """An eligible oracle of the configured queue: the one with the freshest heartbeat (a recent heartbeat
    is the best signal we have that its gateway answers). `exclude` skips oracles that already failed us,
    e.g. after a commit failed with an expired oracle key (docs/solana.md §1.8)."""
    queue_account = await rpc.get_account_info(config.queue)
    if queue_account is None or queue_account.owner != config.program_id:
        raise SwitchboardAccountError(f"queue {config.queue} does not exist under {config.program_id}")
    queue = QueueAccount.decode(bytes(queue_account.data))
    candidates = [key for key in queue.oracle_keys if key not in exclude]
    accounts = await rpc.get_multiple_accounts(candidates) if candidates else []
    eligible: list[tuple[int, str, ChosenOracle]] = []
    for key, account in zip(candidates, accounts, strict=True):
        if account is None or account.owner != config.program_id:
            continue
        try:
            oracle = OracleAccount.decode(bytes(account.data))
        except SwitchboardAccountError:
            continue
        if oracle.is_eligible(now, queue.node_timeout):
            eligible.append((oracle.last_heartbeat, str(key), ChosenOracle(key, oracle.gateway_uri)))
    if not eligible:
        raise NoEligibleOracle(f"no eligible oracle on queue {config.queue} ({len(candidates)} considered)")
    eligible.sort(key=lambda item: (-item[0], item[1]))
    return eligible[0][2]
