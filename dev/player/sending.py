"""Sign, send and confirm one transaction; turn a refusal into one readable line naming the program error."""

from __future__ import annotations

import re
from collections.abc import Sequence

from solana.rpc.async_api import AsyncClient
from solana.rpc.commitment import Confirmed
from solana.rpc.core import RPCException
from solana.rpc.models import TxOpts
from solders.instruction import Instruction
from solders.keypair import Keypair
from solders.message import MessageV0
from solders.pubkey import Pubkey
from solders.rpc.errors import SendTransactionPreflightFailureMessage
from solders.signature import Signature
from solders.transaction import VersionedTransaction
from solders.transaction_status import InstructionErrorCustom, TransactionErrorInstructionError

from localnet.spl_token import ASSOCIATED_TOKEN_PROGRAM_ID, TOKEN_2022_PROGRAM_ID, TOKEN_PROGRAM_ID
from player.instructions import IDL

_PROGRAM_NAMES = {
    IDL.address: "pool program",
    TOKEN_PROGRAM_ID: "token program",
    TOKEN_2022_PROGRAM_ID: "token-2022 program",
    ASSOCIATED_TOKEN_PROGRAM_ID: "associated token program",
    Pubkey.default(): "system program",
}
# Anchor logs "AnchorError ... Error Code: <Name>. Error Number: <n>. Error Message: <text>." for its own
# framework errors (2xxx/3xxx), which the IDL does not list.
_ANCHOR_ERROR = re.compile(r"Error Code: (\w+)\. Error Number: (\d+)\. Error Message: (.*?)\.?$")


class ActionFailed(Exception):
    """The chain refused the transaction; the message says which program refused it and why."""


async def send_and_confirm(
    client: AsyncClient,
    what: str,
    payer: Keypair,
    instructions: Sequence[Instruction],
    extra_signers: Sequence[Keypair] = (),
) -> Signature:
    """Send with preflight: a failing transaction is refused, costs nothing and raises ActionFailed whose
    message starts with `what` (e.g. "w2 joining p1")."""
    blockhash = (await client.get_latest_blockhash()).value.blockhash
    message = MessageV0.try_compile(payer.pubkey(), list(instructions), [], blockhash)
    transaction = VersionedTransaction(message, [payer, *extra_signers])
    try:
        sent = await client.send_transaction(
            transaction, opts=TxOpts(skip_confirmation=False, preflight_commitment=Confirmed)
        )
    except RPCException as exc:
        raise ActionFailed(f"{what} refused: {describe_refusal(exc, instructions)}") from None
    return sent.value


def describe_refusal(exc: RPCException, instructions: Sequence[Instruction]) -> str:
    error = exc.args[0] if exc.args else exc
    if not isinstance(error, SendTransactionPreflightFailureMessage):
        return str(getattr(error, "message", error))
    err, logs = error.data.err, error.data.logs or []
    if not isinstance(err, TransactionErrorInstructionError):
        return error.message
    program = instructions[err.index].program_id if err.index < len(instructions) else None
    where = _PROGRAM_NAMES.get(program, str(program)) if program is not None else "unknown program"
    if not isinstance(err.err, InstructionErrorCustom):
        return f"{where} failed: {err.err}"
    code = err.err.code
    if program == IDL.address and code in IDL.errors_by_code:
        known = IDL.errors_by_code[code]
        return f"{where} error {known.name} ({code}): {known.msg}"
    for line in reversed(logs):
        anchor = _ANCHOR_ERROR.search(line)
        if anchor is not None:
            return f"{where} error {anchor.group(1)} ({anchor.group(2)}): {anchor.group(3)}"
    detail = next((line for line in reversed(logs) if "Error: " in line), "")
    return f"{where} error {code}" + (f": {detail.split('Error: ', 1)[1]}" if detail else "")
