"""Slots, block height, wall time, blockhashes and slot hashes of the local chain.

LiteSVM only has a Clock sysvar and one "latest blockhash" that never expires on its own. A real cluster makes
a new blockhash every block and accepts a transaction while its blockhash is at most 150 blocks old; clients
(the crank sender in particular) rely on that expiry. So the chain keeps its own schedule here and writes the
Clock sysvar into LiteSVM whenever it moves, so that programs running in LiteSVM see the same time.
"""

from __future__ import annotations

import hashlib
from datetime import UTC, datetime

from solders.clock import Clock as SysvarClock
from solders.hash import Hash
from solders.litesvm import LiteSVM

from localnet.model_api import Clock

# A blockhash is usable while the block height is at most this many blocks past the one that produced it
# (agave's MAX_PROCESSING_AGE); getLatestBlockhash's lastValidBlockHeight is derived from it.
MAX_PROCESSING_AGE = 150
# Entries the SlotHashes sysvar keeps (agave's MAX_ENTRIES); Switchboard reveals need the seed slot's hash.
SLOT_HASHES_MAX = 512
# Real clusters skip slots, so block height lags the slot. A fixed lag keeps the two visibly different, which
# catches clients that compare lastValidBlockHeight with getSlot instead of getBlockHeight.
BLOCK_HEIGHT_LAG = 22_000_000
# Nominal slot duration, used only when following the wall clock.
SLOT_SECONDS = 0.4


def utc_now() -> int:
    return int(datetime.now(UTC).timestamp())


class ChainClock:
    """The chain's notion of "now". Every change goes through `_move_to`, which keeps LiteSVM's Clock sysvar,
    the current blockhash and the table of recent blockhashes consistent."""

    def __init__(self, svm: LiteSVM, *, seed: bytes, unix_timestamp: int | None = None) -> None:
        self._svm = svm
        self._seed = seed
        sysvar = svm.get_clock()
        self._slot = sysvar.slot
        self._unix = utc_now() if unix_timestamp is None else unix_timestamp
        self._recent_blockhashes: dict[Hash, int] = {}
        self._wall_anchor: tuple[float, int, int] | None = None
        self._move_to(self._slot, self._unix)

    @property
    def genesis_hash(self) -> Hash:
        return Hash(self._derive(b"genesis", 0))

    @property
    def slot(self) -> int:
        return self._slot

    @property
    def unix_timestamp(self) -> int:
        return self._unix

    @property
    def block_height(self) -> int:
        return self._slot - BLOCK_HEIGHT_LAG

    @property
    def epoch(self) -> int:
        return self._svm.get_epoch_schedule().get_epoch(self._slot)

    def model_clock(self) -> Clock:
        return Clock(slot=self._slot, unix_timestamp=self._unix, epoch=self.epoch)

    def latest_blockhash(self) -> Hash:
        return self._blockhash_of(self._slot)

    def last_valid_block_height(self) -> int:
        return self.block_height + MAX_PROCESSING_AGE

    def is_blockhash_valid(self, blockhash: Hash) -> bool:
        height = self._recent_blockhashes.get(blockhash)
        return height is not None and self.block_height - height <= MAX_PROCESSING_AGE

    def slot_hash(self, slot: int) -> bytes | None:
        """Like the SlotHashes sysvar: the current slot has no entry yet, and only the last 512 are kept."""
        if not self._slot - SLOT_HASHES_MAX <= slot < self._slot:
            return None
        return self._derive(b"slothash", slot)

    def tick(self) -> None:
        """One slot per processed transaction, so each lands in a slot of its own and slots move even when
        nobody drives the clock. Not a jump: the wall-clock anchor stays where it is."""
        self._move_to(self._slot + 1, self._unix)

    def advance_slots(self, slots: int) -> None:
        if slots < 0:
            raise ValueError("slots cannot go backwards")
        self._jump(self._slot + slots, self._unix)

    def advance_time(self, seconds: int) -> None:
        if seconds < 0:
            raise ValueError("time cannot go backwards")
        self._jump(self._slot, self._unix + seconds)

    def warp(self, *, slot: int | None = None, unix_timestamp: int | None = None) -> None:
        """Jump to an absolute slot and/or time. Going back in slots is refused: history and blockhash ages
        are ordered by slot. Time may be set freely (tests of clock skew)."""
        if slot is not None and slot < self._slot:
            raise ValueError(f"cannot warp back from slot {self._slot} to {slot}")
        self._jump(
            self._slot if slot is None else slot, self._unix if unix_timestamp is None else unix_timestamp
        )

    def follow_wall_clock(self, enabled: bool, now: float) -> None:
        """In dev (`python -m localnet`) time and slots run with the wall clock, so pools expire and
        blockhashes age without anyone calling the control endpoints. Tests keep it off: time then moves only
        when told to."""
        self._wall_anchor = (now, self._unix, self._slot) if enabled else None

    def sync_wall_clock(self, now: float) -> None:
        if self._wall_anchor is None:
            return
        anchor_wall, anchor_unix, anchor_slot = self._wall_anchor
        elapsed = max(now - anchor_wall, 0.0)
        slot = max(anchor_slot + int(elapsed / SLOT_SECONDS), self._slot)
        unix = max(anchor_unix + int(elapsed), self._unix)
        if (slot, unix) != (self._slot, self._unix):
            self._move_to(slot, unix)

    def _jump(self, slot: int, unix: int) -> None:
        # An explicit jump shifts the wall-clock anchor by the same amount, so following the wall clock
        # continues from the new point instead of snapping back.
        if self._wall_anchor is not None:
            wall, anchor_unix, anchor_slot = self._wall_anchor
            self._wall_anchor = (wall, anchor_unix + unix - self._unix, anchor_slot + slot - self._slot)
        self._move_to(slot, unix)

    def _move_to(self, slot: int, unix: int) -> None:
        self._slot, self._unix = slot, unix
        epoch = self.epoch
        self._svm.set_clock(
            SysvarClock(
                slot=slot,
                epoch_start_timestamp=unix,
                epoch=epoch,
                leader_schedule_epoch=epoch + 1,
                unix_timestamp=unix,
            )
        )
        self._recent_blockhashes[self.latest_blockhash()] = self.block_height
        if len(self._recent_blockhashes) > 4 * MAX_PROCESSING_AGE:
            oldest_kept = self.block_height - MAX_PROCESSING_AGE
            self._recent_blockhashes = {h: b for h, b in self._recent_blockhashes.items() if b >= oldest_kept}

    def _blockhash_of(self, slot: int) -> Hash:
        return Hash(self._derive(b"blockhash", slot))

    def _derive(self, label: bytes, slot: int) -> bytes:
        return hashlib.sha256(self._seed + label + slot.to_bytes(8, "little")).digest()
