"""Token transfers as they ran: every `Transfer` (3) and `TransferChecked` (12) the pool's token program
executed in the transaction, top level or CPI, read from the instruction data and accounts.

Balance deltas say how much an account moved in total; a transfer says who paid whom. The program moves
tokens only with `TransferChecked` (docs/program.md §1.3); a top-level `Transfer` by a wallet is read too,
so a side payment cannot hide behind another opcode. Only the vault's owner, the pool PDA, can sign a
transfer out of the vault, and only our program signs for it, so a vault → wallet transfer is the
program's payment.
"""

from __future__ import annotations

from dataclasses import dataclass

from solders.pubkey import Pubkey

from missout.chain.verify.reasons import RejectReason, VerificationFailed
from missout.chain.verify.transaction_view import TransactionView

_TRANSFER = 3  # data: tag, amount u64; accounts: source, destination, authority
_TRANSFER_CHECKED = 12  # data: tag, amount u64, decimals; accounts: source, mint, destination, authority


@dataclass(frozen=True, slots=True)
class TokenTransfer:
    source: Pubkey
    destination: Pubkey
    authority: Pubkey
    amount: int
    location: str


def token_transfers(view: TransactionView, token_program: Pubkey) -> tuple[TokenTransfer, ...]:
    transfers: list[TokenTransfer] = []
    for invoked in view.instructions:
        if invoked.program_id != token_program or not invoked.data:
            continue
        data, accounts = invoked.data, invoked.accounts
        if data[0] == _TRANSFER and len(data) >= 9 and len(accounts) >= 3:
            source, destination, authority = accounts[0], accounts[1], accounts[2]
        elif data[0] == _TRANSFER_CHECKED and len(data) >= 10 and len(accounts) >= 4:
            source, destination, authority = accounts[0], accounts[2], accounts[3]
        else:
            continue
        amount = int.from_bytes(data[1:9], "little")
        transfers.append(TokenTransfer(source, destination, authority, amount, invoked.location))
    return tuple(transfers)


def transfers_between(
    view: TransactionView, token_program: Pubkey, *, source: Pubkey, destination: Pubkey
) -> tuple[TokenTransfer, ...]:
    return tuple(
        transfer
        for transfer in token_transfers(view, token_program)
        if transfer.source == source and transfer.destination == destination
    )


def require_transfer(
    view: TransactionView,
    token_program: Pubkey,
    *,
    source: Pubkey,
    destination: Pubkey,
    authority: Pubkey,
    amount: int,
    role: str,
) -> None:
    """A transfer of exactly `amount` from `source` to `destination`, signed by `authority`, ran."""
    for transfer in transfers_between(view, token_program, source=source, destination=destination):
        if transfer.amount == amount and transfer.authority == authority:
            return
    raise VerificationFailed(
        RejectReason.TRANSFER_NOT_FOUND,
        f"no {role} transfer of {amount} from {source} to {destination} signed by {authority}",
    )
