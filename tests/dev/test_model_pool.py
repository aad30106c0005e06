"""The modelled pool program, instruction by instruction, on the in-memory fake context. Account bytes are
read back with the independent decoder written from docs/program.md (`read_pool`), never the model's
packer."""

from __future__ import annotations

import base64
import copy
import struct

import pytest
from solders.pubkey import Pubkey

from localnet.model_api import ProgramError
from localnet.programs.pool_state import winner_index
from localnet.spl_token import TokenAccount, pack_token_account
from tests.support.model_fakes import read_participants, read_pool, rent_exempt
from tests.support.pool_world import ENTRY, PoolWorld


def _code(failure: pytest.ExceptionInfo[ProgramError]) -> int | None:
    return failure.value.custom


def _fails(
    world: PoolWorld, code: int, name: str, args: dict[str, object] | None = None, **kw: object
) -> None:
    with pytest.raises(ProgramError) as failure:
        world.run(name, args, **kw)  # type: ignore[arg-type]
    assert _code(failure) == code, failure.value.log


def _event_names(world: PoolWorld) -> list[str]:
    assert world.chain.last is not None
    return [world.idl.decode_event(event)[0] for event in world.chain.last.events]


def test_create_pool_writes_the_documented_bytes_and_moves_the_entry() -> None:
    world = PoolWorld()
    ctx = world.create()
    pool = read_pool(world.pool_data())
    assert len(world.pool_data()) == 488
    assert pool["disc"] == bytes.fromhex("f19a6d0411b16dbc")
    assert (pool["status"], pool["amount"], pool["total_amount"], pool["total_joins"]) == (0, ENTRY, ENTRY, 1)
    assert (pool["creator"], pool["mint"], pool["pool_token"]) == (
        bytes(world.creator),
        bytes(world.mint),
        bytes(world.vault),
    )
    assert (pool["version"], pool["schema"], pool["initialized"], pool["processing"]) == (1, 1, 1, 0)
    assert pool["duration"] == 604_800
    assert pool["expire_time"] == world.chain.clock.unix_timestamp + 604_800
    assert pool["participants_account"] == bytes(world.participants)
    assert (
        pool["bump"]
        == Pubkey.find_program_address([b"pool", bytes(world.mint), world.salt], world.program.program_id)[1]
    )
    slots, count = read_participants(world.participants_data())
    assert (slots[0], count, len(world.participants_data())) == (bytes(world.creator), 1, 649)
    assert world.balance(world.vault, account=True) == ENTRY
    assert world.chain.accounts[world.pool].lamports == 4_287_360
    assert world.chain.accounts[world.participants].lamports == 5_407_920
    assert ctx.logs[0] == "Program log: Instruction: CreatePool"
    assert _event_names(world) == ["PoolStateEvent", "PoolActivityEvent"]
    assert [cpi.data[0] for cpi in ctx.cpis if cpi.program_id == world.token_program][-1] == 12


def test_create_pool_validations() -> None:
    world = PoolWorld()
    with pytest.raises(ProgramError) as failure:
        world.create(dev_fee_bps=9_000, burn_fee_bps=1_001)
    assert _code(failure) == 6016
    with pytest.raises(ProgramError) as failure:
        world.create(max_participants=21)
    assert _code(failure) == 6027
    with pytest.raises(ProgramError) as failure:
        world.create(amount=ENTRY - 1)
    assert _code(failure) == 6029
    with pytest.raises(ProgramError) as failure:
        world.create(lock_duration=59)
    assert _code(failure) == 6030
    world.create()
    with pytest.raises(ProgramError) as failure:  # Participants `init` hits an existing account
        world.create()
    assert _code(failure) == 0


def test_unsigned_user_and_wrong_participants_pda_fail_in_anchor_order() -> None:
    world = PoolWorld()
    world.create()
    _fails(world, 3010, "join_pool", {"amount": ENTRY}, signer=world.players[1], unsigned=True)
    impostor = Pubkey.new_unique()  # a real Participants account, but not at the PDA of this pool
    world.chain.set(impostor, copy.deepcopy(world.chain.accounts[world.participants]))
    _fails(world, 2006, "join_pool", {"amount": ENTRY}, signer=world.players[1], participants=impostor)


