"""A fetched transaction read into what verification needs: the full account key list (static keys, then
lookup-table keys), who signed, every instruction that ran (top level and CPI) with its keys resolved, and
the token balances before and after, keyed by token account.

Compiled instructions and token balances refer to accounts by index into static + `loadedAddresses`
(writable, then readonly); for a v0 message the node reports the looked-up addresses in `meta`, and the
counts must match what the message asked the tables for, or the indexes would point at the wrong keys.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass

from solders.message import Message, MessageV0
from solders.pubkey import Pubkey
from solders.transaction_status import (
    UiCompiledInstruction,
    UiInnerInstructions,
    UiLoadedAddresses,
    UiTransactionTokenBalance,
)

from missout.chain.base58 import b58decode
from missout.chain.verify.fetch import FetchedTransaction
from missout.chain.verify.reasons import RejectReason, VerificationFailed


@dataclass(frozen=True, slots=True)
class InvokedInstruction:
    """One instruction that ran, with its program and accounts as keys."""

    program_id: Pubkey
    accounts: tuple[Pubkey, ...]
    data: bytes
    top_level_index: int  # the top-level instruction it is, or that made the CPI
    inner_index: int | None = None  # position among that instruction's CPIs; None at top level

    @property
    def location(self) -> str:
        if self.inner_index is None:
            return f"instruction {self.top_level_index}"
        return f"inner instruction {self.top_level_index}.{self.inner_index}"


@dataclass(frozen=True, slots=True)
class TokenBalance:
    mint: Pubkey
    owner: Pubkey | None  # nodes before v1.10 omitted it
    amount: int  # base units


@dataclass(frozen=True, slots=True)
class TransactionView:
    account_keys: tuple[Pubkey, ...]
    signers: frozenset[Pubkey]
    instructions: tuple[InvokedInstruction, ...]  # in execution order: each top-level one, then its CPIs
    pre_token_balances: Mapping[Pubkey, TokenBalance]
    post_token_balances: Mapping[Pubkey, TokenBalance]
    # False when the node sent null instead of a list (metadata not recorded): an empty mapping or CPI
    # list would otherwise read as "nothing moved".
    token_balances_reported: bool = True
    inner_instructions_reported: bool = True


def view_transaction(fetched: FetchedTransaction) -> TransactionView:
    message, meta = fetched.message, fetched.meta
    keys = resolve_account_keys(message, meta.loaded_addresses)
    signers = frozenset(message.account_keys[: message.header.num_required_signatures])
    return TransactionView(
        account_keys=keys,
        signers=signers,
        instructions=_instructions(message, meta.inner_instructions or [], keys),
        pre_token_balances=_token_balances(meta.pre_token_balances or [], keys),
        post_token_balances=_token_balances(meta.post_token_balances or [], keys),
        token_balances_reported=meta.pre_token_balances is not None and meta.post_token_balances is not None,
        inner_instructions_reported=meta.inner_instructions is not None,
    )


def resolve_account_keys(
    message: Message | MessageV0, loaded: UiLoadedAddresses | None
) -> tuple[Pubkey, ...]:
    """Static keys + the addresses the message's lookup tables loaded (writable, then readonly)."""
    static = tuple(message.account_keys)
    lookups = message.address_table_lookups if isinstance(message, MessageV0) else []
    wanted_writable = sum(len(bytes(lookup.writable_indexes)) for lookup in lookups)
    wanted_readonly = sum(len(bytes(lookup.readonly_indexes)) for lookup in lookups)
    writable = list(loaded.writable) if loaded is not None else []
    readonly = list(loaded.readonly) if loaded is not None else []
    if (len(writable), len(readonly)) != (wanted_writable, wanted_readonly):
        raise VerificationFailed(
            RejectReason.UNRESOLVABLE_LOOKUP_KEYS,
            f"the message loads {wanted_writable} writable + {wanted_readonly} readonly addresses from "
            f"lookup tables, the node reported {len(writable)} + {len(readonly)}",
        )
    return static + tuple(writable) + tuple(readonly)


def _instructions(
    message: Message | MessageV0, inner_groups: Sequence[UiInnerInstructions], keys: Sequence[Pubkey]
) -> tuple[InvokedInstruction, ...]:
    inner_by_parent: dict[int, list[InvokedInstruction]] = {}
    for group in inner_groups:
        for position, inner in enumerate(group.instructions):
            if not isinstance(inner, UiCompiledInstruction):
                raise VerificationFailed(
                    RejectReason.MALFORMED_TRANSACTION, "inner instructions were not delivered compiled"
                )
            inner_by_parent.setdefault(group.index, []).append(
                _invoked(
                    keys,
                    inner.program_id_index,
                    bytes(inner.accounts),
                    _b58(inner.data),
                    group.index,
                    position,
                )
            )
    invoked: list[InvokedInstruction] = []
    for index, compiled in enumerate(message.instructions):
        invoked.append(
            _invoked(
                keys, compiled.program_id_index, bytes(compiled.accounts), bytes(compiled.data), index, None
            )
        )
        invoked.extend(inner_by_parent.pop(index, []))
    if inner_by_parent:
        raise VerificationFailed(
            RejectReason.MALFORMED_TRANSACTION,
            f"CPIs listed for missing instructions {sorted(inner_by_parent)}",
        )
    return tuple(invoked)


def _invoked(
    keys: Sequence[Pubkey],
    program_index: int,
    account_indexes: bytes,
    data: bytes,
    top_level_index: int,
    inner_index: int | None,
) -> InvokedInstruction:
    return InvokedInstruction(
        program_id=_key_at(keys, program_index),
        accounts=tuple(_key_at(keys, i) for i in account_indexes),
        data=data,
        top_level_index=top_level_index,
        inner_index=inner_index,
    )


def _token_balances(
    balances: Sequence[UiTransactionTokenBalance], keys: Sequence[Pubkey]
) -> dict[Pubkey, TokenBalance]:
    by_account: dict[Pubkey, TokenBalance] = {}
    for balance in balances:
        try:
            amount = int(balance.ui_token_amount.amount)
        except ValueError:
            raise VerificationFailed(
                RejectReason.MALFORMED_TRANSACTION, f"token amount {balance.ui_token_amount.amount!r}"
            ) from None
        by_account[_key_at(keys, balance.account_index)] = TokenBalance(balance.mint, balance.owner, amount)
    return by_account


def _key_at(keys: Sequence[Pubkey], index: int) -> Pubkey:
    if not 0 <= index < len(keys):
        raise VerificationFailed(
            RejectReason.MALFORMED_TRANSACTION, f"account index {index} outside {len(keys)} keys"
        )
    return keys[index]


def _b58(text: str) -> bytes:
    try:
        return b58decode(text)
    except ValueError as exc:
        raise VerificationFailed(
            RejectReason.MALFORMED_TRANSACTION, f"inner instruction data: {exc}"
        ) from None
