"""A local chain for the verifier tests: the modelled pool program, a mint, funded wallets with ATAs, the
backend's own instruction builders, and a fetcher that is the real solana-py `AsyncClient` talking to the
chain in process.

`RelayProgram` is a test-only modelled program standing in for a smart wallet / aggregator: it calls
another program through a CPI (really running the pool model, so tokens move) or only *records* a CPI
carrying someone else's instruction bytes (a spoof: nothing of ours runs). It can also sign for its own PDA
(`invoke_signed`), which is how a wallet that is not a transaction signer can be the `user` of a join.
"""

from __future__ import annotations

import json
import secrets
import struct
from collections.abc import AsyncIterator, Awaitable, Callable, Sequence
from contextlib import asynccontextmanager
from dataclasses import replace
from datetime import UTC, datetime
from typing import Any

import pytest
from solana.rpc.async_api import AsyncClient
from solana.rpc.commitment import Finalized
from solders.account import Account
from solders.address_lookup_table_account import (
    ID as ADDRESS_LOOKUP_TABLE_PROGRAM_ID,
)
from solders.address_lookup_table_account import (
    LOOKUP_TABLE_META_SIZE,
    AddressLookupTableAccount,
)
from solders.instruction import AccountMeta, Instruction
from solders.keypair import Keypair
from solders.message import Message, MessageV0
from solders.pubkey import Pubkey
from solders.rpc.responses import GetTransactionResp
from solders.signature import Signature
from solders.transaction import VersionedTransaction

from localnet.default_programs import register_default_programs
from localnet.model_api import AccountRef, AccountState, Clock, InnerInstruction, InvokeContext
from localnet.programs.pool import PoolProgram
from localnet.runtime import LocalChain
from localnet.server import create_rpc_app
from localnet.spl_token import (
    TOKEN_PROGRAM_ID,
    TokenAccount,
    get_associated_token_address,
    pack_token_account,
)
from localnet.transport import in_process_client
from missout.chain.addresses import SWITCHBOARD_DEVNET_PROGRAM_ID
from missout.chain.config import ProgramConfig
from missout.chain.instructions import (
    CreatePoolArgs,
    build_cancel_pool,
    build_claim_refund,
    build_claim_rent,
    build_create_pool,
    build_donate,
    build_join_pool,
)
from missout.chain.pda import find_pool_address
from missout.chain.pool_keys import PoolKeys
from missout.chain.program import shipped_codec
from missout.chain.verify import PoolConfigPolicy, VerificationFailed
from tests.support.runtime_support import funded, make_mint

START = 1_750_000_000
ENTRY = 20_000_000  # the minimum entry at 6 decimals
WALLET_TOKENS = 1_000 * 10**6
FEES = (500, 350, 150)
POLICY = PoolConfigPolicy(dev_fee_bps=FEES[0], burn_fee_bps=FEES[1], treasury_fee_bps=FEES[2])
RELAY_WALLET_SEED = b"wallet"


class ClientFetcher:
    """`TransactionFetcher` over a plain `AsyncClient`, asking exactly what `RpcSession` asks."""

    def __init__(self, client: AsyncClient) -> None:
        self.client = client

    async def get_transaction(self, signature: Signature) -> GetTransactionResp:
        return await self.client.get_transaction(
            signature, encoding="base64", commitment=Finalized, max_supported_transaction_version=0
        )


class RewritingFetcher:
    """The real node's answer, rewritten: `rewrite` edits the JSON-RPC `result` object in place (as a
    buggy or hostile node might send it), and the answer is parsed again as solana-py would."""

    def __init__(self, inner: ClientFetcher, rewrite: Callable[[dict[str, Any]], None]) -> None:
        self.inner = inner
        self.rewrite = rewrite

    async def get_transaction(self, signature: Signature) -> GetTransactionResp:
        honest = await self.inner.get_transaction(signature)
        body = json.loads(honest.to_json())
        self.rewrite(body["result"])
        rewritten = GetTransactionResp.from_json(json.dumps(body))
        assert isinstance(rewritten, GetTransactionResp)
        return rewritten


class _CalleeContext:
    """The context a CPI'd program sees: its own id, accounts and data; the caller's staged state."""

    def __init__(
        self, outer: InvokeContext, program_id: Pubkey, accounts: list[AccountRef], data: bytes, pda: Pubkey
    ) -> None:
        self.program_id = program_id
        self.accounts = accounts
        self.data = data
        self.clock: Clock = outer.clock
        self._outer = outer
        self._pda = pda

    def get(self, key: Pubkey) -> AccountState | None:
        return self._outer.get(key)

    def put(self, key: Pubkey, state: AccountState | None) -> None:
        self._outer.put(key, state)

    def is_signer(self, key: Pubkey) -> bool:
        # invoke_signed: the caller signs for its own PDA.
        return key == self._pda or self._outer.is_signer(key)

    def log(self, message: str) -> None:
        self._outer.log(message)

    def emit_event(self, data: bytes) -> None:
        self._outer.emit_event(data)

    def record_cpi(self, inner: InnerInstruction, logs: list[str] | None = None) -> None:
        self._outer.record_cpi(inner, logs)

    def slot_hash(self, slot: int) -> bytes | None:
        return self._outer.slot_hash(slot)

    def minimum_balance(self, data_len: int) -> int:
        return self._outer.minimum_balance(data_len)


