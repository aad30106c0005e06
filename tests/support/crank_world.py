"""A local chain with the pool and Switchboard models, a DEV wallet, and full pools to crank, reached by the
backend through the real solana-py `AsyncClient` (in process, no port). Shared by the Switchboard client
tests and the durable-sender tests."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from solders.account import Account
from solders.instruction import Instruction
from solders.keypair import Keypair
from solders.message import MessageV0
from solders.pubkey import Pubkey
from solders.transaction import VersionedTransaction
from starlette.types import ASGIApp

from localnet.default_programs import register_default_programs
from localnet.runtime import LocalChain
from localnet.server import create_rpc_app
from localnet.spl_token import TOKEN_PROGRAM_ID, Mint, TokenAccount, pack_mint, pack_token_account
from localnet.transport import IN_PROCESS_URL, in_process_client
from missout.chain.accounts import PoolStatus, decode_pool
from missout.chain.instructions import CreatePoolArgs, build_create_pool, build_join_pool
from missout.chain.pda import associated_token_address, find_pool_address
from missout.chain.pool_keys import PoolKeys
from missout.chain.program import shipped_codec
from missout.chain.rpc import RpcPool, RpcPoolConfig, RpcSession

ENTRY = 20_000_000  # the program's minimum entry at 6 decimals
LOCK_SECONDS = 60
GATEWAY_URL = "http://gateway.localnet.invalid"
SOL = 1_000_000_000
PROGRAM_ID = shipped_codec().default_program_id


class CrankWorld:
    def __init__(self, seed: bytes, gateway_url: str = GATEWAY_URL, *, oracles: int = 1) -> None:
        self.chain = LocalChain(seed=seed, unix_timestamp=1_800_000_000)
        register_default_programs(self.chain, gateway_url=gateway_url, oracles=oracles)
        self.app: ASGIApp = create_rpc_app(self.chain)
        self.dev = self.wallet()
        self.treasury = self.wallet()
        self.mint = Pubkey.new_unique()
        mint = pack_mint(Mint(mint_authority=None, supply=10**15, decimals=6))
        self.chain.set_account(
            self.mint, Account(self.chain.minimum_balance(len(mint)), mint, TOKEN_PROGRAM_ID)
        )
        self._salt = 0

    def wallet(self, lamports: int = 100 * SOL) -> Keypair:
        keypair = Keypair()
        self.chain.set_account(keypair.pubkey(), Account(lamports, b"", Pubkey.default()))
        return keypair

    def player(self) -> Keypair:
        keypair = self.wallet()
        token = pack_token_account(TokenAccount(mint=self.mint, owner=keypair.pubkey(), amount=1_000 * 10**6))
        ata = associated_token_address(keypair.pubkey(), self.mint, TOKEN_PROGRAM_ID)
        self.chain.set_account(ata, Account(self.chain.minimum_balance(len(token)), token, TOKEN_PROGRAM_ID))
        return keypair

    def submit(self, signer: Keypair, instructions: list[Instruction]) -> None:
        message = MessageV0.try_compile(signer.pubkey(), instructions, [], self.chain.latest_blockhash())
        record = self.chain.send_transaction(VersionedTransaction(message, [signer]))
        assert record.err is None, record.logs

    def full_pool(self, *, participants: int = 2, allow_mock: bool = False) -> Pubkey:
        """A pool of `participants` players, Locked, with its lock already elapsed (ready to unlock)."""
        self._salt += 1
        salt = self._salt.to_bytes(32, "little")
        players = [self.player() for _ in range(participants)]
        args = CreatePoolArgs(
            salt=salt,
            max_participants=participants,
            lock_duration=LOCK_SECONDS,
            amount=ENTRY,
            dev_wallet=self.dev.pubkey(),
            dev_fee_bps=500,
            burn_fee_bps=0,
            treasury_wallet=self.treasury.pubkey(),
            treasury_fee_bps=100,
            allow_mock=allow_mock,
        )
        creator = players[0]
        self.submit(
            creator, [build_create_pool(PROGRAM_ID, self.mint, TOKEN_PROGRAM_ID, args, creator.pubkey())]
        )
        pool, _ = find_pool_address(PROGRAM_ID, self.mint, salt)
        keys = PoolKeys(pool, self.mint, TOKEN_PROGRAM_ID)
        for player in players[1:]:
            self.submit(player, [build_join_pool(PROGRAM_ID, keys, ENTRY, player.pubkey())])
        assert self.pool_status(pool) is PoolStatus.LOCKED
        self.chain.advance_time(LOCK_SECONDS + 1)
        self.chain.advance_slots(5)
        return pool

    def pool_status(self, pool: Pubkey) -> PoolStatus:
        account = self.chain.get_account(pool)
        assert account is not None
        return PoolStatus(decode_pool(bytes(account.data)).status)

    @asynccontextmanager
    async def rpc(self, app: ASGIApp | None = None) -> AsyncIterator[RpcSession]:
        """An `RpcSession` over one real `AsyncClient` wired into `app` (default: the chain's RPC app)."""
        pool = RpcPool([IN_PROCESS_URL], RpcPoolConfig(backoff_base_s=0.01, backoff_max_s=0.05))
        client = in_process_client(app or self.app)
        try:
            yield RpcSession(pool, [client])
        finally:
            await client.close()
