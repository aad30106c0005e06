"""The local chain's Switchboard oracles: their keys and signing secrets, the on-chain oracle accounts, and
the off-chain behaviour tests switch on to reproduce the real network's failure modes.

Oracle `i` of a chain seed has a deterministic key and secret (oracle 0 keeps the single-oracle values the
model always had). Its gateway is served at the chain's gateway URL for oracle 0 and at `<url>/oracle<i>`
for the others, the way a real `gateway_uri` may carry a path.

Signatures: the real oracle signs with a secp256k1 key inside a TEE. Offline, the gateway and the program
share a keyed scheme instead: `signature = HMAC-SHA512(oracle secret, b"sb-localnet-reveal" ||
randomness_key(32) || seed_slot u64 LE || seed_slothash(32) || value(32))` (64 bytes, `recovery_id` 0). The
value is `sha256(b"sb-localnet-value" || chain_seed || randomness_key || seed_slot u64 LE)`, so draws repeat
per (chain seed, randomness key, seed slot), whichever oracle reveals.
"""

from __future__ import annotations

import hashlib
import hmac
import struct
from dataclasses import asdict, dataclass, field
from typing import Any

from solders.account import Account
from solders.pubkey import Pubkey

ORACLE_DISCRIMINATOR = bytes([128, 30, 16, 241, 170, 73, 55, 54])
ORACLE_LEN = 4816
# OracleAccountData offsets (docs/solana.md §1.7).
O_VERIFICATION_STATUS, O_VALID_UNTIL, O_LAST_HEARTBEAT, O_GATEWAY_URI, O_IS_ON_QUEUE = (
    72,
    88,
    3512,
    3584,
    3656,
)
VERIFIED = 4
GATEWAY_URI_LEN = 64
LOCAL_VERSION = "localnet-1"
SIGNER_LEN = 64
FAR_FUTURE_S = 100 * 365 * 86_400  # the local clock warps forward in tests: "never" must survive that


def oracle_secret(chain_seed: bytes, index: int = 0) -> bytes:
    suffix = b"" if index == 0 else bytes([index])
    return hashlib.sha256(b"sb-localnet-oracle-secret" + chain_seed + suffix).digest()


def oracle_address(chain_seed: bytes, index: int = 0) -> Pubkey:
    suffix = b"" if index == 0 else bytes([index])
    return Pubkey.from_bytes(hashlib.sha256(b"sb-localnet-oracle-account" + chain_seed + suffix).digest())


def oracle_signer(secret: bytes) -> bytes:
    """The 64 bytes standing for the oracle's secp256k1 public key (what a commit binds)."""
    return hashlib.sha512(b"sb-localnet-signer" + secret).digest()


def reveal_value(chain_seed: bytes, randomness_key: Pubkey, seed_slot: int) -> bytes:
    digest = hashlib.sha256(
        b"sb-localnet-value" + chain_seed + bytes(randomness_key) + struct.pack("<Q", seed_slot)
    )
    return digest.digest()


def reveal_signature(
    secret: bytes, randomness_key: Pubkey, seed_slot: int, slothash: bytes, value: bytes
) -> bytes:
    message = b"sb-localnet-reveal" + bytes(randomness_key) + struct.pack("<Q", seed_slot) + slothash + value
    return hmac.new(secret, message, hashlib.sha512).digest()


@dataclass
class OracleBehaviour:
    """What one oracle's gateway does; tests (or POST /localnet/switchboard/oracles/<i>) change it."""

    healthy: bool = True  # listed by every gateway's healthy_oracles
    down: bool = False  # every endpoint of its gateway answers 503
    too_early: int = 0  # the next this-many reveal requests answer 400 "too early"
    restricted: bool = False
    pull_enabled: bool = True
    version: str = LOCAL_VERSION
    active_connections: int = 0
    total_subscriptions: int = 0
    reveal_requests: int = 0  # counted, answered or not

    def update(self, changes: dict[str, Any]) -> None:
        """Apply JSON-ish changes; unknown names or wrong types raise ValueError."""
        for name, value in changes.items():  # all checked before any is applied
            if name not in BEHAVIOUR_FIELDS:
                raise ValueError(f"unknown oracle behaviour {name!r}")
            expected = BEHAVIOUR_FIELDS[name]
            if not isinstance(value, expected) or (expected is int and isinstance(value, bool)):
                raise ValueError(f"{name} must be {expected.__name__}")
        for name, value in changes.items():
            setattr(self, name, value)


BEHAVIOUR_FIELDS: dict[str, type] = {
    "healthy": bool,
    "down": bool,
    "too_early": int,
    "restricted": bool,
    "pull_enabled": bool,
    "version": str,
    "active_connections": int,
    "total_subscriptions": int,
}


@dataclass
class LocalOracle:
    index: int
    key: Pubkey
    secret: bytes
    gateway_url: str  # as stored in the oracle account
    route_prefix: str  # where the local server mounts its gateway: "" or "/oracle<i>"
    behaviour: OracleBehaviour = field(default_factory=OracleBehaviour)

    @property
    def signer(self) -> bytes:
        return oracle_signer(self.secret)

    def sign_reveal(
        self, chain_seed: bytes, randomness_key: Pubkey, seed_slot: int, slothash: bytes
    ) -> bytes:
        value = reveal_value(chain_seed, randomness_key, seed_slot)
        return reveal_signature(self.secret, randomness_key, seed_slot, slothash, value)

    def describe(self) -> dict[str, Any]:
        return {"index": self.index, "key": str(self.key), "gateway_url": self.gateway_url} | asdict(
            self.behaviour
        )


