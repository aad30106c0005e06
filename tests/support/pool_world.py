"""A pool world for the model tests: the pool and Switchboard models on a `FakeChain` with a mint and funded
wallets (from `funded_chain`), and instruction builders that take account lists and flags from the IDL."""

from __future__ import annotations

from typing import Any

from solders.instruction import AccountMeta, Instruction
from solders.pubkey import Pubkey

from localnet.idl import load_idl
from localnet.programs.pool import PoolProgram
from localnet.programs.pool_state import participants_address, pool_address
from localnet.programs.switchboard import OracleGateway, SwitchboardProgram, switchboard_genesis
from localnet.spl_token import TOKEN_PROGRAM_ID, get_associated_token_address
from tests.support.funded_chain import (
    ENTRY,
    WALLET_TOKENS,
    fund_tokens,
    new_mint,
    new_wallet,
    read_account,
    token_balance,
)
from tests.support.model_fakes import FakeChain, FakeContext

__all__ = ["ENTRY", "PoolWorld"]
CHAIN_SEED = b"model-tests"


class PoolWorld:
    def __init__(
        self,
        *,
        max_participants: int = 3,
        allow_mock: bool = True,
        token_program: Pubkey = TOKEN_PROGRAM_ID,
        fees: tuple[int, int, int] = (500, 350, 150),
    ) -> None:
        self.chain = FakeChain()
        self.idl = load_idl()
        self.program = PoolProgram()
        self.switchboard = SwitchboardProgram(CHAIN_SEED)
        self.gateway = OracleGateway(CHAIN_SEED)
        genesis = switchboard_genesis(chain_seed=CHAIN_SEED, gateway_url="http://127.0.0.1:8899", now=0)
        self.chain.accounts.update(genesis.accounts)
        self.token_program = token_program
        self.max_participants, self.allow_mock, self.fees = max_participants, allow_mock, fees
        self.mint = new_mint(self.chain, token_program=token_program)
        self.dev, self.treasury = new_wallet(self.chain).pubkey(), new_wallet(self.chain).pubkey()
        self.players = [new_wallet(self.chain).pubkey() for _ in range(6)]
        self.creator = self.players[0]
        for wallet in (self.dev, self.treasury, *self.players):
            self.fund(wallet, 0 if wallet in (self.dev, self.treasury) else WALLET_TOKENS)
        self.salt = bytes(range(32))
        self.pool, _ = pool_address(self.program.program_id, self.mint, self.salt)
        self.participants, _ = participants_address(self.program.program_id, self.pool)
        self.vault = self.ata(self.pool)

    def ata(self, owner: Pubkey) -> Pubkey:
        return get_associated_token_address(owner, self.mint, self.token_program)

    def fund(self, wallet: Pubkey, amount: int) -> None:
        fund_tokens(self.chain, self.mint, wallet, amount, token_program=self.token_program)

    def balance(self, wallet_or_account: Pubkey, *, account: bool = False) -> int:
        return token_balance(self.chain, wallet_or_account if account else self.ata(wallet_or_account))

    def pool_data(self) -> bytes:
        return read_account(self.chain, self.pool)

    def participants_data(self) -> bytes:
        return read_account(self.chain, self.participants)

    def instruction(
        self,
        name: str,
        args: dict[str, Any] | None = None,
        *,
        signer: Pubkey,
        unsigned: bool = False,
        **overrides: Pubkey,
    ) -> Instruction:
        ix = self.idl.instruction(name)
        defaults: dict[str, Pubkey] = {
            "mint": self.mint,
            "pool": self.pool,
            "pool_token": self.vault,
            "participants": self.participants,
            "user": signer,
            "user_token": self.ata(signer),
            "treasury_token": self.ata(self.treasury),
            "dev_token": self.ata(self.dev),
            "token_program": self.token_program,
            "randomness": Pubkey.default(),
            "creator_wallet": self.creator,
            "close_target": self.creator,
        }
        metas = []
        for meta in ix.accounts:
            key = overrides.get(meta.name) or defaults.get(meta.name) or meta.address
            assert key is not None, f"no account for {name}.{meta.name}"
            metas.append(AccountMeta(key, meta.signer and not unsigned, meta.writable))
        return Instruction(self.program.program_id, self.idl.encode_instruction(name, args or {}), metas)

    def run(
        self, name: str, args: dict[str, Any] | None = None, *, signer: Pubkey, **overrides: Any
    ) -> FakeContext:
        return self.chain.run(self.program, self.instruction(name, args, signer=signer, **overrides))

    def create(self, **changes: Any) -> FakeContext:
        args = {
            "salt": self.salt,
            "max_participants": self.max_participants,
            "lock_duration": 600,
            "amount": ENTRY,
            "dev_wallet": self.dev,
            "dev_fee_bps": self.fees[0],
            "burn_fee_bps": self.fees[1],
            "treasury_wallet": self.treasury,
            "treasury_fee_bps": self.fees[2],
            "allow_mock": self.allow_mock,
        }
        args.update(changes)
        return self.run("create_pool", args, signer=self.creator)

    def fill(self) -> None:
        for player in self.players[1 : self.max_participants]:
            self.run("join_pool", {"amount": ENTRY}, signer=player)

    def to_unlocked(self) -> None:
        self.create()
        self.fill()
        self.chain.advance(seconds=600, slots=10)
        self.run("unlock_pool", signer=self.dev)

    def winner_pubkey(self) -> Pubkey:
        return Pubkey.from_bytes(self.pool_data()[455:487])

    def payout(self, signer: Pubkey | None = None) -> FakeContext:
        winner = self.winner_pubkey()
        return self.run(
            "payout_winner", signer=signer or self.dev, winner_token=self.ata(winner), winner_pubkey=winner
        )
