"""The MissOut pool program (`ml`, Anchor 0.31) modelled for the local chain.

`PoolProgram(idl=None, switchboard_id=SWITCHBOARD_DEVNET_ID, program_id=None)` is a `ModelledProgram`: its
`process(ctx)` runs one instruction the way the deployed program does (docs/program.md is the specification):
the `Instruction: <PascalName>` log line, argument decoding (102), Anchor account validation in Anchor's
order, the handler's checks in the program's order, token CPIs through `localnet.spl_token`, events, and the
account bytes written back on exit. Known bugs of the real program are reproduced and marked "Known bug" /
"Quirk" next to the code that reproduces them.

The instruction handlers live in `pool_entry` (create/join/donate/set_lock_duration), `pool_draw`
(unlock/request/select/payout) and `pool_close` (cancel/refund/rent/forfeit/pause/force_expire).
"""

from __future__ import annotations

from collections.abc import Callable

from solders.pubkey import Pubkey

from localnet.idl import Idl, IdlDecodeError, load_idl
from localnet.model_api import InvokeContext
from localnet.programs import pool_close, pool_draw, pool_entry
from localnet.programs.anchor import FRAMEWORK_ERRORS, Frame, Spec, anchor_error
from localnet.programs.switchboard import SWITCHBOARD_DEVNET_ID

Handler = Callable[[Frame], None]

INSTRUCTIONS: dict[str, tuple[dict[str, Spec], Handler]] = {
    "create_pool": (pool_entry.CREATE_POOL, pool_entry.create_pool),
    "join_pool": (pool_entry.JOIN_POOL, pool_entry.join_pool),
    "donate": (pool_entry.DONATE, pool_entry.donate),
    "set_lock_duration": (pool_entry.SET_LOCK_DURATION, pool_entry.set_lock_duration),
    "unlock_pool": (pool_draw.UNLOCK_POOL, pool_draw.unlock_pool),
    "request_randomness": (pool_draw.REQUEST_RANDOMNESS, pool_draw.request_randomness),
    "select_winner": (pool_draw.SELECT_WINNER, pool_draw.select_winner),
    "payout_winner": (pool_draw.PAYOUT_WINNER, pool_draw.payout_winner),
    "cancel_pool": (pool_close.CANCEL_POOL, pool_close.cancel_pool),
    "admin_close_pool": (pool_close.ADMIN_CLOSE_POOL, pool_close.admin_close_pool),
    "sweep_expired_pool": (pool_close.SWEEP_EXPIRED_POOL, pool_close.sweep_expired_pool),
    "claim_refund": (pool_close.CLAIM_REFUND, pool_close.claim_refund),
    "claim_rent": (pool_close.CLAIM_RENT, pool_close.claim_rent),
    "finalize_forfeited_pool": (pool_close.FINALIZE_FORFEITED_POOL, pool_close.finalize_forfeited_pool),
    "pause_pool": (pool_close.PAUSE_POOL, pool_close.pause_pool),
    "unpause_pool": (pool_close.UNPAUSE_POOL, pool_close.unpause_pool),
    "force_expire": (pool_close.FORCE_EXPIRE, pool_close.force_expire),
}


def _dispatch_error(name: str) -> Exception:
    code, message = FRAMEWORK_ERRORS[name]
    return anchor_error(name, code, message, account=None, origin=None)


class PoolProgram:
    """The pool program as a `ModelledProgram`."""

    name = "ml"

    def __init__(
        self,
        idl: Idl | None = None,
        switchboard_id: Pubkey = SWITCHBOARD_DEVNET_ID,
        program_id: Pubkey | None = None,
    ) -> None:
        self.idl = idl or load_idl()
        self.program_id = program_id or self.idl.address
        self.switchboard_id = switchboard_id
        _check_coverage(self.idl)

    def process(self, ctx: InvokeContext) -> None:
        if len(ctx.data) < 8:
            raise anchor_error(
                "InstructionMissing",
                100,
                "8 byte instruction identifier not provided",
                account=None,
                origin=None,
            )
        ix = self.idl.instruction_for(ctx.data)
        if ix is None:
            raise _dispatch_error("InstructionFallbackNotFound")
        ctx.log(f"Instruction: {ix.pascal_name}")
        frame = Frame(ctx, self.idl, ix, self.switchboard_id)
        try:
            frame.args = self.idl.decode_args(ix, ctx.data)
        except (IdlDecodeError, ValueError):
            raise _dispatch_error("InstructionDidNotDeserialize") from None
        specs, handler = INSTRUCTIONS[ix.name]
        frame.validate(specs)
        handler(frame)
        frame.write_back()


def _check_coverage(idl: Idl) -> None:
    """Refuse an IDL this model does not match: every instruction handled, account names in IDL order."""
    if set(idl.instructions) != set(INSTRUCTIONS):
        raise ValueError(
            f"IDL and model disagree on instructions: {set(idl.instructions) ^ set(INSTRUCTIONS)}"
        )
    for name, ix in idl.instructions.items():
        declared = list(INSTRUCTIONS[name][0])
        if declared != [meta.name for meta in ix.accounts]:
            raise ValueError(f"{name}: model accounts {declared} differ from the IDL's")
