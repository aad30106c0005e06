"""Switchboard On-Demand randomness, modelled for the local chain (docs/solana.md §1, docs/switchboard.md).

`SwitchboardProgram(chain_seed, program_id=SWITCHBOARD_DEVNET_ID, queue=DEVNET_QUEUE, oracles=1,
gateway_url=...)` is a `ModelledProgram` with four instructions (Anchor-style 8-byte discriminators, account
orders as the deployed IDL):

* `randomness_init(recent_slot u64)` creates the randomness account (480 bytes, owned by this program; layout
  docs/switchboard.md "Accounts": authority@8, queue@40, seed_slothash@72, seed_slot@104, oracle@112,
  reveal_slot@144, value@152, lut_slot@184, active_secp256k1_signer@408, active_secp256k1_expiration@472)
  and the reward escrow (the randomness account's wrapped-SOL ATA, a real token account). Modelled minimally:
  no address lookup table is created (only `lut_slot = recent_slot` is stored), and the program-state /
  lut-signer / ALT-program accounts are accepted as passed.
* `randomness_commit()` (authority signs): refuses an oracle whose key (quote) has expired (6040
  RandomnessOracleKeyExpired); `seed_slot = clock.slot - 1` with that slot's hash from the SlotHashes sysvar
  (`ctx.slot_hash`), the oracle assigned, its signer key and expiry bound (the oracle account's
  `valid_until`), `reveal_slot` and `value` cleared (so an account can be committed again).
* `randomness_reveal(signature[64], recovery_id u8, value[32])` (authority signs): needs a commit, a slot past
  `seed_slot`, an unexpired bound key (else 6040) and the assigned oracle's signature; stores `value` and
  `reveal_slot = clock.slot`.
* `randomness_close()` (authority signs, writable): checks the lookup table is the one derived from
  (lut signer, `lut_slot`), then closes the reward escrow and the randomness account, their rent to the
  authority.

The oracles, their signing scheme and their off-chain behaviour (healthy, down, "too early", ...) live in
`switchboard_oracles`; the gateway in `switchboard_gateway`. `switchboard_genesis(...)` gives the queue, the
oracles, program-state and wrapped-SOL mint accounts. Error codes are Anchor framework codes where Anchor
would raise them, 6040 where the real program's IDL names the failure, and otherwise the local
`SwitchboardError` numbers below.
"""

from __future__ import annotations

import hashlib
import hmac
import struct
from enum import IntEnum

from solders.instruction import AccountMeta, Instruction
from solders.pubkey import Pubkey

from localnet.model_api import AccountState, Genesis, InvokeContext, ProgramError
from localnet.programs.switchboard_gateway import OracleGateway
from localnet.programs.switchboard_oracles import (
    FAR_FUTURE_S,
    ORACLE_DISCRIMINATOR,
    ORACLE_LEN,
    SIGNER_LEN,
    VERIFIED,
    OracleFleet,
    oracle_address,
    oracle_secret,
    oracle_valid_until,
    pack_oracle,
    reveal_signature,
    reveal_value,
)
from localnet.programs.system import SYSTEM_PROGRAM_ID, create_account
from localnet.spl_token import (
    ASSOCIATED_TOKEN_PROGRAM_ID,
    TOKEN_PROGRAM_ID,
    Mint,
    create_associated_token_account,
    get_associated_token_address,
    pack_mint,
)

__all__ = [
    "OracleGateway",
    "SwitchboardProgram",
    "oracle_address",
    "oracle_secret",
    "randomness_close_ix",
    "randomness_commit_ix",
    "randomness_init_ix",
    "randomness_reveal_ix",
    "reveal_signature",
    "reveal_value",
    "switchboard_genesis",
]

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
RANDOMNESS_CLOSE = _anchor_discriminator("global", "randomness_close")

RANDOMNESS_DISCRIMINATOR = bytes([10, 66, 229, 135, 220, 239, 217, 114])
QUEUE_DISCRIMINATOR = bytes([217, 194, 55, 127, 184, 83, 138, 1])
STATE_DISCRIMINATOR = _anchor_discriminator("account", "State")

RANDOMNESS_LEN = 480
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
R_SIGNER, R_SIGNER_EXPIRATION = 408, 472
Q_ORACLE_KEYS, Q_NODE_TIMEOUT, Q_ORACLE_KEYS_LEN = 1064, 5176, 5204
# The real program's code for a reveal (or commit) against an expired oracle key (its IDL's error list).
RANDOMNESS_ORACLE_KEY_EXPIRED = 6040


class SwitchboardError(IntEnum):
    """This model's own failure codes (see the module docstring)."""

    NOT_COMMITTED = 6100
    NOT_REVEALABLE_YET = 6101
    INVALID_SIGNATURE = 6102
    ORACLE_NOT_ON_QUEUE = 6103
    SLOT_HASH_UNAVAILABLE = 6104
    INVALID_ACCOUNT = 6105
    INVALID_LOOKUP_TABLE = 6106


