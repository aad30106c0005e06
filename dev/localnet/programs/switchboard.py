"""Switchboard On-Demand randomness, modelled for the local chain (docs/solana.md §1), and its oracle gateway.

`SwitchboardProgram(chain_seed, program_id=SWITCHBOARD_DEVNET_ID, queue=DEVNET_QUEUE)` is a
`ModelledProgram` with three instructions (Anchor-style 8-byte discriminators, account orders as
docs/solana.md §1.2):

* `randomness_init(recent_slot u64)` creates the randomness account (480 bytes, owned by this program; layout
  docs/solana.md §1.7: authority@8, queue@40, seed_slothash@72, seed_slot@104, oracle@112, reveal_slot@144,
  value@152, lut_slot@184) and the reward escrow (the randomness account's wrapped-SOL ATA, a real token
  account). Modelled minimally: no address lookup table is created (only `lut_slot = recent_slot` is stored),
  and the program-state / lut-signer / ALT-program accounts are accepted as passed.
* `randomness_commit()` (authority signs): `seed_slot = clock.slot - 1` with that slot's hash from the
  SlotHashes sysvar (`ctx.slot_hash`), the queue's oracle assigned, `reveal_slot` and `value` cleared (so an
  account can be committed again, as the real one allows).
* `randomness_reveal(signature[64], recovery_id u8, value[32])` (authority signs): needs a commit, a slot past
  `seed_slot` and the assigned oracle's signature; stores `value` and `reveal_slot = clock.slot`.

Signatures: the real oracle signs with a secp256k1 key inside a TEE. Offline, the gateway and this model share
a deterministic keyed scheme instead: `signature = HMAC-SHA512(oracle_secret, b"sb-localnet-reveal" ||
randomness_key(32) || seed_slot u64 LE || seed_slothash(32) || value(32))` (64 bytes, `recovery_id` 0) with
`oracle_secret = sha256(b"sb-localnet-oracle-secret" || chain_seed)`. The value is
`sha256(b"sb-localnet-value" || chain_seed || randomness_key || seed_slot u64 LE)`, so draws repeat per
(chain seed, randomness key, seed slot).

`OracleGateway(chain_seed)` is the gateway (`reveal`, `reveal_request` for the JSON body, `test`);
`switchboard_genesis(...)` gives the queue, oracle, program-state and wrapped-SOL mint accounts.
Error codes of this model are Anchor framework codes where Anchor would raise them and otherwise the local
`SwitchboardError` numbers below (the real program's numbering was not available).
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import struct
from enum import IntEnum
from typing import Any

from solders.instruction import AccountMeta, Instruction
from solders.pubkey import Pubkey

from localnet.model_api import AccountState, Genesis, InvokeContext, ProgramError
from localnet.programs.system import SYSTEM_PROGRAM_ID, create_account
from localnet.spl_token import (
    ASSOCIATED_TOKEN_PROGRAM_ID,
    TOKEN_PROGRAM_ID,
    Mint,
    create_associated_token_account,
    get_associated_token_address,
    pack_mint,
)

SWITCHBOARD_DEVNET_ID = Pubkey.from_string("Aio4gaXjXzJNVLtzwtNVmSqGKpANtXhybbkhtAC94ji2")
SWITCHBOARD_MAINNET_ID = Pubkey.from_string("SBondMDrcV3K4kxZR1HNVT7osZxAHVHgYXL5Ze1oMUv")
DEVNET_QUEUE = Pubkey.from_string("EYiAmGSdsQTuCw413V5BzaruWuCCSDgTPtBGvLkXHbe7")
SLOT_HASHES_SYSVAR = Pubkey.from_string("SysvarS1otHashes111111111111111111111111111")
WRAPPED_SOL_MINT = Pubkey.from_string("So11111111111111111111111111111111111111112")
ADDRESS_LOOKUP_TABLE_PROGRAM = Pubkey.from_string("AddressLookupTab1e1111111111111111111111111")


def _anchor_discriminator(namespace: str, name: str) -> bytes:
    return hashlib.sha256(f"{namespace}:{name}".encode()).digest()[:8]


RANDOMNESS_INIT = _anchor_discriminator("global", "randomness_init")
RANDOMNESS_COMMIT = _anchor_discriminator("global", "randomness_commit")
RANDOMNESS_REVEAL = _anchor_discriminator("global", "randomness_reveal")

RANDOMNESS_DISCRIMINATOR = bytes([10, 66, 229, 135, 220, 239, 217, 114])
ORACLE_DISCRIMINATOR = bytes([128, 30, 16, 241, 170, 73, 55, 54])
QUEUE_DISCRIMINATOR = bytes([217, 194, 55, 127, 184, 83, 138, 1])
STATE_DISCRIMINATOR = _anchor_discriminator("account", "State")

RANDOMNESS_LEN = 480
ORACLE_LEN = 4816
QUEUE_LEN = 6280
STATE_LEN = 1024  # the real State account is larger; nothing here reads it

# RandomnessAccountData offsets (docs/solana.md §1.7).
R_AUTHORITY, R_QUEUE, R_SEED_SLOTHASH, R_SEED_SLOT, R_ORACLE, R_REVEAL_SLOT, R_VALUE, R_LUT_SLOT = (
    8,
    40,
    72,
    104,
    112,
    144,
    152,
    184,
)
# OracleAccountData / QueueAccountData offsets.
O_VERIFICATION_STATUS, O_VALID_UNTIL, O_LAST_HEARTBEAT, O_GATEWAY_URI, O_IS_ON_QUEUE = (
    72,
    88,
    3512,
    3584,
    3656,
)
Q_ORACLE_KEYS, Q_NODE_TIMEOUT, Q_ORACLE_KEYS_LEN = 1064, 5176, 5204
VERIFIED = 4
GATEWAY_URI_LEN = 64


class SwitchboardError(IntEnum):
    """This model's own failure codes (see the module docstring)."""

    NOT_COMMITTED = 6100
    NOT_REVEALABLE_YET = 6101
    INVALID_SIGNATURE = 6102
    ORACLE_NOT_ON_QUEUE = 6103
    SLOT_HASH_UNAVAILABLE = 6104
    INVALID_ACCOUNT = 6105


