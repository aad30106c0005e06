"""The pool model's less travelled paths, each pinned to the rule in docs/program.md that it follows: donation
windows and hints (§3.3), the Token-2022 deny-list (§1.3), the emergency and mock branches of select_winner
(§3.12, §4.2, §5.7), Anchor account validation per user instruction (§3.0), and the §9.1 behaviours no other
test pins. Expected values are computed here from the reference's formulas and byte offsets, never from the
model's own helpers, so a model that drifts from the reference fails."""

from __future__ import annotations

import copy
import hashlib
import struct
from collections.abc import Callable
from typing import Any

import pytest
from solders.instruction import AccountMeta, Instruction
from solders.pubkey import Pubkey

from localnet.model_api import AccountState, ProgramError
from localnet.programs.switchboard import randomness_commit_ix, randomness_init_ix
from localnet.spl_token import (
    ACCOUNT_TYPE_MINT,
    ACCOUNT_TYPE_OFFSET,
    MINT_LEN,
    TOKEN_2022_PROGRAM_ID,
    TOKEN_PROGRAM_ID,
    Mint,
    TokenAccount,
    get_associated_token_address,
    pack_mint,
    pack_token_account,
    unpack_mint,
)
from tests.support.model_fakes import read_participants, read_pool, rent_exempt
from tests.support.pool_world import ENTRY, PoolWorld

OPEN_WINDOW = 604_800  # POOL_OPEN_DURATION, §8
LOCK = 600  # the lock_duration PoolWorld.create uses
DAY = 86_400
THIRTY_DAYS = 2_592_000

# §6.2 event discriminators, and the enum ordinals of §2.3 that events carry.
POOL_STATE_EVENT = bytes.fromhex("48a94d43acd90373")
POOL_ACTIVITY_EVENT = bytes.fromhex("74ddcb6e728b617c")
UI_HINT_EVENT = bytes.fromhex("e5024679d91ae797")
WINNER_SELECTED_EVENT = bytes.fromhex("58444c46ebfe075c")
ACTION_DONATED, ACTION_EMERGENCY_REVEAL = 2, 11
HINT_NEAR_EXPIRE = 1
STATUS_WINNER_SELECTED = 5

Snapshot = dict[Pubkey, tuple[int, bytes, Pubkey]]


# -- helpers -------------------------------------------------------------------------------------------------


def _snapshot(world: PoolWorld) -> Snapshot:
    return {key: (s.lamports, bytes(s.data), s.owner) for key, s in world.chain.accounts.items()}


def _refused_ix(world: PoolWorld, code: int, ix: Instruction) -> ProgramError:
    """Run `ix`, expect `Custom(code)`, and prove the failed instruction left every account as it was."""
    before = _snapshot(world)
    with pytest.raises(ProgramError) as failure:
        world.chain.run(world.program, ix)
    assert failure.value.custom == code, failure.value.log
    assert _snapshot(world) == before
    return failure.value


def _refused(
    world: PoolWorld, code: int, name: str, args: dict[str, Any] | None = None, **kw: Any
) -> ProgramError:
    return _refused_ix(world, code, world.instruction(name, args, **kw))


def _events(world: PoolWorld) -> list[bytes]:
    assert world.chain.last is not None
    return world.chain.last.events


def _pool(world: PoolWorld) -> dict[str, Any]:
    return read_pool(world.pool_data())


def _spec_randomness(pool_id: int, slot: int, creator: Pubkey) -> int:
    """§4.1/§4.2: u128_le(sha256(pool_id_le8 ‖ slot_le8 ‖ creator32)[0..16])."""
    digest = hashlib.sha256(pool_id.to_bytes(8, "little") + slot.to_bytes(8, "little") + bytes(creator))
    return int.from_bytes(digest.digest()[:16], "little")


def _spec_winner_index(pool_id: int, randomness: int, count: int) -> int:
    """§4.3."""
    digest = hashlib.sha256(pool_id.to_bytes(8, "little") + randomness.to_bytes(16, "little")).digest()
    return int.from_bytes(digest[:8], "little") % count


def _donate(world: PoolWorld, amount: int = ENTRY, donor: int = 4) -> None:
    world.run("donate", {"amount": amount}, signer=world.players[donor])


def _committed_randomness(world: PoolWorld) -> Pubkey:
    """A Switchboard randomness account initialised and committed through the Switchboard model, but never
    revealed (reveal_slot 0): what an oracle outage leaves behind."""
    randomness = Pubkey.new_unique()
    init = randomness_init_ix(
        randomness=randomness, authority=world.dev, payer=world.dev, recent_slot=world.chain.clock.slot
    )
    world.chain.run(world.switchboard, init)
    commit = randomness_commit_ix(randomness=randomness, authority=world.dev, oracle=world.switchboard.oracle)
    world.chain.run(world.switchboard, commit)
    assert struct.unpack_from("<Q", world.chain.accounts[randomness].data, 144)[0] == 0
    return randomness


