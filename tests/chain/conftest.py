"""Shared fixtures for the chain codec tests: reference IDLs and a few fixed keys."""

from __future__ import annotations

from pathlib import Path

import pytest
from solders.pubkey import Pubkey

from missout.chain.program import ProgramCodec, codec_from_idl

REPO = Path(__file__).resolve().parents[2]
# The IDL the program had before its seed change, kept in the repository so its tests always run.
SEED_ERA_IDL = REPO / "docs" / "idl" / "ml-idl.seed-era.json"
LAYER_IDL = REPO / "layers" / "shared" / "missout" / "chain" / "idl" / "ml.json"


def key(byte: int) -> Pubkey:
    """A recognisable test key: 32 copies of one byte."""
    return Pubkey.from_bytes(bytes([byte]) * 32)


@pytest.fixture(scope="session")
def seed_era_codec() -> ProgramCodec:
    return codec_from_idl(SEED_ERA_IDL.read_text(encoding="utf-8"))
