"""Transaction fees as agave computes them: 5000 lamports per signature plus the priority fee
`ceil(compute_unit_price * compute_unit_limit / 1_000_000)`.

Without SetComputeUnitLimit the limit defaults per instruction: 3 000 units for builtin programs (which is
what LiteSVM charges for, e.g. ComputeBudget + System = 6 000 units) and 200 000 for any other program.
A test pins this against LiteSVM's own fee for the native path.
"""

from __future__ import annotations

import struct
from dataclasses import dataclass

from solders.compute_budget import ID as COMPUTE_BUDGET_PROGRAM_ID
from solders.instruction import CompiledInstruction
from solders.pubkey import Pubkey

LAMPORTS_PER_SIGNATURE = 5_000
MAX_COMPUTE_UNIT_LIMIT = 1_400_000
DEFAULT_INSTRUCTION_UNITS = 200_000
BUILTIN_INSTRUCTION_UNITS = 3_000
MICRO_LAMPORTS_PER_LAMPORT = 1_000_000

_SET_COMPUTE_UNIT_LIMIT = 2
_SET_COMPUTE_UNIT_PRICE = 3

BUILTIN_PROGRAMS = frozenset(
    Pubkey.from_string(key)
    for key in (
        "11111111111111111111111111111111",  # System
        "ComputeBudget111111111111111111111111111111",
        "Vote111111111111111111111111111111111111111",
        "Stake11111111111111111111111111111111111111",
        "Config1111111111111111111111111111111111111",
        "AddressLookupTab1e1111111111111111111111111",
        "BPFLoader1111111111111111111111111111111111",
        "BPFLoader2111111111111111111111111111111111",
        "BPFLoaderUpgradeab1e11111111111111111111111",
        "LoaderV411111111111111111111111111111111111",
    )
)


@dataclass(frozen=True)
class ComputeBudget:
    unit_limit: int
    unit_price: int  # micro-lamports per compute unit

    @property
    def priority_fee(self) -> int:
        return -(-self.unit_price * self.unit_limit // MICRO_LAMPORTS_PER_LAMPORT)


def compute_budget_of(keys: list[Pubkey], instructions: list[CompiledInstruction]) -> ComputeBudget:
    limit: int | None = None
    price = 0
    default_limit = 0
    for instruction in instructions:
        program = keys[instruction.program_id_index]
        default_limit += (
            BUILTIN_INSTRUCTION_UNITS if program in BUILTIN_PROGRAMS else DEFAULT_INSTRUCTION_UNITS
        )
        if program != COMPUTE_BUDGET_PROGRAM_ID or not instruction.data:
            continue
        data = bytes(instruction.data)
        if data[0] == _SET_COMPUTE_UNIT_LIMIT and len(data) >= 5:
            (limit,) = struct.unpack_from("<I", data, 1)
        elif data[0] == _SET_COMPUTE_UNIT_PRICE and len(data) >= 9:
            (price,) = struct.unpack_from("<Q", data, 1)
    return ComputeBudget(min(limit if limit is not None else default_limit, MAX_COMPUTE_UNIT_LIMIT), price)


def transaction_fee(num_signatures: int, budget: ComputeBudget) -> int:
    return LAMPORTS_PER_SIGNATURE * num_signatures + budget.priority_fee
