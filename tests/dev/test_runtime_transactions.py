"""LocalChain processing transactions: atomicity, fees, mixed native + modelled instructions, rejections."""

from __future__ import annotations

import pytest
from solders.compute_budget import set_compute_unit_limit, set_compute_unit_price
from solders.instruction import AccountMeta
from solders.keypair import Keypair
from solders.message import Message
from solders.pubkey import Pubkey
from solders.system_program import TransferParams, transfer

from localnet.chain_clock import MAX_PROCESSING_AGE
from localnet.fees import compute_budget_of, transaction_fee
from localnet.runtime import LocalChain, PreflightFailed, SignatureVerificationFailed, TransactionRejected
from localnet.spl_token import (
    TOKEN_2022_ATA_LEN,
    TOKEN_2022_PROGRAM_ID,
    TOKEN_ACCOUNT_LEN,
    TOKEN_PROGRAM_ID,
    get_associated_token_address,
    unpack_token_account,
)
from missout.chain.token_accounts import create_ata_idempotent
from tests.support.funded_chain import SOL
from tests.support.runtime_support import (
    ScriptedProgram,
    funded,
    make_mint,
    make_token_account,
    signed,
    token_transfer,
)


@pytest.fixture
def chain() -> LocalChain:
    return LocalChain(unix_timestamp=1_750_000_000)


@pytest.fixture
def program(chain: LocalChain) -> ScriptedProgram:
    scripted = ScriptedProgram()
    chain.register(scripted)
    return scripted


def test_failing_modelled_instruction_reverts_everything_but_the_fee(
    chain: LocalChain, program: ScriptedProgram
) -> None:
    payer, target, receiver = funded(chain), Keypair().pubkey(), Keypair().pubkey()
    before = chain.get_balance(payer.pubkey())
    native_transfer = transfer(TransferParams(from_pubkey=payer.pubkey(), to_pubkey=receiver, lamports=SOL))
    tx = signed(
        chain, payer, [native_transfer, program.instruction(payer.pubkey(), target, b"write-then-fail")]
    )

    record = chain.send_transaction(tx, preflight=False)

    assert record.err == {"InstructionError": [1, {"Custom": 6004}]}
    assert chain.get_account(target) is None
    assert chain.get_account(receiver) is None  # the native transfer before the failure is undone too
    assert chain.get_balance(payer.pubkey()) == before - 5_000 == before - record.fee
    assert record.post_balances[0] == before - 5_000
    assert "Program log: wrote target" in record.logs
    assert record.logs[-1] == f"Program {program.program_id} failed: custom program error: 0x1774"
    assert chain.history.get(tx.signatures[0]) is record


def test_successful_modelled_instruction_commits_logs_events_and_cpis(
    chain: LocalChain, program: ScriptedProgram
) -> None:
    payer, target = funded(chain), Keypair().pubkey()
    record = chain.send_transaction(
        signed(chain, payer, [program.instruction(payer.pubkey(), target, b"write")])
    )

    account = chain.get_account(target)
    assert record.err is None
    assert account is not None
    assert bytes(account.data) == b"abc"
    assert account.owner == program.program_id
    assert "Program data: ZXZlbnQh" in record.logs  # base64(b"event!")
    inner = record.inner_instructions[0][0]
    assert record.account_keys[inner.program_id_index] == Pubkey.default()
    assert [record.account_keys[i] for i in inner.accounts] == [payer.pubkey(), target]


def test_preflight_failure_changes_nothing_and_is_not_recorded(
    chain: LocalChain, program: ScriptedProgram
) -> None:
    payer, target = funded(chain), Keypair().pubkey()
    before = chain.get_balance(payer.pubkey())
    tx = signed(chain, payer, [program.instruction(payer.pubkey(), target, b"write-then-fail")])

    with pytest.raises(PreflightFailed) as failed:
        chain.send_transaction(tx)

    assert failed.value.execution.result.err == {"InstructionError": [0, {"Custom": 6004}]}
    assert chain.get_balance(payer.pubkey()) == before
    assert tx.signatures[0] not in chain.history


