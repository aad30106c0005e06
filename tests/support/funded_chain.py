"""A local chain with funded wallets and a mint: the set-up every chain test starts from.

One way to make a wallet with SOL, a mint (fixed supply, no mint or freeze authority: what `create_pool`
accepts, docs/program.md §3.1) and token accounts holding an amount, written straight into the chain's
accounts (set-up, not something under test). It works on both chains the tests use: the local runtime
(`localnet.runtime.LocalChain`, real transactions) and the model tests' `FakeChain`. `FundedChain` bundles
the usual case: one runtime chain, one mint, wallets and players on it. The worlds (`pool_world`,
`verify_world`, `crank_world`) build on this and keep only what is theirs.
"""

from __future__ import annotations

from solders.account import Account
from solders.keypair import Keypair
from solders.pubkey import Pubkey

from localnet.model_api import AccountState
from localnet.runtime import LocalChain
from localnet.spl_token import (
    TOKEN_PROGRAM_ID,
    Mint,
    TokenAccount,
    get_associated_token_address,
    pack_mint,
    pack_token_account,
    unpack_token_account,
)
from tests.support.model_fakes import FakeChain, rent_exempt

SOL = 1_000_000_000
ENTRY = 20_000_000  # the program's minimum entry at 6 decimals: 20 whole tokens (docs/program.md §3.1)
WALLET_TOKENS = 1_000 * 10**6  # what a player holds: 1 000 tokens at 6 decimals
SYSTEM_PROGRAM_ID = Pubkey.default()

Chain = LocalChain | FakeChain


def write_account(chain: Chain, key: Pubkey, data: bytes, owner: Pubkey, lamports: int | None = None) -> None:
    """An account as set-up writes it: rent-exempt unless `lamports` says otherwise."""
    if isinstance(chain, LocalChain):
        balance = chain.minimum_balance(len(data)) if lamports is None else lamports
        chain.set_account(key, Account(balance, data, owner))
    else:
        balance = rent_exempt(len(data)) if lamports is None else lamports
        chain.set(key, AccountState(balance, bytearray(data), owner))


def read_account(chain: Chain, key: Pubkey) -> bytes:
    if isinstance(chain, LocalChain):
        account = chain.get_account(key)
        assert account is not None, f"no account {key}"
        return bytes(account.data)
    state = chain.get(key)
    assert state is not None, f"no account {key}"
    return bytes(state.data)


def new_wallet(chain: Chain, lamports: int = 10 * SOL) -> Keypair:
    wallet = Keypair()
    write_account(chain, wallet.pubkey(), b"", SYSTEM_PROGRAM_ID, lamports)
    return wallet


def new_mint(
    chain: Chain, *, decimals: int = 6, supply: int = 10**15, token_program: Pubkey = TOKEN_PROGRAM_ID
) -> Pubkey:
    mint = Pubkey.new_unique()
    write_account(
        chain, mint, pack_mint(Mint(mint_authority=None, supply=supply, decimals=decimals)), token_program
    )
    return mint


def fund_tokens(
    chain: Chain,
    mint: Pubkey,
    owner: Pubkey,
    amount: int,
    *,
    token_program: Pubkey = TOKEN_PROGRAM_ID,
    at: Pubkey | None = None,
) -> Pubkey:
    """A token account of `owner` for `mint` holding `amount`: at `at`, or else the owner's ATA."""
    key = at or get_associated_token_address(owner, mint, token_program)
    write_account(
        chain, key, pack_token_account(TokenAccount(mint=mint, owner=owner, amount=amount)), token_program
    )
    return key


def token_balance(chain: Chain, account: Pubkey) -> int:
    return unpack_token_account(read_account(chain, account)).amount


class FundedChain:
    """A runtime chain with one mint; wallets (SOL only) and players (SOL and tokens) on it."""

    def __init__(
        self, chain: LocalChain, *, decimals: int = 6, token_program: Pubkey = TOKEN_PROGRAM_ID
    ) -> None:
        self.chain = chain
        self.token_program = token_program
        self.mint = new_mint(chain, decimals=decimals, token_program=token_program)

    def wallet(self, lamports: int = 10 * SOL) -> Keypair:
        return new_wallet(self.chain, lamports)

    def player(self, tokens: int = WALLET_TOKENS, lamports: int = 10 * SOL) -> Keypair:
        """A wallet with SOL and an ATA holding `tokens` of the mint."""
        wallet = self.wallet(lamports)
        self.fund_ata(wallet.pubkey(), tokens)
        return wallet

    def ata(self, owner: Pubkey, mint: Pubkey | None = None) -> Pubkey:
        return get_associated_token_address(owner, mint or self.mint, self.token_program)

    def fund_ata(self, owner: Pubkey, amount: int, mint: Pubkey | None = None) -> Pubkey:
        """`owner`'s ATA for `mint` (default: the chain's mint) holding `amount`."""
        return fund_tokens(self.chain, mint or self.mint, owner, amount, token_program=self.token_program)

    def token_balance(self, owner: Pubkey, mint: Pubkey | None = None) -> int:
        return token_balance(self.chain, self.ata(owner, mint))