def _token_2022_mint(*tlv: tuple[int, bytes], supply: int = 10**15, freeze: Pubkey | None = None) -> bytes:
    """A Token-2022 mint: the 82-byte base, zero padding to 165, the account-type byte (mint), then TLV
    entries `type u16 | length u16 | value`."""
    base = pack_mint(Mint(mint_authority=None, supply=supply, decimals=6, freeze_authority=freeze))
    entries = b"".join(struct.pack("<HH", ext_type, len(value)) + value for ext_type, value in tlv)
    return base + bytes(ACCOUNT_TYPE_OFFSET - MINT_LEN) + bytes([ACCOUNT_TYPE_MINT]) + entries


def _token_2022_world(mint_data: bytes) -> PoolWorld:
    world = PoolWorld(token_program=TOKEN_2022_PROGRAM_ID)
    world.chain.set(
        world.mint, AccountState(rent_exempt(len(mint_data)), bytearray(mint_data), TOKEN_2022_PROGRAM_ID)
    )
    return world


def _supply(world: PoolWorld) -> int:
    return unpack_mint(bytes(world.chain.accounts[world.mint].data)).supply


def _drawn(world: PoolWorld) -> None:
    """Open -> full -> unlocked -> mock randomness -> winner selected, all by the dev."""
    world.to_unlocked()
    world.run("request_randomness", signer=world.dev)
    world.run("select_winner", signer=world.dev)


# -- 1. donate (§3.3, §5.9) ----------------------------------------------------------------------------------


def test_donate_to_an_open_pool_is_accepted_until_start_plus_duration_inclusive() -> None:
    world = PoolWorld()
    world.create()
    world.chain.advance(seconds=OPEN_WINDOW)
    _donate(world)
    pool = _pool(world)
    assert (pool["total_amount"], pool["total_volume"], pool["total_donations"]) == (2 * ENTRY, 2 * ENTRY, 1)
    world.chain.advance(seconds=1)
    _refused(world, 6000, "donate", {"amount": ENTRY}, signer=world.players[4])


def test_donate_near_expire_hint_is_emitted_only_in_the_last_59_seconds_of_the_open_window() -> None:
    world = PoolWorld()
    world.create()
    world.chain.advance(seconds=OPEN_WINDOW - 60)
    _donate(world)
    assert [event[:8] for event in _events(world)] == [POOL_STATE_EVENT, POOL_ACTIVITY_EVENT]
    activity = _events(world)[1]
    assert (activity[48], struct.unpack_from("<Q", activity, 49)[0], activity[57]) == (
        ACTION_DONATED,
        ENTRY,
        0,
    )
    world.chain.advance(seconds=1)
    _donate(world)
    hint = _events(world)[-1]
    assert [event[:8] for event in _events(world)] == [POOL_STATE_EVENT, POOL_ACTIVITY_EVENT, UI_HINT_EVENT]
    assert (hint[8:40], hint[40], len(hint)) == (bytes(world.pool), HINT_NEAR_EXPIRE, 41)


def test_donate_to_a_locked_pool_follows_the_lock_window_not_the_open_window() -> None:
    # The pool fills 100 s before its open window ends; Locked donations are then judged by the lock
    # window alone, so one lands after the open window, and the NearExpire hint is still evaluated.
    world = PoolWorld()
    world.create()
    world.chain.advance(seconds=OPEN_WINDOW - 100)
    world.fill()
    assert _pool(world)["status"] == 1
    world.chain.advance(seconds=101)
    _donate(world)
    assert _events(world)[-1][:8] == UI_HINT_EVENT
    assert _pool(world)["total_amount"] == 4 * ENTRY
    state = _events(world)[0]
    assert (state[48], state[49], struct.unpack_from("<Q", state, 50)[0], state[58]) == (1, 3, 4 * ENTRY, 0)
    world.chain.advance(seconds=LOCK - 101 - 1)  # now = lock_start + lock_duration - 1
    _donate(world)
    world.chain.advance(seconds=1)  # now = lock_start + lock_duration: strict `<` refuses
    _refused(world, 6053, "donate", {"amount": ENTRY}, signer=world.players[4])


def _to_committed(world: PoolWorld) -> None:
    world.to_unlocked()
    world.run("request_randomness", signer=world.dev)


def _to_ended(world: PoolWorld) -> None:
    _drawn(world)
    world.payout()


def _to_cancelled(world: PoolWorld) -> None:
    world.create()
    world.run("cancel_pool", signer=world.creator)


def _to_closed(world: PoolWorld) -> None:
    _to_cancelled(world)
    world.run("finalize_forfeited_pool", signer=world.dev)


@pytest.mark.parametrize(
    "reach",
    [PoolWorld.to_unlocked, _to_committed, _drawn, _to_ended, _to_cancelled, _to_closed],
    ids=["Unlocked", "RandomnessCommitted", "WinnerSelected", "Ended", "Cancelled", "Closed"],
)
def test_donate_is_refused_in_every_status_other_than_open_and_locked(
    reach: Callable[[PoolWorld], None],
) -> None:
    world = PoolWorld()
    reach(world)
    _refused(world, 6053, "donate", {"amount": ENTRY}, signer=world.players[4])