def _fail(code: SwitchboardError, detail: str) -> ProgramError:
    return ProgramError(custom=int(code), log=f"Switchboard model error {code.name}: {detail}")


def _anchor_fail(name: str, code: int, account: str) -> ProgramError:
    return ProgramError(
        custom=code,
        log=f"AnchorError caused by account: {account}. Error Code: {name}. Error Number: {code}.",
    )


# -- the shared signing scheme -----------------------------------------------------------------------------


def oracle_secret(chain_seed: bytes) -> bytes:
    return hashlib.sha256(b"sb-localnet-oracle-secret" + chain_seed).digest()


def oracle_address(chain_seed: bytes) -> Pubkey:
    return Pubkey.from_bytes(hashlib.sha256(b"sb-localnet-oracle-account" + chain_seed).digest())


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


# -- gateway -----------------------------------------------------------------------------------------------


class OracleGateway:
    """The oracle's HTTP gateway as a plain class; the runtime mounts `reveal_request` at
    POST /gateway/api/v1/randomness_reveal and `test` at GET /gateway/api/v1/test."""

    def __init__(self, chain_seed: bytes) -> None:
        self._chain_seed = chain_seed
        self._secret = oracle_secret(chain_seed)
        self.oracle = oracle_address(chain_seed)

    def reveal(self, slothash: bytes, randomness_key: Pubkey, slot: int) -> dict[str, Any]:
        """`slot` is the randomness account's `seed_slot`; `slothash` its `seed_slothash`."""
        if len(slothash) != 32:
            raise ValueError("slothash must be 32 bytes")
        value = reveal_value(self._chain_seed, randomness_key, slot)
        signature = reveal_signature(self._secret, randomness_key, slot, bytes(slothash), value)
        return {"signature": base64.b64encode(signature).decode(), "recovery_id": 0, "value": list(value)}

    def reveal_request(self, body: dict[str, Any]) -> dict[str, Any]:
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
        return self.reveal(slothash, key, slot)

    def test(self) -> str:
        return f"switchboard localnet oracle {self.oracle} ok"


