"""The verifier's parts where the local chain cannot produce the case: a node that misreports the
lookup-table keys, the pool configuration policy, the age window's edges, signature parsing."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta

import pytest
from solders.keypair import Keypair
from solders.message import MessageV0
from solders.pubkey import Pubkey
from solders.rpc.responses import GetTransactionResp
from solders.signature import Signature
from solders.transaction_status import UiLoadedAddresses

from missout.chain.verify import (
    AgeWindow,
    ConfigRejectReason,
    RejectReason,
    VerificationFailed,
    check_pool_config,
    parse_signature,
    verify_create_pool,
    verify_join_pool,
)
from missout.chain.verify.transaction_view import resolve_account_keys
from missout.chain.verify.window import require_within_window
from tests.support.verify_world import ENTRY, POLICY, VerifyWorld, verify_world


@pytest.fixture
async def world() -> AsyncIterator[VerifyWorld]:
    async with verify_world() as opened:
        yield opened


def _join_through_table(world: VerifyWorld) -> tuple[Pubkey, MessageV0, str]:
    _, pool = world.create_pool()
    keys = world.keys(pool)
    table = world.lookup_table([pool, keys.vault])
    ix = world.join_ix(pool, world.player.pubkey())
    message = MessageV0.try_compile(world.player.pubkey(), [ix], [table], world.chain.latest_blockhash())
    signature = world.send([ix], [world.player], lookup_tables=[table])
    return pool, message, signature


async def test_lookup_keys_follow_the_static_keys_writable_first(world: VerifyWorld) -> None:
    pool, message, _ = _join_through_table(world)
    table_addresses = [pool, world.keys(pool).vault]
    # What a node reports: the table's entries at the message's writable indexes, in that order.
    loaded = [table_addresses[i] for i in bytes(message.address_table_lookups[0].writable_indexes)]

    keys = resolve_account_keys(message, UiLoadedAddresses(writable=loaded, readonly=[]))

    assert list(keys) == [*message.account_keys, *loaded]
    pool_index = bytes(message.instructions[0].accounts)[1]  # join_pool: pool is account 1
    assert keys[pool_index] == pool


async def test_lookup_keys_missing_from_the_metadata_are_unresolvable(world: VerifyWorld) -> None:
    pool, message, _ = _join_through_table(world)

    with pytest.raises(VerificationFailed) as missing:
        resolve_account_keys(message, None)
    with pytest.raises(VerificationFailed) as short:
        resolve_account_keys(message, UiLoadedAddresses(writable=[pool], readonly=[]))

    assert missing.value.reason is RejectReason.UNRESOLVABLE_LOOKUP_KEYS
    assert short.value.reason is RejectReason.UNRESOLVABLE_LOOKUP_KEYS


class _NodeDroppingLoadedAddresses:
    """Answers from the real chain, minus `meta.loadedAddresses` (as a node with a bug might)."""

    def __init__(self, world: VerifyWorld) -> None:
        self.world = world

    async def get_transaction(self, signature: Signature) -> GetTransactionResp:
        honest = await self.world.fetcher.get_transaction(signature)
        body = json.loads(honest.to_json())
        body["result"]["meta"]["loadedAddresses"] = {"writable": [], "readonly": []}
        tampered = GetTransactionResp.from_json(json.dumps(body))
        assert isinstance(tampered, GetTransactionResp)
        return tampered


async def test_join_through_a_table_with_unresolvable_keys_is_refused(world: VerifyWorld) -> None:
    pool, _, signature = _join_through_table(world)

    with pytest.raises(VerificationFailed) as caught:
        await verify_join_pool(
            signature,
            pool=world.keys(pool),
            wallet=world.player.pubkey(),
            amount=ENTRY,
            config=world.config,
            fetcher=_NodeDroppingLoadedAddresses(world),
            clock=world.now,
        )

    assert caught.value.reason is RejectReason.UNRESOLVABLE_LOOKUP_KEYS


async def test_foreign_pool_config_is_reported_field_by_field(world: VerifyWorld) -> None:
    signature, pool = world.create_pool(
        dev_wallet=Keypair().pubkey(),
        treasury_wallet=Keypair().pubkey(),
        dev_fee_bps=9_000,
        burn_fee_bps=0,
        treasury_fee_bps=1_000,
        allow_mock=True,
    )
    verified = await verify_create_pool(
        signature,
        pool=pool,
        wallet=world.creator.pubkey(),
        amount=None,
        config=world.config,
        fetcher=world.fetcher,
        clock=world.now,
    )

    violations = check_pool_config(verified.instruction.args, world.config, POLICY)

    assert [v.reason for v in violations] == [
        reason for reason in ConfigRejectReason if reason is not ConfigRejectReason.POT_OVERFLOW
    ]
    assert "9000" in violations[2].detail


def test_mock_pools_pass_when_the_policy_allows_them(world: VerifyWorld) -> None:
    args = world.create_args(allow_mock=True)
    devnet = type(POLICY)(POLICY.dev_fee_bps, POLICY.burn_fee_bps, POLICY.treasury_fee_bps, allow_mock=True)

    assert check_pool_config(args, world.config, devnet) == ()


def test_age_window_edges() -> None:
    now = datetime(2026, 1, 1, tzinfo=UTC)
    window = AgeWindow(max_age=timedelta(minutes=10), max_clock_skew=timedelta(seconds=30))
    oldest, newest = int((now - window.max_age).timestamp()), int((now + window.max_clock_skew).timestamp())

    assert require_within_window(oldest, now, window) == now - window.max_age
    assert require_within_window(newest, now, window) == now + window.max_clock_skew
    for block_time, reason in (
        (oldest - 1, RejectReason.TOO_OLD),
        (newest + 1, RejectReason.IN_THE_FUTURE),
        (None, RejectReason.NO_BLOCK_TIME),
    ):
        with pytest.raises(VerificationFailed) as caught:
            require_within_window(block_time, now, window)
        assert caught.value.reason is reason
    with pytest.raises(ValueError, match="timezone-aware"):
        require_within_window(oldest, now.replace(tzinfo=None), window)


def test_signature_round_trips_and_leading_zero_bytes_count() -> None:
    signature = Keypair().sign_message(b"x")
    zero_led = Signature.from_bytes(bytes(3) + bytes(signature)[3:])

    assert parse_signature(str(signature)) == signature
    assert parse_signature(str(zero_led)) == zero_led
    with pytest.raises(VerificationFailed) as caught:
        parse_signature("1" + str(zero_led))  # one more leading zero byte: 65 bytes
    assert caught.value.reason is RejectReason.MALFORMED_SIGNATURE
