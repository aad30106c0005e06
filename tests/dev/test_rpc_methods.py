"""Every JSON-RPC method through solana-py's real AsyncClient, in process (ASGI transport, no port)."""

from __future__ import annotations

import base64
from collections.abc import AsyncIterator

import httpx2
import pytest
from solana.rpc.async_api import AsyncClient
from solana.rpc.commitment import Confirmed, Finalized, Processed
from solana.rpc.core import RPCException
from solana.rpc.models import MemcmpOpts, TokenAccountOpts, TxOpts
from solders.instruction import Instruction
from solders.keypair import Keypair
from solders.message import MessageV0
from solders.pubkey import Pubkey
from solders.rpc.errors import SendTransactionPreflightFailureMessage, UnsupportedTransactionVersionMessage
from solders.system_program import TransferParams, transfer
from solders.transaction import VersionedTransaction
from solders.transaction_status import TransactionConfirmationStatus

from localnet.base58 import b58encode
from localnet.runtime import InvalidTransaction, LocalChain
from localnet.server import create_rpc_app
from localnet.spl_token import TOKEN_PROGRAM_ID
from localnet.transport import in_process_client
from tests.support.funded_chain import SOL
from tests.support.runtime_support import (
    ScriptedProgram,
    funded,
    make_mint,
    make_token_account,
    signed,
    token_transfer,
)


@pytest.fixture
def chain() -> LocalChain:
    return LocalChain(unix_timestamp=1_750_000_000)


@pytest.fixture
async def client(chain: LocalChain) -> AsyncIterator[AsyncClient]:
    rpc = in_process_client(create_rpc_app(chain))
    yield rpc
    await rpc.close()


def _transfer_tx(
    chain: LocalChain, payer: Keypair, lamports: int = SOL, *, v0: bool = False
) -> VersionedTransaction:
    ix = transfer(TransferParams(from_pubkey=payer.pubkey(), to_pubkey=Keypair().pubkey(), lamports=lamports))
    return signed(chain, payer, [ix], v0=v0)


def test_in_process_client_replaces_the_provider_session(chain: LocalChain) -> None:
    # Fails loudly if solana-py moves its private HTTP session (transport.py depends on it).
    rpc = in_process_client(create_rpc_app(chain))
    assert isinstance(rpc._provider.session, httpx2.AsyncClient)
    assert isinstance(rpc._provider.session._transport, httpx2.ASGITransport)


async def test_send_confirm_status_and_transaction(chain: LocalChain, client: AsyncClient) -> None:
    payer = funded(chain)
    tx = signed(
        chain,
        payer,
        [transfer(TransferParams(from_pubkey=payer.pubkey(), to_pubkey=Keypair().pubkey(), lamports=SOL))],
    )

    sent = await client.send_transaction(
        tx, opts=TxOpts(skip_confirmation=False, preflight_commitment=Confirmed)
    )
    statuses = await client.get_signature_statuses([sent.value, Keypair().sign_message(b"x")])
    fetched = await client.get_transaction(sent.value, encoding="json", commitment=Finalized)
    raw = await client.get_transaction(sent.value, encoding="base64")

    status = statuses.value[0]
    assert status is not None
    assert status.err is None
    assert status.confirmation_status == TransactionConfirmationStatus.Finalized
    assert statuses.value[1] is None
    assert fetched.value is not None
    assert fetched.value.block_time == 1_750_000_000
    meta = fetched.value.transaction.meta
    assert meta is not None
    assert meta.fee == 5_000
    assert meta.err is None
    assert meta.pre_balances[0] - meta.post_balances[0] == SOL + 5_000
    assert raw.value is not None
    assert raw.value.transaction.transaction.signatures[0] == sent.value


async def test_v0_transaction_needs_max_supported_version(chain: LocalChain, client: AsyncClient) -> None:
    payer = funded(chain)
    sent = await client.send_transaction(_transfer_tx(chain, payer, v0=True))

    with pytest.raises(RPCException) as refused:
        await client.get_transaction(sent.value)
    fetched = await client.get_transaction(sent.value, max_supported_transaction_version=0)

    assert isinstance(refused.value.args[0], UnsupportedTransactionVersionMessage)
    assert fetched.value is not None
    assert fetched.value.transaction.version == 0
    meta = fetched.value.transaction.meta
    assert meta is not None
    assert meta.loaded_addresses is not None
    assert meta.loaded_addresses.writable == []