def test_donate_minimum_is_twenty_whole_tokens_whatever_the_entry_price() -> None:
    world = PoolWorld()
    world.create(amount=5 * ENTRY)  # entry 100 tokens; the donation floor stays at 20
    _refused(world, 6029, "donate", {"amount": ENTRY - 1}, signer=world.players[4])
    _donate(world, ENTRY)
    assert _pool(world)["total_amount"] == 6 * ENTRY


def test_donate_accepts_any_token_account_the_donor_owns_but_not_someone_elses() -> None:
    world = PoolWorld()
    world.create()
    donor, spare = world.players[4], Pubkey.new_unique()
    data = pack_token_account(TokenAccount(mint=world.mint, owner=donor, amount=3 * ENTRY))
    world.chain.set(spare, AccountState(rent_exempt(165), bytearray(data), TOKEN_PROGRAM_ID))
    world.run("donate", {"amount": ENTRY}, signer=donor, user_token=spare)
    assert world.balance(spare, account=True) == 2 * ENTRY
    _refused(world, 6011, "donate", {"amount": ENTRY}, signer=world.players[5], user_token=spare)


def test_paused_pool_refuses_donations_before_any_window_check() -> None:
    world = PoolWorld()
    world.create()
    world.run("pause_pool", signer=world.dev)
    world.chain.advance(seconds=OPEN_WINDOW + 1)  # expired too, but the pause check comes first
    _refused(world, 6042, "donate", {"amount": ENTRY}, signer=world.players[4])


# -- 2. Token-2022 deny-list at create_pool (§1.3, §3.1 step 6) ----------------------------------------------

_DENIED = [
    ("TransferFeeConfig", (1, bytes(108)), 6059),
    ("TransferHook", (14, bytes(Pubkey.new_unique()) + bytes(Pubkey.new_unique())), 6060),
    ("ConfidentialTransferMint", (4, bytes(65)), 6061),
    ("NonTransferable", (9, b""), 6062),
    ("InterestBearingConfig", (10, bytes(52)), 6063),
    ("PermanentDelegate", (12, bytes(Pubkey.new_unique())), 6064),
    ("MintCloseAuthority set", (3, bytes(Pubkey.new_unique())), 6065),
    ("DefaultAccountState Frozen", (6, b"\x02"), 6066),
    ("DefaultAccountState Uninitialized", (6, b"\x00"), 6066),
]


@pytest.mark.parametrize(
    ("extension", "code"), [(e, c) for _, e, c in _DENIED], ids=[n for n, _, _ in _DENIED]
)
def test_token_2022_mint_with_a_denied_extension_is_refused_with_its_own_error(
    extension: tuple[int, bytes], code: int
) -> None:
    # A Frozen default state needs a freeze authority on a real mint (refused earlier with 6014); the bytes
    # here isolate the extension check itself.
    world = _token_2022_world(_token_2022_mint(extension))
    creator_balance = world.balance(world.creator)
    _refused(world, code, "create_pool", _create_args(world), signer=world.creator)
    assert world.chain.last is not None
    assert any(line.startswith("Program log: ❌ REJECTED") for line in world.chain.last.logs)
    assert world.pool not in world.chain.accounts
    assert world.balance(world.creator) == creator_balance


@pytest.mark.parametrize(
    "tlv",
    [
        (),
        ((3, bytes(32)),),  # MintCloseAuthority present but unset
        ((6, b"\x01"),),  # DefaultAccountState Initialized
        ((18, bytes(64)),),  # MetadataPointer: not on the deny-list
    ],
    ids=["no extensions", "close authority unset", "default state Initialized", "metadata pointer"],
)
def test_token_2022_mint_with_only_allowed_extensions_creates_a_pool_with_token_2022_atas(
    tlv: tuple[tuple[int, bytes], ...],
) -> None:
    world = _token_2022_world(_token_2022_mint(*tlv) if tlv else pack_mint(Mint(None, 10**15, 6)))
    ctx = world.create()
    assert "Program log: ✅ ACCEPTED: Token-2022 mint passed extension checks" in ctx.logs
    vault = get_associated_token_address(world.pool, world.mint, TOKEN_2022_PROGRAM_ID)
    assert vault != get_associated_token_address(world.pool, world.mint, TOKEN_PROGRAM_ID)
    assert _pool(world)["pool_token"] == bytes(vault)
    # §2.7: a Token-2022 ATA carries ImmutableOwner, 170 bytes.
    assert (len(world.chain.accounts[vault].data), world.chain.accounts[vault].owner) == (
        170,
        TOKEN_2022_PROGRAM_ID,
    )
    assert world.balance(vault, account=True) == ENTRY
    world.run("join_pool", {"amount": ENTRY}, signer=world.players[1])
    assert world.balance(vault, account=True) == 2 * ENTRY


def test_token_2022_deny_list_is_checked_in_the_documented_order_not_the_tlv_order() -> None:
    hook, fee = (14, bytes(64)), (1, bytes(108))
    world = _token_2022_world(_token_2022_mint(hook, fee))
    _refused(world, 6059, "create_pool", _create_args(world), signer=world.creator)
    world = _token_2022_world(_token_2022_mint((12, bytes(32)), (9, b"")))
    _refused(world, 6062, "create_pool", _create_args(world), signer=world.creator)


