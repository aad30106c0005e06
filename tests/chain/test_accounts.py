"""Pool and Participants decoding: round trips, documented offsets, seed era, garbage."""

from __future__ import annotations

import dataclasses
import struct
from datetime import UTC, datetime

import pytest

from missout.chain.accounts import (
    ParticipantsAccount,
    PoolAccount,
    PoolStatus,
    decode_participants,
    decode_pool,
    encode_participants,
    encode_pool,
)
from missout.chain.program import AccountDecodeError, ProgramCodec

from .conftest import key

# The struct format given in docs/program.md §2.1 for the latest Pool, discriminator included.
DOC_POOL_FORMAT = "<8sQ32s32s32s32sqqqqqqBqqQQQII32sHH32sH16s32sQBBBBB32sBQBqB32s32sB"


def sample_pool(**changes: object) -> PoolAccount:
    pool = PoolAccount(
        pool_id=14447576600794188205, salt=bytes(range(32)), mint=key(10), pool_token=key(11),
        creator=key(12), start_time=1_700_000_000, duration=604_800, expire_time=1_700_604_800,
        end_time=0, unlock_time=0, close_time=0, max_participants=5, lock_duration=600,
        lock_start_time=1_700_000_500, amount=20_000_000, total_amount=100_000_007,
        total_volume=100_000_007, total_joins=5, total_donations=1, dev_wallet=key(1), dev_fee_bps=500,
        burn_fee_bps=350, treasury_wallet=key(2), treasury_fee_bps=150,
        randomness=222146188002524544078196617713552433123, randomness_account=key(13),
        randomness_deadline_slot=300_003_000, bump=254, status=PoolStatus.LOCKED, paused=False, version=1,
        schema=1, config_hash=bytes([7]) * 32, allow_mock=True, randomness_commit_slot=300_000_000,
        initialized=True, last_join_time=1_700_000_500, status_reason=4, participants_account=key(14),
        winner=key(15), processing=False,
    )  # fmt: skip
    return dataclasses.replace(pool, **changes)  # type: ignore[arg-type]


def test_pool_round_trips() -> None:
    pool = sample_pool()
    data = encode_pool(pool)
    assert len(data) == 488
    assert decode_pool(data) == pool


def test_pool_bytes_sit_at_documented_offsets() -> None:
    data = encode_pool(sample_pool(status=PoolStatus.WINNER_SELECTED, paused=True))
    unpacked = struct.unpack(DOC_POOL_FORMAT, data)
    assert struct.calcsize(DOC_POOL_FORMAT) == 488
    assert unpacked[0] == bytes([241, 154, 109, 4, 17, 177, 109, 188])
    assert unpacked[1] == 14447576600794188205
    assert data[368] == 5  # status
    assert data[369] == 1  # paused
    assert int.from_bytes(data[311:327], "little") == 222146188002524544078196617713552433123
    assert data[455:487] == bytes(key(15))  # winner
    assert struct.unpack_from("<Q", data, 209)[0] == 20_000_000  # amount, unaligned after the u8 at 192


def test_pool_time_helpers_are_utc_aware() -> None:
    pool = sample_pool()
    assert pool.start_at == datetime(2023, 11, 14, 22, 13, 20, tzinfo=UTC)
    assert pool.lock_end_at == datetime.fromtimestamp(1_700_001_100, tz=UTC)
    assert pool.end_at is None  # 0 means unset on chain


def test_seed_era_pool_decodes_with_its_idl(seed_era_codec: ProgramCodec) -> None:
    pool = sample_pool(pool_token=None)
    data = encode_pool(pool, seed_era_codec)
    assert len(data) == 455
    assert data[336] == PoolStatus.LOCKED
    assert data[423:455] == bytes(key(15))
    decoded = decode_pool(data, seed_era_codec)
    assert decoded == pool
    assert decoded.pool_token is None
    with pytest.raises(AccountDecodeError, match="expected 488 bytes"):
        decode_pool(data)  # the latest codec refuses the old layout


@pytest.mark.parametrize(
    ("mutate", "message"),
    [
        (lambda d: d[:-1], "expected 488 bytes"),
        (lambda d: d + b"\0", "expected 488 bytes"),
        (lambda d: b"\0" * 8 + d[8:], "wrong discriminator"),
        (lambda d: d[:368] + b"\x09" + d[369:], "unknown variant"),
        (lambda d: d[:369] + b"\x02" + d[370:], "invalid bool"),
        (lambda d: b"", "expected 488 bytes"),
    ],
    ids=["short", "long", "discriminator", "status", "bool", "empty"],
)
def test_pool_garbage_is_rejected(mutate: object, message: str) -> None:
    data = encode_pool(sample_pool())
    assert callable(mutate)
    with pytest.raises(AccountDecodeError, match=message):
        decode_pool(mutate(data))


def test_participants_round_trip_and_meaningful_prefix() -> None:
    slots = tuple(key(i + 1) for i in range(3)) + tuple(key(0) for _ in range(17))
    participants = ParticipantsAccount(slots=slots, count=3)
    data = encode_participants(participants)
    assert len(data) == 649
    assert data[:8].hex() == "ae1c6be4a4fa53aa"
    assert data[648] == 3
    decoded = decode_participants(data)
    assert decoded == participants
    assert decoded.wallets == (key(1), key(2), key(3))


def test_participants_count_beyond_list_is_rejected() -> None:
    data = bytearray(encode_participants(ParticipantsAccount(slots=(key(0),) * 20, count=0)))
    data[648] = 21
    with pytest.raises(AccountDecodeError, match="exceeds"):
        decode_participants(bytes(data))


def test_participants_is_not_a_pool() -> None:
    data = encode_participants(ParticipantsAccount(slots=(key(0),) * 20, count=0))
    with pytest.raises(AccountDecodeError):
        decode_pool(data)
