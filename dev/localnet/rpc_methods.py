"""The JSON-RPC methods of the local chain, one function each, answering with agave's shapes and errors.

Every commitment is accepted and means the same thing: the chain has one fork and finalizes instantly.
"""

from __future__ import annotations

import base64
import binascii
from collections.abc import Callable
from typing import Any

from solders.hash import Hash
from solders.message import Message, MessageV0, from_bytes_versioned
from solders.pubkey import Pubkey
from solders.signature import Signature
from solders.transaction import VersionedTransaction

from localnet.base58 import b58decode
from localnet.chain_clock import MAX_PROCESSING_AGE
from localnet.fees import compute_budget_of
from localnet.rpc_encoding import (
    Json,
    RpcError,
    encode_account,
    encode_keyed_account,
    encode_signature_info,
    encode_status,
    encode_transaction,
    invalid_params,
)
from localnet.runtime import (
    PACKET_DATA_SIZE,
    Execution,
    InvalidTransaction,
    LocalChain,
    PreflightFailed,
    SignatureVerificationFailed,
    TransactionRejected,
)
from localnet.spl_token import TOKEN_PROGRAMS, unpack_token_account
from localnet.token_balances import is_token_account, mint_decimals, ui_token_amount
from localnet.tx_errors import describe_transaction_error

API_VERSION = "2.1.21"
MAX_SIGNATURES_LIMIT = 1000
MAX_MULTIPLE_ACCOUNTS = 100
MAX_SIGNATURE_STATUSES = 256

Params = list[Any]
Method = Callable[[LocalChain, Params], Any]


# ---- parameter parsing -------------------------------------------------------------------------------------


def _arg(params: Params, index: int) -> Any:
    if len(params) <= index:
        raise invalid_params(f"`params` should have at least {index + 1} argument(s)")
    return params[index]


def _config(params: Params, index: int) -> Json:
    value = params[index] if len(params) > index else None
    if value is None:
        return {}
    if not isinstance(value, dict):
        raise invalid_params(
            f"Invalid params: invalid type: {type(value).__name__}, expected a config object."
        )
    return value


def _pubkey(value: Any) -> Pubkey:
    try:
        return Pubkey.from_string(str(value))
    except ValueError:
        raise invalid_params("Invalid param: Invalid") from None


def _signature(value: Any) -> Signature:
    try:
        return Signature.from_string(str(value))
    except ValueError:
        raise invalid_params("Invalid param: Invalid") from None


def _context(chain: LocalChain, value: Any) -> Json:
    return {"context": {"slot": chain.clock.slot, "apiVersion": API_VERSION}, "value": value}


def _decode_wire(data: Any, encoding: str) -> bytes:
    try:
        if encoding == "base64":
            return base64.b64decode(str(data), validate=True)
        if encoding == "base58":
            return b58decode(str(data))
    except (ValueError, binascii.Error) as exc:
        raise invalid_params(f"invalid {encoding} encoding: {exc}") from None
    raise invalid_params(f"Invalid params: unknown variant `{encoding}`, expected `base58` or `base64`.")


# agave's limits on what sendTransaction and simulateTransaction accept (docs/solana.md §3.5): the encoded
# text first, then the decoded bytes, both before the transaction is even parsed.
_TRANSACTION_TYPE = "solana_transaction::versioned::VersionedTransaction"
_MAX_ENCODED_SIZE = {"base58": 1683, "base64": 1644}


def _transaction(params: Params) -> VersionedTransaction:
    encoding = _config(params, 1).get("encoding", "base58")
    encoded = _arg(params, 0)
    limit = _MAX_ENCODED_SIZE.get(encoding)
    if limit is not None and isinstance(encoded, str) and len(encoded) > limit:
        raise invalid_params(
            f"{encoding} encoded {_TRANSACTION_TYPE} too large: {len(encoded)} bytes"
            f" (max: encoded/raw {limit}/{PACKET_DATA_SIZE})"
        )
    raw = _decode_wire(encoded, encoding)
    if len(raw) > PACKET_DATA_SIZE:
        raise invalid_params(
            f"decoded {_TRANSACTION_TYPE} too large: {len(raw)} bytes (max: {PACKET_DATA_SIZE} bytes)"
        )
    try:
        return VersionedTransaction.from_bytes(raw)
    except ValueError as exc:
        raise invalid_params(f"failed to deserialize {_TRANSACTION_TYPE}: {exc}") from None