def test_token_2022_deny_list_sits_between_the_authority_checks_and_the_supply_check() -> None:
    denied = (1, bytes(108))
    world = _token_2022_world(_token_2022_mint(denied, supply=0))  # step 6 fires before step 7 (6035)
    _refused(world, 6059, "create_pool", _create_args(world), signer=world.creator)
    world = _token_2022_world(_token_2022_mint(denied, freeze=Pubkey.new_unique()))  # step 4 first
    _refused(world, 6014, "create_pool", _create_args(world), signer=world.creator)


def test_token_program_that_does_not_own_the_mint_is_refused_with_invalid_token_program() -> None:
    # donate has no ATA constraint, so the mismatch reaches the handler's first check (§1.3).
    world = _token_2022_world(pack_mint(Mint(None, 10**15, 6)))
    world.create()
    _refused(
        world, 6034, "donate", {"amount": ENTRY}, signer=world.players[4], token_program=TOKEN_PROGRAM_ID
    )


# -- 3. select_winner's mock and emergency branches (§3.12, §4.2, §4.3, §5.7) --------------------------------


def test_mock_request_stores_the_documented_value_and_select_ignores_the_passed_account() -> None:
    world = PoolWorld()
    world.to_unlocked()
    request_slot = world.chain.clock.slot
    world.run("request_randomness", signer=world.dev)
    pool = _pool(world)
    expected = _spec_randomness(pool["pool_id"], request_slot, world.creator)
    assert (pool["randomness"], pool["randomness_account"]) == (expected, bytes(32))
    world.chain.advance(seconds=30, slots=50)
    world.run("select_winner", signer=world.dev, randomness=world.mint)  # branch A: any key, not read
    pool = _pool(world)
    index = _spec_winner_index(pool["pool_id"], expected, 3)
    assert (pool["randomness"], pool["winner"], pool["status"]) == (
        expected,
        bytes(world.players[index]),
        STATUS_WINNER_SELECTED,
    )


def test_mock_pool_that_never_requested_cannot_select() -> None:
    world = PoolWorld()
    world.to_unlocked()
    _refused(world, 6024, "select_winner", signer=world.dev)


def test_emergency_reveal_needs_more_than_a_day_since_unlock_and_then_draws_by_the_formula() -> None:
    world = PoolWorld()
    world.to_unlocked()
    unlock_time = world.chain.clock.unix_timestamp
    world.chain.advance(seconds=DAY, slots=10)
    randomness = _committed_randomness(world)
    world.run("request_randomness", signer=world.dev, randomness=randomness)
    assert _pool(world)["randomness_account"] == bytes(randomness)
    _refused(world, 6054, "select_winner", signer=world.dev, randomness=randomness)  # now == unlock + 1 day
    world.chain.advance(seconds=1, slots=1)
    # Before the 7-day timeout §3.12 step 5 admits only the dev, so the creator's emergency right is moot.
    _refused(world, 6005, "select_winner", signer=world.creator, randomness=randomness)
    select_slot = world.chain.clock.slot
    world.run("select_winner", signer=world.dev, randomness=randomness)

    pool = _pool(world)
    expected = _spec_randomness(pool["pool_id"], select_slot, world.creator)
    index = _spec_winner_index(pool["pool_id"], expected, 3)
    assert (pool["randomness"], pool["randomness_account"]) == (expected, bytes(32))
    assert (pool["winner"], pool["status"], pool["unlock_time"]) == (
        bytes(world.players[index]),
        STATUS_WINNER_SELECTED,
        unlock_time,
    )
    emergency, state = _events(world)
    assert (emergency[:8], emergency[48]) == (POOL_ACTIVITY_EVENT, ACTION_EMERGENCY_REVEAL)
    assert (state[:8], state[48]) == (POOL_STATE_EVENT, STATUS_WINNER_SELECTED)


def test_after_the_payout_timeout_the_creator_may_request_and_emergency_reveal_but_a_stranger_may_not() -> (
    None
):
    world = PoolWorld()
    world.to_unlocked()
    world.chain.advance(seconds=OPEN_WINDOW, slots=10)
    randomness = _committed_randomness(world)
    # §5.7: the creator's right to request starts strictly after unlock_time + 604 800.
    _refused(world, 6005, "request_randomness", signer=world.creator, randomness=randomness)
    world.chain.advance(seconds=1)
    world.run("request_randomness", signer=world.creator, randomness=randomness)
    # Any signer passes §3.12 step 5 now, but the emergency branch itself admits only dev or creator.
    _refused(world, 6005, "select_winner", signer=world.players[5], randomness=randomness)
    world.run("select_winner", signer=world.creator, randomness=randomness)
    assert _events(world)[0][48] == ACTION_EMERGENCY_REVEAL
    assert _pool(world)["status"] == STATUS_WINNER_SELECTED


def test_real_pool_never_takes_the_emergency_branch() -> None:
    world = PoolWorld(allow_mock=False)
    world.to_unlocked()
    world.chain.advance(seconds=DAY + 1, slots=10)
    randomness = _committed_randomness(world)
    world.run("request_randomness", signer=world.dev, randomness=randomness)
    _refused(world, 6026, "select_winner", signer=world.dev, randomness=randomness)


