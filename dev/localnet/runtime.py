"""`LocalChain`: one LiteSVM plus the programs modelled in Python, processing transactions the way a cluster
does and remembering them for the RPC.

Who checks what (the same rules for every transaction, so the two paths cannot drift apart):
- Here, before anything runs: sanitize, every required signature (ed25519, through solders), the blockhash
  (at most 150 blocks old, `chain_clock.py`) and duplicates (the chain's own history). LiteSVM therefore runs
  with signature checks, blockhash checks and transaction history switched off.
- A transaction that calls no modelled program goes to LiteSVM whole: LiteSVM validates the fee payer,
  charges the fee and runs every instruction.
- One that calls a modelled program is validated and charged here, then run segment by segment
  (`executor.py`); on failure every account of the message is put back as it was and only the fee stays
  charged, as on a real cluster.
A transaction rejected before execution (bad signature, unknown blockhash, duplicate, fee payer unable to pay)
changes nothing and is not recorded: on a cluster it never lands.
"""

from __future__ import annotations

import hashlib
import time
from dataclasses import dataclass

from solders.account import Account
from solders.hash import Hash
from solders.instruction import CompiledInstruction
from solders.keypair import Keypair
from solders.litesvm import LiteSVM
from solders.message import Message, MessageV0
from solders.pubkey import Pubkey
from solders.system_program import TransferParams, transfer
from solders.transaction import VersionedTransaction
from solders.transaction_metadata import FailedTransactionMetadata

from localnet.chain_clock import ChainClock
from localnet.executor import ChainServices, ExecutionResult, SegmentedExecutor, collect_inner_instructions
from localnet.fees import compute_budget_of, transaction_fee
from localnet.history import History, TransactionRecord
from localnet.message_accounts import MessageAccounts, resolve_message_accounts
from localnet.model_api import Genesis, ModelledProgram
from localnet.token_balances import token_balances
from localnet.tx_errors import ErrJson, TransactionFailure, litesvm_error

SYSTEM_PROGRAM_ID = Pubkey.default()
NATIVE_LOADER_ID = Pubkey.from_string("NativeLoader1111111111111111111111111111111")
# The largest serialized transaction a cluster accepts: one network packet's payload (docs/solana.md §3.5).
PACKET_DATA_SIZE = 1232
_FAUCET_FLOOR = 10**17
_FAUCET_TOP_UP = 10**18


class InvalidTransaction(Exception):
    """Malformed before any check (the RPC answers -32602 "invalid transaction: ...")."""


class SignatureVerificationFailed(Exception):
    """Some required signature does not verify (the RPC answers -32003)."""


class TransactionRejected(Exception):
    """Refused before execution; nothing changed and nothing is recorded (e.g. BlockhashNotFound)."""

    def __init__(self, err: ErrJson) -> None:
        super().__init__(str(err))
        self.err = err


class PreflightFailed(Exception):
    """The transaction failed in preflight and was not sent; `execution` says how it failed."""

    def __init__(self, execution: Execution) -> None:
        super().__init__(str(execution.result.err))
        self.execution = execution


@dataclass
class Execution:
    """A transaction that ran: its accounts before and after, and what happened."""

    transaction: VersionedTransaction
    message: MessageAccounts
    pre: list[Account | None]
    post: list[Account | None]
    fee: int
    result: ExecutionResult


@dataclass(frozen=True)
class Simulation:
    execution: Execution
    accounts: list[Account | None]  # the requested addresses after the simulated transaction
    replacement_blockhash: Hash | None


