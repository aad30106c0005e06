"""Carry out one `Decision` on chain: build the action's instructions and hand them to the durable sender.

Every transaction goes through `DurableSender.send`, keyed by (pool, crank action): the intent row is
committed before the first broadcast, a crashed run's intent is resumed instead of re-signed, and the
program's "already in that state" answer counts as done. Nothing here decides *what* to do: that is
`missout.lifecycle.next_action`.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from solders.instruction import Instruction
from solders.keypair import Keypair
from solders.pubkey import Pubkey

from missout.chain.instructions import (
    MOCK_RANDOMNESS_ACCOUNT,
    build_claim_rent,
    build_finalize_forfeited_pool,
    build_payout_winner,
    build_request_randomness,
    build_select_winner,
    build_sweep_expired_pool,
    build_unlock_pool,
)
from missout.chain.pool_keys import PoolKeys
from missout.chain.rpc import RpcError, RpcSession
from missout.chain.send import DurableSender, SendOutcome, SendResult
from missout.chain.send.outcome import OutcomeKind
from missout.chain.switchboard import (
    GatewayClient,
    GatewayError,
    GatewayHealthProbe,
    NoEligibleOracle,
    RandomnessRequestDead,
    SwitchboardAccountError,
    SwitchboardConfig,
    choose_oracle,
    commit_and_request,
    derive_randomness_keypair,
    fetch_reveal,
    load_randomness,
    randomness_close,
    randomness_init,
    reveal_and_select,
)
from missout.chain.token_accounts import missing_ata_creations
from missout.lifecycle import Action, Decision
from missout.monitor.read import PoolRead
from missout.monitor.results import ActResult, Progress

RemainingMs = Callable[[], int]


_PROGRESS_OF = {
    OutcomeKind.DONE: Progress.DONE,
    OutcomeKind.ALREADY_DONE: Progress.DONE,  # re-read the pool: who did it does not matter
    OutcomeKind.NOT_YET: Progress.LATER,
    OutcomeKind.FAILED: Progress.FAILED,
}


def result_of(outcome: SendOutcome) -> ActResult:
    # An RPC outage is "not yet" for the sender; for the pool it is a failed tick, so that a long outage
    # backs the pool off instead of hammering the endpoints every tick (it is never what makes it `stuck`
    # for long: the next good tick resets the count).
    progress = Progress.FAILED if outcome.result is SendResult.UNAVAILABLE else _PROGRESS_OF[outcome.kind]
    error = outcome.error or (outcome.result.value if progress is not Progress.DONE else None)
    return ActResult(progress, outcome.action, outcome.attempt, outcome.signature, error)


@dataclass(frozen=True, slots=True)
class ActorConfig:
    program_id: Pubkey
    switchboard: SwitchboardConfig
    randomness_secret: bytes


class Actor:
    """Everything one tick needs to act: the RPC session, the sender (holding the DEV wallet), the gateway."""

    def __init__(
        self,
        rpc: RpcSession,
        sender: DurableSender,
        dev: Keypair,
        gateway: GatewayClient,
        config: ActorConfig,
        health: GatewayHealthProbe | None = None,
    ) -> None:
        self._rpc, self._sender, self._dev, self._gateway, self._config = rpc, sender, dev, gateway, config
        self._health = health

    async def act(
        self, pool_id: int, read: PoolRead, decision: Decision, now: int, remaining_ms: RemainingMs
    ) -> ActResult:
        observed = read.observed
        assert observed is not None  # only decided pools reach here
        pool, address, dev = observed.pool, read.address, self._dev.pubkey()
        program = self._config.program_id
        keys = PoolKeys.of(address, pool)
        action = decision.action
        try:
            if action is Action.UNLOCK:
                return await self._send(
                    pool_id, "unlock_pool", [build_unlock_pool(program, address, dev)], remaining_ms
                )
            if action is Action.REQUEST_RANDOMNESS:
                return await self._request_randomness(pool_id, address, now, remaining_ms)
            if action is Action.REQUEST_MOCK_RANDOMNESS:
                ix = build_request_randomness(program, address, MOCK_RANDOMNESS_ACCOUNT, dev)
                return await self._send(pool_id, "request_randomness", [ix], remaining_ms)
            if action is Action.REVEAL_AND_SELECT:
                return await self._reveal_and_select(pool_id, read, remaining_ms)
            if action is Action.SELECT_MOCK_WINNER:
                ix = build_select_winner(program, address, MOCK_RANDOMNESS_ACCOUNT, dev)
                return await self._send(pool_id, "select_winner", [ix], remaining_ms)
            if action is Action.EMERGENCY_DRAW:
                # The bound account, unrevealed: the program's emergency branch (docs/program.md §4.2).
                ix = build_select_winner(program, address, pool.randomness_account, dev)
                return await self._send(pool_id, "select_winner", [ix], remaining_ms)
            if action is Action.PAYOUT:
                # payout_winner creates the winner's ATA itself (init_if_needed, paid by us) but refuses a
                # missing DEV or treasury ATA (3012, docs/program.md §3.13).
                ix = build_payout_winner(program, keys, pool, dev)
                ixs = await self._with_fee_accounts(keys, (pool.dev_wallet, pool.treasury_wallet), ix)
                return await self._send(pool_id, "payout_winner", ixs, remaining_ms)
            if action is Action.SWEEP_EXPIRED:
                ix = build_sweep_expired_pool(program, keys, dev)
                return await self._send(pool_id, "sweep_expired_pool", [ix], remaining_ms)
            if action is Action.FINALIZE_FORFEITED:
                # The vault goes to the treasury's ATA, which must exist (docs/program.md §3.17).
                ix = build_finalize_forfeited_pool(program, keys, pool.treasury_wallet, dev)
                ixs = await self._with_fee_accounts(keys, (pool.treasury_wallet,), ix)
                return await self._send(pool_id, "finalize_forfeited_pool", ixs, remaining_ms)
            if action is Action.CLOSE_RANDOMNESS:
                return await self._close_randomness(pool_id, read, remaining_ms)
            if action is Action.CLAIM_RENT:
                # Called by the DEV wallet, the program sends the rent to the treasury wallet (§3.9).
                ix = build_claim_rent(program, keys, pool.treasury_wallet, dev)
                return await self._send(pool_id, "claim_rent", [ix], remaining_ms)
        except RpcError as exc:
            return ActResult(Progress.FAILED, error=f"rpc: {exc}"[:300])
        except (GatewayError, NoEligibleOracle, SwitchboardAccountError, RandomnessRequestDead) as exc:
            return ActResult(Progress.FAILED, error=f"switchboard: {type(exc).__name__}: {exc}"[:300])
        raise ValueError(f"{action} is not a chain action")

    async def _send(
        self,
        pool_id: int,
        crank: str,
        instructions: list[Instruction],
        remaining_ms: RemainingMs,
        extra_signers: tuple[Keypair, ...] = (),
    ) -> ActResult:
        outcome = await self._sender.send(pool_id, crank, instructions, extra_signers=extra_signers)
        return result_of(outcome)

    async def _with_fee_accounts(
        self, keys: PoolKeys, recipients: tuple[Pubkey, ...], instruction: Instruction
    ) -> list[Instruction]:
        """`instruction` preceded by `CreateIdempotent` for each recipient ATA (the mint's own token program
        decides the address) that does not exist yet, rent paid by the DEV wallet.

        In the same transaction, under the crank's own intent, rather than as a `create_fee_accounts` send of
        its own: the intent row stays the one idempotency key of the effect, and every attempt (a re-sign
        after an expired blockhash included) looks again at which accounts are missing. `CreateIdempotent`
        succeeds on an account that exists, so a resent or re-signed transaction cannot fail because another
        transaction created it meanwhile; and it is atomic with the crank: a refused payout creates nothing.
        A separate send would finalize once per pool and never again, so an ATA its owner closed after it
        (an empty token account can be closed by its owner) would leave the pool stuck; it would also cost a
        transaction and its intent round trips per pool, while these accounts are per mint: once they exist,
        nothing is added (one `getMultipleAccounts` per crank finds them). The winner's ATA is not ours to
        create: the program does it. At most two creations add one key (the treasury wallet) and a few
        dozen bytes; their compute is in the simulation the sender sizes the limit from."""
        creations = await missing_ata_creations(
            self._rpc, self._dev.pubkey(), recipients, keys.mint, keys.token_program
        )
        return [*creations, instruction]

    async def _request_randomness(
        self, pool_id: int, address: Pubkey, now: int, remaining_ms: RemainingMs
    ) -> ActResult:
        """The pool's own randomness account (created once, deterministic key), then the bundled commit +
        request: the pool is bound in the same slot the account is committed (docs/solana.md §1.9)."""
        config, dev = self._config.switchboard, self._dev.pubkey()
        randomness = derive_randomness_keypair(self._config.randomness_secret, address)
        key = randomness.pubkey()
        if await load_randomness(self._rpc, config, key) is None:
            recent_slot = await self._rpc.get_slot()
            ix = randomness_init(config, key, dev, dev, recent_slot)
            created = await self._send(pool_id, "randomness_init", [ix], remaining_ms, (randomness,))
            if created.progress is not Progress.DONE:
                return created
        oracle = await choose_oracle(self._rpc, config, now, health=self._health)
        bundle = commit_and_request(config, self._config.program_id, address, key, oracle.key, dev)
        return await self._send(pool_id, "request_randomness", bundle, remaining_ms)

    async def _reveal_and_select(self, pool_id: int, read: PoolRead, remaining_ms: RemainingMs) -> ActResult:
        """Ask the assigned oracle's gateway for the reveal and land it with `select_winner` in one
        transaction; if someone revealed already, select with the value on chain."""
        assert read.observed is not None
        config, dev, address = self._config.switchboard, self._dev.pubkey(), read.address
        key = read.observed.pool.randomness_account
        if read.randomness is not None and read.randomness.is_revealed:
            ixs = [build_select_winner(self._config.program_id, address, key, dev)]
        else:
            # The SDK's wait is "3 s after the commit landed" (docs/switchboard.md "Reveal"): when the commit
            # was seen done on an earlier tick, that time is long past and the gateway is asked at once.
            seen = self._sender.effect_seen_at(pool_id, "request_randomness")
            prepared = await fetch_reveal(
                self._rpc,
                config,
                self._gateway,
                key,
                remaining_ms=remaining_ms,
                committed_at=seen.timestamp() if seen is not None else None,
            )
            ixs = reveal_and_select(
                config, self._config.program_id, address, key, prepared.account, prepared.response, dev
            )
        return await self._send(pool_id, "select_winner", ixs, remaining_ms)

    async def _close_randomness(self, pool_id: int, read: PoolRead, remaining_ms: RemainingMs) -> ActResult:
        """After the payout the randomness account is only rent: close it back to the DEV wallet."""
        assert read.observed is not None
        key = read.observed.pool.randomness_account
        account = read.randomness
        if account is None:
            return ActResult(Progress.DONE)  # gone already
        if account.lut_slot is None:
            return ActResult(Progress.FAILED, error=f"randomness {key}: short account, no lut_slot to close")
        ix = randomness_close(self._config.switchboard, key, self._dev.pubkey(), account.lut_slot)
        return await self._send(pool_id, "randomness_close", [ix], remaining_ms)
