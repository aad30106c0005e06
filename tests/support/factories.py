"""Rows for tests, written over the direct URL (set-up is not the code under test)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING, Any

from solders.keypair import Keypair
from solders.pubkey import Pubkey
from sqlalchemy import insert
from sqlalchemy.engine import Engine

from missout.chain.accounts import decode_participants, decode_pool
from missout.db.tables import mints, participants, pools
from missout.pools.records import ChainPool, CreateTransaction, MintInfo

if TYPE_CHECKING:
    from tests.support.pool_world import PoolWorld

_ALPHABET = "123456789ABCDEFGHJKLMNPQRSTUVWXYZabcdefghijkmnopqrstuvwxyz"


def key(n: int) -> str:
    """A distinct, valid base58 public key per number (deterministic, so failures are reproducible)."""
    return str(Pubkey(n.to_bytes(32, "big")))


def SIG(n: int) -> str:  # noqa: N802 - reads like a constant at call sites
    """A distinct, valid-looking base58 transaction signature per number."""
    digits = []
    value = n + 58**80
    while value:
        value, rest = divmod(value, 58)
        digits.append(_ALPHABET[rest])
    return "".join(reversed(digits))[:87]


MINT = key(7_000)


def insert_mint(engine: Engine, address: str = MINT, decimals: int = 6, symbol: str = "TEST") -> str:
    with engine.begin() as conn:
        conn.execute(
            insert(mints).values(address=address, token_program="spl-token", decimals=decimals, symbol=symbol)
        )
    return address


def insert_pool(engine: Engine, **overrides: Any) -> int:
    now = datetime.now(UTC)
    row: dict[str, Any] = {
        "pool_address": key(1_000),
        "mint": MINT,
        "creator_wallet": key(2_000),
        "entry_amount": 1_000_000,
        "max_participants": 5,
        "participants_count": 1,
        "lock_duration_seconds": 300,
        "status": "open",
        "total_amount": 1_000_000,
        "start_time": now - timedelta(minutes=1),
        "create_signature": SIG(1_000),
        "next_check_at": now - timedelta(seconds=1),
    }
    row.update(overrides)
    with engine.begin() as conn:
        return int(conn.execute(insert(pools).values(**row).returning(pools.c.id)).scalar_one())


def new_wallet() -> Keypair:
    return Keypair()


def insert_participant(engine: Engine, pool_id: int, wallet: str, seat: int | None, **overrides: Any) -> int:
    row: dict[str, Any] = {
        "pool_id": pool_id,
        "wallet": wallet,
        "seat": seat,
        "join_signature": SIG(5_000 + (seat or 0) + 100 * pool_id),
        "joined_at": datetime.now(UTC),
    }
    row.update(overrides)
    with engine.begin() as conn:
        return int(conn.execute(insert(participants).values(**row).returning(participants.c.id)).scalar_one())


def read_chain_pool(world: PoolWorld) -> ChainPool:
    """The pool as a chain read would give it: both accounts decoded by the program's codec, the vault's
    balance, and the world's current slot."""
    vault = world.chain.get(world.vault)
    return ChainPool(
        pool=decode_pool(world.pool_data()),
        participants=decode_participants(world.participants_data()),
        vault_balance=world.balance(world.vault, account=True) if vault is not None else 0,
        slot=world.chain.clock.slot,
    )


def world_mint(world: PoolWorld) -> MintInfo:
    return MintInfo(address=world.mint, decimals=6, token_program=world.token_program)


def create_transaction(world: PoolWorld, n: int = 1) -> CreateTransaction:
    """The create transaction's identity as the verifier reports it (the model runs no real transactions)."""
    clock = world.chain.clock
    return CreateTransaction(
        signature=SIG(90_000 + n),
        slot=clock.slot,
        block_time=datetime.fromtimestamp(clock.unix_timestamp, UTC),
    )
