"""Bitcoin-alphabet base58, the encoding Solana's JSON-RPC uses for instruction data and transactions.

solders only exposes base58 for fixed-size values (Pubkey, Signature, Hash), and no base58 package is
installed; the RPC surface needs it for arbitrary byte strings, so it lives here.
"""

from __future__ import annotations

ALPHABET = "123456789ABCDEFGHJKLMNPQRSTUVWXYZabcdefghijkmnopqrstuvwxyz"
_DIGIT_OF = {char: value for value, char in enumerate(ALPHABET)}


def b58encode(data: bytes) -> str:
    # Leading zero bytes carry no numeric value, so base58 spells each one as a leading "1".
    zeros = len(data) - len(data.lstrip(b"\0"))
    number = int.from_bytes(data, "big")
    digits: list[str] = []
    while number:
        number, remainder = divmod(number, 58)
        digits.append(ALPHABET[remainder])
    return "1" * zeros + "".join(reversed(digits))


def b58decode(text: str) -> bytes:
    """Raises ValueError on a character outside the alphabet (the RPC turns it into -32602)."""
    number = 0
    for char in text:
        digit = _DIGIT_OF.get(char)
        if digit is None:
            raise ValueError(f"invalid base58 character {char!r}")
        number = number * 58 + digit
    zeros = len(text) - len(text.lstrip("1"))
    body = number.to_bytes((number.bit_length() + 7) // 8, "big") if number else b""
    return b"\0" * zeros + body
