"""What one tick knows about a pool: the decoded accounts read together at one slot, plus the one fact only
the database has (whether the outcome is already recorded)."""

from __future__ import annotations

from dataclasses import dataclass

from solders.pubkey import Pubkey

from missout.chain.accounts import PoolAccount


@dataclass(frozen=True, slots=True)
class RandomnessState:
    """The pool's Switchboard randomness account as last read (None fields when it does not exist)."""

    exists: bool
    revealed: bool = False  # reveal_slot != 0 since the latest commit


@dataclass(frozen=True, slots=True)
class ObservedPool:
    address: Pubkey
    pool: PoolAccount
    participants_count: int
    vault_amount: int | None  # None: the vault account does not exist (closed by claim_rent)
    randomness: RandomnessState | None = None  # None: the pool binds no randomness account, or unread
    outcome_recorded: bool = False


@dataclass(frozen=True, slots=True)
class LifecycleSettings:
    """The knobs `next_action` takes (pure data; built from `MonitorSettings` by the tick)."""

    dev_wallet: Pubkey  # ours: pools naming another DEV wallet are not ours to crank
    # Mock randomness is predictable (docs/program.md §4.1): used only when the pool allows it *and* this
    # is on. Off by default and meant for local development only. It also gates the emergency draw, whose
    # value is derived the same predictable way.
    mock_randomness: bool = False
    deadline_warning_slots: int = 1_500  # warn once fewer slots than this remain before the deadline
    open_recheck_s: int = 30  # an Open pool may fill at any moment; look at it this often
    idle_recheck_s: int = 300  # pools waiting for people (refunds) or for a long timer
    paused_recheck_s: int = 600
    dead_end_recheck_s: int = 3_600  # dead-end pools are watched, never cranked
    # The DEV wallet may take an Ended pool's rent at once (close_time is 0, docs/program.md §3.9); we wait
    # this long after the end so the creator, who paid that rent, can take it back first.
    dev_rent_grace_s: int = 2_592_000
    # Close the Switchboard randomness account after the payout (its rent goes back to the DEV wallet).
    close_randomness: bool = True
