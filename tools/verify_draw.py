# ruff: noqa: T201 - a command-line tool: printing is its output
"""Recompute a MissOut pool's draw from the chain alone: `python tools/verify_draw.py POOL --rpc URL`.

Needs only `solders` and `httpx` (nothing of this repository), so anyone can check a draw without trusting our
API. It reads the Pool account and its Participants account over JSON-RPC, then applies the program's formula
(docs/program.md §4.3):

    normalized = u64_le(sha256(u64_le(pool_id) || randomness[0..16])[0..8])
    index      = normalized mod max_participants
    winner     = participants[index]

and compares the result with the winner the program stored. Exit status: 0 the stored winner is the recomputed
one, 1 it is not, 2 the pool has no draw yet or cannot be read. Offsets are those of the 488-byte Pool layout
(docs/program.md §2.1) and the 649-byte Participants layout (§2.2); written out here on purpose so this file
stands alone.
"""

from __future__ import annotations

import argparse
import base64
import hashlib
import json
import struct
import sys
from dataclasses import dataclass
from typing import Any

import httpx
from solders.pubkey import Pubkey

POOL_DISCRIMINATOR = bytes.fromhex("f19a6d0411b16dbc")
PARTICIPANTS_DISCRIMINATOR = bytes.fromhex("ae1c6be4a4fa53aa")
POOL_LEN, PARTICIPANTS_LEN = 488, 649
STATUS_NAMES = (
    "Open",
    "Locked",
    "Unlocked",
    "RandomnessCommitted",
    "RandomnessRevealed",
    "WinnerSelected",
    "Ended",
    "Cancelled",
    "Closed",
)
WINNER_SELECTED = 5
ENDED = 6


@dataclass(frozen=True)
class Draw:
    pool_id: int
    status: str
    randomness: int
    randomness_account: Pubkey
    max_participants: int
    participants: list[Pubkey]
    stored_winner: Pubkey
    normalized: int
    index: int
    winner: Pubkey

    @property
    def matches(self) -> bool:
        return self.winner == self.stored_winner


class CannotVerify(Exception):
    """The pool cannot be read, or has no draw to verify yet."""


def _account(rpc: httpx.Client, address: Pubkey) -> tuple[Pubkey, bytes]:
    body = {
        "jsonrpc": "2.0",
        "id": 1,
        "method": "getAccountInfo",
        "params": [str(address), {"encoding": "base64", "commitment": "finalized"}],
    }
    answer: dict[str, Any] = rpc.post("", json=body).raise_for_status().json()
    if "error" in answer:
        raise CannotVerify(f"the node refused getAccountInfo: {answer['error']}")
    value = answer["result"]["value"]
    if value is None:
        raise CannotVerify(f"{address} does not exist (never created, or closed by claim_rent)")
    return Pubkey.from_string(value["owner"]), base64.b64decode(value["data"][0])


def recompute(pool_id: int, randomness: int, participants: list[Pubkey]) -> tuple[int, int, Pubkey]:
    digest = hashlib.sha256(pool_id.to_bytes(8, "little") + randomness.to_bytes(16, "little")).digest()
    normalized = int.from_bytes(digest[:8], "little")
    index = normalized % len(participants)
    return normalized, index, participants[index]


def verify_draw(rpc: httpx.Client, pool: Pubkey) -> Draw:
    owner, data = _account(rpc, pool)
    if len(data) != POOL_LEN or data[:8] != POOL_DISCRIMINATOR:
        raise CannotVerify(f"{pool} is not a Pool account")
    (pool_id,) = struct.unpack_from("<Q", data, 8)
    max_participants = data[192]
    randomness = int.from_bytes(data[311:327], "little")
    randomness_account = Pubkey.from_bytes(data[327:359])
    status = data[368]
    stored_winner = Pubkey.from_bytes(data[455:487])
    status_name = STATUS_NAMES[status] if status < len(STATUS_NAMES) else f"unknown({status})"
    if status not in (WINNER_SELECTED, ENDED):
        raise CannotVerify(f"pool status is {status_name}: no winner has been drawn")
    participants_key, _bump = Pubkey.find_program_address([b"participants", bytes(pool)], owner)
    p_owner, p_data = _account(rpc, participants_key)
    if p_owner != owner or len(p_data) != PARTICIPANTS_LEN or p_data[:8] != PARTICIPANTS_DISCRIMINATOR:
        raise CannotVerify(f"{participants_key} is not the pool's Participants account")
    # The draw used `max_participants` seats (a pool draws only when full); payout zeroes `count` but leaves
    # the list in place, so the list is read up to max_participants, not up to count.
    participants = [Pubkey.from_bytes(p_data[8 + 32 * i : 40 + 32 * i]) for i in range(max_participants)]
    normalized, index, winner = recompute(pool_id, randomness, participants)
    return Draw(
        pool_id=pool_id,
        status=status_name,
        randomness=randomness,
        randomness_account=randomness_account,
        max_participants=max_participants,
        participants=participants,
        stored_winner=stored_winner,
        normalized=normalized,
        index=index,
        winner=winner,
    )


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description="Recompute a MissOut pool's winner from the chain alone.")
    parser.add_argument("address", help="the pool account (base58)")
    parser.add_argument("--rpc", required=True, help="a Solana JSON-RPC URL")
    parser.add_argument("--json", action="store_true", help="print the result as JSON")
    args = parser.parse_args(argv)
    try:
        pool = Pubkey.from_string(args.address)
    except ValueError:
        print(f"error: {args.address!r} is not a base58 public key", file=sys.stderr)
        return 2
    try:
        with httpx.Client(base_url=args.rpc, timeout=15.0) as rpc:
            draw = verify_draw(rpc, pool)
    except (CannotVerify, httpx.HTTPError) as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    if args.json:
        print(
            json.dumps(
                {
                    "pool": str(pool),
                    "pool_id": str(draw.pool_id),
                    "status": draw.status,
                    "randomness_account": str(draw.randomness_account),
                    "randomness_hex": draw.randomness.to_bytes(16, "little").hex(),
                    "participants": [str(p) for p in draw.participants],
                    "normalized": str(draw.normalized),
                    "index": draw.index,
                    "winner": str(draw.winner),
                    "stored_winner": str(draw.stored_winner),
                    "matches": draw.matches,
                },
                indent=2,
            )
        )
    else:
        print(f"pool {pool} (pool_id {draw.pool_id}), status {draw.status}")
        print(f"randomness account {draw.randomness_account}")
        print(f"randomness[0..16]  {draw.randomness.to_bytes(16, 'little').hex()}")
        for position, wallet in enumerate(draw.participants):
            print(f"  seat {position:2d}  {wallet}")
        print(f"normalized {draw.normalized}  index {draw.index} of {draw.max_participants}")
        print(f"recomputed winner {draw.winner}")
        print(f"stored winner     {draw.stored_winner}  -> {'MATCH' if draw.matches else 'MISMATCH'}")
    return 0 if draw.matches else 1


if __name__ == "__main__":
    sys.exit(main())