class RelayProgram:
    """Accounts: [callee program, *callee accounts]; data: b"R" + callee data. Calls the pool model for
    real when the callee is the pool program; for any other callee it only records the CPI. Any other
    data is accepted and ignored."""

    name = "relay"

    def __init__(self, pool_program: PoolProgram) -> None:
        self.program_id = Pubkey.new_unique()
        self.pool_program = pool_program
        self.pda, _ = Pubkey.find_program_address([RELAY_WALLET_SEED], self.program_id)

    def process(self, ctx: InvokeContext) -> None:
        if not ctx.data.startswith(b"R"):
            return  # anything else is accepted and ignored, like a program that does not check its input
        callee, accounts, data = ctx.accounts[0].pubkey, ctx.accounts[1:], ctx.data[1:]
        ctx.record_cpi(InnerInstruction(callee, tuple(ref.pubkey for ref in accounts), data))
        if callee == self.pool_program.program_id:
            self.pool_program.process(_CalleeContext(ctx, callee, accounts, data, self.pda))

    def wrap(self, instruction: Instruction, *, callee: Pubkey) -> Instruction:
        """`instruction`'s data and accounts sent through the relay to `callee` (the pool program: a real
        CPI; the relay's own id: a spoof). The relay's PDA loses its signer flag: only the relay signs
        for it."""
        metas = [
            AccountMeta(meta.pubkey, meta.is_signer and meta.pubkey != self.pda, meta.is_writable)
            for meta in instruction.accounts
        ]
        return Instruction(
            self.program_id, b"R" + bytes(instruction.data), [AccountMeta(callee, False, False), *metas]
        )