def test_mixed_transaction_runs_compute_budget_token_transfer_and_model(
    chain: LocalChain, program: ScriptedProgram
) -> None:
    payer, target = funded(chain), Keypair().pubkey()
    mint = make_mint(chain)
    source = make_token_account(chain, mint, payer.pubkey(), 5_000_000)
    dest = make_token_account(chain, mint, Keypair().pubkey(), 0)
    before = chain.get_balance(payer.pubkey())
    instructions = [
        set_compute_unit_limit(300_000),
        set_compute_unit_price(10_000),
        token_transfer(source, mint, dest, payer.pubkey(), 1_500_000),
        program.instruction(payer.pubkey(), target, b"write"),
    ]

    record = chain.send_transaction(signed(chain, payer, instructions, v0=True))

    assert record.err is None
    assert record.fee == 5_000 + 3_000  # 10_000 micro-lamports x 300_000 units
    assert chain.get_balance(payer.pubkey()) == before - record.fee - 2_000_000
    dest_account = chain.get_account(dest)
    assert dest_account is not None
    assert unpack_token_account(bytes(dest_account.data)).amount == 1_500_000
    post = {b["accountIndex"]: b["uiTokenAmount"] for b in record.post_token_balances}
    pre = {b["accountIndex"]: b["uiTokenAmount"] for b in record.pre_token_balances}
    dest_index = record.account_keys.index(dest)
    assert pre[dest_index]["amount"] == "0"
    assert post[dest_index] == {"amount": "1500000", "decimals": 6, "uiAmount": 1.5, "uiAmountString": "1.5"}
    assert any(line.endswith("invoke [1]") and "Tokenkeg" in line for line in record.logs)
    assert record.compute_units_consumed > 40_000


def test_failing_native_run_inside_modelled_transaction_reports_outer_index(
    chain: LocalChain, program: ScriptedProgram
) -> None:
    payer, target = funded(chain), Keypair().pubkey()
    mint = make_mint(chain)
    source = make_token_account(chain, mint, payer.pubkey(), 10)
    dest = make_token_account(chain, mint, Keypair().pubkey(), 0)
    instructions = [
        program.instruction(payer.pubkey(), target, b"write"),
        set_compute_unit_price(1),
        token_transfer(source, mint, dest, payer.pubkey(), 11),  # more than the source holds
    ]

    record = chain.send_transaction(signed(chain, payer, instructions), preflight=False)

    assert record.err == {"InstructionError": [2, {"Custom": 1}]}  # TokenError::InsufficientFunds
    assert chain.get_account(target) is None


def test_fee_computation_matches_litesvm_for_native_transactions(chain: LocalChain) -> None:
    payer = funded(chain)
    mint = make_mint(chain)
    source = make_token_account(chain, mint, payer.pubkey(), 10)
    dest = make_token_account(chain, mint, Keypair().pubkey(), 0)
    instructions = [set_compute_unit_price(123_456), token_transfer(source, mint, dest, payer.pubkey(), 1)]
    tx = signed(chain, payer, instructions)
    message = tx.message
    assert isinstance(message, Message)
    expected = transaction_fee(1, compute_budget_of(list(message.account_keys), list(message.instructions)))

    record = chain.send_transaction(tx)

    assert record.fee == expected == chain.fee_for_message(message)


@pytest.mark.parametrize(
    ("action", "error"),
    [
        (b"readonly-write", "ReadonlyDataModified"),
        (b"cpi-outside", "MissingAccount"),
        (b"crash", "ProgramFailedToComplete"),
    ],
)
def test_runtime_rules_fail_the_instruction(
    chain: LocalChain, program: ScriptedProgram, action: bytes, error: str
) -> None:
    payer, target = funded(chain), Keypair().pubkey()
    readonly = funded(chain).pubkey()
    ix = program.instruction(payer.pubkey(), target, action, AccountMeta(readonly, False, False))

    record = chain.send_transaction(signed(chain, payer, [ix]), preflight=False)

    assert record.err == {"InstructionError": [0, error]}


def test_duplicate_signature_is_rejected(chain: LocalChain, program: ScriptedProgram) -> None:
    payer = funded(chain)
    native = signed(
        chain,
        payer,
        [transfer(TransferParams(from_pubkey=payer.pubkey(), to_pubkey=Keypair().pubkey(), lamports=SOL))],
    )
    modelled = signed(chain, payer, [program.instruction(payer.pubkey(), Keypair().pubkey(), b"write")])
    for tx in (native, modelled):
        chain.send_transaction(tx)
        with pytest.raises(TransactionRejected) as rejected:
            chain.send_transaction(tx)
        assert rejected.value.err == "AlreadyProcessed"


def test_expired_blockhash_is_rejected_and_recent_one_accepted(chain: LocalChain) -> None:
    payer = funded(chain)
    old = chain.latest_blockhash()
    chain.advance_slots(MAX_PROCESSING_AGE)
    ix = transfer(TransferParams(from_pubkey=payer.pubkey(), to_pubkey=Keypair().pubkey(), lamports=SOL))
    assert chain.send_transaction(signed(chain, payer, [ix], blockhash=old)).err is None  # 150 blocks old: ok

    stale = chain.latest_blockhash()
    chain.advance_slots(MAX_PROCESSING_AGE + 1)
    with pytest.raises(TransactionRejected) as rejected:
        chain.send_transaction(signed(chain, payer, [ix], blockhash=stale))
    assert rejected.value.err == "BlockhashNotFound"


