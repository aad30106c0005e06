"""The programs `python -m localnet` models: Switchboard On-Demand (devnet id) and the MissOut pool program
(IDL address), with Switchboard's genesis accounts (queue, oracle, state, wrapped-SOL mint)."""

from __future__ import annotations

from localnet.runtime import LocalChain


def register_default_programs(chain: LocalChain, *, gateway_url: str, oracles: int = 1) -> list[str]:
    """Register both models on `chain`; `gateway_url` is where the oracle gateways are served (stored in the
    oracle accounts, where the Switchboard SDK looks them up); `oracles` is how many the queue lists.
    Returns one "name id" line per program."""
    # Imported here so the runtime and RPC stay usable (and importable) without the program models.
    from localnet.programs.pool import PoolProgram
    from localnet.programs.switchboard import SwitchboardProgram

    switchboard = SwitchboardProgram(chain.seed, oracles=oracles, gateway_url=gateway_url)
    genesis = switchboard.genesis(chain.clock.unix_timestamp)
    # Switchboard first: the pool program reads randomness accounts it owns.
    chain.register(switchboard, genesis)
    pool = PoolProgram(switchboard_id=switchboard.program_id)
    chain.register(pool)
    return [f"{program.name} {program.program_id}" for program in (switchboard, pool)]
