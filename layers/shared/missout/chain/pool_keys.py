"""The three keys almost every instruction needs about a pool, and how to get them from the account."""

from __future__ import annotations

from dataclasses import dataclass

from solders.pubkey import Pubkey

from missout.chain.accounts import PoolAccount
from missout.chain.addresses import TOKEN_PROGRAM_ID
from missout.chain.pda import find_participants_address, token_program_of_vault, vault_address


@dataclass(frozen=True, slots=True)
class PoolKeys:
    address: Pubkey
    mint: Pubkey
    token_program: Pubkey  # legacy Token or Token-2022: decides every ATA, the vault included

    @classmethod
    def of(cls, address: Pubkey, pool: PoolAccount) -> PoolKeys:
        """Keys of a decoded pool; the token program is recovered from the stored vault key (seed-era
        pools, which have none, were legacy Token only)."""
        if pool.pool_token is None:
            return cls(address, pool.mint, TOKEN_PROGRAM_ID)
        return cls(address, pool.mint, token_program_of_vault(address, pool.mint, pool.pool_token))

    @property
    def vault(self) -> Pubkey:
        return vault_address(self.address, self.mint, self.token_program)

    def participants(self, program_id: Pubkey) -> Pubkey:
        return find_participants_address(program_id, self.address)
