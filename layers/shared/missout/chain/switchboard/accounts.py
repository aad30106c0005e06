"""Reading Switchboard accounts: the randomness account, and the queue and oracle accounts as far as picking
an oracle and its gateway needs (offsets from docs/solana.md §1.7 and docs/switchboard.md "Accounts", all
little-endian, discriminator included).

Sizes are checked against the last field read, never asserted exactly: the randomness account is 408 bytes in
the Rust crate's struct and 480 in the deployed program, whose tail carries `lut_slot` (closing needs it) and
the oracle key the commit bound (a reveal after its expiration fails with error 6040).
"""

from __future__ import annotations

import struct
from dataclasses import dataclass

from solders.pubkey import Pubkey

RANDOMNESS_DISCRIMINATOR = bytes([10, 66, 229, 135, 220, 239, 217, 114])
ORACLE_DISCRIMINATOR = bytes([128, 30, 16, 241, 170, 73, 55, 54])
QUEUE_DISCRIMINATOR = bytes([217, 194, 55, 127, 184, 83, 138, 1])

RANDOMNESS_READ_BYTES = 184  # authority .. value: what every layout has
RANDOMNESS_ACCOUNT_BYTES = 480  # the deployed layout, with lut_slot and the active oracle key
_RANDOMNESS_LUT_SLOT = 184
_RANDOMNESS_SIGNER, _RANDOMNESS_SIGNER_BYTES, _RANDOMNESS_SIGNER_EXPIRATION = 408, 64, 472
_ORACLE_VERIFICATION_STATUS, _ORACLE_VALID_UNTIL = 72, 88
_ORACLE_LAST_HEARTBEAT, _ORACLE_GATEWAY_URI, _ORACLE_IS_ON_QUEUE = 3512, 3584, 3656
_GATEWAY_URI_BYTES = 64
_QUEUE_ORACLE_KEYS, _QUEUE_NODE_TIMEOUT, _QUEUE_ORACLE_KEYS_LEN = 1064, 5176, 5204
_QUEUE_MAX_ORACLES = 78
# The one enclave verification status the SDK's randomness selector accepts (docs/switchboard.md "Oracle
# choice"); 8 ("override") is not accepted for randomness.
VERIFIED_STATUS = 4


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
    queue: Pubkey  # the queue a reveal must name: taken from here, never from settings
    seed_slothash: bytes
    seed_slot: int  # 0 = never committed
    oracle: Pubkey  # the oracle assigned at commit: only its gateway can produce the reveal
    reveal_slot: int  # slot of the latest reveal; a commit does not necessarily clear it
    value: bytes
    # The tail of the 480-byte layout; None when the account is the shorter (408-byte) one.
    lut_slot: int | None = None  # seeds the lookup table `randomness_close` must name
    active_secp256k1_signer: bytes | None = None  # the oracle key the latest commit bound (64 bytes)
    active_secp256k1_expiration: int | None = None  # unix seconds; 0 or None = not known

    @classmethod
    def decode(cls, data: bytes) -> RandomnessAccount:
        _require(data, RANDOMNESS_DISCRIMINATOR, RANDOMNESS_READ_BYTES, "randomness")
        (seed_slot,) = struct.unpack_from("<Q", data, 104)
        (reveal_slot,) = struct.unpack_from("<Q", data, 144)
        lut_slot = signer = expiration = None
        if len(data) >= RANDOMNESS_ACCOUNT_BYTES:
            (lut_slot,) = struct.unpack_from("<Q", data, _RANDOMNESS_LUT_SLOT)
            signer = bytes(data[_RANDOMNESS_SIGNER : _RANDOMNESS_SIGNER + _RANDOMNESS_SIGNER_BYTES])
            (expiration,) = struct.unpack_from("<q", data, _RANDOMNESS_SIGNER_EXPIRATION)
        return cls(
            authority=_key(data, 8),
            queue=_key(data, 40),
            seed_slothash=bytes(data[72:104]),
            seed_slot=seed_slot,
            oracle=_key(data, 112),
            reveal_slot=reveal_slot,
            value=bytes(data[152:184]),
            lut_slot=lut_slot,
            active_secp256k1_signer=signer,
            active_secp256k1_expiration=expiration,
        )

    @property
    def is_committed(self) -> bool:
        return self.seed_slot != 0

    @property
    def is_revealed(self) -> bool:
        """Revealed after the latest commit: a reveal lands in a later slot than the seed it signs, and a
        re-commit moves `seed_slot` past any older `reveal_slot` (whether or not it clears that field)."""
        return self.is_committed and self.reveal_slot > self.seed_slot

    def is_revealable_at(self, slot: int) -> bool:
        """The oracle signs only once the chain has moved past the seed slot."""
        return self.is_committed and self.seed_slot < slot

    def oracle_key_expired(self, now: int, margin_s: int = 0) -> bool:
        """True when the oracle key bound at commit has expired (or will within `margin_s`): the program then
        refuses the reveal (error 6040) and no retry can help. False when the layout carries no expiration."""
        expiration = self.active_secp256k1_expiration
        if not expiration:
            return False
        return now + margin_s >= expiration


def is_dead_request(account: RandomnessAccount, now: int, margin_s: int = 0) -> bool:
    """A committed, unrevealed request that can no longer be revealed: its oracle key has expired (or will
    within `margin_s` seconds). A committed request cannot be moved to another oracle, so the only ways on are
    a fresh request (when the pool program allows it) or the program's emergency path."""
    return account.is_committed and not account.is_revealed and account.oracle_key_expired(now, margin_s)


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

    @property
    def is_verified(self) -> bool:
        return self.verification_status == VERIFIED_STATUS

    def heartbeat_fresh(self, now: int, node_timeout: int) -> bool:
        return now - self.last_heartbeat <= node_timeout

    def quote_fresh(self, now: int) -> bool:
        return self.valid_until > now

    def is_eligible(self, now: int, node_timeout: int) -> bool:
        """The SDK's on-chain filter (docs/switchboard.md "Oracle choice"): gateway set, on the queue,
        verified quote, heartbeat within the queue's node timeout, quote not expired."""
        return (
            bool(self.gateway_uri)
            and self.is_on_queue
            and self.is_verified
            and self.heartbeat_fresh(now, node_timeout)
            and self.quote_fresh(now)
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