def _fail(code: SwitchboardError, detail: str) -> ProgramError:
    return ProgramError(custom=int(code), log=f"Switchboard model error {code.name}: {detail}")


def _key_expired(detail: str) -> ProgramError:
    return ProgramError(
        custom=RANDOMNESS_ORACLE_KEY_EXPIRED,
        log=f"AnchorError occurred. Error Code: RandomnessOracleKeyExpired. Error Number: 6040. {detail}",
    )


def _anchor_fail(name: str, code: int, account: str) -> ProgramError:
    return ProgramError(
        custom=code,
        log=f"AnchorError caused by account: {account}. Error Code: {name}. Error Number: {code}.",
    )


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
    oracles: int = 1,
) -> Genesis:
    """Queue (listing `oracles` oracles), the oracles (verified, heartbeat `now`, gateways under
    `gateway_url`), program state and the wrapped-SOL mint (needed for reward escrows)."""
    return SwitchboardProgram(
        chain_seed, program_id, queue, oracles=oracles, gateway_url=gateway_url
    ).genesis(now)


# -- the program -------------------------------------------------------------------------------------------


class SwitchboardProgram:
    """Switchboard On-Demand randomness as a `ModelledProgram`."""

    name = "switchboard_on_demand"

    def __init__(
        self,
        chain_seed: bytes,
        program_id: Pubkey = SWITCHBOARD_DEVNET_ID,
        queue: Pubkey = DEVNET_QUEUE,
        *,
        oracles: int = 1,
        gateway_url: str = "http://127.0.0.1:8899",
    ) -> None:
        self.program_id = program_id
        self.queue = queue
        self.chain_seed = chain_seed
        self.fleet = OracleFleet(chain_seed, oracles, gateway_url)
        self.oracle = self.fleet[0].key  # the first (with one oracle, the only) oracle

    def genesis(self, now: int) -> Genesis:
        accounts: dict[Pubkey, AccountState] = {}
        for oracle in self.fleet.oracles:
            data = pack_oracle(
                oracle.gateway_url,
                valid_until=now + FAR_FUTURE_S,
                last_heartbeat=now,
                verification_status=VERIFIED,
            )
            accounts[oracle.key] = AccountState(lamports=_rent(ORACLE_LEN), data=data, owner=self.program_id)

        queue_data = bytearray(QUEUE_LEN)
        queue_data[:8] = QUEUE_DISCRIMINATOR
        for i, oracle in enumerate(self.fleet.oracles):
            queue_data[Q_ORACLE_KEYS + 32 * i : Q_ORACLE_KEYS + 32 * (i + 1)] = bytes(oracle.key)
        struct.pack_into("<q", queue_data, Q_NODE_TIMEOUT, FAR_FUTURE_S)
        struct.pack_into("<I", queue_data, Q_ORACLE_KEYS_LEN, len(self.fleet.oracles))
        accounts[self.queue] = AccountState(lamports=_rent(QUEUE_LEN), data=queue_data, owner=self.program_id)

        state_data = bytearray(STATE_LEN)
        state_data[:8] = STATE_DISCRIMINATOR
        accounts[program_state_address(self.program_id)] = AccountState(
            lamports=_rent(STATE_LEN), data=state_data, owner=self.program_id
        )
        wsol = pack_mint(Mint(mint_authority=None, supply=0, decimals=9))
        accounts[WRAPPED_SOL_MINT] = AccountState(
            lamports=_rent(len(wsol)), data=bytearray(wsol), owner=TOKEN_PROGRAM_ID
        )
        return Genesis(accounts=accounts)

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
        elif discriminator == RANDOMNESS_CLOSE:
            ctx.log("Instruction: RandomnessClose")
            self._close(ctx)
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

    def _oracle_on_queue(self, ctx: InvokeContext, queue: Pubkey, oracle: Pubkey) -> AccountState:
        data = self._owned(ctx, queue, QUEUE_DISCRIMINATOR, "queue").data
        state = self._owned(ctx, oracle, ORACLE_DISCRIMINATOR, "oracle")
        (count,) = struct.unpack_from("<I", data, Q_ORACLE_KEYS_LEN)
        listed = {bytes(data[Q_ORACLE_KEYS + 32 * i : Q_ORACLE_KEYS + 32 * (i + 1)]) for i in range(count)}
        if bytes(oracle) not in listed:
            raise _fail(SwitchboardError.ORACLE_NOT_ON_QUEUE, f"{oracle} is not on {queue}")
        return state

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
        oracle_state = self._oracle_on_queue(ctx, queue, oracle)
        local_oracle = self.fleet.by_key(oracle)
        key_expiration = oracle_valid_until(bytes(oracle_state.data))
        if key_expiration <= ctx.clock.unix_timestamp:
            raise _key_expired(f"oracle {oracle} key expired at {key_expiration}")
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
        signer = local_oracle.signer if local_oracle else bytes(SIGNER_LEN)
        state.data[R_SIGNER : R_SIGNER + SIGNER_LEN] = signer
        struct.pack_into("<q", state.data, R_SIGNER_EXPIRATION, key_expiration)
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
        (expiration,) = struct.unpack_from("<q", state.data, R_SIGNER_EXPIRATION)
        if expiration and ctx.clock.unix_timestamp >= expiration:
            raise _key_expired(f"the oracle key bound at commit expired at {expiration}")
        local_oracle = self.fleet.by_key(oracle)
        if local_oracle is None:
            raise _fail(SwitchboardError.INVALID_SIGNATURE, f"no signing key known for oracle {oracle}")
        slothash = bytes(state.data[R_SEED_SLOTHASH : R_SEED_SLOTHASH + 32])
        expected = reveal_signature(local_oracle.secret, randomness, seed_slot, slothash, value)
        if not hmac.compare_digest(expected, signature):
            raise _fail(SwitchboardError.INVALID_SIGNATURE, "oracle signature does not verify")
        state.data[R_VALUE : R_VALUE + 32] = value
        struct.pack_into("<Q", state.data, R_REVEAL_SLOT, ctx.clock.slot)
        ctx.put(randomness, state)

    def _close(self, ctx: InvokeContext) -> None:
        keys = self._keys(ctx, 10)
        randomness, reward_escrow, authority, lut, lut_signer = keys[0], keys[1], keys[2], keys[7], keys[8]
        state = self._randomness(ctx, randomness, authority)
        if reward_escrow != get_associated_token_address(randomness, WRAPPED_SOL_MINT, TOKEN_PROGRAM_ID):
            raise ProgramError(builtin="InvalidSeeds", log="reward escrow is not the randomness wSOL ATA")
        expected_signer = _lut_signer(self.program_id, randomness)
        (lut_slot,) = struct.unpack_from("<Q", state.data, R_LUT_SLOT)
        if lut_signer != expected_signer or lut != _lut_address(expected_signer, lut_slot):
            raise _fail(
                SwitchboardError.INVALID_LOOKUP_TABLE, f"{lut} is not the lookup table of slot {lut_slot}"
            )
        # The escrow and the account go; their lamports are the authority's rent back. (The real program
        # also deals with the lookup table; this model never created one.)
        recipient = ctx.get(authority) or AccountState(lamports=0, data=bytearray(), owner=SYSTEM_PROGRAM_ID)
        escrow = ctx.get(reward_escrow)
        if escrow is not None:
            recipient.lamports += escrow.lamports
            ctx.put(reward_escrow, None)
        recipient.lamports += state.lamports
        ctx.put(authority, recipient)
        ctx.put(randomness, None)