# -- genesis -----------------------------------------------------------------------------------------------


def _rent(length: int) -> int:
    # Default Rent: 3 480 lamports per byte-year, 2 years exempt, 128 bytes of account overhead.
    return (128 + length) * 3480 * 2


def program_state_address(program_id: Pubkey) -> Pubkey:
    return Pubkey.find_program_address([b"STATE"], program_id)[0]


def switchboard_genesis(
    *,
    chain_seed: bytes,
    gateway_url: str,
    now: int,
    program_id: Pubkey = SWITCHBOARD_DEVNET_ID,
    queue: Pubkey = DEVNET_QUEUE,
) -> Genesis:
    """Queue (listing one oracle), oracle (verified, heartbeat `now`, gateway `gateway_url`), program state
    and the wrapped-SOL mint (needed for reward escrows; omit it if the runtime already has one)."""
    uri = gateway_url.encode()
    if len(uri) > GATEWAY_URI_LEN:
        raise ValueError(f"gateway_url longer than {GATEWAY_URI_LEN} bytes")
    oracle = oracle_address(chain_seed)

    oracle_data = bytearray(ORACLE_LEN)
    oracle_data[:8] = ORACLE_DISCRIMINATOR
    oracle_data[O_VERIFICATION_STATUS] = VERIFIED
    # Far-future validity and a huge node timeout: the local clock warps forward in tests.
    struct.pack_into("<q", oracle_data, O_VALID_UNTIL, now + 100 * 365 * 86_400)
    struct.pack_into("<q", oracle_data, O_LAST_HEARTBEAT, now)
    oracle_data[O_GATEWAY_URI : O_GATEWAY_URI + len(uri)] = uri
    oracle_data[O_IS_ON_QUEUE] = 1

    queue_data = bytearray(QUEUE_LEN)
    queue_data[:8] = QUEUE_DISCRIMINATOR
    queue_data[Q_ORACLE_KEYS : Q_ORACLE_KEYS + 32] = bytes(oracle)
    struct.pack_into("<q", queue_data, Q_NODE_TIMEOUT, 100 * 365 * 86_400)
    struct.pack_into("<I", queue_data, Q_ORACLE_KEYS_LEN, 1)

    state_data = bytearray(STATE_LEN)
    state_data[:8] = STATE_DISCRIMINATOR

    wsol = pack_mint(Mint(mint_authority=None, supply=0, decimals=9))
    return Genesis(
        accounts={
            oracle: AccountState(lamports=_rent(ORACLE_LEN), data=oracle_data, owner=program_id),
            queue: AccountState(lamports=_rent(QUEUE_LEN), data=queue_data, owner=program_id),
            program_state_address(program_id): AccountState(
                lamports=_rent(STATE_LEN), data=state_data, owner=program_id
            ),
            WRAPPED_SOL_MINT: AccountState(
                lamports=_rent(len(wsol)), data=bytearray(wsol), owner=TOKEN_PROGRAM_ID
            ),
        }
    )


# -- the program -------------------------------------------------------------------------------------------


