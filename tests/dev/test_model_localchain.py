"""The pool model inside the real runtime: create_pool and joins until Locked, as signed solders transactions
on LiteSVM through `LocalChain` (token accounts are real SPL bytes the real token program could use)."""

from __future__ import annotations

from solders.instruction import AccountMeta, Instruction
from solders.keypair import Keypair
from solders.message import MessageV0
from solders.pubkey import Pubkey
from solders.transaction import VersionedTransaction

from localnet.default_programs import register_default_programs
from localnet.idl import load_idl
from localnet.programs.pool_state import participants_address, pool_address
from localnet.runtime import LocalChain
from localnet.spl_token import TOKEN_PROGRAM_ID, get_associated_token_address, unpack_token_account
from tests.support.funded_chain import ENTRY, FundedChain
from tests.support.model_fakes import read_participants, read_pool

IDL = load_idl()


def _send(
    chain: LocalChain, payer: Keypair, name: str, args: dict[str, object], keys: dict[str, Pubkey]
) -> list[str]:
    metas = [
        AccountMeta(keys.get(meta.name) or meta.address or Pubkey.default(), meta.signer, meta.writable)
        for meta in IDL.instruction(name).accounts
    ]
    ix = Instruction(IDL.address, IDL.encode_instruction(name, args), metas)
    message = MessageV0.try_compile(payer.pubkey(), [ix], [], chain.latest_blockhash())
    record = chain.send_transaction(VersionedTransaction(message, [payer]))
    assert record.err is None, record.logs
    return record.logs


def test_create_and_join_until_locked_through_the_local_chain() -> None:
    chain = LocalChain(seed=b"model-localchain-test")
    register_default_programs(chain, gateway_url="http://127.0.0.1:8899")
    funded = FundedChain(chain)
    mint = funded.mint
    players = [funded.player(tokens=100 * 10**6) for _ in range(3)]

    salt = bytes([9]) * 32
    pool, _ = pool_address(IDL.address, mint, salt)
    participants, _ = participants_address(IDL.address, pool)
    vault = get_associated_token_address(pool, mint)
    creator = players[0]
    keys = {
        "mint": mint,
        "pool": pool,
        "pool_token": vault,
        "participants": participants,
        "token_program": TOKEN_PROGRAM_ID,
    }
    create_args = {
        "salt": salt,
        "max_participants": 3,
        "lock_duration": 60,
        "amount": ENTRY,
        "dev_wallet": Keypair().pubkey(),
        "dev_fee_bps": 500,
        "burn_fee_bps": 0,
        "treasury_wallet": Keypair().pubkey(),
        "treasury_fee_bps": 100,
        "allow_mock": True,
    }
    user_keys = {"user": creator.pubkey(), "user_token": get_associated_token_address(creator.pubkey(), mint)}
    logs = _send(chain, creator, "create_pool", create_args, {**keys, **user_keys})
    assert f"Program {IDL.address} invoke [1]" in logs
    assert "Program log: Instruction: CreatePool" in logs
    for player in players[1:]:
        joiner = {"user": player.pubkey(), "user_token": get_associated_token_address(player.pubkey(), mint)}
        logs = _send(chain, player, "join_pool", {"amount": ENTRY}, {**keys, **joiner})
    assert sum(line.startswith("Program data: ") for line in logs) == 5  # the locking join's five events

    pool_account = chain.get_account(pool)
    participants_account = chain.get_account(participants)
    vault_account = chain.get_account(vault)
    assert pool_account is not None
    assert participants_account is not None
    assert vault_account is not None
    state = read_pool(bytes(pool_account.data))
    assert (state["status"], state["status_reason"], state["total_amount"]) == (1, 4, 3 * ENTRY)
    assert pool_account.owner == IDL.address
    assert read_participants(bytes(participants_account.data))[1] == 3
    assert unpack_token_account(bytes(vault_account.data)).amount == 3 * ENTRY
