"""Reading Switchboard accounts: the randomness account, and the queue and oracle accounts as far as picking
an oracle and its gateway needs (offsets from docs/solana.md §1.7, all little-endian, discriminator included).

Only the fields we use are read and sizes are checked against the last field read, never asserted exactly:
the randomness account is 408 bytes in one crate version and 480 in the next.
"""

from __future__ import annotations

import struct
from dataclasses import dataclass

from solders.pubkey import Pubkey

RANDOMNESS_DISCRIMINATOR = bytes([10, 66, 229, 135, 220, 239, 217, 114])
ORACLE_DISCRIMINATOR = bytes([128, 30, 16, 241, 170, 73, 55, 54])
QUEUE_DISCRIMINATOR = bytes([217, 194, 55, 127, 184, 83, 138, 1])

RANDOMNESS_READ_BYTES = 184  # authority .. value; `lut_slot` and later fields are not needed
_ORACLE_VERIFICATION_STATUS, _ORACLE_VALID_UNTIL = 72, 88
_ORACLE_LAST_HEARTBEAT, _ORACLE_GATEWAY_URI, _ORACLE_IS_ON_QUEUE = 3512, 3584, 3656
_GATEWAY_URI_BYTES = 64
_QUEUE_ORACLE_KEYS, _QUEUE_NODE_TIMEOUT, _QUEUE_ORACLE_KEYS_LEN = 1064, 5176, 5204
_QUEUE_MAX_ORACLES = 78
# Enclave verification states that mean "this oracle's quote is trusted" (verified, or overridden by the
# queue authority).
_TRUSTED_VERIFICATION = frozenset({4, 8})


class SwitchboardAccountError(ValueError):
    """The bytes are not the Switchboard account they were supposed to be."""


def _require(data: bytes, discriminator: bytes, minimum: int, kind: str) -> None:
    if data[:8] != discriminator:
        raise SwitchboardAccountError(f"not a {kind} account (discriminator {data[:8].hex()})")
    if len(data) < minimum:
        raise SwitchboardAccountError(f"{kind} account too short: {len(data)} < {minimum} bytes")


def _key(data: bytes, offset: int) -> Pubkey:
    return Pubkey.from_bytes(data[offset : offset + 32])


@dataclass(frozen=True, slots=True)
class RandomnessAccount:
    authority: Pubkey
    queue: Pubkey
    seed_slothash: bytes
    seed_slot: int  # 0 = never committed
    oracle: Pubkey  # the oracle assigned at commit: only its gateway can produce the reveal
    reveal_slot: int  # 0 = not revealed since the last commit
    value: bytes

    @classmethod
    def decode(cls, data: bytes) -> RandomnessAccount:
        _require(data, RANDOMNESS_DISCRIMINATOR, RANDOMNESS_READ_BYTES, "randomness")
        (seed_slot,) = struct.unpack_from("<Q", data, 104)
        (reveal_slot,) = struct.unpack_from("<Q", data, 144)
        return cls(
            authority=_key(data, 8),
            queue=_key(data, 40),
            seed_slothash=bytes(data[72:104]),
            seed_slot=seed_slot,
            oracle=_key(data, 112),
            reveal_slot=reveal_slot,
            value=bytes(data[152:184]),
        )

    @property
    def is_committed(self) -> bool:
        return self.seed_slot != 0

    @property
    def is_revealed(self) -> bool:
        """Revealed after the latest commit (a commit clears `reveal_slot`)."""
        return self.reveal_slot != 0 and any(self.value)

    def is_revealable_at(self, slot: int) -> bool:
        """The oracle signs only once the chain has moved past the seed slot."""
        return self.is_committed and self.seed_slot < slot


@dataclass(frozen=True, slots=True)
class OracleAccount:
    verification_status: int
    valid_until: int  # unix seconds
    last_heartbeat: int  # unix seconds
    gateway_uri: str  # "" when unset
    is_on_queue: bool

    @classmethod
    def decode(cls, data: bytes) -> OracleAccount:
        _require(data, ORACLE_DISCRIMINATOR, _ORACLE_IS_ON_QUEUE + 1, "oracle")
        (valid_until,) = struct.unpack_from("<q", data, _ORACLE_VALID_UNTIL)
        (last_heartbeat,) = struct.unpack_from("<q", data, _ORACLE_LAST_HEARTBEAT)
        raw_uri = bytes(data[_ORACLE_GATEWAY_URI : _ORACLE_GATEWAY_URI + _GATEWAY_URI_BYTES])
        return cls(
            verification_status=data[_ORACLE_VERIFICATION_STATUS],
            valid_until=valid_until,
            last_heartbeat=last_heartbeat,
            gateway_uri=raw_uri.split(b"\0", 1)[0].decode("ascii", errors="replace"),
            is_on_queue=data[_ORACLE_IS_ON_QUEUE] != 0,
        )

    def is_eligible(self, now: int, node_timeout: int) -> bool:
        """The SDK's filter (docs/solana.md §1.7 "Oracle selection"): gateway set, on the queue, trusted
        quote, recent heartbeat, quote not expired."""
        return (
            bool(self.gateway_uri)
            and self.is_on_queue
            and self.verification_status in _TRUSTED_VERIFICATION
            and now - self.last_heartbeat <= node_timeout
            and self.valid_until > now
        )


@dataclass(frozen=True, slots=True)
class QueueAccount:
    oracle_keys: tuple[Pubkey, ...]
    node_timeout: int  # seconds an oracle may go without a heartbeat

    @classmethod
    def decode(cls, data: bytes) -> QueueAccount:
        _require(data, QUEUE_DISCRIMINATOR, _QUEUE_ORACLE_KEYS_LEN + 4, "queue")
        (count,) = struct.unpack_from("<I", data, _QUEUE_ORACLE_KEYS_LEN)
        if count > _QUEUE_MAX_ORACLES:
            raise SwitchboardAccountError(f"queue lists {count} oracles, more than {_QUEUE_MAX_ORACLES}")
        (node_timeout,) = struct.unpack_from("<q", data, _QUEUE_NODE_TIMEOUT)
        keys = tuple(_key(data, _QUEUE_ORACLE_KEYS + 32 * i) for i in range(count))
        return cls(oracle_keys=keys, node_timeout=node_timeout)