class SwitchboardProgram:
    """Switchboard On-Demand randomness as a `ModelledProgram`."""

    name = "switchboard_on_demand"

    def __init__(
        self, chain_seed: bytes, program_id: Pubkey = SWITCHBOARD_DEVNET_ID, queue: Pubkey = DEVNET_QUEUE
    ) -> None:
        self.program_id = program_id
        self.queue = queue
        self._secret = oracle_secret(chain_seed)
        self.oracle = oracle_address(chain_seed)

    def process(self, ctx: InvokeContext) -> None:
        discriminator = bytes(ctx.data[:8])
        if discriminator == RANDOMNESS_INIT:
            ctx.log("Instruction: RandomnessInit")
            self._init(ctx)
        elif discriminator == RANDOMNESS_COMMIT:
            ctx.log("Instruction: RandomnessCommit")
            self._commit(ctx)
        elif discriminator == RANDOMNESS_REVEAL:
            ctx.log("Instruction: RandomnessReveal")
            self._reveal(ctx)
        else:
            raise ProgramError(
                custom=101, log="AnchorError occurred. Error Code: InstructionFallbackNotFound."
            )

    # -- helpers ---------------------------------------------------------------------------------------

    @staticmethod
    def _keys(ctx: InvokeContext, count: int) -> list[Pubkey]:
        if len(ctx.accounts) < count:
            raise ProgramError(custom=3005, log="AnchorError occurred. Error Code: AccountNotEnoughKeys.")
        return [ref.pubkey for ref in ctx.accounts[:count]]

    @staticmethod
    def _require_signer(ctx: InvokeContext, key: Pubkey, name: str) -> None:
        if not ctx.is_signer(key):
            raise _anchor_fail("AccountNotSigner", 3010, name)

    def _owned(self, ctx: InvokeContext, key: Pubkey, discriminator: bytes, name: str) -> AccountState:
        state = ctx.get(key)
        if state is None or state.lamports == 0:
            raise _anchor_fail("AccountNotInitialized", 3012, name)
        if state.owner != self.program_id:
            raise _anchor_fail("AccountOwnedByWrongProgram", 3007, name)
        if bytes(state.data[:8]) != discriminator:
            raise _anchor_fail("AccountDiscriminatorMismatch", 3002, name)
        return state

    def _oracle_on_queue(self, ctx: InvokeContext, queue: Pubkey, oracle: Pubkey) -> None:
        data = self._owned(ctx, queue, QUEUE_DISCRIMINATOR, "queue").data
        self._owned(ctx, oracle, ORACLE_DISCRIMINATOR, "oracle")
        (count,) = struct.unpack_from("<I", data, Q_ORACLE_KEYS_LEN)
        listed = {bytes(data[Q_ORACLE_KEYS + 32 * i : Q_ORACLE_KEYS + 32 * (i + 1)]) for i in range(count)}
        if bytes(oracle) not in listed:
            raise _fail(SwitchboardError.ORACLE_NOT_ON_QUEUE, f"{oracle} is not on {queue}")

    def _randomness(self, ctx: InvokeContext, key: Pubkey, authority: Pubkey) -> AccountState:
        state = self._owned(ctx, key, RANDOMNESS_DISCRIMINATOR, "randomness")
        if bytes(state.data[R_AUTHORITY : R_AUTHORITY + 32]) != bytes(authority):
            raise _anchor_fail("ConstraintHasOne", 2001, "authority")
        self._require_signer(ctx, authority, "authority")
        return state

    # -- instructions ----------------------------------------------------------------------------------

    def _init(self, ctx: InvokeContext) -> None:
        randomness, reward_escrow, authority, queue, payer, *_rest = self._keys(ctx, 13)
        if len(ctx.data) < 16:
            raise ProgramError(
                custom=102, log="AnchorError occurred. Error Code: InstructionDidNotDeserialize."
            )
        (recent_slot,) = struct.unpack_from("<Q", ctx.data, 8)
        self._require_signer(ctx, randomness, "randomness")
        self._require_signer(ctx, authority, "authority")
        self._require_signer(ctx, payer, "payer")
        self._owned(ctx, queue, QUEUE_DISCRIMINATOR, "queue")
        create_account(ctx, payer=payer, new_account=randomness, space=RANDOMNESS_LEN, owner=self.program_id)
        state = ctx.get(randomness)
        if state is None:  # pragma: no cover - create_account stored it or raised
            raise _fail(SwitchboardError.INVALID_ACCOUNT, "randomness account not created")
        state.data[:8] = RANDOMNESS_DISCRIMINATOR
        state.data[R_AUTHORITY : R_AUTHORITY + 32] = bytes(authority)
        state.data[R_QUEUE : R_QUEUE + 32] = bytes(queue)
        struct.pack_into("<Q", state.data, R_LUT_SLOT, recent_slot)
        ctx.put(randomness, state)
        if reward_escrow != get_associated_token_address(randomness, WRAPPED_SOL_MINT, TOKEN_PROGRAM_ID):
            raise ProgramError(builtin="InvalidSeeds", log="reward escrow is not the randomness wSOL ATA")
        existing = ctx.get(reward_escrow)
        if existing is None or existing.owner == SYSTEM_PROGRAM_ID:
            create_associated_token_account(
                ctx, payer=payer, owner=randomness, mint=WRAPPED_SOL_MINT, token_program=TOKEN_PROGRAM_ID
            )

    def _commit(self, ctx: InvokeContext) -> None:
        randomness, queue, oracle, _slot_hashes, authority = self._keys(ctx, 5)
        state = self._randomness(ctx, randomness, authority)
        if bytes(state.data[R_QUEUE : R_QUEUE + 32]) != bytes(queue):
            raise _anchor_fail("ConstraintHasOne", 2001, "queue")
        self._oracle_on_queue(ctx, queue, oracle)
        # The seed is the previous slot's hash: the newest entry SlotHashes holds during this slot.
        seed_slot = ctx.clock.slot - 1
        slothash = ctx.slot_hash(seed_slot) if seed_slot >= 0 else None
        if slothash is None:
            raise _fail(SwitchboardError.SLOT_HASH_UNAVAILABLE, f"no hash for slot {seed_slot}")
        state.data[R_SEED_SLOTHASH : R_SEED_SLOTHASH + 32] = slothash
        struct.pack_into("<Q", state.data, R_SEED_SLOT, seed_slot)
        state.data[R_ORACLE : R_ORACLE + 32] = bytes(oracle)
        struct.pack_into("<Q", state.data, R_REVEAL_SLOT, 0)
        state.data[R_VALUE : R_VALUE + 32] = bytes(32)
        ctx.put(randomness, state)

    def _reveal(self, ctx: InvokeContext) -> None:
        keys = self._keys(ctx, 12)
        randomness, oracle, queue, authority, payer = keys[0], keys[1], keys[2], keys[4], keys[5]
        if len(ctx.data) < 8 + 64 + 1 + 32:
            raise ProgramError(
                custom=102, log="AnchorError occurred. Error Code: InstructionDidNotDeserialize."
            )
        signature, value = bytes(ctx.data[8:72]), bytes(ctx.data[73:105])
        state = self._randomness(ctx, randomness, authority)
        self._require_signer(ctx, payer, "payer")
        (seed_slot,) = struct.unpack_from("<Q", state.data, R_SEED_SLOT)
        if seed_slot == 0:
            raise _fail(SwitchboardError.NOT_COMMITTED, "randomness was never committed")
        if ctx.clock.slot <= seed_slot:
            raise _fail(SwitchboardError.NOT_REVEALABLE_YET, f"slot {ctx.clock.slot} is not past {seed_slot}")
        if bytes(state.data[R_ORACLE : R_ORACLE + 32]) != bytes(oracle):
            raise _anchor_fail("ConstraintHasOne", 2001, "oracle")
        self._oracle_on_queue(ctx, queue, oracle)
        slothash = bytes(state.data[R_SEED_SLOTHASH : R_SEED_SLOTHASH + 32])
        expected = reveal_signature(self._secret, randomness, seed_slot, slothash, value)
        if not hmac.compare_digest(expected, signature):
            raise _fail(SwitchboardError.INVALID_SIGNATURE, "oracle signature does not verify")
        state.data[R_VALUE : R_VALUE + 32] = value
        struct.pack_into("<Q", state.data, R_REVEAL_SLOT, ctx.clock.slot)
        ctx.put(randomness, state)


