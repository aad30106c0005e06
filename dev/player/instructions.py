"""The pool program's instructions, built from the IDL: account order, flags and PDAs all come from
`localnet.idl`, so a change to the IDL changes these builders with it."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from solders.instruction import AccountMeta, Instruction
from solders.pubkey import Pubkey

from localnet.idl import Idl, load_idl
from localnet.spl_token import get_associated_token_address

# (dev, burn, treasury) bps. The program hard-codes no split; these are the ones the backend's business rules
# assume (docs/original-backend.md §3.3: dev 500 / burn 350 / treasury 150 bps), so local pools look like
# real ones.
DEFAULT_FEES_BPS = (500, 350, 150)

IDL: Idl = load_idl()


def participants_address(pool: Pubkey) -> Pubkey:
    address, _ = IDL.find_pda(IDL.instruction("create_pool"), "participants", {"pool": pool}, {})
    return address


@dataclass(frozen=True)
class PoolAccounts:
    """The accounts every pool instruction names, derived once from the pool's mint and salt."""

    pool: Pubkey
    participants: Pubkey
    vault: Pubkey
    mint: Pubkey
    token_program: Pubkey

    @classmethod
    def derive(cls, mint: Pubkey, salt: bytes, token_program: Pubkey) -> PoolAccounts:
        pool, _ = IDL.find_pda(IDL.instruction("create_pool"), "pool", {"mint": mint}, {"salt": salt})
        return cls.of_existing(pool, mint, token_program)

    @classmethod
    def of_existing(cls, pool: Pubkey, mint: Pubkey, token_program: Pubkey) -> PoolAccounts:
        """For a pool already on chain: its address is known, only the other PDAs need deriving."""
        vault_seeds = {"pool": pool, "token_program": token_program, "mint": mint}
        vault, _ = IDL.find_pda(IDL.instruction("create_pool"), "pool_token", vault_seeds, {})
        return cls(pool, participants_address(pool), vault, mint, token_program)

    def token_account(self, owner: Pubkey) -> Pubkey:
        return get_associated_token_address(owner, self.mint, self.token_program)

    def keys_for(self, user: Pubkey) -> dict[str, Pubkey]:
        return {
            "mint": self.mint,
            "pool": self.pool,
            "pool_token": self.vault,
            "participants": self.participants,
            "token_program": self.token_program,
            "user": user,
            "user_token": self.token_account(user),
        }


@dataclass(frozen=True)
class PoolTerms:
    """create_pool's arguments other than the salt."""

    max_participants: int
    lock_duration: int
    entry_amount: int
    dev_wallet: Pubkey
    treasury_wallet: Pubkey
    fees_bps: tuple[int, int, int] = DEFAULT_FEES_BPS
    allow_mock: bool = False


def build_instruction(name: str, args: dict[str, Any], keys: dict[str, Pubkey]) -> Instruction:
    """`name` with its accounts in IDL order; fixed addresses (programs, sysvars) come from the IDL itself."""
    ix = IDL.instruction(name)
    metas = []
    for meta in ix.accounts:
        key = keys.get(meta.name) or meta.address
        if key is None:
            raise KeyError(f"{name}: no address for account {meta.name!r}")
        metas.append(AccountMeta(key, meta.signer, meta.writable))
    return Instruction(IDL.address, IDL.encode_instruction(name, args), metas)


def create_pool(accounts: PoolAccounts, creator: Pubkey, salt: bytes, terms: PoolTerms) -> Instruction:
    dev_bps, burn_bps, treasury_bps = terms.fees_bps
    args = {
        "salt": salt,
        "max_participants": terms.max_participants,
        "lock_duration": terms.lock_duration,
        "amount": terms.entry_amount,
        "dev_wallet": terms.dev_wallet,
        "dev_fee_bps": dev_bps,
        "burn_fee_bps": burn_bps,
        "treasury_wallet": terms.treasury_wallet,
        "treasury_fee_bps": treasury_bps,
        "allow_mock": terms.allow_mock,
    }
    return build_instruction("create_pool", args, accounts.keys_for(creator))


def join_pool(accounts: PoolAccounts, user: Pubkey, entry_amount: int) -> Instruction:
    return build_instruction("join_pool", {"amount": entry_amount}, accounts.keys_for(user))


def donate(accounts: PoolAccounts, user: Pubkey, amount: int) -> Instruction:
    return build_instruction("donate", {"amount": amount}, accounts.keys_for(user))


def cancel_pool(accounts: PoolAccounts, creator: Pubkey) -> Instruction:
    return build_instruction("cancel_pool", {}, accounts.keys_for(creator))


def claim_refund(accounts: PoolAccounts, user: Pubkey, treasury_wallet: Pubkey) -> Instruction:
    keys = {**accounts.keys_for(user), "treasury_token": accounts.token_account(treasury_wallet)}
    return build_instruction("claim_refund", {}, keys)