def test_real_pool_that_never_requested_cannot_select_with_any_account() -> None:
    # §4.2 branch B step 1: the key must equal pool.randomness_account, which is still zero.
    world = PoolWorld(allow_mock=False)
    world.to_unlocked()
    _refused(world, 6018, "select_winner", signer=world.dev, randomness=_committed_randomness(world))


def test_mock_pool_takes_the_value_of_any_revealed_account_even_one_it_did_not_bind() -> None:
    # Quirk §4.2: for allow_mock pools the owner and key checks are skipped at select.
    world = PoolWorld()
    world.to_unlocked()
    bound = _committed_randomness(world)
    world.run("request_randomness", signer=world.dev, randomness=bound)
    value = bytes(range(1, 33))
    forged = bytearray(480)
    forged[:8] = bytes([10, 66, 229, 135, 220, 239, 217, 114])
    struct.pack_into("<QQ", forged, 104, 5, 0)
    struct.pack_into("<Q", forged, 144, 6)
    forged[152:184] = value
    other = Pubkey.new_unique()
    world.chain.set(other, AccountState(rent_exempt(480), forged, Pubkey.new_unique()))
    world.run("select_winner", signer=world.dev, randomness=other)
    assert _pool(world)["randomness"] == int.from_bytes(value[:16], "little")


# -- 4. Anchor account validation per user instruction (§3.0, §3.1-§3.9) -------------------------------------


def _create_args(world: PoolWorld) -> dict[str, Any]:
    return {
        "salt": world.salt,
        "max_participants": world.max_participants,
        "lock_duration": LOCK,
        "amount": ENTRY,
        "dev_wallet": world.dev,
        "dev_fee_bps": world.fees[0],
        "burn_fee_bps": world.fees[1],
        "treasury_wallet": world.treasury,
        "treasury_fee_bps": world.fees[2],
        "allow_mock": world.allow_mock,
    }


def _honest(world: PoolWorld, name: str, *, unsigned: bool = False, **overrides: Pubkey) -> Instruction:
    """The instruction each validation case spoils; it succeeds as is in the state `_SETUP` leaves."""
    signers = {
        "create_pool": world.creator,
        "join_pool": world.players[1],
        "donate": world.players[4],
        "cancel_pool": world.creator,
        "claim_refund": world.players[1],
        "claim_rent": world.creator,
    }
    args = {"create_pool": _create_args(world), "join_pool": {"amount": ENTRY}, "donate": {"amount": ENTRY}}
    return world.instruction(name, args.get(name), signer=signers[name], unsigned=unsigned, **overrides)


def _setup_open(world: PoolWorld) -> None:
    world.create()


def _setup_cancelled_with_joiner(world: PoolWorld) -> None:
    world.create()
    world.run("join_pool", {"amount": ENTRY}, signer=world.players[1])
    world.run("cancel_pool", signer=world.creator)


def _setup_emptied(world: PoolWorld) -> None:
    _to_cancelled(world)
    world.run("claim_refund", signer=world.creator)


_SETUP: dict[str, Callable[[PoolWorld], None]] = {
    "create_pool": lambda world: None,
    "join_pool": _setup_open,
    "donate": _setup_open,
    "cancel_pool": _setup_open,
    "claim_refund": _setup_cancelled_with_joiner,
    "claim_rent": _setup_emptied,
}


def _copy_of(world: PoolWorld, key: Pubkey, *, owner: Pubkey | None = None) -> Pubkey:
    """A new address holding the same bytes as `key` (optionally under another owner)."""
    impostor = Pubkey.new_unique()
    state = copy.deepcopy(world.chain.accounts[key])
    state.owner = owner or state.owner
    world.chain.set(impostor, state)
    return impostor


def _read_only(world: PoolWorld, ix: Instruction, name: str, account: str) -> Instruction:
    index = world.idl.instruction(name).account_index(account)
    metas = list(ix.accounts)
    metas[index] = AccountMeta(metas[index].pubkey, metas[index].is_signer, False)
    return Instruction(ix.program_id, bytes(ix.data), metas)


def _not_ata(world: PoolWorld, owner: Pubkey) -> Pubkey:
    """A funded token account of `owner` that is not its ATA."""
    key = Pubkey.new_unique()
    data = pack_token_account(TokenAccount(mint=world.mint, owner=owner, amount=5 * ENTRY))
    world.chain.set(key, AccountState(rent_exempt(165), bytearray(data), TOKEN_PROGRAM_ID))
    return key


Flaw = Callable[[PoolWorld], Instruction]
_CLOCK_SYSVAR = Pubkey.from_string("SysvarC1ock11111111111111111111111111111111")