class VerifyWorld:
    def __init__(self, client: AsyncClient, chain: LocalChain, pool_program: PoolProgram) -> None:
        self.chain = chain
        self.fetcher = ClientFetcher(client)
        self.program_id = shipped_codec().default_program_id
        self.dev, self.treasury = Keypair(), Keypair()
        self.config = ProgramConfig(
            program_id=self.program_id,
            dev_wallet=self.dev.pubkey(),
            treasury_wallet=self.treasury.pubkey(),
            switchboard_program_id=SWITCHBOARD_DEVNET_PROGRAM_ID,
        )
        self.relay = RelayProgram(pool_program)
        chain.register(self.relay)
        self.mint = make_mint(chain)
        self.fund_ata(self.treasury.pubkey(), 0)  # claim_refund requires the treasury ATA to exist
        self.creator, self.player, self.other = self.wallet(), self.wallet(), self.wallet()
        self.fund_ata(self.relay.pda, WALLET_TOKENS)

    # -- setup ---------------------------------------------------------------------------------------

    def wallet(self) -> Keypair:
        wallet = funded(self.chain)
        self.fund_ata(wallet.pubkey(), WALLET_TOKENS)
        return wallet

    def ata(self, owner: Pubkey, mint: Pubkey | None = None) -> Pubkey:
        return get_associated_token_address(owner, mint or self.mint)

    def fund_ata(self, owner: Pubkey, amount: int, mint: Pubkey | None = None) -> Pubkey:
        """`owner`'s ATA for `mint` (default: the world's) holding `amount`, written straight into the chain
        (anyone can create any wallet's ATA, and this one is only set-up)."""
        key = self.ata(owner, mint)
        data = pack_token_account(TokenAccount(mint=mint or self.mint, owner=owner, amount=amount))
        self.chain.set_account(key, Account(self.chain.minimum_balance(len(data)), data, TOKEN_PROGRAM_ID))
        return key

    def lookup_table(self, addresses: Sequence[Pubkey]) -> AddressLookupTableAccount:
        """An active address lookup table written straight into the chain (no authority, never extended)."""
        key = Pubkey.new_unique()
        meta = struct.pack("<IQQB", 1, 2**64 - 1, 0, 0) + b"\x00"  # LookupTable, active, authority None
        data = meta.ljust(LOOKUP_TABLE_META_SIZE, b"\x00") + b"".join(bytes(a) for a in addresses)
        self.chain.set_account(
            key, Account(self.chain.minimum_balance(len(data)), data, ADDRESS_LOOKUP_TABLE_PROGRAM_ID)
        )
        return AddressLookupTableAccount(key, list(addresses))

    def now(self) -> datetime:
        """The chain's clock: verification runs "now" as the chain sees it."""
        return datetime.fromtimestamp(self.chain.clock.unix_timestamp, tz=UTC)

    def keys(self, pool: Pubkey) -> PoolKeys:
        return PoolKeys(pool, self.mint, TOKEN_PROGRAM_ID)

    # -- sending -------------------------------------------------------------------------------------

    def send(
        self,
        instructions: Sequence[Instruction],
        signers: Sequence[Keypair],
        *,
        lookup_tables: Sequence[AddressLookupTableAccount] = (),
        legacy: bool = False,
        preflight: bool = True,
    ) -> str:
        payer, blockhash = signers[0].pubkey(), self.chain.latest_blockhash()
        message = (
            Message.new_with_blockhash(list(instructions), payer, blockhash)
            if legacy
            else MessageV0.try_compile(payer, list(instructions), list(lookup_tables), blockhash)
        )
        record = self.chain.send_transaction(
            VersionedTransaction(message, list(signers)), preflight=preflight
        )
        return str(record.signature)

    def create_args(self, **changes: Any) -> CreatePoolArgs:
        args = CreatePoolArgs(
            salt=secrets.token_bytes(32),
            max_participants=3,
            lock_duration=600,
            amount=ENTRY,
            dev_wallet=self.config.dev_wallet,
            dev_fee_bps=FEES[0],
            burn_fee_bps=FEES[1],
            treasury_wallet=self.config.treasury_wallet,
            treasury_fee_bps=FEES[2],
            allow_mock=False,
        )
        return replace(args, **changes)

    def create_pool_ix(self, creator: Keypair, args: CreatePoolArgs) -> tuple[Instruction, Pubkey]:
        pool, _ = find_pool_address(self.program_id, self.mint, args.salt)
        return build_create_pool(self.program_id, self.mint, TOKEN_PROGRAM_ID, args, creator.pubkey()), pool

    def create_pool(self, creator: Keypair | None = None, **changes: Any) -> tuple[str, Pubkey]:
        wallet = creator or self.creator
        ix, pool = self.create_pool_ix(wallet, self.create_args(**changes))
        return self.send([ix], [wallet], legacy=True), pool

    def join_ix(self, pool: Pubkey, player: Pubkey, amount: int = ENTRY) -> Instruction:
        return build_join_pool(self.program_id, self.keys(pool), amount, player)

    def join(self, pool: Pubkey, player: Keypair) -> str:
        return self.send([self.join_ix(pool, player.pubkey())], [player])

    def donate_ix(self, pool: Pubkey, donor: Pubkey, amount: int) -> Instruction:
        return build_donate(self.program_id, self.keys(pool), amount, donor)

    def cancel(self, pool: Pubkey, creator: Keypair | None = None) -> str:
        wallet = creator or self.creator
        return self.send([build_cancel_pool(self.program_id, self.keys(pool), wallet.pubkey())], [wallet])

    def donate(self, pool: Pubkey, donor: Keypair, amount: int) -> str:
        return self.send([self.donate_ix(pool, donor.pubkey(), amount)], [donor])

    def refund_ix(self, pool: Pubkey, wallet: Pubkey) -> Instruction:
        return build_claim_refund(self.program_id, self.keys(pool), self.config.treasury_wallet, wallet)

    def refund(self, pool: Pubkey, wallet: Keypair) -> str:
        return self.send([self.refund_ix(pool, wallet.pubkey())], [wallet])

    def claim_rent_ix(self, pool: Pubkey, keys: PoolKeys | None = None) -> Instruction:
        """The creator's claim_rent; `keys` may name another mint/vault than the pool's (the program does
        not tie them to the pool, docs/program.md §9.2)."""
        creator = self.creator.pubkey()
        return build_claim_rent(self.program_id, keys or self.keys(pool), close_target=creator, user=creator)

    def claim_rent(self, pool: Pubkey) -> str:
        return self.send([self.claim_rent_ix(pool)], [self.creator])

    def cancelled_pool_with_player(self) -> Pubkey:
        """Created by `creator`, joined by `player`, then cancelled: both may claim refunds."""
        _, pool = self.create_pool()
        self.join(pool, self.player)
        self.cancel(pool)
        return pool


@asynccontextmanager
async def verify_world() -> AsyncIterator[VerifyWorld]:
    chain = LocalChain(seed=b"verify-tests", unix_timestamp=START)
    register_default_programs(chain, gateway_url="http://127.0.0.1:8899")
    pool_program = chain.programs[shipped_codec().default_program_id]
    assert isinstance(pool_program, PoolProgram)
    client = in_process_client(create_rpc_app(chain))
    try:
        yield VerifyWorld(client, chain, pool_program)
    finally:
        await client.close()


async def rejection(verification: Awaitable[Any]) -> VerificationFailed:
    """The typed refusal a verification ends in (the test fails if it is accepted or raises otherwise)."""
    with pytest.raises(VerificationFailed) as caught:
        await verification
    return caught.value