# -- client-side instruction builders (for the local CLI and tests) ----------------------------------------


def randomness_init_ix(
    *,
    randomness: Pubkey,
    authority: Pubkey,
    payer: Pubkey,
    recent_slot: int,
    program_id: Pubkey = SWITCHBOARD_DEVNET_ID,
    queue: Pubkey = DEVNET_QUEUE,
) -> Instruction:
    lut_signer = Pubkey.find_program_address([b"LutSigner", bytes(randomness)], program_id)[0]
    lut = Pubkey.find_program_address(
        [bytes(lut_signer), struct.pack("<Q", recent_slot)], ADDRESS_LOOKUP_TABLE_PROGRAM
    )[0]
    metas = [
        AccountMeta(randomness, True, True),
        AccountMeta(
            get_associated_token_address(randomness, WRAPPED_SOL_MINT, TOKEN_PROGRAM_ID), False, True
        ),
        AccountMeta(authority, True, False),
        AccountMeta(queue, False, True),
        AccountMeta(payer, True, True),
        AccountMeta(SYSTEM_PROGRAM_ID, False, False),
        AccountMeta(TOKEN_PROGRAM_ID, False, False),
        AccountMeta(ASSOCIATED_TOKEN_PROGRAM_ID, False, False),
        AccountMeta(WRAPPED_SOL_MINT, False, False),
        AccountMeta(program_state_address(program_id), False, False),
        AccountMeta(lut_signer, False, False),
        AccountMeta(lut, False, True),
        AccountMeta(ADDRESS_LOOKUP_TABLE_PROGRAM, False, False),
    ]
    return Instruction(program_id, RANDOMNESS_INIT + struct.pack("<Q", recent_slot), metas)


