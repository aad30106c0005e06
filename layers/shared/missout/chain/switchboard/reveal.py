"""Getting the reveal for a committed randomness request, the way the real network needs it
(docs/switchboard.md "Reveal"):

* the randomness account is read first and everything comes from it: the assigned oracle, the queue, the seed;
* the assigned oracle's account is read at reveal time for its current `gateway_uri` (operators move them);
* the first request waits until about 3 s after the commit landed, as the SDK does;
* "too early" answers and outages are retried with backoff, but never past the caller's budget nor past the
  moment the oracle key bound at commit expires: after that no answer could be used.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass

from solders.pubkey import Pubkey

from missout.chain.rpc import RpcSession
from missout.chain.switchboard.accounts import RandomnessAccount, SwitchboardAccountError, is_dead_request
from missout.chain.switchboard.config import SwitchboardConfig
from missout.chain.switchboard.gateway import (
    GatewayBudgetExhausted,
    GatewayClient,
    GatewayUnavailable,
    RevealResponse,
)
from missout.chain.switchboard.oracles import load_oracle, load_randomness

# Stop asking this long before the bound oracle key expires: the reveal still has to land on chain.
DEFAULT_EXPIRY_MARGIN_S = 30


class RandomnessRequestDead(RuntimeError):
    """The request can no longer be revealed (its oracle key expired): re-create it if the pool program
    allows, or leave the pool to the emergency path. Retrying the gateway cannot help."""

    def __init__(self, randomness: Pubkey, account: RandomnessAccount, now: int) -> None:
        super().__init__(
            f"randomness {randomness}: oracle key expired at {account.active_secp256k1_expiration} "
            f"(now {now}); the request cannot be revealed"
        )
        self.randomness = randomness
        self.account = account


@dataclass(frozen=True, slots=True)
class PreparedReveal:
    """Everything `reveal_and_select` needs: the account as read just before asking, and the answer."""

    randomness: Pubkey
    account: RandomnessAccount
    gateway_url: str
    response: RevealResponse


async def fetch_reveal(
    rpc: RpcSession,
    config: SwitchboardConfig,
    gateway: GatewayClient,
    randomness: Pubkey,
    *,
    remaining_ms: Callable[[], int],
    committed_at: float | None = None,
    now: Callable[[], float] = time.time,
    expiry_margin_s: int = DEFAULT_EXPIRY_MARGIN_S,
) -> PreparedReveal:
    """Ask the assigned oracle's gateway for the reveal of `randomness`.

    `committed_at` is when the commit landed (unix seconds, e.g. from the crank's intent row); without it the
    full post-commit wait is taken, as the SDK does. Raises `RandomnessRequestDead` when the bound oracle key
    has expired (or will within `expiry_margin_s`), `ValueError` when there is nothing to reveal (never
    committed, or already revealed), `SwitchboardAccountError` when an account is missing or malformed, and
    the gateway's errors (`GatewayBudgetExhausted`, ...) when no usable answer came in time."""
    account = await load_randomness(rpc, config, randomness)
    if account is None:
        raise SwitchboardAccountError(f"randomness account {randomness} does not exist")
    if not account.is_committed:
        raise ValueError(f"randomness account {randomness} was never committed: nothing to reveal")
    if account.is_revealed:
        raise ValueError(f"randomness account {randomness} is already revealed (slot {account.reveal_slot})")
    _raise_if_dead(randomness, account, now(), expiry_margin_s)

    budget = _budget(account, remaining_ms, now, expiry_margin_s)
    start = committed_at if committed_at is not None else now()
    wait = start + gateway.policy.after_commit_s - now()
    if wait > 0:
        if wait * 1000 > budget():
            raise GatewayBudgetExhausted("time budget ends before the first reveal request may be sent", None)
        await gateway.sleep(wait)

    # Read at reveal time: the oracle's gateway may have moved since the commit.
    oracle = await load_oracle(rpc, config, account.oracle)
    if not oracle.gateway_uri:
        raise GatewayUnavailable(f"assigned oracle {account.oracle} advertises no gateway")
    try:
        response = await gateway.reveal(oracle.gateway_uri, randomness, account, budget)
    except GatewayBudgetExhausted:
        _raise_if_dead(randomness, account, now(), expiry_margin_s)
        raise
    return PreparedReveal(randomness, account, oracle.gateway_uri, response)


def _raise_if_dead(randomness: Pubkey, account: RandomnessAccount, now: float, margin_s: int) -> None:
    if is_dead_request(account, int(now), margin_s):
        raise RandomnessRequestDead(randomness, account, int(now))


def _budget(
    account: RandomnessAccount, remaining_ms: Callable[[], int], now: Callable[[], float], margin_s: int
) -> Callable[[], int]:
    """The caller's budget, cut at the bound oracle key's expiry (less the margin) when the account says."""
    expiration = account.active_secp256k1_expiration
    if not expiration:
        return remaining_ms
    return lambda: min(remaining_ms(), int((expiration - margin_s - now()) * 1000))