async def test_preflight_failure_has_the_real_error_shape(chain: LocalChain, client: AsyncClient) -> None:
    payer = funded(chain, SOL)
    tx = _transfer_tx(chain, payer, 5 * SOL)

    with pytest.raises(RPCException) as failed:
        await client.send_transaction(tx)

    error = failed.value.args[0]
    assert isinstance(error, SendTransactionPreflightFailureMessage)
    assert (
        error.message
        == "Transaction simulation failed: Error processing Instruction 0: custom program error: 0x1"
    )
    assert error.data.logs is not None
    assert any("insufficient lamports" in line for line in error.data.logs)
    assert (await client.get_signature_statuses([tx.signatures[0]])).value[0] is None


async def test_skip_preflight_records_the_failure(chain: LocalChain, client: AsyncClient) -> None:
    program = ScriptedProgram()
    chain.register(program)
    payer = funded(chain)
    tx = signed(chain, payer, [program.instruction(payer.pubkey(), Keypair().pubkey(), b"write-then-fail")])

    sent = await client.send_raw_transaction(bytes(tx), opts=TxOpts(skip_preflight=True))
    fetched = await client.get_transaction(sent.value)

    assert fetched.value is not None
    meta = fetched.value.transaction.meta
    assert meta is not None
    assert meta.fee == 5_000
    assert meta.err is not None
    assert meta.log_messages is not None
    assert meta.log_messages[-1].endswith("custom program error: 0x1774")


async def test_base58_send_and_batch_requests(chain: LocalChain, client: AsyncClient) -> None:
    payer = funded(chain)
    tx = _transfer_tx(chain, payer)
    session = client._provider.session
    single = {"jsonrpc": "2.0", "id": 1, "method": "sendTransaction", "params": [b58encode(bytes(tx))]}
    batch = [{"jsonrpc": "2.0", "id": 2, "method": "getSlot"}, {"jsonrpc": "2.0", "id": 3, "method": "nope"}]

    sent = (await session.post("http://localnet.invalid/", json=single)).json()
    answers = (await session.post("http://localnet.invalid/", json=batch)).json()

    assert sent["result"] == str(tx.signatures[0])
    assert answers[0]["result"] == chain.clock.slot
    assert answers[1]["error"] == {"code": -32601, "message": "Method not found"}


async def test_simulate_transaction(chain: LocalChain, client: AsyncClient) -> None:
    payer = funded(chain)
    tx = _transfer_tx(chain, payer)

    simulated = await client.simulate_transaction(tx, sig_verify=True)
    replaced = await client.simulate_transaction(tx, replace_recent_blockhash=True)

    assert simulated.value.err is None
    assert simulated.value.units_consumed == 150
    assert replaced.value.replacement_blockhash is not None
    assert chain.get_balance(payer.pubkey()) == 10 * SOL  # nothing stuck
    assert len(chain.history) == 0


async def test_account_reads(chain: LocalChain, client: AsyncClient) -> None:
    wallet = funded(chain, 3 * SOL)
    mint = make_mint(chain, decimals=6)
    token = make_token_account(chain, mint, wallet.pubkey(), 2_500_000)
    missing = Keypair().pubkey()

    info = await client.get_account_info(token, commitment=Processed)
    sliced = await client.get_account_info(token, data_slice=None)
    many = await client.get_multiple_accounts([wallet.pubkey(), missing, mint])
    balance = await client.get_balance(wallet.pubkey())
    token_balance = await client.get_token_account_balance(token)
    by_mint = await client.get_token_accounts_by_owner(wallet.pubkey(), TokenAccountOpts(mint=mint))
    by_program = await client.get_token_accounts_by_owner(
        wallet.pubkey(), TokenAccountOpts(program_id=TOKEN_PROGRAM_ID)
    )
    rent = await client.get_minimum_balance_for_rent_exemption(165)

    assert info.value is not None
    assert info.value.owner == TOKEN_PROGRAM_ID
    assert len(info.value.data) == 165
    assert sliced.value is not None
    assert sliced.value.lamports == rent.value
    assert many.value[0] is not None
    assert many.value[0].lamports == 3 * SOL
    assert many.value[1] is None
    assert balance.value == 3 * SOL
    assert token_balance.value.amount == "2500000"
    assert token_balance.value.ui_amount_string == "2.5"
    assert [a.pubkey for a in by_mint.value] == [token] == [a.pubkey for a in by_program.value]