_CASES: list[tuple[str, str, Flaw, int]] = [
    ("create_pool", "unsigned user", lambda w: _honest(w, "create_pool", unsigned=True), 3010),
    ("create_pool", "pool off its PDA", lambda w: _honest(w, "create_pool", pool=Pubkey.new_unique()), 2006),
    (
        "create_pool",
        "participants off its PDA",
        lambda w: _honest(w, "create_pool", participants=Pubkey.new_unique()),
        2006,
    ),
    (
        "create_pool",
        "read-only mint",
        lambda w: _read_only(w, _honest(w, "create_pool"), "create_pool", "mint"),
        2000,
    ),
    (
        "create_pool",
        "system program as token program",
        lambda w: _honest(w, "create_pool", token_program=Pubkey.default()),
        3008,
    ),
    ("create_pool", "clock as rent sysvar", lambda w: _honest(w, "create_pool", rent=_CLOCK_SYSVAR), 3015),
    (
        "create_pool",
        "user_token not the ATA",
        lambda w: _honest(w, "create_pool", user_token=_not_ata(w, w.creator)),
        6011,
    ),
    (
        "join_pool",
        "pool owned by the token program",
        lambda w: _honest(w, "join_pool", pool=_copy_of(w, w.pool, owner=TOKEN_PROGRAM_ID)),
        3007,
    ),
    (
        "join_pool",
        "participants passed as pool",
        lambda w: _honest(w, "join_pool", pool=w.participants),
        3002,
    ),
    (
        "join_pool",
        "read-only participants",
        lambda w: _read_only(w, _honest(w, "join_pool"), "join_pool", "participants"),
        2000,
    ),
    (
        "join_pool",
        "user_token not the ATA",
        lambda w: _honest(w, "join_pool", user_token=_not_ata(w, w.players[1])),
        6011,
    ),
    ("donate", "unsigned user", lambda w: _honest(w, "donate", unsigned=True), 3010),
    ("donate", "pool passed as participants", lambda w: _honest(w, "donate", participants=w.pool), 3002),
    (
        "donate",
        "participants off its PDA",
        lambda w: _honest(w, "donate", participants=_copy_of(w, w.participants)),
        2006,
    ),
    (
        "donate",
        "donor's ATA as the vault",
        lambda w: _honest(w, "donate", pool_token=w.ata(w.players[4])),
        2003,
    ),
    ("cancel_pool", "unsigned user", lambda w: _honest(w, "cancel_pool", unsigned=True), 3010),
    (
        "cancel_pool",
        "pool owned by the token program",
        lambda w: _honest(w, "cancel_pool", pool=_copy_of(w, w.pool, owner=TOKEN_PROGRAM_ID)),
        3007,
    ),
    (
        "cancel_pool",
        "read-only pool",
        lambda w: _read_only(w, _honest(w, "cancel_pool"), "cancel_pool", "pool"),
        2000,
    ),
    (
        "cancel_pool",
        "token program as system program",
        lambda w: _honest(w, "cancel_pool", system_program=TOKEN_PROGRAM_ID),
        3008,
    ),
    ("claim_refund", "unsigned user", lambda w: _honest(w, "claim_refund", unsigned=True), 3010),
    (
        "claim_refund",
        "participants passed as pool",
        lambda w: _honest(w, "claim_refund", pool=w.participants),
        3002,
    ),
    (
        "claim_refund",
        "participants off its PDA",
        lambda w: _honest(w, "claim_refund", participants=_copy_of(w, w.participants)),
        2006,
    ),
    (
        "claim_refund",
        "read-only participants",
        lambda w: _read_only(w, _honest(w, "claim_refund"), "claim_refund", "participants"),
        2000,
    ),
    (
        "claim_refund",
        "treasury_token not the treasury ATA",
        lambda w: _honest(w, "claim_refund", treasury_token=w.ata(w.players[2])),
        6011,
    ),
    ("claim_rent", "unsigned user", lambda w: _honest(w, "claim_rent", unsigned=True), 3010),
    (
        "claim_rent",
        "pool owned by the token program",
        lambda w: _honest(w, "claim_rent", pool=_copy_of(w, w.pool, owner=TOKEN_PROGRAM_ID)),
        3007,
    ),
    (
        "claim_rent",
        "program-owned close target",
        lambda w: _honest(w, "claim_rent", close_target=w.mint),
        3011,
    ),
    (
        "claim_rent",
        "read-only participants",
        lambda w: _read_only(w, _honest(w, "claim_rent"), "claim_rent", "participants"),
        2000,
    ),
]


@pytest.mark.parametrize(
    ("name", "flaw", "code"), [(n, f, c) for n, _, f, c in _CASES], ids=[f"{n}: {d}" for n, d, _, _ in _CASES]
)
def test_account_validation_refuses_a_spoiled_account_and_changes_nothing(
    name: str, flaw: Flaw, code: int
) -> None:
    world = PoolWorld()
    _SETUP[name](world)
    _refused_ix(world, code, flaw(world))
    # The same call with honest accounts goes through: the spoiled account alone caused the refusal.
    world.chain.run(world.program, _honest(world, name))


# -- 5. §9.1 behaviours not pinned elsewhere -----------------------------------------------------------------


def test_claim_refund_needs_the_claimants_ata_and_an_existing_treasury_ata() -> None:
    # §9.1 item 2 and item 8 / §5.3.
    world = PoolWorld()
    _setup_cancelled_with_joiner(world)
    _refused(
        world, 6011, "claim_refund", signer=world.players[1], user_token=_not_ata(world, world.players[1])
    )
    del world.chain.accounts[world.ata(world.treasury)]
    _refused(world, 3012, "claim_refund", signer=world.players[1])