def _lut_signer(program_id: Pubkey, randomness: Pubkey) -> Pubkey:
    return Pubkey.find_program_address([b"LutSigner", bytes(randomness)], program_id)[0]


def _lut_address(lut_signer: Pubkey, slot: int) -> Pubkey:
    return Pubkey.find_program_address(
        [bytes(lut_signer), struct.pack("<Q", slot)], ADDRESS_LOOKUP_TABLE_PROGRAM
    )[0]


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
    lut_signer = _lut_signer(program_id, randomness)
    lut = _lut_address(lut_signer, recent_slot)
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


def randomness_close_ix(
    *,
    randomness: Pubkey,
    authority: Pubkey,
    lut_slot: int,
    program_id: Pubkey = SWITCHBOARD_DEVNET_ID,
) -> Instruction:
    lut_signer = _lut_signer(program_id, randomness)
    metas = [
        AccountMeta(randomness, False, True),
        AccountMeta(
            get_associated_token_address(randomness, WRAPPED_SOL_MINT, TOKEN_PROGRAM_ID), False, True
        ),
        AccountMeta(authority, True, True),
        AccountMeta(program_state_address(program_id), False, False),
        AccountMeta(SYSTEM_PROGRAM_ID, False, False),
        AccountMeta(TOKEN_PROGRAM_ID, False, False),
        AccountMeta(WRAPPED_SOL_MINT, False, False),
        AccountMeta(_lut_address(lut_signer, lut_slot), False, True),
        AccountMeta(lut_signer, False, False),
        AccountMeta(ADDRESS_LOOKUP_TABLE_PROGRAM, False, False),
    ]
    return Instruction(program_id, RANDOMNESS_CLOSE, metas)