async def test_program_accounts_filters(chain: LocalChain, client: AsyncClient) -> None:
    mint = make_mint(chain)
    owner, other = Keypair().pubkey(), Keypair().pubkey()
    mine = make_token_account(chain, mint, owner, 1)
    make_token_account(chain, mint, other, 1)
    memcmp58 = MemcmpOpts(offset=32, bytes=str(owner))

    by_size = await client.get_program_accounts(TOKEN_PROGRAM_ID, filters=[165])
    by_owner = await client.get_program_accounts(TOKEN_PROGRAM_ID, filters=[165, memcmp58])
    mints = await client.get_program_accounts(TOKEN_PROGRAM_ID, filters=[82])
    session = client._provider.session
    memcmp64 = {
        "memcmp": {"offset": 32, "bytes": base64.b64encode(bytes(owner)).decode(), "encoding": "base64"}
    }
    request = {
        "method": "getProgramAccounts",
        "params": [str(TOKEN_PROGRAM_ID), {"filters": [memcmp64], "withContext": True, "encoding": "base64"}],
    }
    with_context = (
        await session.post("http://localnet.invalid/", json={"jsonrpc": "2.0", "id": 1, **request})
    ).json()

    assert len(by_size.value) == 2
    assert [a.pubkey for a in by_owner.value] == [mine]
    assert [a.pubkey for a in mints.value] == [mint]
    assert [a["pubkey"] for a in with_context["result"]["value"]] == [str(mine)]


async def test_token_balances_in_transaction_meta(chain: LocalChain, client: AsyncClient) -> None:
    payer = funded(chain)
    mint = make_mint(chain)
    source = make_token_account(chain, mint, payer.pubkey(), 1_000_000)
    dest = make_token_account(chain, mint, Keypair().pubkey(), 0)
    tx = signed(chain, payer, [token_transfer(source, mint, dest, payer.pubkey(), 250_000)])

    sent = await client.send_transaction(tx)
    fetched = (await client.get_transaction(sent.value)).value
    assert fetched is not None
    meta = fetched.transaction.meta

    assert meta is not None
    assert meta.pre_token_balances is not None
    assert meta.post_token_balances is not None
    post = {b.account_index: b for b in meta.post_token_balances}
    keys = list(tx.message.account_keys)
    dest_balance = post[keys.index(dest)]
    assert dest_balance.mint == mint
    assert dest_balance.program_id == TOKEN_PROGRAM_ID
    assert dest_balance.ui_token_amount.amount == "250000"
    assert dest_balance.ui_token_amount.decimals == 6
    assert {b.ui_token_amount.amount for b in meta.pre_token_balances} == {"1000000", "0"}


async def test_signatures_for_address_paging(chain: LocalChain, client: AsyncClient) -> None:
    payer = funded(chain, 100 * SOL)
    sent = [(await client.send_transaction(_transfer_tx(chain, payer))).value for _ in range(5)]

    newest = await client.get_signatures_for_address(payer.pubkey(), limit=2)
    older = await client.get_signatures_for_address(
        payer.pubkey(), before=newest.value[-1].signature, limit=10
    )
    bounded = await client.get_signatures_for_address(payer.pubkey(), until=sent[1])

    assert [s.signature for s in newest.value] == [sent[4], sent[3]]
    assert [s.signature for s in older.value] == [sent[2], sent[1], sent[0]]
    assert [s.signature for s in bounded.value] == [sent[4], sent[3], sent[2]]
    assert newest.value[0].block_time == 1_750_000_000
    assert newest.value[0].slot > newest.value[1].slot


async def test_chain_state_methods(chain: LocalChain, client: AsyncClient) -> None:
    payer = funded(chain)
    tx = _transfer_tx(chain, payer, v0=True)
    assert isinstance(tx.message, MessageV0)

    blockhash = await client.get_latest_blockhash(Finalized)
    slot = await client.get_slot()
    height = await client.get_block_height()
    epoch = await client.get_epoch_info()
    fee = await client.get_fee_for_message(tx.message)
    health = await client.is_connected()
    version = await client.get_version()
    airdrop = await client.request_airdrop(payer.pubkey(), SOL)
    await client.send_transaction(tx)
    fees = await client.get_recent_prioritization_fees([payer.pubkey()])

    assert blockhash.value.blockhash == chain.latest_blockhash() or len(chain.history) > 0
    assert blockhash.value.last_valid_block_height == height.value + 150
    assert slot.value == epoch.value.absolute_slot
    assert height.value == epoch.value.block_height
    assert slot.value != height.value
    assert fee.value == 5_000
    assert health is True
    assert version.value.solana_core
    assert (await client.get_signature_statuses([airdrop.value])).value[0] is not None
    assert chain.get_balance(payer.pubkey()) == 10 * SOL + SOL - SOL - 5_000
    assert [f.prioritization_fee for f in fees.value] == [0, 0]


