"""`InvokeContext` for one top-level instruction of a modelled program.

Reads come from the chain as it stands (earlier instructions of the same transaction already applied) and
writes are staged here. When the program returns, `finish` applies the runtime's post-instruction checks
(writes only to writable accounts, lamports conserved) and hands back the changes; the caller applies them.
A program only sees the accounts its instruction lists, as on a real cluster, so a model that reads or writes
anything else fails with `MissingAccount` instead of silently working locally and failing on mainnet.
"""

from __future__ import annotations

import base64
from collections.abc import Callable
from dataclasses import replace

from solders.account import Account
from solders.pubkey import Pubkey

from localnet.history import CompiledInner
from localnet.message_accounts import MessageAccounts
from localnet.model_api import AccountRef, AccountState, Clock, InnerInstruction, ProgramError

SYSTEM_PROGRAM_ID = Pubkey.default()


def to_state(account: Account | None) -> AccountState | None:
    if account is None or account.lamports == 0:
        return None
    return AccountState(
        lamports=account.lamports,
        data=bytearray(account.data),
        owner=account.owner,
        executable=account.executable,
        rent_epoch=account.rent_epoch,
    )


def to_account(state: AccountState | None) -> Account:
    """A closed account is written as 0 lamports, which LiteSVM treats as absent."""
    if state is None:
        return Account(lamports=0, data=b"", owner=SYSTEM_PROGRAM_ID)
    return Account(
        lamports=state.lamports,
        data=bytes(state.data),
        owner=state.owner,
        executable=state.executable,
        rent_epoch=state.rent_epoch,
    )


def _copy(state: AccountState | None) -> AccountState | None:
    return None if state is None else replace(state, data=bytearray(state.data))


def _same(a: AccountState | None, b: AccountState | None) -> bool:
    def fields(s: AccountState | None) -> tuple[int, bytes, Pubkey, bool]:
        return (
            (0, b"", SYSTEM_PROGRAM_ID, False)
            if s is None
            else (s.lamports, bytes(s.data), s.owner, s.executable)
        )

    return fields(a) == fields(b)


class ModelInvokeContext:
    def __init__(
        self,
        *,
        program_id: Pubkey,
        accounts: list[AccountRef],
        data: bytes,
        clock: Clock,
        message: MessageAccounts,
        load: Callable[[Pubkey], Account | None],
        slot_hash: Callable[[int], bytes | None],
        minimum_balance: Callable[[int], int],
        logs: list[str],
    ) -> None:
        self.program_id = program_id
        self.accounts = accounts
        self.data = data
        self.clock = clock
        self.inner_instructions: list[CompiledInner] = []
        self._message = message
        self._load = load
        self._slot_hash = slot_hash
        self._minimum_balance = minimum_balance
        self._logs = logs
        self._visible = {ref.pubkey for ref in accounts} | {program_id}
        self._originals: dict[Pubkey, AccountState | None] = {}
        self._staged: dict[Pubkey, AccountState | None] = {}

    def get(self, key: Pubkey) -> AccountState | None:
        self._require_visible(key)
        if key in self._staged:
            return _copy(self._staged[key])
        return _copy(self._original(key))

    def put(self, key: Pubkey, state: AccountState | None) -> None:
        self._require_visible(key)
        self._original(key)
        self._staged[key] = _copy(state)

    def is_signer(self, key: Pubkey) -> bool:
        index = self._message.index_of(key)
        return index is not None and self._message.is_signer[index]

    def log(self, message: str) -> None:
        self._logs.append(f"Program log: {message}")

    def emit_event(self, data: bytes) -> None:
        self._logs.append(f"Program data: {base64.b64encode(data).decode()}")

    def record_cpi(self, inner: InnerInstruction, logs: list[str] | None = None) -> None:
        # A CPI can only pass accounts the calling instruction was given; the key list of a transaction can
        # never grow during execution.
        for key in (inner.program_id, *inner.accounts):
            if key not in self._visible:
                raise ProgramError(
                    builtin="MissingAccount", log=f"CPI uses {key}, which the instruction lacks"
                )
        index_of = self._message.keys.index
        self.inner_instructions.append(
            CompiledInner(
                program_id_index=index_of(inner.program_id),
                accounts=[index_of(key) for key in inner.accounts],
                data=inner.data,
                stack_height=inner.stack_height,
            )
        )
        self._logs.append(f"Program {inner.program_id} invoke [{inner.stack_height}]")
        self._logs.extend(logs or [])
        self._logs.append(f"Program {inner.program_id} success")

    def slot_hash(self, slot: int) -> bytes | None:
        return self._slot_hash(slot)

    def minimum_balance(self, data_len: int) -> int:
        return self._minimum_balance(data_len)

    def finish(self) -> dict[Pubkey, AccountState | None]:
        """The accounts this instruction changed, after the runtime's checks (raises ProgramError)."""
        changed = {
            key: state for key, state in self._staged.items() if not _same(self._originals[key], state)
        }
        for key, state in changed.items():
            if self._message.is_writable[self._message.keys.index(key)]:
                continue
            before = self._originals[key]
            lamports_moved = (before.lamports if before else 0) != (state.lamports if state else 0)
            raise ProgramError(
                builtin="ReadonlyLamportChange" if lamports_moved else "ReadonlyDataModified",
                log=f"{key} is not writable in this transaction",
            )
        before_total = sum(s.lamports for s in (self._originals[key] for key in changed) if s is not None)
        after_total = sum(s.lamports for s in changed.values() if s is not None)
        if before_total != after_total:
            raise ProgramError(
                builtin="UnbalancedInstruction", log=f"lamports before {before_total}, after {after_total}"
            )
        return changed

    def _original(self, key: Pubkey) -> AccountState | None:
        if key not in self._originals:
            self._originals[key] = to_state(self._load(key))
        return self._originals[key]

    def _require_visible(self, key: Pubkey) -> None:
        if key not in self._visible:
            raise ProgramError(builtin="MissingAccount", log=f"{key} is not in the instruction's accounts")