class OracleFleet:
    """The queue's oracles. Oracle 0 serves at `gateway_url`, oracle i at `<gateway_url>/oracle<i>`."""

    def __init__(self, chain_seed: bytes, count: int = 1, gateway_url: str = "http://127.0.0.1:8899") -> None:
        if not 1 <= count <= 16:
            raise ValueError("a local queue holds 1 to 16 oracles")
        self.chain_seed = chain_seed
        base = gateway_url.rstrip("/")
        self.oracles = [
            LocalOracle(
                index=i,
                key=oracle_address(chain_seed, i),
                secret=oracle_secret(chain_seed, i),
                gateway_url=base if i == 0 else f"{base}/oracle{i}",
                route_prefix="" if i == 0 else f"/oracle{i}",
            )
            for i in range(count)
        ]
        for oracle in self.oracles:
            if len(oracle.gateway_url.encode()) > GATEWAY_URI_LEN:
                raise ValueError(f"gateway URL longer than {GATEWAY_URI_LEN} bytes: {oracle.gateway_url}")

    def __getitem__(self, index: int) -> LocalOracle:
        return self.oracles[index]

    def by_key(self, key: Pubkey) -> LocalOracle | None:
        return next((oracle for oracle in self.oracles if oracle.key == key), None)

    def healthy_oracles(self) -> dict[str, Any]:
        """What a live gateway answers at /gateway/api/v1/healthy_oracles (every healthy oracle it knows)."""
        listed = [oracle for oracle in self.oracles if oracle.behaviour.healthy and not oracle.behaviour.down]
        return {"oracles": [_health_entry(oracle) for oracle in listed], "count": len(listed)}


def _health_entry(oracle: LocalOracle) -> dict[str, Any]:
    behaviour = oracle.behaviour
    return {
        "oracle_url": oracle.gateway_url,
        "active_connections": behaviour.active_connections,
        "unique_ips": 1,
        "total_subscriptions": behaviour.total_subscriptions,
        "active_monitors": 0,
        "total_symbols": 0,
        "total_feeds": 0,
        "oracle_config": {
            "pull_oracle": str(oracle.key),
            "secp256k1_pubkey": oracle.signer.hex(),
            "version": behaviour.version,
            "enable_gateway": 0,  # real pull oracles often report 0 here; the SDK ignores it for randomness
            "enable_pull_oracle": 1 if behaviour.pull_enabled else 0,
            "gateway_ingress": oracle.gateway_url,
            "restricted": behaviour.restricted,
        },
    }


# -- the on-chain oracle account ---------------------------------------------------------------------------


def pack_oracle(
    gateway_url: str, *, valid_until: int, last_heartbeat: int, verification_status: int
) -> bytearray:
    data = bytearray(ORACLE_LEN)
    data[:8] = ORACLE_DISCRIMINATOR
    data[O_VERIFICATION_STATUS] = verification_status
    struct.pack_into("<q", data, O_VALID_UNTIL, valid_until)
    struct.pack_into("<q", data, O_LAST_HEARTBEAT, last_heartbeat)
    uri = gateway_url.encode()
    data[O_GATEWAY_URI : O_GATEWAY_URI + len(uri)] = uri
    data[O_IS_ON_QUEUE] = 1
    return data


def oracle_valid_until(data: bytes) -> int:
    return int(struct.unpack_from("<q", data, O_VALID_UNTIL)[0])


ORACLE_FIELDS = ("valid_until", "last_heartbeat", "verification_status", "gateway_url")


def edit_oracle_account(account: Account, changes: dict[str, Any]) -> Account:
    """The oracle account with `changes` (any of ORACLE_FIELDS) applied: how tests make an oracle stale,
    expired, unverified or move its gateway."""
    data = bytearray(account.data)
    for name, value in changes.items():
        if name == "gateway_url":
            if not isinstance(value, str) or len(value.encode()) > GATEWAY_URI_LEN:
                raise ValueError(f"gateway_url must be a string of at most {GATEWAY_URI_LEN} bytes")
            data[O_GATEWAY_URI : O_GATEWAY_URI + GATEWAY_URI_LEN] = value.encode().ljust(
                GATEWAY_URI_LEN, b"\0"
            )
        elif (
            name in ("valid_until", "last_heartbeat")
            and isinstance(value, int)
            and not isinstance(value, bool)
        ):
            struct.pack_into("<q", data, O_VALID_UNTIL if name == "valid_until" else O_LAST_HEARTBEAT, value)
        elif name == "verification_status" and isinstance(value, int) and 0 <= value <= 255:
            data[O_VERIFICATION_STATUS] = value
        else:
            raise ValueError(f"cannot set oracle field {name!r} to {value!r}")
    return Account(account.lamports, bytes(data), account.owner, account.executable, account.rent_epoch)