def _simulation_result(execution: Execution, accounts: list[Json | None] | None = None) -> Json:
    return {
        "err": execution.result.err,
        "logs": execution.result.logs,
        "accounts": accounts,
        "unitsConsumed": execution.result.compute_units,
        "returnData": None,
        "innerInstructions": None,
        "replacementBlockhash": None,
        "loadedAccountsDataSize": sum(len(a.data) for a in execution.pre if a is not None),
    }


def _rejection_result(err: Any) -> Json:
    return {"err": err, "logs": [], "accounts": None, "unitsConsumed": 0, "returnData": None}


# ---- transactions ------------------------------------------------------------------------------------------


def send_transaction(chain: LocalChain, params: Params) -> str:
    tx = _transaction(params)
    preflight = not _config(params, 1).get("skipPreflight", False)
    try:
        record = chain.send_transaction(tx, preflight=preflight)
    except InvalidTransaction as exc:
        raise invalid_params(f"invalid transaction: {exc}") from None
    except SignatureVerificationFailed:
        raise RpcError(-32003, "Transaction signature verification failure") from None
    except PreflightFailed as failure:
        err = failure.execution.result.err
        message = f"Transaction simulation failed: {describe_transaction_error(err)}"
        raise RpcError(-32002, message, _simulation_result(failure.execution)) from None
    except TransactionRejected as rejected:
        if preflight:
            message = f"Transaction simulation failed: {describe_transaction_error(rejected.err)}"
            raise RpcError(-32002, message, _rejection_result(rejected.err)) from None
        # Without preflight the node forwards it and answers with the signature; it just never lands.
        return str(tx.signatures[0])
    return str(record.signature)


def simulate_transaction(chain: LocalChain, params: Params) -> Json:
    tx = _transaction(params)
    config = _config(params, 1)
    sig_verify = bool(config.get("sigVerify", False))
    replace = bool(config.get("replaceRecentBlockhash", False))
    if sig_verify and replace:
        raise invalid_params("sigVerify may not be used with replaceRecentBlockhash")
    wanted = config.get("accounts") or {}
    addresses = [_pubkey(a) for a in wanted.get("addresses", [])]
    try:
        simulation = chain.simulate_transaction(
            tx, verify_signatures=sig_verify, replace_blockhash=replace, addresses=addresses
        )
    except InvalidTransaction as exc:
        raise invalid_params(f"invalid transaction: {exc}") from None
    except SignatureVerificationFailed:
        raise RpcError(-32003, "Transaction signature verification failure") from None
    except TransactionRejected as rejected:
        return _context(chain, _rejection_result(rejected.err))
    encoding = wanted.get("encoding", "base64")
    accounts = (
        [encode_account(a, encoding) if a is not None else None for a in simulation.accounts]
        if wanted
        else None
    )
    value = _simulation_result(simulation.execution, accounts)
    if simulation.replacement_blockhash is not None:
        value["replacementBlockhash"] = {
            "blockhash": str(simulation.replacement_blockhash),
            "lastValidBlockHeight": chain.clock.last_valid_block_height(),
        }
    return _context(chain, value)


def get_transaction(chain: LocalChain, params: Params) -> Json | None:
    signature = _signature(_arg(params, 0))
    config = params[1] if len(params) > 1 and isinstance(params[1], dict) else {}
    encoding = params[1] if len(params) > 1 and isinstance(params[1], str) else config.get("encoding", "json")
    record = chain.history.get(signature)
    if record is None:
        return None
    max_version = config.get("maxSupportedTransactionVersion")
    if record.is_versioned and max_version is None:
        raise RpcError(
            -32015,
            "Transaction version (0) is not supported by the requesting client. Please try the request again "
            'with the following configuration parameter: "maxSupportedTransactionVersion": 0',
        )
    return encode_transaction(record, encoding)


def get_signature_statuses(chain: LocalChain, params: Params) -> Json:
    signatures = _arg(params, 0)
    if not isinstance(signatures, list) or len(signatures) > MAX_SIGNATURE_STATUSES:
        raise invalid_params(f"Too many inputs provided; max {MAX_SIGNATURE_STATUSES}")
    records = [chain.history.get(_signature(s)) for s in signatures]
    return _context(chain, [encode_status(r) if r is not None else None for r in records])


