"""What one broadcast of a signed transaction to every usable endpoint came to (docs/solana.md §3.7).

Sending the same signed bytes to several nodes at once cannot execute the transaction twice (one signature,
one execution), and it lands sooner and survives a node that drops it. `BroadcastTally` collects each
endpoint's answer; `outcome()` turns them into a `BroadcastResult` or the error a single send would raise.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from solders.signature import Signature

from missout.chain.errors import ClassifiedError
from missout.chain.rpc.errors import (
    EndpointFailure,
    FailureKind,
    RpcRequestRejected,
    RpcSendFailed,
    RpcUnavailable,
)

METHOD = "sendTransaction"


@dataclass(frozen=True, slots=True)
class BroadcastResult:
    """At least one node accepted the transaction. Endpoints are given as masked URLs."""

    signature: Signature
    accepted_by: tuple[str, ...]
    # Every endpoint that did not accept it, and why (skipped by its breaker, failed, or refused).
    not_accepted: dict[str, str] = field(default_factory=dict)
    # A node's preflight verdict, kept even though another node accepted: the status poll decides.
    transaction_error: ClassifiedError | None = None


class BroadcastTally:
    """Answers of one broadcast, in endpoint priority order."""

    def __init__(self) -> None:
        self._accepted: list[tuple[str, Signature]] = []
        self._refusals: list[RpcRequestRejected] = []
        self._not_accepted: dict[str, str] = {}
        self._maybe_delivered: tuple[str, EndpointFailure] | None = None

    def skipped(self, endpoint: str, reason: str) -> None:
        self._not_accepted[endpoint] = reason

    def accepted(self, endpoint: str, signature: Signature) -> None:
        self._accepted.append((endpoint, signature))

    def refused(self, endpoint: str, rejection: RpcRequestRejected) -> None:
        self._refusals.append(rejection)
        self._not_accepted[endpoint] = f"refused: {rejection.message}"

    def failed(self, endpoint: str, failure: EndpointFailure, description: str) -> None:
        self._not_accepted[endpoint] = description
        # Only a refused connection proves the bytes never reached the node.
        if failure.kind is not FailureKind.CONNECT and self._maybe_delivered is None:
            self._maybe_delivered = (endpoint, failure)

    def outcome(self) -> BroadcastResult:
        """The result when any node accepted; otherwise raises, in this order of precedence:
        `RpcRequestRejected` (a node refused the transaction itself, e.g. its preflight simulation failed:
        asking another node would not help), `RpcSendFailed` (it may have reached a node that then timed
        out or failed), `RpcUnavailable` (provably delivered nowhere)."""
        first_error = next(
            (r.transaction_error for r in self._refusals if r.transaction_error is not None), None
        )
        if self._accepted:
            return BroadcastResult(
                signature=self._accepted[0][1],
                accepted_by=tuple(endpoint for endpoint, _ in self._accepted),
                not_accepted=dict(self._not_accepted),
                transaction_error=first_error,
            )
        if self._refusals:
            raise self._refusals[0]
        if self._maybe_delivered is not None:
            endpoint, failure = self._maybe_delivered
            raise RpcSendFailed(endpoint, failure, may_have_landed=True)
        raise RpcUnavailable(METHOD, self._not_accepted)
