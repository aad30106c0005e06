"""Shared fixtures for the chain codec tests: reference IDLs and a few fixed keys."""

from __future__ import annotations

from pathlib import Path

import pytest
from solders.pubkey import Pubkey

from missout.chain.program import ProgramCodec, codec_from_idl

REFERENCE_DIR = Path("/work/shared/reference")
SEED_ERA_IDL = REFERENCE_DIR / "ml-idl.seed-era.json"
LAYER_IDL = Path(__file__).resolve().parents[3] / "layers/shared/missout/chain/idl/ml.json"


def key(byte: int) -> Pubkey:
    """A recognisable test key: 32 copies of one byte."""
    return Pubkey.from_bytes(bytes([byte]) * 32)


@pytest.fixture(scope="session")
def seed_era_codec() -> ProgramCodec:
    if not SEED_ERA_IDL.exists():
        pytest.skip("seed-era IDL not available")
    return codec_from_idl(SEED_ERA_IDL.read_text(encoding="utf-8"))