class LocalChain:
    def __init__(self, *, seed: bytes = b"missout-localnet", unix_timestamp: int | None = None) -> None:
        self.seed = seed
        self.svm = LiteSVM().with_transaction_history(0).with_sigverify(False).with_blockhash_check(False)
        self.clock = ChainClock(self.svm, seed=seed, unix_timestamp=unix_timestamp)
        self.history = History()
        self.programs: dict[Pubkey, ModelledProgram] = {}
        self.transaction_count = 0
        self._faucet = Keypair.from_seed(hashlib.sha256(seed + b"faucet").digest())
        fee_account = Keypair.from_seed(hashlib.sha256(seed + b"runtime-fees").digest()).pubkey()
        services = ChainServices(self.clock.model_clock, self.clock.slot_hash, self.minimum_balance)
        self._executor = SegmentedExecutor(self.svm, self.programs, services, fee_account)

    # ---- programs and accounts -----------------------------------------------------------------------------

    def register(self, program: ModelledProgram, genesis: Genesis | None = None) -> None:
        """Model `program` from now on. Its id gets an executable placeholder account (owned by the native
        loader, so LiteSVM refuses to run it natively) so that it exists on chain like a deployed program."""
        self.programs[program.program_id] = program
        self.svm.set_account(
            program.program_id, Account(self.minimum_balance(0), b"", NATIVE_LOADER_ID, executable=True)
        )
        for key, state in (genesis.accounts if genesis else {}).items():
            self.set_account(
                key,
                Account(state.lamports, bytes(state.data), state.owner, state.executable, state.rent_epoch),
            )

    def get_account(self, key: Pubkey) -> Account | None:
        account = self.svm.get_account(key)
        return account if account is not None and account.lamports > 0 else None

    def set_account(self, key: Pubkey, account: Account) -> None:
        """Write an account directly (test and genesis setup; no transaction, no history)."""
        self.svm.set_account(key, account)

    def get_balance(self, key: Pubkey) -> int:
        return self.svm.get_balance(key) or 0

    def program_accounts(self, owner: Pubkey) -> list[tuple[Pubkey, Account]]:
        # LiteSVM (solders 0.29) indexes accounts by owner itself, so no separate "ever written" set is kept.
        return [
            (key, account) for key, account in self.svm.get_program_accounts(owner) if account.lamports > 0
        ]

    def minimum_balance(self, data_len: int) -> int:
        return self.svm.minimum_balance_for_rent_exemption(data_len)

    # ---- clock ---------------------------------------------------------------------------------------------

    def latest_blockhash(self) -> Hash:
        return self.clock.latest_blockhash()

    def advance_slots(self, slots: int) -> None:
        self.clock.advance_slots(slots)

    def advance_time(self, seconds: int) -> None:
        self.clock.advance_time(seconds)

    def set_time(self, unix_timestamp: int) -> None:
        self.clock.warp(unix_timestamp=unix_timestamp)

    def warp(self, *, slot: int | None = None, unix_timestamp: int | None = None) -> None:
        self.clock.warp(slot=slot, unix_timestamp=unix_timestamp)

    def slot_hash(self, slot: int) -> bytes | None:
        return self.clock.slot_hash(slot)

    def follow_wall_clock(self, enabled: bool = True) -> None:
        self.clock.follow_wall_clock(enabled, time.monotonic())

    def sync_wall_clock(self) -> None:
        self.clock.sync_wall_clock(time.monotonic())

    # ---- transactions --------------------------------------------------------------------------------------

    def send_transaction(self, tx: VersionedTransaction, *, preflight: bool = True) -> TransactionRecord:
        """Process and record `tx`. With `preflight` a failing transaction is undone entirely (fee included)
        and raised as PreflightFailed, like an RPC node refusing to forward it; without, it lands as failed.
        Raises InvalidTransaction, SignatureVerificationFailed or TransactionRejected when it cannot land."""
        execution = self._execute(tx, verify_signatures=True, check_blockhash=True, check_duplicate=True)
        if execution.result.err is not None and preflight:
            self._restore(execution)
            raise PreflightFailed(execution)
        record = self._record(execution)
        self.clock.tick()
        return record

    def simulate_transaction(
        self,
        tx: VersionedTransaction,
        *,
        verify_signatures: bool = False,
        replace_blockhash: bool = False,
        addresses: list[Pubkey] | None = None,
    ) -> Simulation:
        """Run `tx` and undo everything. Raises like `send_transaction` when it could not even run."""
        replacement = self.latest_blockhash() if replace_blockhash else None
        execution = self._execute(
            tx,
            verify_signatures=verify_signatures,
            check_blockhash=not replace_blockhash,
            check_duplicate=False,
        )
        accounts = [self.get_account(key) for key in addresses or []]
        self._restore(execution)
        return Simulation(execution, accounts, replacement)

    def airdrop(self, recipient: Pubkey, lamports: int) -> TransactionRecord:
        """A real signed transfer from the chain's faucet, so the airdrop shows up in history like any other
        transaction (and fails like one, e.g. below the rent-exempt minimum for a new account)."""
        faucet = self._faucet.pubkey()
        if self.get_balance(faucet) < max(_FAUCET_FLOOR, lamports * 2):
            self.svm.set_account(faucet, Account(_FAUCET_TOP_UP + lamports * 2, b"", SYSTEM_PROGRAM_ID))
        ix = transfer(TransferParams(from_pubkey=faucet, to_pubkey=recipient, lamports=lamports))
        message = Message.new_with_blockhash([ix], faucet, self.latest_blockhash())
        return self.send_transaction(VersionedTransaction(message, [self._faucet]))

    def fee_for_message(self, message: Message | MessageV0) -> int:
        budget = compute_budget_of(list(message.account_keys), list(message.instructions))
        return transaction_fee(message.header.num_required_signatures, budget)

    # ---- internals -----------------------------------------------------------------------------------------

    def _execute(
        self,
        tx: VersionedTransaction,
        *,
        verify_signatures: bool,
        check_blockhash: bool,
        check_duplicate: bool,
    ) -> Execution:
        size = len(bytes(tx))
        if size > PACKET_DATA_SIZE:
            # The RPC refuses these before decoding (rpc_methods); this catches direct in-process senders.
            raise InvalidTransaction(f"transaction too large: {size} bytes (max: {PACKET_DATA_SIZE} bytes)")
        try:
            tx.sanitize()
        except Exception as exc:  # solders raises its own sanitize error types
            raise InvalidTransaction(str(exc)) from exc
        if verify_signatures and not all(tx.verify_with_results()):
            raise SignatureVerificationFailed
        message = tx.message
        if not isinstance(message, Message | MessageV0):
            raise InvalidTransaction("unsupported transaction version")
        try:
            accounts = resolve_message_accounts(message, self.get_account)
        except TransactionFailure as failure:
            raise TransactionRejected(failure.err) from failure
        if check_blockhash and not self.clock.is_blockhash_valid(message.recent_blockhash):
            raise TransactionRejected("BlockhashNotFound")
        if check_duplicate and tx.signatures[0] in self.history:
            raise TransactionRejected("AlreadyProcessed")
        pre = [self.get_account(key) for key in accounts.keys]
        instructions = list(message.instructions)
        budget = compute_budget_of(list(message.account_keys), instructions)
        calls_model = any(accounts.keys[ix.program_id_index] in self.programs for ix in instructions)
        if calls_model:
            fee = transaction_fee(len(tx.signatures), budget)
            result = self._run_modelled(accounts, pre, fee, instructions, budget.unit_limit)
        else:
            fee, result = self._run_native(tx, accounts, pre)
        post = [self.get_account(key) for key in accounts.keys]
        return Execution(tx, accounts, pre, post, fee, result)

    def _run_native(
        self, tx: VersionedTransaction, accounts: MessageAccounts, pre: list[Account | None]
    ) -> tuple[int, ExecutionResult]:
        outcome = self.svm.send_transaction(tx)
        if isinstance(outcome, FailedTransactionMetadata):
            payer_after = self.get_balance(accounts.keys[0])
            if payer_after >= (pre[0].lamports if pre[0] else 0):
                # No fee taken: LiteSVM refused it before execution (fee payer missing or unable to pay).
                raise TransactionRejected(litesvm_error(outcome))
            meta = outcome.meta()
            err: ErrJson | None = litesvm_error(outcome)
        else:
            meta, err = outcome, None
        result = ExecutionResult(err=err, logs=list(meta.logs()), compute_units=meta.compute_units_consumed())
        key_map = list(range(len(accounts.keys)))
        collect_inner_instructions(meta, 0, key_map, result)
        return meta.fee(), result

    def _run_modelled(
        self,
        accounts: MessageAccounts,
        pre: list[Account | None],
        fee: int,
        instructions: list[CompiledInstruction],
        unit_limit: int,
    ) -> ExecutionResult:
        self._charge_fee(accounts.keys[0], pre[0], fee)
        result = self._executor.run(accounts, instructions, unit_limit)
        if result.err is None:
            result.err = self._rent_state_error(accounts, pre)
        if result.err is not None:
            for key, account in zip(accounts.keys, pre, strict=True):
                self.svm.set_account(key, account if account is not None else _closed())
            self._charge_fee(accounts.keys[0], pre[0], fee)
        return result

    def _charge_fee(self, payer: Pubkey, account: Account | None, fee: int) -> None:
        """agave's fee payer rules: it must exist, be a plain System account, afford the fee, and not be left
        below the rent-exempt minimum unless emptied."""
        if account is None:
            raise TransactionRejected("AccountNotFound")
        if account.owner != SYSTEM_PROGRAM_ID or len(account.data) > 0:
            raise TransactionRejected("InvalidAccountForFee")
        if account.lamports < fee:
            raise TransactionRejected("InsufficientFundsForFee")
        remaining = account.lamports - fee
        if 0 < remaining < self.minimum_balance(0) <= account.lamports:
            raise TransactionRejected({"InsufficientFundsForRent": {"account_index": 0}})
        self.svm.set_account(
            payer, Account(remaining, b"", SYSTEM_PROGRAM_ID, account.executable, account.rent_epoch)
        )

    def _rent_state_error(self, accounts: MessageAccounts, pre: list[Account | None]) -> ErrJson | None:
        """An account may not end a transaction holding lamports below its rent-exempt minimum, unless it was
        already in that state with the same size and did not gain lamports (agave's rent-state transition)."""
        for index, key in enumerate(accounts.keys):
            if not accounts.is_writable[index]:
                continue
            after = self.get_account(key)
            if after is None or after.lamports >= self.minimum_balance(len(after.data)):
                continue
            before = pre[index]
            was_rent_paying = before is not None and before.lamports < self.minimum_balance(len(before.data))
            if not (
                was_rent_paying
                and before is not None
                and len(before.data) == len(after.data)
                and after.lamports <= before.lamports
            ):
                return {"InsufficientFundsForRent": {"account_index": index}}
        return None

    def _restore(self, execution: Execution) -> None:
        for key, account in zip(execution.message.keys, execution.pre, strict=True):
            self.svm.set_account(key, account if account is not None else _closed())

    def _record(self, execution: Execution) -> TransactionRecord:
        keys = execution.message.keys
        tx = execution.transaction
        record = TransactionRecord(
            signature=tx.signatures[0],
            transaction=tx,
            slot=self.clock.slot,
            block_time=self.clock.unix_timestamp,
            err=execution.result.err,
            fee=execution.fee,
            logs=execution.result.logs,
            account_keys=keys,
            account_writable=execution.message.is_writable,
            pre_balances=[a.lamports if a else 0 for a in execution.pre],
            post_balances=[a.lamports if a else 0 for a in execution.post],
            pre_token_balances=token_balances(keys, execution.pre, self.get_account),
            post_token_balances=token_balances(keys, execution.post, self.get_account),
            inner_instructions=execution.result.inner_instructions,
            loaded_writable=execution.message.loaded_writable,
            loaded_readonly=execution.message.loaded_readonly,
            compute_units_consumed=execution.result.compute_units,
            is_versioned=isinstance(tx.message, MessageV0),
        )
        self.history.add(record)
        self.transaction_count += 1
        return record


def _closed() -> Account:
    return Account(0, b"", SYSTEM_PROGRAM_ID)
