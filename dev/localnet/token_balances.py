"""`preTokenBalances` / `postTokenBalances`: one entry per SPL Token or Token-2022 account among a
transaction's keys, as RPC nodes report them."""

from __future__ import annotations

from collections.abc import Callable
from decimal import Decimal
from typing import Any

from solders.account import Account
from solders.pubkey import Pubkey

from localnet.spl_token import (
    ACCOUNT_TYPE_ACCOUNT,
    ACCOUNT_TYPE_OFFSET,
    TOKEN_ACCOUNT_LEN,
    TOKEN_PROGRAMS,
    unpack_mint,
    unpack_token_account,
)

AccountLoader = Callable[[Pubkey], Account | None]


def is_token_account(account: Account) -> bool:
    if account.owner not in TOKEN_PROGRAMS or len(account.data) < TOKEN_ACCOUNT_LEN:
        return False
    # Longer Token-2022 accounts say what they are at byte 165; a mint is never exactly 165 bytes.
    return len(account.data) == TOKEN_ACCOUNT_LEN or account.data[ACCOUNT_TYPE_OFFSET] == ACCOUNT_TYPE_ACCOUNT


def ui_token_amount(amount: int, decimals: int) -> dict[str, Any]:
    """The RPC's `uiTokenAmount`. `uiAmount` is a float because that is the wire format; the exact value is
    `amount` (a string of base units), which is what the backend reads."""
    exact = Decimal(amount).scaleb(-decimals)
    text = format(exact, "f")
    if "." in text:
        text = text.rstrip("0").rstrip(".")
    return {"amount": str(amount), "decimals": decimals, "uiAmount": float(exact), "uiAmountString": text}


def mint_decimals(mint: Pubkey, load: AccountLoader) -> int | None:
    account = load(mint)
    if account is None or account.owner not in TOKEN_PROGRAMS:
        return None
    try:
        return unpack_mint(bytes(account.data)).decimals
    except ValueError:
        return None


def token_balances(
    keys: list[Pubkey], accounts: list[Account | None], load: AccountLoader
) -> list[dict[str, Any]]:
    """`accounts[i]` is the state of `keys[i]` at the moment being described (before or after the
    transaction); `load` reads mints that are not among the keys."""
    by_key = dict(zip(keys, accounts, strict=True))
    balances: list[dict[str, Any]] = []
    for index, account in enumerate(accounts):
        if account is None or not is_token_account(account):
            continue
        try:
            token = unpack_token_account(bytes(account.data))
        except ValueError:
            continue
        decimals = mint_decimals(token.mint, lambda key: by_key[key] if key in by_key else load(key))
        if decimals is None:
            continue
        balances.append(
            {
                "accountIndex": index,
                "mint": str(token.mint),
                "owner": str(token.owner),
                "programId": str(account.owner),
                "uiTokenAmount": ui_token_amount(token.amount, decimals),
            }
        )
    return balances
