"""What the player remembers between commands (`.local/player.json`): wallets by name, the test mint, the
fee wallets it made up, and the pools it created, so later commands can say `w2` or `p1`.

The file holds secret keys of throw-away local wallets; it is written owner-only all the same.
"""

from __future__ import annotations

import json
import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from solders.keypair import Keypair
from solders.pubkey import Pubkey


class UnknownName(Exception):
    """A wallet or pool name the state file does not know."""


@dataclass(frozen=True)
class TestMint:
    address: Pubkey
    decimals: int
    token_program: Pubkey


@dataclass
class PlayerState:
    path: Path
    wallets: dict[str, Keypair] = field(default_factory=dict)
    fee_wallets: dict[str, Keypair] = field(default_factory=dict)  # "dev", "treasury": made up when not given
    mint: TestMint | None = None
    pools: dict[str, Pubkey] = field(default_factory=dict)

    @classmethod
    def load(cls, path: Path) -> PlayerState:
        if not path.exists():
            return cls(path)
        raw: dict[str, Any] = json.loads(path.read_text(encoding="utf-8"))
        mint = raw.get("mint")
        return cls(
            path=path,
            wallets={name: Keypair.from_base58_string(key) for name, key in raw.get("wallets", {}).items()},
            fee_wallets={
                name: Keypair.from_base58_string(key) for name, key in raw.get("fee_wallets", {}).items()
            },
            mint=None
            if mint is None
            else TestMint(
                Pubkey.from_string(mint["address"]),
                int(mint["decimals"]),
                Pubkey.from_string(mint["token_program"]),
            ),
            pools={name: Pubkey.from_string(address) for name, address in raw.get("pools", {}).items()},
        )

    def save(self) -> None:
        raw = {
            "wallets": {name: str(key) for name, key in self.wallets.items()},
            "fee_wallets": {name: str(key) for name, key in self.fee_wallets.items()},
            "mint": None
            if self.mint is None
            else {
                "address": str(self.mint.address),
                "decimals": self.mint.decimals,
                "token_program": str(self.mint.token_program),
            },
            "pools": {name: str(address) for name, address in self.pools.items()},
        }
        self.path.parent.mkdir(parents=True, exist_ok=True)
        partial = self.path.with_suffix(".tmp")
        partial.write_text(json.dumps(raw, indent=2) + "\n", encoding="utf-8")
        partial.chmod(0o600)
        # Replace in one step: an interrupted write never leaves a half file that loses the wallets' keys.
        os.replace(partial, self.path)

    def wallet(self, name: str) -> Keypair:
        try:
            return self.wallets[name]
        except KeyError:
            known = ", ".join(self.wallets) or "none; run `wallets N` first"
            raise UnknownName(f"unknown wallet {name!r} (known: {known})") from None

    def fee_wallet(self, role: str) -> Keypair:
        """The made-up dev or treasury wallet, created on first use."""
        return self.fee_wallets.setdefault(role, Keypair())

    def pool(self, name_or_address: str) -> Pubkey:
        if name_or_address in self.pools:
            return self.pools[name_or_address]
        try:
            return Pubkey.from_string(name_or_address)
        except ValueError:
            known = ", ".join(self.pools) or "none yet"
            raise UnknownName(
                f"{name_or_address!r} is neither a pool name ({known}) nor an address"
            ) from None

    def add_pool(self, address: Pubkey) -> str:
        name = f"p{len(self.pools) + 1}"
        self.pools[name] = address
        return name

    def require_mint(self) -> TestMint:
        if self.mint is None:
            raise UnknownName("no test mint yet; run `mint` first")
        return self.mint