def test_a_second_join_by_the_same_joiner_is_refused_and_join_is_open_until_start_plus_duration() -> None:
    # §9.1 items 3 and 4, §5.9: the join window is inclusive.
    world = PoolWorld(max_participants=4)
    world.create()
    world.chain.advance(seconds=OPEN_WINDOW)
    world.run("join_pool", {"amount": ENTRY}, signer=world.players[1])
    _refused(world, 6006, "join_pool", {"amount": ENTRY}, signer=world.players[1])


def test_config_hash_is_recomputed_by_donate_and_select() -> None:
    # §9.1 item 6 / §9.2: set_lock_duration and force_expire change hashed fields without rehashing.
    world = PoolWorld()
    world.create()
    world.run("set_lock_duration", {"new_lock_duration": LOCK + 1}, signer=world.creator)
    _refused(world, 6043, "donate", {"amount": ENTRY}, signer=world.players[4])

    world = PoolWorld()
    world.to_unlocked()
    world.run("request_randomness", signer=world.dev)
    world.run("force_expire", signer=world.dev)
    _refused(world, 6043, "select_winner", signer=world.dev)


def test_force_expire_waits_300_seconds_then_joins_expire_and_donations_mismatch() -> None:
    # §3.16, §5.9 (`now ≥ start + 300`), §10.8.
    world = PoolWorld()
    world.create()
    world.chain.advance(seconds=299)
    _refused(world, 6054, "force_expire", signer=world.dev)
    world.chain.advance(seconds=1)
    world.run("force_expire", signer=world.dev)
    pool = _pool(world)
    assert (pool["duration"], pool["expire_time"]) == (0, world.chain.clock.unix_timestamp - 10)
    _refused(world, 6000, "join_pool", {"amount": ENTRY}, signer=world.players[1])
    _refused(world, 6043, "donate", {"amount": ENTRY}, signer=world.players[4])


def test_payout_creates_a_missing_winner_ata_at_the_callers_expense() -> None:
    # §9.1 item 8, §3.13 account 3.
    world = PoolWorld()
    _drawn(world)
    winner = world.winner_pubkey()
    del world.chain.accounts[world.ata(winner)]
    dev_lamports = world.chain.accounts[world.dev].lamports
    world.payout()
    assert world.chain.accounts[world.dev].lamports == dev_lamports - rent_exempt(165)
    pot = 3 * ENTRY
    assert world.balance(winner) == pot - pot * 1_000 // 10_000


@pytest.mark.parametrize(
    ("account", "spoil", "code"),
    [
        ("winner", {"delegate": Pubkey.new_unique(), "delegated_amount": 1}, 6040),
        ("winner", {"close_authority": Pubkey.new_unique()}, 6041),
        ("dev", {"delegate": Pubkey.new_unique(), "delegated_amount": 1}, 6040),
        ("treasury", {"close_authority": Pubkey.new_unique()}, 6041),
    ],
)
def test_payout_refuses_a_receiving_ata_with_a_delegate_or_close_authority(
    account: str, spoil: dict[str, Any], code: int
) -> None:
    # §9.1 item 8, §3.13 steps 10-12.
    world = PoolWorld()
    _drawn(world)
    owner = {"winner": world.winner_pubkey(), "dev": world.dev, "treasury": world.treasury}[account]
    key = world.ata(owner)
    data = pack_token_account(
        TokenAccount(mint=world.mint, owner=owner, amount=world.balance(owner), **spoil)
    )
    world.chain.accounts[key].data[:] = data
    winner = world.winner_pubkey()
    _refused(
        world, code, "payout_winner", signer=world.dev, winner_token=world.ata(winner), winner_pubkey=winner
    )


def test_payout_needs_an_existing_dev_ata() -> None:
    world = PoolWorld()
    _drawn(world)
    del world.chain.accounts[world.ata(world.dev)]
    winner = world.winner_pubkey()
    _refused(
        world, 3012, "payout_winner", signer=world.dev, winner_token=world.ata(winner), winner_pubkey=winner
    )


def test_payout_split_floors_fees_and_gives_the_remainder_to_the_winner() -> None:
    # §9.1 items 9 and 16, §5.1 worked example: T = 100 000 007 with 500/350/150 bps.
    world = PoolWorld()
    world.create()
    _donate(world, 40_000_007)
    world.fill()
    world.chain.advance(seconds=LOCK, slots=10)
    for step in ("unlock_pool", "request_randomness", "select_winner"):
        world.run(step, signer=world.dev)
        pool = _pool(world)
        assert (pool["processing"], pool["version"], pool["schema"]) == (0, 1, 1)
    winner = world.winner_pubkey()
    winner_before, supply_before = world.balance(winner), _supply(world)
    world.payout()
    event = _events(world)[0]
    assert event[:8] == WINNER_SELECTED_EVENT
    assert struct.unpack_from("<QQQQ", event, 80) == (90_000_007, 5_000_000, 3_500_000, 1_500_000)
    assert world.balance(winner) - winner_before == 90_000_007
    assert (world.balance(world.dev), world.balance(world.treasury)) == (5_000_000, 1_500_000)
    assert supply_before - _supply(world) == 3_500_000
    pool = _pool(world)
    assert (pool["processing"], pool["version"], pool["schema"], pool["total_amount"]) == (0, 1, 1, 0)


