"""Every transaction the chain committed, for getTransaction, getSignatureStatuses and
getSignaturesForAddress. Kept in memory, like the rest of the chain's state."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from solders.pubkey import Pubkey
from solders.signature import Signature
from solders.transaction import VersionedTransaction

from localnet.tx_errors import ErrJson


@dataclass(frozen=True)
class CompiledInner:
    """One CPI, with accounts as indexes into the transaction's account keys (as `meta.innerInstructions`)."""

    program_id_index: int
    accounts: list[int]
    data: bytes
    stack_height: int


@dataclass
class TransactionRecord:
    signature: Signature
    transaction: VersionedTransaction
    slot: int
    block_time: int
    err: ErrJson | None
    fee: int
    logs: list[str]
    account_keys: list[Pubkey]
    account_writable: list[bool]
    pre_balances: list[int]
    post_balances: list[int]
    pre_token_balances: list[dict[str, Any]]
    post_token_balances: list[dict[str, Any]]
    inner_instructions: dict[int, list[CompiledInner]]
    loaded_writable: list[Pubkey]
    loaded_readonly: list[Pubkey]
    compute_units_consumed: int
    is_versioned: bool = field(default=False)


class History:
    def __init__(self) -> None:
        self._by_signature: dict[Signature, TransactionRecord] = {}
        self._by_address: dict[Pubkey, list[Signature]] = {}

    def __len__(self) -> int:
        return len(self._by_signature)

    def __contains__(self, signature: Signature) -> bool:
        return signature in self._by_signature

    def add(self, record: TransactionRecord) -> None:
        self._by_signature[record.signature] = record
        for key in dict.fromkeys(record.account_keys):
            self._by_address.setdefault(key, []).append(record.signature)

    def records_since(self, slot: int) -> list[TransactionRecord]:
        """Records that landed at `slot` or later, oldest first (scans back from the newest)."""
        recent: list[TransactionRecord] = []
        for record in reversed(self._by_signature.values()):
            if record.slot < slot:
                break
            recent.append(record)
        return recent[::-1]

    def get(self, signature: Signature) -> TransactionRecord | None:
        return self._by_signature.get(signature)

    def signatures_for_address(
        self, address: Pubkey, *, limit: int, before: Signature | None = None, until: Signature | None = None
    ) -> list[TransactionRecord]:
        """Newest first. `before` and `until` are exclusive bounds, found by the slot they landed in (every
        transaction here has a slot of its own). An unknown `before` gives an empty page, as agave does."""
        newest_first = reversed(self._by_address.get(address, []))
        before_slot = self._slot_of(before)
        until_slot = self._slot_of(until)
        if before is not None and before_slot is None:
            return []
        page: list[TransactionRecord] = []
        for signature in newest_first:
            record = self._by_signature[signature]
            if before_slot is not None and record.slot >= before_slot:
                continue
            if until_slot is not None and record.slot <= until_slot:
                break
            page.append(record)
            if len(page) >= limit:
                break
        return page

    def _slot_of(self, signature: Signature | None) -> int | None:
        record = self._by_signature.get(signature) if signature is not None else None
        return record.slot if record is not None else None