def test_joins_lock_the_pool_on_the_last_seat() -> None:
    world = PoolWorld(max_participants=3)
    world.create()
    world.run("join_pool", {"amount": ENTRY}, signer=world.players[1])
    assert _event_names(world) == ["PoolStateEvent", "PoolActivityEvent"]
    world.chain.advance(seconds=5)
    world.run("join_pool", {"amount": ENTRY}, signer=world.players[2])
    assert _event_names(world) == [
        "PoolStateEvent",
        "PoolActivityEvent",
        "PoolStateEvent",
        "PoolActivityEvent",
        "UIHint",
    ]
    pool = read_pool(world.pool_data())
    assert (pool["status"], pool["status_reason"], pool["lock_start_time"]) == (
        1,
        4,
        world.chain.clock.unix_timestamp,
    )
    assert pool["total_amount"] == 3 * ENTRY
    slots, count = read_participants(world.participants_data())
    assert count == 3
    assert slots[:3] == [bytes(p) for p in world.players[:3]]
    _fails(world, 6049, "join_pool", {"amount": ENTRY}, signer=world.players[3])


def test_join_rejections() -> None:
    world = PoolWorld()
    world.create()
    _fails(world, 6006, "join_pool", {"amount": ENTRY}, signer=world.creator)
    _fails(world, 6029, "join_pool", {"amount": ENTRY + 1}, signer=world.players[1])
    world.fund(world.players[1], ENTRY - 1)
    _fails(world, 6045, "join_pool", {"amount": ENTRY}, signer=world.players[1])
    world.chain.advance(seconds=604_801)
    _fails(world, 6000, "join_pool", {"amount": ENTRY}, signer=world.players[2])


def test_pause_blocks_joins_and_only_the_dev_may_pause() -> None:
    world = PoolWorld()
    world.create()
    _fails(world, 6005, "pause_pool", signer=world.creator)
    world.run("pause_pool", signer=world.dev)
    assert read_pool(world.pool_data())["status_reason"] == 2
    _fails(world, 6042, "join_pool", {"amount": ENTRY}, signer=world.players[1])
    world.run("unpause_pool", signer=world.dev)
    world.run("join_pool", {"amount": ENTRY}, signer=world.players[1])


def test_unlock_needs_the_dev_and_the_lock_to_have_elapsed() -> None:
    world = PoolWorld()
    world.create()
    world.fill()
    _fails(world, 6005, "unlock_pool", signer=world.creator)
    world.chain.advance(seconds=599)
    _fails(world, 6031, "unlock_pool", signer=world.dev)
    world.chain.advance(seconds=1)
    world.run("unlock_pool", signer=world.dev)
    pool = read_pool(world.pool_data())
    assert (pool["status"], pool["unlock_time"]) == (2, world.chain.clock.unix_timestamp)


def test_mock_draw_selects_by_the_formula_and_payout_splits_the_pot() -> None:
    world = PoolWorld()
    world.to_unlocked()
    world.run("request_randomness", signer=world.dev)
    pool = read_pool(world.pool_data())
    assert (pool["status"], pool["randomness_commit_slot"]) == (3, world.chain.clock.slot)
    assert pool["randomness_deadline_slot"] == world.chain.clock.slot + 3000
    world.run("select_winner", signer=world.dev)
    pool = read_pool(world.pool_data())
    index = winner_index(int(pool["pool_id"]), int(pool["randomness"]), 3)  # type: ignore[call-overload]
    assert pool["winner"] == bytes(world.players[index])
    assert pool["status"] == 5

    winner = world.winner_pubkey()
    before = world.balance(winner)
    world.payout()
    pot = 3 * ENTRY
    dev, treasury, burn = pot * 500 // 10_000, pot * 150 // 10_000, pot * 350 // 10_000
    assert world.balance(world.dev) == dev
    assert world.balance(world.treasury) == treasury
    assert world.balance(winner) - before == pot - dev - treasury - burn
    assert world.balance(world.vault, account=True) == 0
    pool = read_pool(world.pool_data())
    assert (pool["status"], pool["total_amount"]) == (6, 0)
    assert read_participants(world.participants_data())[1] == 0
    assert _event_names(world) == ["WinnerSelectedEvent", "PoolActivityEvent", "PoolStateEvent"]