def test_creator_refund_burn_is_floored_for_an_odd_entry() -> None:
    # §9.1 item 9, §5.3: burn = ⌊amount / 20⌋.
    world = PoolWorld()
    world.create(amount=20_000_019)
    world.run("cancel_pool", signer=world.creator)
    before, supply = world.balance(world.creator), _supply(world)
    world.run("claim_refund", signer=world.creator)
    assert world.balance(world.creator) - before == 19_000_019
    assert supply - _supply(world) == 1_000_000


def test_refunds_remove_a_participant_by_shifting_the_tail_left() -> None:
    # §9.1 item 10, §2.2, §3.8 participant branch step 6.
    world = PoolWorld(max_participants=5)
    world.create()
    for player in world.players[1:4]:
        world.run("join_pool", {"amount": ENTRY}, signer=player)
    world.run("cancel_pool", signer=world.creator)
    p0, p2, p3 = (bytes(world.players[i]) for i in (0, 2, 3))
    world.run("claim_refund", signer=world.players[1])
    slots, count = read_participants(world.participants_data())
    assert (slots[:5], count) == ([p0, p2, p3, bytes(32), bytes(32)], 3)
    world.run("claim_refund", signer=world.creator)
    slots, count = read_participants(world.participants_data())
    assert (slots[:4], count) == ([p2, p3, bytes(32), bytes(32)], 2)


def test_dev_forfeit_zeroes_the_count_but_keeps_the_list_and_waits_strictly_thirty_days() -> None:
    # §9.1 items 10 and 12, §3.8 dev branch, §5.9 (`now > close_time + 30 d`).
    world = PoolWorld()
    world.create()
    world.run("join_pool", {"amount": ENTRY}, signer=world.players[1])
    world.run("admin_close_pool", signer=world.dev)
    world.chain.advance(seconds=THIRTY_DAYS)
    _refused(world, 6054, "claim_refund", signer=world.dev)
    world.chain.advance(seconds=1)
    world.run("claim_refund", signer=world.dev)
    slots, count = read_participants(world.participants_data())
    assert (slots[:2], count) == ([bytes(world.creator), bytes(world.players[1])], 0)
    assert _pool(world)["status"] == 7
    assert world.balance(world.treasury) == 2 * ENTRY


def test_a_creator_who_is_also_the_dev_wallet_gets_the_forfeit_branch_not_a_refund() -> None:
    # §9.1 item 13, §3.8 ("dev branch taken whenever user == dev_wallet"), §10.5.
    world = PoolWorld()
    world.create(dev_wallet=world.creator)
    world.run("cancel_pool", signer=world.creator)
    _refused(world, 6054, "claim_refund", signer=world.creator)


def test_dev_may_take_an_ended_pools_rent_at_once_to_the_treasury() -> None:
    # §9.1 item 13, §3.9 note, §5.4: close_time is 0 for Ended pools.
    world = PoolWorld()
    _to_ended(world)
    _refused(world, 6005, "claim_rent", signer=world.dev, close_target=world.dev)
    treasury_lamports = world.chain.accounts[world.treasury].lamports
    locked = sum(world.chain.accounts[k].lamports for k in (world.pool, world.participants, world.vault))
    world.run("claim_rent", signer=world.dev, close_target=world.treasury)
    assert world.chain.accounts[world.treasury].lamports == treasury_lamports + locked
    for key in (world.pool, world.participants, world.vault):
        assert key not in world.chain.accounts


def test_select_is_accepted_at_exactly_3000_slots_after_the_commit() -> None:
    # §4.5, §5.9: `slot ≤ randomness_commit_slot + 3000`, inclusive.
    world = PoolWorld()
    _to_committed(world)
    world.chain.advance(slots=3_000)
    world.run("select_winner", signer=world.dev)
    assert _pool(world)["status"] == STATUS_WINNER_SELECTED


def test_permissionless_payout_starts_strictly_after_seven_days_from_unlock() -> None:
    # §5.7, §5.9: `now > unlock_time + 604 800`.
    world = PoolWorld()
    world.to_unlocked()
    world.run("request_randomness", signer=world.dev)
    world.run("select_winner", signer=world.dev)
    stranger = world.players[5]
    world.chain.advance(seconds=OPEN_WINDOW)
    winner = world.winner_pubkey()
    _refused(
        world, 6005, "payout_winner", signer=stranger, winner_token=world.ata(winner), winner_pubkey=winner
    )
    world.chain.advance(seconds=1)
    world.payout(signer=stranger)
    assert _pool(world)["status"] == 6


def test_sweep_starts_strictly_after_expire_time_plus_seven_days() -> None:
    # §3.7, §5.9: `now > expire_time + 604 800`.
    world = PoolWorld(allow_mock=False)
    world.create()
    world.chain.advance(seconds=2 * OPEN_WINDOW)
    _refused(world, 6001, "sweep_expired_pool", signer=world.dev)
    world.chain.advance(seconds=1)
    world.run("sweep_expired_pool", signer=world.dev)
    assert (_pool(world)["status"], _pool(world)["status_reason"]) == (7, 1)