def randomness_commit_ix(
    *,
    randomness: Pubkey,
    authority: Pubkey,
    oracle: Pubkey,
    program_id: Pubkey = SWITCHBOARD_DEVNET_ID,
    queue: Pubkey = DEVNET_QUEUE,
) -> Instruction:
    metas = [
        AccountMeta(randomness, False, True),
        AccountMeta(queue, False, False),
        AccountMeta(oracle, False, True),
        AccountMeta(SLOT_HASHES_SYSVAR, False, False),
        AccountMeta(authority, True, False),
    ]
    return Instruction(program_id, RANDOMNESS_COMMIT, metas)


def randomness_reveal_ix(
    *,
    randomness: Pubkey,
    authority: Pubkey,
    payer: Pubkey,
    oracle: Pubkey,
    signature: bytes,
    recovery_id: int,
    value: bytes,
    program_id: Pubkey = SWITCHBOARD_DEVNET_ID,
    queue: Pubkey = DEVNET_QUEUE,
) -> Instruction:
    stats = Pubkey.find_program_address([b"OracleRandomnessStats", bytes(oracle)], program_id)[0]
    metas = [
        AccountMeta(randomness, False, True),
        AccountMeta(oracle, False, False),
        AccountMeta(queue, False, False),
        AccountMeta(stats, False, True),
        AccountMeta(authority, True, False),
        AccountMeta(payer, True, True),
        AccountMeta(SLOT_HASHES_SYSVAR, False, False),
        AccountMeta(SYSTEM_PROGRAM_ID, False, False),
        AccountMeta(
            get_associated_token_address(randomness, WRAPPED_SOL_MINT, TOKEN_PROGRAM_ID), False, True
        ),
        AccountMeta(TOKEN_PROGRAM_ID, False, False),
        AccountMeta(WRAPPED_SOL_MINT, False, False),
        AccountMeta(program_state_address(program_id), False, False),
    ]
    data = RANDOMNESS_REVEAL + signature + bytes([recovery_id]) + value
    return Instruction(program_id, data, metas)