def test_payout_refuses_a_vault_that_does_not_match_total_amount() -> None:
    world = PoolWorld()
    world.to_unlocked()
    world.run("request_randomness", signer=world.dev)
    world.run("select_winner", signer=world.dev)
    vault = world.chain.accounts[world.vault]
    vault.data[:] = pack_token_account(TokenAccount(mint=world.mint, owner=world.pool, amount=3 * ENTRY + 1))
    winner = world.winner_pubkey()
    with pytest.raises(ProgramError) as failure:
        world.payout()
    assert _code(failure) == 6036
    assert world.chain.get(world.ata(winner)) is not None  # existing player ATA, untouched


def test_permissionless_select_only_after_seven_days_from_unlock() -> None:
    world = PoolWorld()
    world.to_unlocked()
    world.run("request_randomness", signer=world.dev)
    stranger = world.players[5]
    _fails(world, 6005, "select_winner", signer=stranger)
    world.chain.advance(seconds=604_801, slots=100)
    world.run("select_winner", signer=stranger)
    assert read_pool(world.pool_data())["status"] == 5


def test_randomness_expires_after_3000_slots() -> None:
    world = PoolWorld()
    world.to_unlocked()
    world.run("request_randomness", signer=world.dev)
    world.chain.advance(slots=3001)
    _fails(world, 6047, "select_winner", signer=world.dev)


def _switchboard_randomness(world: PoolWorld) -> Pubkey:
    """init + commit + reveal through the Switchboard model and its gateway; returns the account."""
    from localnet.programs.switchboard import (
        randomness_commit_ix,
        randomness_init_ix,
        randomness_reveal_ix,
    )

    randomness = Pubkey.new_unique()
    world.chain.run(
        world.switchboard,
        randomness_init_ix(
            randomness=randomness, authority=world.dev, payer=world.dev, recent_slot=world.chain.clock.slot
        ),
    )
    commit = randomness_commit_ix(randomness=randomness, authority=world.dev, oracle=world.switchboard.oracle)
    world.chain.run(world.switchboard, commit)
    data = bytes(world.chain.accounts[randomness].data)
    seed_slot = struct.unpack_from("<Q", data, 104)[0]
    assert seed_slot == world.chain.clock.slot - 1
    response = world.gateway.reveal(data[72:104], randomness, seed_slot)
    world.chain.advance(slots=2)
    reveal = randomness_reveal_ix(
        randomness=randomness,
        authority=world.dev,
        payer=world.dev,
        oracle=world.switchboard.oracle,
        signature=base64.b64decode(response["signature"]),
        recovery_id=response["recovery_id"],
        value=bytes(response["value"]),
    )
    world.chain.run(world.switchboard, reveal)
    revealed = bytes(world.chain.accounts[randomness].data)
    assert revealed[152:184] == bytes(response["value"])
    assert struct.unpack_from("<Q", revealed, 144)[0] == world.chain.clock.slot
    return randomness


def test_real_randomness_flow_binds_and_uses_the_revealed_value() -> None:
    world = PoolWorld(allow_mock=False)
    world.to_unlocked()
    randomness = _switchboard_randomness(world)
    world.run("request_randomness", signer=world.dev, randomness=randomness)
    assert read_pool(world.pool_data())["randomness_account"] == bytes(randomness)
    world.run("select_winner", signer=world.dev, randomness=randomness)
    value = bytes(world.chain.accounts[randomness].data[152:168])
    assert read_pool(world.pool_data())["randomness"] == int.from_bytes(value, "little")


def test_stale_seed_slot_and_foreign_accounts_are_rejected_at_request() -> None:
    world = PoolWorld(allow_mock=False)
    world.to_unlocked()
    randomness = _switchboard_randomness(world)
    world.chain.advance(slots=302)
    _fails(world, 6026, "request_randomness", signer=world.dev, randomness=randomness)
    _fails(world, 6018, "request_randomness", signer=world.dev, randomness=world.mint)


def test_a_forged_reveal_signature_fails() -> None:
    from localnet.programs.switchboard import randomness_reveal_ix

    world = PoolWorld()
    randomness = _switchboard_randomness(world)
    forged = randomness_reveal_ix(
        randomness=randomness,
        authority=world.dev,
        payer=world.dev,
        oracle=world.switchboard.oracle,
        signature=bytes(64),
        recovery_id=0,
        value=bytes([7]) * 32,
    )
    with pytest.raises(ProgramError) as failure:
        world.chain.run(world.switchboard, forged)
    assert failure.value.custom is not None


