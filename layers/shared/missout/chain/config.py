"""Deployment identity of the program. Filled from settings by the caller; never read from the environment
here so that tests, the local chain and each deployment can pass their own."""

from __future__ import annotations

from dataclasses import dataclass

from solders.pubkey import Pubkey


@dataclass(frozen=True, slots=True)
class ProgramConfig:
    program_id: Pubkey
    dev_wallet: Pubkey  # signs every crank; must equal `pool.dev_wallet` of pools we manage
    treasury_wallet: Pubkey
    switchboard_program_id: Pubkey
