"""The account list of a transaction as the runtime sees it: static keys, then addresses loaded from lookup
tables (writable first, then readonly), each with its signer/writable flag."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from solders.account import Account
from solders.address_lookup_table_account import ID as ADDRESS_LOOKUP_TABLE_PROGRAM_ID
from solders.address_lookup_table_account import AddressLookupTable
from solders.instruction import CompiledInstruction
from solders.message import Message, MessageV0
from solders.pubkey import Pubkey

from localnet.tx_errors import TransactionFailure


@dataclass(frozen=True)
class MessageAccounts:
    keys: list[Pubkey]
    is_signer: list[bool]
    is_writable: list[bool]
    loaded_writable: list[Pubkey]
    loaded_readonly: list[Pubkey]

    def index_of(self, key: Pubkey) -> int | None:
        try:
            return self.keys.index(key)
        except ValueError:
            return None


def resolve_message_accounts(
    message: Message | MessageV0, load_account: Callable[[Pubkey], Account | None]
) -> MessageAccounts:
    """Raises TransactionFailure with the runtime's error when a lookup table is missing or an index is out of
    range (those transactions are rejected before execution, like on a real cluster)."""
    static = list(message.account_keys)
    header = message.header
    signed = header.num_required_signatures
    signed_writable = signed - header.num_readonly_signed_accounts
    unsigned_writable_end = len(static) - header.num_readonly_unsigned_accounts
    writable = [i < signed_writable or signed <= i < unsigned_writable_end for i in range(len(static))]

    loaded_writable: list[Pubkey] = []
    loaded_readonly: list[Pubkey] = []
    if isinstance(message, MessageV0):
        for lookup in message.address_table_lookups:
            addresses = _lookup_table_addresses(lookup.account_key, load_account)
            loaded_writable += _pick(addresses, lookup.writable_indexes)
            loaded_readonly += _pick(addresses, lookup.readonly_indexes)

    keys = static + loaded_writable + loaded_readonly
    is_writable = writable + [True] * len(loaded_writable) + [False] * len(loaded_readonly)
    # The runtime demotes invoked programs to readonly: a program id can never be written by its own call.
    for instruction in message.instructions:
        is_writable[instruction.program_id_index] = False
    is_signer = [i < signed for i in range(len(keys))]
    return MessageAccounts(keys, is_signer, is_writable, loaded_writable, loaded_readonly)


def _lookup_table_addresses(table: Pubkey, load_account: Callable[[Pubkey], Account | None]) -> list[Pubkey]:
    account = load_account(table)
    if account is None:
        raise TransactionFailure("AddressLookupTableNotFound")
    if account.owner != ADDRESS_LOOKUP_TABLE_PROGRAM_ID:
        raise TransactionFailure("InvalidAddressLookupTableOwner")
    try:
        return list(AddressLookupTable.deserialize(bytes(account.data)).addresses)
    except ValueError as exc:
        raise TransactionFailure("InvalidAddressLookupTableData") from exc


def _pick(addresses: list[Pubkey], indexes: bytes) -> list[Pubkey]:
    if any(i >= len(addresses) for i in indexes):
        raise TransactionFailure("InvalidAddressLookupTableIndex")
    return [addresses[i] for i in indexes]


def instruction_program(accounts: MessageAccounts, instruction: CompiledInstruction) -> Pubkey:
    return accounts.keys[instruction.program_id_index]
