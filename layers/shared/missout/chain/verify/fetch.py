"""Getting the reported transaction: the signature's format (checked before any RPC), the fetch itself, and
the shape checks that come before any reading of its contents (version, metadata, identity).

`TransactionFetcher` is the seam to the network: `RpcSession` satisfies it in production (it asks for
base64 and `maxSupportedTransactionVersion=0`, at the session's commitment, which is `finalized` by
default); tests pass a thin adapter over an `AsyncClient` bound to the local chain.
"""

from __future__ import annotations

import base64
import binascii
import json
from dataclasses import dataclass
from typing import TYPE_CHECKING, Protocol

from solders.message import Message, MessageV0
from solders.rpc.responses import GetTransactionResp
from solders.signature import Signature
from solders.transaction import Legacy, VersionedTransaction
from solders.transaction_status import EncodedTransactionWithStatusMeta, UiTransactionStatusMeta

from missout.chain.base58 import b58decode
from missout.chain.verify.reasons import RejectReason, TransactionNotFound, VerificationFailed

SIGNATURE_SIZE = 64
# 64 bytes are at most 88 base58 characters; refusing longer input first keeps hostile strings cheap.
MAX_SIGNATURE_CHARS = 88


class TransactionFetcher(Protocol):
    async def get_transaction(self, signature: Signature) -> GetTransactionResp:
        """The transaction at `finalized`, base64-encoded, fetched with maxSupportedTransactionVersion=0."""
        ...


if TYPE_CHECKING:
    from missout.chain.rpc import RpcSession

    # Static proof that production's session is a fetcher (mypy fails here if the two drift apart).
    _SESSION_IS_A_FETCHER: type[TransactionFetcher] = RpcSession


@dataclass(frozen=True, slots=True)
class FetchedTransaction:
    """A finalized transaction whose version, metadata and identity were checked; contents not yet read."""

    signature: Signature
    slot: int
    block_time: int | None
    message: Message | MessageV0
    meta: UiTransactionStatusMeta


def parse_signature(text: object) -> Signature:
    """A transaction signature as a client reports it: base58 of exactly 64 bytes. Anything else, a
    non-string included (a JSON null reaching here), is a typed rejection."""
    if not isinstance(text, str):
        raise VerificationFailed(RejectReason.MALFORMED_SIGNATURE, f"not a string: {type(text).__name__}")
    if not text or len(text) > MAX_SIGNATURE_CHARS:
        raise VerificationFailed(RejectReason.MALFORMED_SIGNATURE, f"{len(text)} characters")
    try:
        raw = b58decode(text)
    except ValueError as exc:
        raise VerificationFailed(RejectReason.MALFORMED_SIGNATURE, str(exc)) from None
    if len(raw) != SIGNATURE_SIZE:
        raise VerificationFailed(RejectReason.MALFORMED_SIGNATURE, f"decodes to {len(raw)} bytes, not 64")
    return Signature.from_bytes(raw)


async def fetch_transaction(fetcher: TransactionFetcher, signature: Signature) -> FetchedTransaction:
    """Raises `TransactionNotFound` (retryable) when the node has no finalized transaction for it."""
    response = await fetcher.get_transaction(signature)
    confirmed = response.value
    if confirmed is None:
        raise TransactionNotFound(f"{signature} is not finalized (or does not exist)")
    envelope = confirmed.transaction
    version = envelope.version
    # None only when the request omitted maxSupportedTransactionVersion (then it is legacy).
    if version is not None and not (isinstance(version, Legacy) or version == 0):
        raise VerificationFailed(RejectReason.UNSUPPORTED_VERSION, f"transaction version {version}")
    transaction = _signed_transaction(envelope)
    message = transaction.message
    if not isinstance(message, Message | MessageV0):
        raise VerificationFailed(RejectReason.UNSUPPORTED_VERSION, f"message type {type(message).__name__}")
    if envelope.meta is None:
        raise VerificationFailed(RejectReason.MISSING_METADATA, "the node returned no status metadata")
    if not transaction.signatures or transaction.signatures[0] != signature:
        # The transaction id is its first signature; anything else is not the transaction asked for.
        raise VerificationFailed(
            RejectReason.SIGNATURE_MISMATCH, f"node returned another transaction for {signature}"
        )
    return FetchedTransaction(signature, confirmed.slot, confirmed.block_time, message, envelope.meta)


def _signed_transaction(envelope: EncodedTransactionWithStatusMeta) -> VersionedTransaction:
    """The exact signed bytes the node sent, decoded here. (solders' own `envelope.transaction` decodes
    lazily and panics on bytes that do not deserialize: a `PanicException`, which is not even an
    `Exception`, would escape every caller.) Only a base64/base58 answer gives those bytes; JSON
    encodings cannot be trusted as such."""
    encoded = json.loads(envelope.to_json()).get("transaction")
    if isinstance(encoded, str):  # the legacy answer: base58 without an encoding tag
        encoded = [encoded, "base58"]
    if not (isinstance(encoded, list) and len(encoded) == 2 and all(isinstance(x, str) for x in encoded)):
        raise VerificationFailed(RejectReason.UNSUPPORTED_VERSION, "transaction not delivered as bytes")
    text, encoding = encoded
    try:
        if encoding == "base64":
            raw = base64.b64decode(text, validate=True)
        elif encoding == "base58":
            raw = b58decode(text)
        else:
            raise VerificationFailed(RejectReason.UNSUPPORTED_VERSION, f"transaction encoding {encoding!r}")
        return VersionedTransaction.from_bytes(raw)
    except (ValueError, binascii.Error) as exc:
        raise VerificationFailed(RejectReason.MALFORMED_TRANSACTION, f"transaction bytes: {exc}") from None
