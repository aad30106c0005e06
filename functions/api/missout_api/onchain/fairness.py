"""The draw of a pool, recomputed from the chain exactly as the program did it (`GET /api/pools/{address}/
fairness`, declared in `missout_api.routes.fairness`)."""

from __future__ import annotations

from fastapi import Response
from solders.pubkey import Pubkey

from missout.chain.accounts import PoolStatus
from missout.chain.addresses import ZERO_PUBKEY
from missout.chain.switchboard.accounts import RandomnessAccount, SwitchboardAccountError
from missout.pools.chain_state import NotAPool, read_pool_state
from missout.pools.fairness import FORMULA, recompute_draw
from missout.pools.status import db_status
from missout.wiring import ChainWiring
from missout_api.problems import ProblemException
from missout_api.schemas import FairnessOut

DRAWN = (PoolStatus.WINNER_SELECTED, PoolStatus.ENDED)
# A drawn pool's proof never changes; only its account may disappear (claim_rent).
FAIRNESS_CACHE = "public, max-age=300"


async def prove_draw(address: str, chain: ChainWiring, response: Response) -> FairnessOut:
    try:
        pool_key = Pubkey.from_string(address)
    except ValueError:
        raise _not_found(address) from None
    async with chain.rpc.session() as rpc:
        try:
            state = await read_pool_state(rpc, chain.program.program_id, pool_key)
        except NotAPool:
            raise _not_found(address) from None
        pool = state.pool
        if pool.status not in DRAWN:
            raise ProblemException(
                409,
                "No draw yet",
                f"the pool is {db_status(pool.status)}: no winner has been drawn",
                type_="/problems/no-draw-yet",
            )
        randomness = None
        if pool.randomness_account != ZERO_PUBKEY:
            account = await rpc.get_account_info(pool.randomness_account)
            if account is not None:
                try:
                    randomness = RandomnessAccount.decode(bytes(account.data))
                except SwitchboardAccountError:
                    randomness = None
    # The draw used every seat (a pool draws only when full); the payout zeroes `count` but keeps the list.
    seats = state.participants.slots[: pool.max_participants]
    proof = recompute_draw(pool.pool_id, pool.randomness, seats)
    response.headers["Cache-Control"] = FAIRNESS_CACHE
    return FairnessOut(
        pool=address,
        pool_id=str(pool.pool_id),
        status=db_status(pool.status),
        randomness_account=None if pool.randomness_account == ZERO_PUBKEY else str(pool.randomness_account),
        randomness_hex=proof.randomness_hex,
        revealed_value_hex=randomness.value.hex() if randomness is not None else None,
        reveal_slot=randomness.reveal_slot if randomness is not None else None,
        participants=[str(p) for p in proof.participants],
        formula=FORMULA,
        normalized=str(proof.normalized),
        index=proof.index,
        winner=str(proof.winner),
        stored_winner=str(pool.winner),
        matches=proof.winner == pool.winner,
    )


def _not_found(address: str) -> ProblemException:
    return ProblemException(
        404, "Not found", f"no pool account at {address} on chain", type_="/problems/pool-not-found"
    )
