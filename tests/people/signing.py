"""A wallet signing requests as a browser wallet would: ask the API for a nonce and its message, sign the
message's UTF-8 bytes with ed25519, send both back."""

from __future__ import annotations

from typing import Any

from solders.keypair import Keypair

from tests.api.chain_api import invoke


def nonce_message(wallet: Keypair, action: str) -> str:
    answer = invoke("GET", f"/api/wallets/{wallet.pubkey()}/nonce", query={"action": action})
    assert answer.status == 200, answer.body
    message = answer.body["message"]
    assert isinstance(message, str)
    return message


def sign(wallet: Keypair, message: str) -> str:
    return str(wallet.sign_message(message.encode("utf-8")))


def signed(signer: Keypair, action: str, **fields: Any) -> dict[str, Any]:
    """A body for a signed route: a fresh nonce's message, signed by `signer`, plus `fields`."""
    message = nonce_message(signer, action)
    return {"message": message, "signature": sign(signer, message), **fields}
