"""The local DEV and treasury wallets of `make dev`: keypair files under `.local/wallets/`, made once.

The monitor signs cranks with the DEV key (in AWS it comes from a secret only the monitor can read); locally
it is this file. The player CLI creates pools with these public keys so the local monitor can crank them.
Files are the 64-byte JSON arrays `solana-keygen` writes, readable by the owner only.
"""

from __future__ import annotations

import json
import os
import secrets
from pathlib import Path

from solders.keypair import Keypair
from solders.pubkey import Pubkey

WALLET_DIR = Path(__file__).resolve().parents[1] / ".local" / "wallets"


def wallet_path(name: str, directory: Path = WALLET_DIR) -> Path:
    return directory / f"{name}.json"


def load_or_create(name: str, directory: Path = WALLET_DIR) -> Keypair:
    path = wallet_path(name, directory)
    if path.exists():
        return Keypair.from_bytes(bytes(json.loads(path.read_text())))
    keypair = Keypair()
    directory.mkdir(parents=True, exist_ok=True)
    partial = path.with_suffix(".partial")
    partial.write_text(json.dumps(list(bytes(keypair))))
    partial.chmod(0o600)
    os.replace(partial, path)  # a crash never leaves half a key behind
    return keypair


def existing_pubkey(name: str, directory: Path = WALLET_DIR) -> Pubkey | None:
    """The public key of a wallet `make dev` created, without creating one."""
    path = wallet_path(name, directory)
    if not path.exists():
        return None
    return Keypair.from_bytes(bytes(json.loads(path.read_text()))).pubkey()


def randomness_secret_path(directory: Path = WALLET_DIR) -> Path:
    """The local randomness secret (hex of 32 random bytes), made once: per-pool Switchboard randomness
    keypairs are derived from it, so it must stay the same across `make dev` runs."""
    path = directory / "randomness-secret.hex"
    if not path.exists():
        directory.mkdir(parents=True, exist_ok=True)
        partial = path.with_suffix(".partial")
        partial.write_text(secrets.token_hex(32))
        partial.chmod(0o600)
        os.replace(partial, path)
    return path