def get_signatures_for_address(chain: LocalChain, params: Params) -> list[Json]:
    address = _pubkey(_arg(params, 0))
    config = _config(params, 1)
    limit = int(config.get("limit") or MAX_SIGNATURES_LIMIT)
    if not 1 <= limit <= MAX_SIGNATURES_LIMIT:
        raise invalid_params(f"Invalid limit; max {MAX_SIGNATURES_LIMIT}")
    before = _signature(config["before"]) if config.get("before") else None
    until = _signature(config["until"]) if config.get("until") else None
    records = chain.history.signatures_for_address(address, limit=limit, before=before, until=until)
    return [encode_signature_info(r) for r in records]


def request_airdrop(chain: LocalChain, params: Params) -> str:
    recipient, lamports = _pubkey(_arg(params, 0)), int(_arg(params, 1))
    try:
        record = chain.airdrop(recipient, lamports)
    except (PreflightFailed, TransactionRejected) as failure:
        raise RpcError(-32603, f"Internal error: airdrop failed: {failure}") from None
    return str(record.signature)


# ---- blocks, slots, fees -----------------------------------------------------------------------------------


def get_latest_blockhash(chain: LocalChain, params: Params) -> Json:
    value = {
        "blockhash": str(chain.latest_blockhash()),
        "lastValidBlockHeight": chain.clock.last_valid_block_height(),
    }
    return _context(chain, value)


def is_blockhash_valid(chain: LocalChain, params: Params) -> Json:
    try:
        blockhash = Hash.from_string(str(_arg(params, 0)))
    except ValueError:
        raise invalid_params("Invalid param: Invalid") from None
    return _context(chain, chain.clock.is_blockhash_valid(blockhash))


def get_fee_for_message(chain: LocalChain, params: Params) -> Json:
    raw = _decode_wire(_arg(params, 0), "base64")
    try:
        message = from_bytes_versioned(raw)
    except ValueError:
        raise invalid_params("invalid message") from None
    if not isinstance(message, Message | MessageV0):
        raise invalid_params("invalid message: unsupported version")
    fee = chain.fee_for_message(message) if chain.clock.is_blockhash_valid(message.recent_blockhash) else None
    return _context(chain, fee)


def get_recent_prioritization_fees(chain: LocalChain, params: Params) -> list[Json]:
    """Per recent slot, the compute-unit price paid by the transaction that landed there, if it locked one of
    the given accounts as writable (0 otherwise), like agave's prioritization fee cache."""
    addresses = {_pubkey(a) for a in (params[0] if params else []) or []}
    oldest = chain.clock.slot - MAX_PROCESSING_AGE
    fees: list[Json] = []
    for record in chain.history.records_since(oldest):
        writable = {k for k, w in zip(record.account_keys, record.account_writable, strict=True) if w}
        message = record.transaction.message
        price = compute_budget_of(list(message.account_keys), list(message.instructions)).unit_price
        relevant = not addresses or bool(addresses & writable)
        fees.append({"slot": record.slot, "prioritizationFee": price if relevant else 0})
    return fees


def get_slot(chain: LocalChain, params: Params) -> int:
    return chain.clock.slot


def get_block_height(chain: LocalChain, params: Params) -> int:
    return chain.clock.block_height


def get_epoch_info(chain: LocalChain, params: Params) -> Json:
    schedule = chain.svm.get_epoch_schedule()
    epoch, slot_index = schedule.get_epoch_and_slot_index(chain.clock.slot)
    return {
        "absoluteSlot": chain.clock.slot,
        "blockHeight": chain.clock.block_height,
        "epoch": epoch,
        "slotIndex": slot_index,
        "slotsInEpoch": schedule.get_slots_in_epoch(epoch),
        "transactionCount": chain.transaction_count,
    }


def get_minimum_balance_for_rent_exemption(chain: LocalChain, params: Params) -> int:
    return chain.minimum_balance(int(_arg(params, 0)))


def get_health(chain: LocalChain, params: Params) -> str:
    return "ok"


def get_version(chain: LocalChain, params: Params) -> Json:
    return {"solana-core": API_VERSION, "feature-set": 0}


def get_genesis_hash(chain: LocalChain, params: Params) -> str:
    return str(chain.clock.genesis_hash)


# ---- accounts ----------------------------------------------------------------------------------------------


def get_account_info(chain: LocalChain, params: Params) -> Json:
    config = _config(params, 1)
    account = chain.get_account(_pubkey(_arg(params, 0)))
    encoding = config.get("encoding", "base58")
    return _context(
        chain, None if account is None else encode_account(account, encoding, config.get("dataSlice"))
    )


