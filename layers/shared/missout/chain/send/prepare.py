"""Build, simulate, size and sign a crank transaction (docs/solana.md §3.4, §3.5).

The transaction is simulated once with the maximum compute-unit limit, then rebuilt with the simulated
units × margin and a priority fee taken from recent fees, and signed: its first signature is then fixed and
can be recorded before the first send.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from solana.rpc.commitment import Finalized
from solders.compute_budget import set_compute_unit_limit, set_compute_unit_price
from solders.hash import Hash
from solders.instruction import Instruction
from solders.keypair import Keypair
from solders.message import MessageV0
from solders.pubkey import Pubkey
from solders.rpc.responses import GetRecentPrioritizationFeesResp, SimulateTransactionResp
from solders.transaction import VersionedTransaction

from missout.chain.errors import ClassifiedError, classify_transaction_error
from missout.chain.rpc import RpcSession
from missout.chain.send.fees import compute_unit_limit, priority_fee
from missout.chain.send.policy import MAX_COMPUTE_UNITS, PACKET_DATA_SIZE, SendPolicy

_MAX_FEE_ACCOUNTS = 128  # getRecentPrioritizationFees accepts at most 128 addresses


class SimulationFailed(Exception):
    """The transaction would fail: `error` says how, `logs` are the program logs for people, `transaction`
    is what was simulated (which instruction failed, and on which pool, is read from it)."""

    def __init__(
        self, error: ClassifiedError, logs: Sequence[str], transaction: VersionedTransaction
    ) -> None:
        super().__init__(f"simulation failed: {error.source.value} {error.name}")
        self.error = error
        self.logs = list(logs)
        self.transaction = transaction


class TransactionTooLarge(Exception):
    """The signed transaction is over the cluster's size limit: every RPC node refuses it, so no retry or
    other endpoint can help. A fault in how the instructions were put together, not in the chain's state."""

    def __init__(self, size: int) -> None:
        super().__init__(f"the transaction is {size} bytes, over the {PACKET_DATA_SIZE}-byte limit")
        self.size = size


@dataclass(frozen=True, slots=True)
class PreparedTransaction:
    transaction: VersionedTransaction
    last_valid_block_height: int
    compute_unit_limit: int
    priority_fee: int  # micro-lamports per compute unit

    @property
    def signature(self) -> str:
        return str(self.transaction.signatures[0])

    @property
    def raw(self) -> bytes:
        return bytes(self.transaction)


def writable_accounts(instructions: Sequence[Instruction]) -> list[Pubkey]:
    """The accounts the transaction write-locks: the ones whose fee market matters."""
    seen: dict[Pubkey, None] = {}
    for ix in instructions:
        for meta in ix.accounts:
            if meta.is_writable:
                seen.setdefault(meta.pubkey)
    return list(seen)[:_MAX_FEE_ACCOUNTS]


def sign_transaction(
    instructions: Sequence[Instruction],
    unit_limit: int,
    unit_price: int,
    blockhash: Hash,
    payer: Keypair,
    extra_signers: Sequence[Keypair] = (),
) -> VersionedTransaction:
    budget = [set_compute_unit_limit(unit_limit), set_compute_unit_price(unit_price)]
    message = MessageV0.try_compile(payer.pubkey(), [*budget, *instructions], [], blockhash)
    return VersionedTransaction(message, [payer, *extra_signers])


async def recent_priority_fees(rpc: RpcSession, accounts: Sequence[Pubkey]) -> list[tuple[int, int]]:
    response = await rpc.read(
        "getRecentPrioritizationFees",
        lambda c: c.get_recent_prioritization_fees(list(accounts)),
        GetRecentPrioritizationFeesResp,
    )
    return [(entry.slot, entry.prioritization_fee) for entry in response.value]


async def prepare_transaction(
    rpc: RpcSession,
    instructions: Sequence[Instruction],
    payer: Keypair,
    policy: SendPolicy,
    *,
    extra_signers: Sequence[Keypair] = (),
    attempt: int = 1,
) -> PreparedTransaction:
    """Simulate at finalized, then sign the sized transaction. Raises `TransactionTooLarge` when no node
    would take it, `SimulationFailed` when the program (or runtime) would refuse it, and the RPC errors of
    `RpcSession.read` when no node answers.

    `payer` is the DEV wallet: passed in by the monitor, never read from the environment here."""
    unit_price = priority_fee(
        await recent_priority_fees(rpc, writable_accounts(instructions)), policy, attempt
    )
    latest = (await rpc.get_latest_blockhash()).value
    trial = sign_transaction(
        instructions, MAX_COMPUTE_UNITS, unit_price, latest.blockhash, payer, extra_signers
    )
    # The final transaction has the same size: only the budget instructions' fixed-width values change.
    if (size := len(bytes(trial))) > PACKET_DATA_SIZE:
        raise TransactionTooLarge(size)
    simulation = await rpc.read(
        "simulateTransaction",
        lambda c: c.simulate_transaction(trial, sig_verify=False, commitment=Finalized),
        SimulateTransactionResp,
    )
    result = simulation.value
    if result.err is not None:
        raise SimulationFailed(classify_transaction_error(result.err), result.logs or [], trial)
    unit_limit = compute_unit_limit(result.units_consumed or 0, policy)
    final = sign_transaction(instructions, unit_limit, unit_price, latest.blockhash, payer, extra_signers)
    return PreparedTransaction(final, latest.last_valid_block_height, unit_limit, unit_price)