def test_cancel_refund_burns_five_percent_for_the_creator_then_rent_closes_everything() -> None:
    world = PoolWorld(max_participants=4)
    world.create()
    world.run("join_pool", {"amount": ENTRY}, signer=world.players[1])
    world.run("donate", {"amount": ENTRY}, signer=world.players[4])
    _fails(world, 6003, "cancel_pool", signer=world.players[1])
    world.run("cancel_pool", signer=world.creator)
    assert (read_pool(world.pool_data())["status"], read_pool(world.pool_data())["status_reason"]) == (7, 5)

    _fails(world, 6055, "claim_refund", signer=world.players[3])
    creator_before, joiner_before = world.balance(world.creator), world.balance(world.players[1])
    world.run("claim_refund", signer=world.creator)
    assert _event_names(world) == ["RefundBurned", "RefundClaimedEvent"]
    assert world.balance(world.creator) - creator_before == ENTRY - ENTRY // 20
    _fails(world, 6002, "claim_rent", signer=world.creator)  # a participant is still listed
    world.run("claim_refund", signer=world.players[1])
    assert world.balance(world.players[1]) - joiner_before == ENTRY
    assert read_participants(world.participants_data())[1] == 0

    creator_lamports = world.chain.accounts[world.creator].lamports
    locked_rent = sum(world.chain.accounts[k].lamports for k in (world.pool, world.participants, world.vault))
    _fails(world, 6005, "claim_rent", signer=world.creator, close_target=world.dev)
    world.run("claim_rent", signer=world.creator)  # the donation left in the vault is burned first
    for key in (world.pool, world.participants, world.vault):
        assert key not in world.chain.accounts
    assert world.chain.accounts[world.creator].lamports == creator_lamports + locked_rent
    assert locked_rent == 4_287_360 + 5_407_920 + rent_exempt(165)


def test_dev_forfeit_waits_thirty_days_after_close() -> None:
    world = PoolWorld()
    world.create()
    world.run("admin_close_pool", signer=world.dev)
    _fails(world, 6054, "claim_refund", signer=world.dev)
    world.chain.advance(seconds=2_592_001)
    world.run("claim_refund", signer=world.dev)
    assert world.balance(world.treasury) == ENTRY
    assert _event_names(world) == ["ForfeitedToTreasury"]


def test_pause_on_a_cancelled_pool_bricks_refunds_as_the_real_program_does() -> None:
    world = PoolWorld()
    world.create()
    world.run("cancel_pool", signer=world.creator)
    world.run("pause_pool", signer=world.dev)
    world.run("unpause_pool", signer=world.dev)
    _fails(world, 6021, "claim_refund", signer=world.creator)


def test_set_lock_duration_increase_breaks_later_joins_with_config_mismatch() -> None:
    world = PoolWorld()
    world.create()
    world.run("set_lock_duration", {"new_lock_duration": 900}, signer=world.creator)
    _fails(world, 6043, "join_pool", {"amount": ENTRY}, signer=world.players[1])


def test_sweep_and_force_expire_timing() -> None:
    world = PoolWorld(allow_mock=False)
    world.create()
    _fails(world, 6001, "sweep_expired_pool", signer=world.dev)
    _fails(world, 6005, "force_expire", signer=world.dev)  # only allow_mock pools
    world.chain.advance(seconds=14 * 86_400 + 1)
    _fails(world, 6004, "sweep_expired_pool", signer=world.creator)
    world.run("sweep_expired_pool", signer=world.dev)
    assert read_pool(world.pool_data())["status_reason"] == 1


def test_finalize_forfeited_pool_sends_the_vault_to_the_treasury_and_wipes_the_list() -> None:
    world = PoolWorld()
    world.create()
    world.run("join_pool", {"amount": ENTRY}, signer=world.players[1])
    world.run("cancel_pool", signer=world.creator)
    _fails(world, 6005, "finalize_forfeited_pool", signer=world.creator)
    world.run("finalize_forfeited_pool", signer=world.treasury)  # allow_mock: no 30-day wait
    assert world.balance(world.treasury) == 2 * ENTRY
    slots, count = read_participants(world.participants_data())
    assert (count, slots[0], slots[1]) == (0, bytes(32), bytes(32))
    assert (read_pool(world.pool_data())["status"], read_pool(world.pool_data())["total_amount"]) == (8, 0)
