"""Shared setup for the runtime and RPC tests: signed transactions and a tiny modelled program whose behaviour
each test chooses through the instruction data. Wallets, mints and token accounts come from `funded_chain`
(the names below are the ones these tests have always used)."""

from __future__ import annotations

from solders.hash import Hash
from solders.instruction import AccountMeta, Instruction
from solders.keypair import Keypair
from solders.message import Message, MessageV0
from solders.pubkey import Pubkey
from solders.transaction import VersionedTransaction
from spl.token.instructions import transfer_checked
from spl.token.models import TransferCheckedParams

from localnet.model_api import AccountState, InnerInstruction, InvokeContext, ProgramError
from localnet.runtime import LocalChain
from localnet.spl_token import TOKEN_PROGRAM_ID
from tests.support.funded_chain import SOL, SYSTEM_PROGRAM_ID, fund_tokens, new_mint, new_wallet


def funded(chain: LocalChain, lamports: int = 10 * SOL) -> Keypair:
    return new_wallet(chain, lamports)


def make_mint(chain: LocalChain, decimals: int = 6, program: Pubkey = TOKEN_PROGRAM_ID) -> Pubkey:
    return new_mint(chain, decimals=decimals, token_program=program)


def make_token_account(
    chain: LocalChain, mint: Pubkey, owner: Pubkey, amount: int, program: Pubkey = TOKEN_PROGRAM_ID
) -> Pubkey:
    """A token account at a fresh address (not the ATA), for tests that must not rely on derivation."""
    return fund_tokens(chain, mint, owner, amount, token_program=program, at=Pubkey.new_unique())


def token_transfer(source: Pubkey, mint: Pubkey, dest: Pubkey, owner: Pubkey, amount: int) -> Instruction:
    params = TransferCheckedParams(
        program_id=TOKEN_PROGRAM_ID,
        source=source,
        mint=mint,
        dest=dest,
        owner=owner,
        amount=amount,
        decimals=6,
    )
    return transfer_checked(params)


def signed(
    chain: LocalChain,
    payer: Keypair,
    instructions: list[Instruction],
    *,
    extra_signers: tuple[Keypair, ...] = (),
    v0: bool = False,
    blockhash: Hash | None = None,
) -> VersionedTransaction:
    recent = blockhash or chain.latest_blockhash()
    message: Message | MessageV0 = (
        MessageV0.try_compile(payer.pubkey(), instructions, [], recent)
        if v0
        else Message.new_with_blockhash(instructions, payer.pubkey(), recent)
    )
    return VersionedTransaction(message, [payer, *extra_signers])


class ScriptedProgram:
    """Instruction data picks the behaviour. Accounts: [payer (signer, writable), target (writable), ...].
    b"write": move 2_000_000 lamports from payer into a new 3-byte account at target, log, emit an event.
    b"write-then-fail": the same, then fail with Custom(6004).
    b"readonly-write": write to account 2, which the message marks readonly.
    b"cpi-outside": record a CPI naming a key that is not among the instruction's accounts.
    b"crash": raise an ordinary Python exception (a bug in a model)."""

    name = "scripted"

    def __init__(self) -> None:
        self.program_id = Pubkey.new_unique()

    def process(self, ctx: InvokeContext) -> None:
        payer, target = ctx.accounts[0].pubkey, ctx.accounts[1].pubkey
        if ctx.data == b"crash":
            raise KeyError("a bug")
        if ctx.data == b"readonly-write":
            other = ctx.accounts[2].pubkey
            state = ctx.get(other) or AccountState(0, bytearray(), SYSTEM_PROGRAM_ID)
            state.data = bytearray(b"x")
            ctx.put(other, state)
            return
        if ctx.data == b"cpi-outside":
            ctx.record_cpi(InnerInstruction(SYSTEM_PROGRAM_ID, (payer, Pubkey.new_unique()), b""))
            return
        payer_state = ctx.get(payer)
        assert payer_state is not None
        payer_state.lamports -= 2_000_000
        ctx.put(payer, payer_state)
        ctx.put(target, AccountState(2_000_000, bytearray(b"abc"), self.program_id))
        ctx.record_cpi(InnerInstruction(SYSTEM_PROGRAM_ID, (payer, target), b"\x00"))
        ctx.log("wrote target")
        ctx.emit_event(b"event!")
        if ctx.data == b"write-then-fail":
            raise ProgramError(custom=6004, log="AnchorError thrown in scripted.rs:1. Error Code: PoolFull.")

    def instruction(self, payer: Pubkey, target: Pubkey, action: bytes, *extra: AccountMeta) -> Instruction:
        accounts = [AccountMeta(payer, True, True), AccountMeta(target, False, True), *extra]
        if action == b"write" or action == b"write-then-fail":
            accounts.append(AccountMeta(SYSTEM_PROGRAM_ID, False, False))
        return Instruction(self.program_id, action, accounts)