def get_multiple_accounts(chain: LocalChain, params: Params) -> Json:
    keys = _arg(params, 0)
    if not isinstance(keys, list) or len(keys) > MAX_MULTIPLE_ACCOUNTS:
        raise invalid_params(f"Too many inputs provided; max {MAX_MULTIPLE_ACCOUNTS}")
    config = _config(params, 1)
    encoding, data_slice = config.get("encoding", "base64"), config.get("dataSlice")
    accounts = [chain.get_account(_pubkey(k)) for k in keys]
    return _context(
        chain, [encode_account(a, encoding, data_slice) if a is not None else None for a in accounts]
    )


def get_balance(chain: LocalChain, params: Params) -> Json:
    return _context(chain, chain.get_balance(_pubkey(_arg(params, 0))))


def _matches(data: bytes, filters: list[Json]) -> bool:
    for rule in filters:
        if "dataSize" in rule:
            if len(data) != int(rule["dataSize"]):
                return False
        elif "memcmp" in rule:
            memcmp = rule["memcmp"]
            wanted = _decode_wire(memcmp["bytes"], memcmp.get("encoding", "base58"))
            offset = int(memcmp.get("offset", 0))
            if data[offset : offset + len(wanted)] != wanted:
                return False
        else:
            raise invalid_params(f"Invalid params: unknown filter {rule}")
    return True


def get_program_accounts(chain: LocalChain, params: Params) -> Any:
    program = _pubkey(_arg(params, 0))
    config = _config(params, 1)
    filters = config.get("filters") or []
    encoding, data_slice = config.get("encoding", "base58"), config.get("dataSlice")
    found = [
        encode_keyed_account(key, account, encoding, data_slice)
        for key, account in chain.program_accounts(program)
        if _matches(bytes(account.data), filters)
    ]
    return _context(chain, found) if config.get("withContext") else found


def get_token_accounts_by_owner(chain: LocalChain, params: Params) -> Json:
    owner = _pubkey(_arg(params, 0))
    selector = _arg(params, 1)
    if not isinstance(selector, dict) or not ({"mint", "programId"} & selector.keys()):
        raise invalid_params("Invalid params: expected a mint or programId filter")
    mint = _pubkey(selector["mint"]) if "mint" in selector else None
    programs = (
        [_pubkey(selector["programId"])] if "programId" in selector else sorted(TOKEN_PROGRAMS, key=str)
    )
    if any(p not in TOKEN_PROGRAMS for p in programs):
        raise invalid_params("Invalid param: unrecognized Token program id")
    config = _config(params, 2)
    encoding, data_slice = config.get("encoding", "base64"), config.get("dataSlice")
    found: list[Json] = []
    for program in programs:
        for key, account in chain.program_accounts(program):
            if not is_token_account(account):
                continue
            token = unpack_token_account(bytes(account.data))
            if token.owner == owner and (mint is None or token.mint == mint):
                found.append(encode_keyed_account(key, account, encoding, data_slice))
    return _context(chain, found)


def get_token_account_balance(chain: LocalChain, params: Params) -> Json:
    account = chain.get_account(_pubkey(_arg(params, 0)))
    if account is None or not is_token_account(account):
        raise invalid_params("Invalid param: not a Token account")
    token = unpack_token_account(bytes(account.data))
    decimals = mint_decimals(token.mint, chain.get_account)
    if decimals is None:
        raise invalid_params("Invalid param: mint could not be unpacked")
    return _context(chain, ui_token_amount(token.amount, decimals))


METHODS: dict[str, Method] = {
    "getAccountInfo": get_account_info,
    "getBalance": get_balance,
    "getBlockHeight": get_block_height,
    "getEpochInfo": get_epoch_info,
    "getFeeForMessage": get_fee_for_message,
    "getGenesisHash": get_genesis_hash,
    "getHealth": get_health,
    "getLatestBlockhash": get_latest_blockhash,
    "getMinimumBalanceForRentExemption": get_minimum_balance_for_rent_exemption,
    "getMultipleAccounts": get_multiple_accounts,
    "getProgramAccounts": get_program_accounts,
    "getRecentPrioritizationFees": get_recent_prioritization_fees,
    "getSignatureStatuses": get_signature_statuses,
    "getSignaturesForAddress": get_signatures_for_address,
    "getSlot": get_slot,
    "getTokenAccountBalance": get_token_account_balance,
    "getTokenAccountsByOwner": get_token_accounts_by_owner,
    "getTransaction": get_transaction,
    "getVersion": get_version,
    "isBlockhashValid": is_blockhash_valid,
    "requestAirdrop": request_airdrop,
    "sendTransaction": send_transaction,
    "simulateTransaction": simulate_transaction,
}
