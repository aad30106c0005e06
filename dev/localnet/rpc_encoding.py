"""Chain objects as the JSON values RPC nodes return (the shapes solders' response parsers accept)."""

from __future__ import annotations

import base64
from typing import Any

from solders.account import Account
from solders.message import Message, MessageV0
from solders.pubkey import Pubkey

from localnet.base58 import b58encode
from localnet.history import CompiledInner, TransactionRecord

Json = dict[str, Any]


class RpcError(Exception):
    """A JSON-RPC error answer. Codes and messages follow agave's, so clients classify them correctly."""

    def __init__(self, code: int, message: str, data: Any = None) -> None:
        super().__init__(message)
        self.code = code
        self.message = message
        self.data = data

    def to_json(self) -> Json:
        error: Json = {"code": self.code, "message": self.message}
        if self.data is not None:
            error["data"] = self.data
        return error


def invalid_params(message: str) -> RpcError:
    return RpcError(-32602, message)


def encode_account_data(data: bytes, encoding: str, data_slice: Json | None) -> list[str]:
    if data_slice is not None:
        offset, length = int(data_slice.get("offset", 0)), int(data_slice.get("length", len(data)))
        data = data[offset : offset + length]
    if encoding == "base58":
        if len(data) > 128:
            raise invalid_params(
                "Encoded binary (base 58) data should be less than 128 bytes, please use Base64 encoding."
            )
        return [b58encode(data), "base58"]
    # Real nodes fall back to base64 for jsonParsed when they have no parser for the owner; here none exist.
    return [base64.b64encode(data).decode(), "base64"]


def encode_account(account: Account, encoding: str = "base64", data_slice: Json | None = None) -> Json:
    return {
        "data": encode_account_data(bytes(account.data), encoding, data_slice),
        "executable": account.executable,
        "lamports": account.lamports,
        "owner": str(account.owner),
        "rentEpoch": account.rent_epoch,
        "space": len(account.data),
    }


def _encode_inner(inner: CompiledInner) -> Json:
    return {
        "programIdIndex": inner.program_id_index,
        "accounts": inner.accounts,
        "data": b58encode(inner.data),
        "stackHeight": inner.stack_height,
    }


def encode_message(message: Message | MessageV0) -> Json:
    header = message.header
    encoded: Json = {
        "accountKeys": [str(key) for key in message.account_keys],
        "header": {
            "numRequiredSignatures": header.num_required_signatures,
            "numReadonlySignedAccounts": header.num_readonly_signed_accounts,
            "numReadonlyUnsignedAccounts": header.num_readonly_unsigned_accounts,
        },
        "recentBlockhash": str(message.recent_blockhash),
        "instructions": [
            {
                "programIdIndex": ix.program_id_index,
                "accounts": list(bytes(ix.accounts)),
                "data": b58encode(bytes(ix.data)),
                "stackHeight": None,
            }
            for ix in message.instructions
        ],
    }
    if isinstance(message, MessageV0):
        encoded["addressTableLookups"] = [
            {
                "accountKey": str(lookup.account_key),
                "writableIndexes": list(bytes(lookup.writable_indexes)),
                "readonlyIndexes": list(bytes(lookup.readonly_indexes)),
            }
            for lookup in message.address_table_lookups
        ]
    return encoded


def encode_meta(record: TransactionRecord) -> Json:
    return {
        "err": record.err,
        "status": {"Ok": None} if record.err is None else {"Err": record.err},
        "fee": record.fee,
        "preBalances": record.pre_balances,
        "postBalances": record.post_balances,
        "innerInstructions": [
            {"index": index, "instructions": [_encode_inner(inner) for inner in inners]}
            for index, inners in sorted(record.inner_instructions.items())
        ],
        "logMessages": record.logs,
        "preTokenBalances": record.pre_token_balances,
        "postTokenBalances": record.post_token_balances,
        "rewards": [],
        "loadedAddresses": {
            "writable": [str(key) for key in record.loaded_writable],
            "readonly": [str(key) for key in record.loaded_readonly],
        },
        "computeUnitsConsumed": record.compute_units_consumed,
    }


def encode_transaction(record: TransactionRecord, encoding: str) -> Json:
    tx = record.transaction
    if encoding == "base64":
        transaction: Any = [base64.b64encode(bytes(tx)).decode(), "base64"]
    elif encoding == "base58":
        transaction = [b58encode(bytes(tx)), "base58"]
    else:
        message = tx.message
        assert isinstance(message, Message | MessageV0)  # the runtime records no other version
        transaction = {"signatures": [str(s) for s in tx.signatures], "message": encode_message(message)}
    return {
        "slot": record.slot,
        "blockTime": record.block_time,
        "transaction": transaction,
        "meta": encode_meta(record),
        "version": 0 if record.is_versioned else "legacy",
    }


def encode_status(record: TransactionRecord) -> Json:
    return {
        "slot": record.slot,
        "confirmations": None,
        "err": record.err,
        "status": {"Ok": None} if record.err is None else {"Err": record.err},
        "confirmationStatus": "finalized",
    }


def encode_signature_info(record: TransactionRecord) -> Json:
    return {
        "signature": str(record.signature),
        "slot": record.slot,
        "err": record.err,
        "memo": None,
        "blockTime": record.block_time,
        "confirmationStatus": "finalized",
    }


def encode_keyed_account(key: Pubkey, account: Account, encoding: str, data_slice: Json | None) -> Json:
    return {"pubkey": str(key), "account": encode_account(account, encoding, data_slice)}