def test_bad_signature_and_unfunded_payer_are_rejected_without_record(
    chain: LocalChain, program: ScriptedProgram
) -> None:
    payer, impostor = funded(chain), Keypair()
    tx = signed(chain, payer, [program.instruction(payer.pubkey(), Keypair().pubkey(), b"write")])
    forged = type(tx).populate(tx.message, [impostor.sign_message(bytes(tx.message))])
    with pytest.raises(SignatureVerificationFailed):
        chain.send_transaction(forged)

    broke = Keypair()
    with pytest.raises(TransactionRejected) as rejected:
        chain.send_transaction(
            signed(chain, broke, [program.instruction(broke.pubkey(), Keypair().pubkey(), b"write")])
        )
    assert rejected.value.err == "AccountNotFound"
    assert len(chain.history) == 0


def test_clock_controls_and_slot_hashes(chain: LocalChain) -> None:
    start_slot, start_time = chain.clock.slot, chain.clock.unix_timestamp
    chain.advance_slots(10)
    chain.advance_time(60)
    assert (chain.clock.slot, chain.clock.unix_timestamp) == (start_slot + 10, start_time + 60)
    chain.warp(slot=start_slot + 1_000, unix_timestamp=1_800_000_000)
    assert chain.svm.get_clock().unix_timestamp == 1_800_000_000  # programs in LiteSVM see the same time
    current = chain.clock.slot
    assert chain.slot_hash(current) is None
    assert chain.slot_hash(current - 513) is None
    recent = chain.slot_hash(current - 1)
    assert recent is not None
    assert len(recent) == 32
    assert chain.slot_hash(current - 1) == recent  # deterministic
    assert chain.slot_hash(current - 512) is not None
    with pytest.raises(ValueError, match="cannot warp back"):
        chain.warp(slot=start_slot)


def test_wall_clock_mode_moves_time_and_slots(chain: LocalChain) -> None:
    slot, unix = chain.clock.slot, chain.clock.unix_timestamp
    chain.clock.follow_wall_clock(True, now=100.0)

    chain.clock.sync_wall_clock(110.0)
    assert (chain.clock.slot, chain.clock.unix_timestamp) == (slot + 25, unix + 10)  # 0.4 s per slot

    chain.advance_time(3_600)  # an explicit jump stacks on top of wall time
    chain.clock.sync_wall_clock(111.0)
    assert chain.clock.unix_timestamp == unix + 11 + 3_600


@pytest.mark.parametrize(
    ("token_program", "size"),
    [(TOKEN_PROGRAM_ID, TOKEN_ACCOUNT_LEN), (TOKEN_2022_PROGRAM_ID, TOKEN_2022_ATA_LEN)],
)
def test_the_real_ata_program_runs_create_idempotent_next_to_a_modelled_instruction(
    chain: LocalChain, program: ScriptedProgram, token_program: Pubkey, size: int
) -> None:
    """What the monitor's payout transaction relies on: `CreateIdempotent` runs in LiteSVM's ATA program
    before a modelled instruction of the same transaction, and a repeat changes nothing and fails nothing."""
    payer = funded(chain)
    mint = make_mint(chain, program=token_program)
    owner, funded_owner = Keypair().pubkey(), Keypair().pubkey()
    ata = get_associated_token_address(owner, mint, token_program)
    # An address someone sent lamports to before the account existed: the ATA program takes it over.
    prefunded = get_associated_token_address(funded_owner, mint, token_program)
    chain.airdrop(prefunded, 1_000_000)
    creations = [create_ata_idempotent(payer.pubkey(), o, mint, token_program) for o in (owner, funded_owner)]
    for round_ in range(2):
        before = chain.get_balance(payer.pubkey())
        target = Keypair().pubkey()
        tx = signed(
            chain, payer, [*creations, program.instruction(payer.pubkey(), target, b"write")], v0=True
        )
        record = chain.send_transaction(tx)
        assert record.err is None, record.logs
        assert chain.get_account(target) is not None  # the modelled instruction ran as well
        for address, wallet in ((ata, owner), (prefunded, funded_owner)):
            account = chain.get_account(address)
            assert account is not None
            assert (account.owner, len(account.data)) == (token_program, size)
            assert account.lamports == chain.minimum_balance(size)
            assert unpack_token_account(bytes(account.data)).owner == wallet
        spent = before - chain.get_balance(payer.pubkey())
        rent = 2 * chain.minimum_balance(size) - 1_000_000 if round_ == 0 else 0  # the repeat pays no rent
        assert spent == record.fee + 2_000_000 + rent
        chain.advance_slots(1)
