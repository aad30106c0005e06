"""The Pool and Participants accounts as the player shows them, decoded through the IDL."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime

from solana.rpc.async_api import AsyncClient
from solders.pubkey import Pubkey

from localnet.spl_token import unpack_mint
from player.instructions import IDL, PoolAccounts, participants_address

# docs/program.md §2.3: why a pool is in its status.
STATUS_REASONS = {
    0: "",
    1: "expired",
    2: "paused",
    4: "max reached",
    5: "cancelled by creator",
    6: "admin closed",
}


class PoolNotFound(Exception):
    """No Pool account at the address (never created, or closed by claim_rent)."""


@dataclass(frozen=True)
class PoolView:
    address: Pubkey
    status: str
    status_reason: int
    mint: Pubkey
    creator: Pubkey
    entry_amount: int
    total_amount: int
    max_participants: int
    participants: tuple[Pubkey, ...]
    lock_duration: int
    lock_start_time: int
    dev_wallet: Pubkey
    treasury_wallet: Pubkey
    token_program: Pubkey
    decimals: int

    @property
    def lock_end_time(self) -> int | None:
        return self.lock_start_time + self.lock_duration if self.lock_start_time else None

    @property
    def accounts(self) -> PoolAccounts:
        return PoolAccounts.of_existing(self.address, self.mint, self.token_program)

    def summary(self) -> str:
        """One line: status, seats, pot and the lock window."""
        reason = STATUS_REASONS.get(self.status_reason, f"reason {self.status_reason}")
        status = f"{self.status} ({reason})" if reason else self.status
        lock = "lock not started"
        if self.lock_end_time is not None:
            lock = f"lock {_utc(self.lock_start_time)} -> {_utc(self.lock_end_time)}"
        return (
            f"status {status}, participants {len(self.participants)}/{self.max_participants}, "
            f"total {self.total_amount} (entry {self.entry_amount}), {lock}"
        )


def _utc(unix: int) -> str:
    return datetime.fromtimestamp(unix, UTC).strftime("%Y-%m-%d %H:%M:%SZ")


def decode_pool(
    address: Pubkey, pool_data: bytes, participants_data: bytes, mint_owner: Pubkey, mint_data: bytes
) -> PoolView:
    pool = IDL.decode_account("Pool", pool_data)
    roster = IDL.decode_account("Participants", participants_data)
    return PoolView(
        address=address,
        status=pool["status"],
        status_reason=pool["status_reason"],
        mint=pool["mint"],
        creator=pool["creator"],
        entry_amount=pool["amount"],
        total_amount=pool["total_amount"],
        max_participants=pool["max_participants"],
        participants=tuple(roster["list"][: roster["count"]]),
        lock_duration=pool["lock_duration"],
        lock_start_time=pool["lock_start_time"],
        dev_wallet=pool["dev_wallet"],
        treasury_wallet=pool["treasury_wallet"],
        token_program=mint_owner,
        decimals=unpack_mint(mint_data).decimals,
    )


async def fetch_pool(client: AsyncClient, address: Pubkey) -> PoolView:
    """The pool, its roster and its mint's token program (two round trips: the pool names its mint)."""
    pool_account = (await client.get_account_info(address)).value
    if pool_account is None or pool_account.owner != IDL.address:
        raise PoolNotFound(f"no pool account at {address}")
    mint = IDL.decode_account("Pool", bytes(pool_account.data))["mint"]
    roster_key = participants_address(address)
    roster_account, mint_account = (await client.get_multiple_accounts([roster_key, mint])).value
    if roster_account is None or mint_account is None:
        raise PoolNotFound(f"pool {address} has no participants account or mint")
    return decode_pool(
        address,
        bytes(pool_account.data),
        bytes(roster_account.data),
        mint_account.owner,
        bytes(mint_account.data),
    )
