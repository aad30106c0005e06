"""The oracles' HTTP gateway, as plain Python (the local server mounts it, see `localnet.switchboard_routes`).

Per oracle it answers what a real gateway answers: `POST .../randomness_reveal` (the oracle's signature over
the committed seed), `GET .../healthy_oracles` (every healthy oracle it knows), `GET .../test`. Each oracle's
`OracleBehaviour` turns on the failure modes of the real network: a gateway that is down (503), one that
answers "too early" a few times (400), an oracle that no gateway reports healthy, or one that is restricted or
has its pull service disabled. A reveal asked for before the chain has moved past the seed slot is "too
early" too, as on a real gateway whose RPC has not seen the slot yet.
"""

from __future__ import annotations

import base64
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from solders.pubkey import Pubkey

from localnet.programs.switchboard_oracles import LocalOracle, OracleFleet, reveal_value


@dataclass(frozen=True)
class GatewayAnswer:
    status: int
    body: Any  # JSON-able; a str is sent as text


class OracleGateway:
    """The gateways of `fleet` (default: the one-oracle fleet of `chain_seed`). `current_slot`, when given,
    makes reveals for a seed slot the chain has not passed answer "too early"."""

    def __init__(
        self,
        chain_seed: bytes,
        fleet: OracleFleet | None = None,
        current_slot: Callable[[], int] | None = None,
    ) -> None:
        self._chain_seed = chain_seed
        self.fleet = fleet or OracleFleet(chain_seed)
        self._current_slot = current_slot
        self.oracle = self.fleet[0].key

    def reveal(self, slothash: bytes, randomness_key: Pubkey, slot: int, index: int = 0) -> dict[str, Any]:
        """Oracle `index`'s signed reveal. `slot` is the randomness account's `seed_slot`; `slothash` its
        `seed_slothash`."""
        if len(slothash) != 32:
            raise ValueError("slothash must be 32 bytes")
        oracle = self.fleet[index]
        signature = oracle.sign_reveal(self._chain_seed, randomness_key, slot, bytes(slothash))
        value = reveal_value(self._chain_seed, randomness_key, slot)
        return {"signature": base64.b64encode(signature).decode(), "recovery_id": 0, "value": list(value)}

    def reveal_request(self, body: dict[str, Any], index: int = 0) -> dict[str, Any]:
        """The JSON body the SDK posts: {"slothash": [32 ints], "randomness_key": "<64 hex>", "slot": n,
        "rpc": ...}. A base58 key is accepted too. Raises ValueError on a malformed body."""
        try:
            slothash = bytes(body["slothash"])
            raw_key = str(body["randomness_key"])
            key = (
                Pubkey.from_bytes(bytes.fromhex(raw_key))
                if len(raw_key) == 64
                else Pubkey.from_string(raw_key)
            )
            slot = int(body["slot"])
        except (KeyError, TypeError, ValueError) as exc:
            raise ValueError(f"bad reveal request: {exc}") from None
        return self.reveal(slothash, key, slot, index)

    def test(self, index: int = 0) -> str:
        return f"switchboard localnet oracle {self.fleet[index].key} ok"

    # -- HTTP answers, behaviour included ------------------------------------------------------------------

    def answer_reveal(self, index: int, body: dict[str, Any]) -> GatewayAnswer:
        oracle = self.fleet[index]
        behaviour = oracle.behaviour
        behaviour.reveal_requests += 1
        if behaviour.down:
            return _down(oracle)
        if behaviour.too_early > 0:
            behaviour.too_early -= 1
            return GatewayAnswer(400, {"error": "too early: the seed slot is not available yet"})
        slot = body.get("slot")
        if self._current_slot is not None and isinstance(slot, int) and self._current_slot() <= slot:
            return GatewayAnswer(400, {"error": f"too early: slot {slot} has not passed yet"})
        try:
            return GatewayAnswer(200, self.reveal_request(body, index))
        except ValueError as exc:
            return GatewayAnswer(400, {"error": str(exc)})

    def answer_healthy_oracles(self, index: int) -> GatewayAnswer:
        oracle = self.fleet[index]
        return _down(oracle) if oracle.behaviour.down else GatewayAnswer(200, self.fleet.healthy_oracles())

    def answer_test(self, index: int) -> GatewayAnswer:
        oracle = self.fleet[index]
        return _down(oracle) if oracle.behaviour.down else GatewayAnswer(200, self.test(index))


def _down(oracle: LocalOracle) -> GatewayAnswer:
    return GatewayAnswer(503, f"gateway of oracle {oracle.index} is down")