async def test_rejections_through_the_client(chain: LocalChain, client: AsyncClient) -> None:
    payer = funded(chain)
    tx = _transfer_tx(chain, payer)
    await client.send_transaction(tx)

    with pytest.raises(RPCException) as duplicate:
        await client.send_transaction(tx)
    stale = _transfer_tx(chain, payer)
    chain.advance_slots(151)
    with pytest.raises(RPCException) as expired:
        await client.send_transaction(stale)
    skipped = await client.send_transaction(stale, opts=TxOpts(skip_preflight=True))

    assert "already been processed" in duplicate.value.args[0].message
    assert expired.value.args[0].message == "Transaction simulation failed: Blockhash not found"
    assert (await client.get_signature_statuses([skipped.value])).value[0] is None  # never lands


async def test_invalid_params_and_parse_errors(client: AsyncClient) -> None:
    session = client._provider.session

    bad_key = await session.post(
        "http://localnet.invalid/",
        json={"jsonrpc": "2.0", "id": 1, "method": "getBalance", "params": ["nope"]},
    )
    no_params = await session.post(
        "http://localnet.invalid/", json={"jsonrpc": "2.0", "id": 2, "method": "getBalance"}
    )
    garbage = await session.post("http://localnet.invalid/", content=b"{not json")

    assert bad_key.json()["error"] == {"code": -32602, "message": "Invalid param: Invalid"}
    assert no_params.json()["error"]["code"] == -32602
    assert garbage.json()["error"] == {"code": -32700, "message": "Parse error"}
    with pytest.raises(RPCException) as not_token:
        await client.get_token_account_balance(Pubkey.default())
    assert not_token.value.args[0].message == "Invalid param: not a Token account"


async def test_control_endpoints_move_the_clock(chain: LocalChain, client: AsyncClient) -> None:
    session = client._provider.session
    start = chain.clock.slot

    moved = (
        await session.post("http://localnet.invalid/localnet/advance", json={"slots": 3000, "seconds": 600})
    ).json()
    clock = (await session.get("http://localnet.invalid/localnet/clock")).json()
    warped = (
        await session.post("http://localnet.invalid/localnet/warp", json={"unixTimestamp": 1_900_000_000})
    ).json()

    assert moved["slot"] == start + 3000 == clock["slot"]
    assert clock["unixTimestamp"] == 1_750_000_600
    assert warped["unixTimestamp"] == 1_900_000_000 == chain.clock.unix_timestamp


def _sized_tx(chain: LocalChain, payer: Keypair, size: int) -> VersionedTransaction:
    """A signed transaction of exactly `size` bytes: one instruction whose data fills it up."""
    program = Pubkey.new_unique()
    for data_len in range(size, 0, -1):
        tx = signed(chain, payer, [Instruction(program, bytes(data_len), [])])
        if len(bytes(tx)) == size:
            return tx
    raise AssertionError(f"no transaction of {size} bytes")


async def test_the_packet_limit_is_enforced_like_agave(chain: LocalChain, client: AsyncClient) -> None:
    payer = funded(chain)
    session = client._provider.session
    largest, one_over, far_over = (_sized_tx(chain, payer, n) for n in (1232, 1233, 1400))

    def call(method: str, tx: VersionedTransaction, encoding: str) -> dict[str, object]:
        raw = bytes(tx)
        text = base64.b64encode(raw).decode() if encoding == "base64" else b58encode(raw)
        return {"jsonrpc": "2.0", "id": 1, "method": method, "params": [text, {"encoding": encoding}]}

    decoded = await session.post("http://localnet.invalid/", json=call("sendTransaction", one_over, "base64"))
    encoded = await session.post(
        "http://localnet.invalid/", json=call("simulateTransaction", far_over, "base64")
    )
    base58 = await session.post("http://localnet.invalid/", json=call("sendTransaction", far_over, "base58"))
    with pytest.raises(RPCException) as through_client:
        await client.send_transaction(far_over)
    with pytest.raises(InvalidTransaction, match="1400 bytes"):
        chain.send_transaction(far_over)
    # One byte under the limit passes the size checks and fails only because its program does not exist.
    with pytest.raises(RPCException) as at_limit:
        await client.send_transaction(largest)

    kind = "solana_transaction::versioned::VersionedTransaction"
    assert decoded.json()["error"] == {
        "code": -32602,
        "message": f"decoded {kind} too large: 1233 bytes (max: 1232 bytes)",
    }
    assert encoded.json()["error"] == {
        "code": -32602,
        "message": f"base64 encoded {kind} too large: 1868 bytes (max: encoded/raw 1644/1232)",
    }
    assert base58.json()["error"]["code"] == -32602
    assert base58.json()["error"]["message"].startswith(f"base58 encoded {kind} too large: ")
    assert "(max: encoded/raw 1683/1232)" in base58.json()["error"]["message"]
    assert "too large" in str(through_client.value)
    assert "too large" not in str(at_limit.value)
    assert len(chain.history) == 0
    assert chain.get_balance(payer.pubkey()) == 10 * SOL
