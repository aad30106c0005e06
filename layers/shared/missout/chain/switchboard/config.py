"""Which Switchboard On-Demand deployment the backend talks to, and the fixed addresses its instructions
name (docs/solana.md §1.2, §1.5). Filled from settings by the caller, never read from the environment here."""

from __future__ import annotations

import hashlib
from dataclasses import dataclass

from solders.pubkey import Pubkey

from missout.chain.addresses import SWITCHBOARD_DEVNET_PROGRAM_ID, SWITCHBOARD_MAINNET_PROGRAM_ID

SLOT_HASHES_SYSVAR = Pubkey.from_string("SysvarS1otHashes111111111111111111111111111")
WRAPPED_SOL_MINT = Pubkey.from_string("So11111111111111111111111111111111111111112")
ADDRESS_LOOKUP_TABLE_PROGRAM_ID = Pubkey.from_string("AddressLookupTab1e1111111111111111111111111")

DEVNET_QUEUE = Pubkey.from_string("EYiAmGSdsQTuCw413V5BzaruWuCCSDgTPtBGvLkXHbe7")
MAINNET_QUEUE = Pubkey.from_string("A43DyUGA7s8eXPxqEjJY6EBu1KKbNgfxF8h17VAHn13w")


def anchor_discriminator(namespace: str, name: str) -> bytes:
    """Anchor's 8-byte tag: `sha256("<namespace>:<name>")[:8]` ("global" for instructions, "account")."""
    return hashlib.sha256(f"{namespace}:{name}".encode()).digest()[:8]


@dataclass(frozen=True, slots=True)
class SwitchboardConfig:
    """The program id must be the one our pool program was built against (its `mainnet` feature decides),
    otherwise `request_randomness` fails with InvalidRandomnessAccount (docs/solana.md §1.5)."""

    program_id: Pubkey
    queue: Pubkey

    @classmethod
    def devnet(cls) -> SwitchboardConfig:
        return cls(SWITCHBOARD_DEVNET_PROGRAM_ID, DEVNET_QUEUE)

    @classmethod
    def mainnet(cls) -> SwitchboardConfig:
        return cls(SWITCHBOARD_MAINNET_PROGRAM_ID, MAINNET_QUEUE)
