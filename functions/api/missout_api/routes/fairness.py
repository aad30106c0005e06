"""`GET /api/pools/{address}/fairness`: the draw, recomputed from the chain exactly as the program did it.

Read from the chain, not from our record: the proof is only worth something if it does not depend on us.
`tools/verify_draw.py` does the same from any RPC endpoint without this API. The chain work lives in
`missout_api.onchain.fairness`, imported by the first request (see `missout_api.onchain`).
"""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Path, Request, Response

from missout.blocking import run_blocking
from missout_api.deps import Chain, Limits, count_alone, enforce
from missout_api.problems import problem_responses
from missout_api.routes.lazy_route import LazyAPIRoute
from missout_api.schemas import BASE58_KEY, FairnessOut

router = APIRouter(tags=["pools"], route_class=LazyAPIRoute)


@router.get("/pools/{address}/fairness", response_model=FairnessOut, responses=problem_responses(404, 409))
async def get_fairness(
    request: Request,
    response: Response,
    address: Annotated[str, Path(pattern=BASE58_KEY, description="the Pool account")],
    chain: Chain,
    limits: Limits,
) -> FairnessOut:
    states = await run_blocking(count_alone, request, limits)
    enforce(states)
    from missout_api.onchain.fairness import prove_draw  # the chain stack, on first use

    return await prove_draw(address, chain, response)
