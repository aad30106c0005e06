"""The draw, recomputed exactly as the program computes it (docs/program.md §4.3):

    R16        = randomness as 16 little-endian bytes       (= bytes 0..15 of the Switchboard value)
    normalized = u64_le(sha256(u64_le(pool_id) ‖ R16)[0..8])
    index      = normalized mod count                        (count = max_participants at the draw)
    winner     = participants[index]

Anyone can redo this from the Pool account (`pool_id`, `randomness`, `max_participants`, `winner`) and the
Participants list, which the payout leaves in place (it only zeroes `count`).
"""

from __future__ import annotations

import hashlib
from collections.abc import Sequence
from dataclasses import dataclass

from solders.pubkey import Pubkey

FORMULA = (
    "normalized = u64_le(sha256(u64_le(pool_id) || randomness[0..16])[0..8]); "
    "index = normalized mod participant_count; winner = participants[index]"
)
U128_MAX = 2**128 - 1


@dataclass(frozen=True, slots=True)
class DrawProof:
    pool_id: int
    randomness: int  # the u128 the program stored at select_winner
    participants: tuple[Pubkey, ...]  # in on-chain order at the draw
    normalized: int
    index: int
    winner: Pubkey

    @property
    def randomness_hex(self) -> str:
        """The 16 bytes that entered the hash, as the Switchboard value's first 16 bytes read (hex)."""
        return self.randomness.to_bytes(16, "little").hex()


def recompute_draw(pool_id: int, randomness: int, participants: Sequence[Pubkey]) -> DrawProof:
    if not 0 <= pool_id < 2**64:
        raise ValueError("pool_id is a u64")
    if not 0 <= randomness <= U128_MAX:
        raise ValueError("randomness is a u128")
    if not participants:
        raise ValueError("a draw needs at least one participant")
    digest = hashlib.sha256(pool_id.to_bytes(8, "little") + randomness.to_bytes(16, "little")).digest()
    normalized = int.from_bytes(digest[:8], "little")
    index = normalized % len(participants)
    return DrawProof(pool_id, randomness, tuple(participants), normalized, index, participants[index])
