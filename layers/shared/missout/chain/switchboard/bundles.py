"""The two draw transactions docs/solana.md §1.9 recommends, as instruction lists (the sender prepends the
compute-budget instructions once it has simulated them):

* `[randomness_commit, request_randomness]`: the pool becomes RandomnessCommitted in the same slot the
  account is committed, so the program's `seed_slot ∈ [slot-300, slot]` check can never miss;
* `[randomness_reveal, select_winner]`: the value the pool uses is the one revealed in that transaction,
  and nobody sees it before the winner is fixed.
"""

from __future__ import annotations

from solders.instruction import Instruction
from solders.pubkey import Pubkey

from missout.chain.instructions import build_request_randomness, build_select_winner
from missout.chain.switchboard.accounts import RandomnessAccount
from missout.chain.switchboard.config import SwitchboardConfig
from missout.chain.switchboard.gateway import RevealResponse
from missout.chain.switchboard.instructions import randomness_commit, randomness_reveal


def commit_and_request(
    config: SwitchboardConfig,
    pool_program_id: Pubkey,
    pool: Pubkey,
    randomness: Pubkey,
    oracle: Pubkey,
    dev_wallet: Pubkey,
) -> list[Instruction]:
    """Commit `randomness` (authority = the DEV wallet) and bind it to `pool` atomically."""
    return [
        randomness_commit(config, randomness, oracle, dev_wallet),
        build_request_randomness(pool_program_id, pool, randomness, dev_wallet),
    ]


def reveal_and_select(
    config: SwitchboardConfig,
    pool_program_id: Pubkey,
    pool: Pubkey,
    randomness: Pubkey,
    account: RandomnessAccount,
    reveal: RevealResponse,
    dev_wallet: Pubkey,
) -> list[Instruction]:
    """Reveal with the gateway's answer for the oracle assigned at commit (naming the queue the randomness
    account belongs to), then select the winner."""
    return [
        randomness_reveal(
            config,
            randomness,
            account.oracle,
            dev_wallet,
            dev_wallet,
            reveal.signature,
            reveal.recovery_id,
            reveal.value,
            queue=account.queue,
        ),
        build_select_winner(pool_program_id, pool, randomness, dev_wallet),
    ]
