"""The programs `python -m localnet` models: Switchboard On-Demand (devnet id) and the MissOut pool program
(IDL address), with Switchboard's genesis accounts (queue, oracle, state, wrapped-SOL mint)."""

from __future__ import annotations

from localnet.runtime import LocalChain


def register_default_programs(chain: LocalChain, *, gateway_url: str) -> list[str]:
    """Register both models on `chain`; `gateway_url` is where the oracle gateway is served (stored in the
    oracle account, where the Switchboard SDK looks it up). Returns one "name id" line per program."""
    # Imported here so the runtime and RPC stay usable (and importable) without the program models.
    from localnet.programs.pool import PoolProgram
    from localnet.programs.switchboard import SwitchboardProgram, switchboard_genesis

    switchboard = SwitchboardProgram(chain.seed)
    genesis = switchboard_genesis(
        chain_seed=chain.seed, gateway_url=gateway_url, now=chain.clock.unix_timestamp
    )
    # Switchboard first: the pool program reads randomness accounts it owns.
    chain.register(switchboard, genesis)
    pool = PoolProgram(switchboard_id=switchboard.program_id)
    chain.register(pool)
    return [f"{program.name} {program.program_id}" for program in (switchboard, pool)]
