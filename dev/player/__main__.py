"""`python -m player <command>` (from `dev/`): play the pool lifecycle against the local chain.

python -m player wallets 3
python -m player mint --decimals 6
python -m player create --max 3 --lock 60 --creator w1
python -m player join p1 --as w2 --as w3
python -m player status p1
"""

from __future__ import annotations

import argparse
import asyncio
import os
import sys
from collections.abc import Sequence
from pathlib import Path

import httpx
from solana.exceptions import SolanaRpcException
from solana.rpc.async_api import AsyncClient
from solders.pubkey import Pubkey

from player import commands
from player.commands import Player
from player.pool_account import PoolNotFound
from player.sending import ActionFailed
from player.state import PlayerState, UnknownName

REPO = Path(__file__).resolve().parents[2]
FAILURES = (ActionFailed, UnknownName, PoolNotFound)


def _pubkey(text: str) -> Pubkey:
    try:
        return Pubkey.from_string(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"not a base58 public key: {text!r}") from None


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="python -m player", description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument(
        "--rpc", default="http://127.0.0.1:8899", help="the local chain (JSON-RPC and /localnet)"
    )
    parser.add_argument(
        "--api", default="http://127.0.0.1:3000", help="the local API that actions are reported to"
    )
    parser.add_argument(
        "--state", type=Path, default=REPO / ".local" / "player.json", help="wallets, mint, pools"
    )
    # The backend reads the same variables; a pool made with other fee wallets is not one it would crank.
    parser.add_argument("--dev-wallet", type=_pubkey, default=_env_pubkey("DEV_WALLET_PUBKEY"))
    parser.add_argument("--treasury", type=_pubkey, default=_env_pubkey("TREASURY_WALLET_PUBKEY"))
    sub = parser.add_subparsers(dest="command", required=True)

    wallets = sub.add_parser("wallets", help="create and fund test wallets w1..wN")
    wallets.add_argument("count", type=int)

    mint = sub.add_parser("mint", help="a test mint, with tokens in every known wallet")
    mint.add_argument("--decimals", type=int, default=6, choices=(6, 8, 9, 10))
    mint.add_argument("--token-2022", action="store_true")
    mint.add_argument("--tokens", type=int, default=1000, help="whole tokens per wallet")

    create = sub.add_parser("create", help="create_pool with the test mint")
    create.add_argument("--entry", type=int, help="entry in base units (default: the minimum, 20 tokens)")
    create.add_argument("--max", type=int, default=3, dest="max_participants")
    create.add_argument("--lock", type=int, default=60, help="lock duration in seconds")
    create.add_argument("--creator", default="w1")
    create.add_argument("--allow-mock", action="store_true", help="let the pool use mock randomness")

    join = sub.add_parser("join", help="join_pool with each wallet in turn")
    join.add_argument("pool", help="pool name (p1) or address")
    join.add_argument("--as", dest="names", action="append", required=True, metavar="WALLET")

    donate = sub.add_parser("donate", help="donate to a pool")
    donate.add_argument("pool")
    donate.add_argument("--as", dest="name", required=True, metavar="WALLET")
    donate.add_argument("--amount", type=int, required=True, help="base units")

    for name, text in (("cancel", "cancel_pool (creator only)"), ("claim-refund", "claim_refund")):
        action = sub.add_parser(name, help=text)
        action.add_argument("pool")
        action.add_argument("--as", dest="name", required=True, metavar="WALLET")

    status = sub.add_parser("status", help="decode and print the Pool account")
    status.add_argument("pool")

    advance = sub.add_parser("advance", help="move the local chain's clock forward")
    advance.add_argument("--seconds", type=int, default=0)
    advance.add_argument("--slots", type=int, default=0)
    return parser


def _env_pubkey(name: str) -> Pubkey | None:
    value = os.environ.get(name)
    return Pubkey.from_string(value) if value else None


async def run_command(args: argparse.Namespace, player: Player) -> None:
    match args.command:
        case "wallets":
            await commands.wallets(player, args.count)
        case "mint":
            await commands.mint(player, args.decimals, args.token_2022, args.tokens)
        case "create":
            await commands.create(
                player,
                entry=args.entry,
                max_participants=args.max_participants,
                lock=args.lock,
                creator=args.creator,
                allow_mock=args.allow_mock,
            )
        case "join":
            await commands.join(player, args.pool, args.names)
        case "donate":
            await commands.donate(player, args.pool, args.name, args.amount)
        case "cancel":
            await commands.cancel(player, args.pool, args.name)
        case "claim-refund":
            await commands.claim_refund(player, args.pool, args.name)
        case "status":
            await commands.status(player, args.pool)
        case "advance":
            await commands.advance(player, args.seconds, args.slots)
        case other:
            raise AssertionError(f"unhandled command {other}")


async def _main(args: argparse.Namespace) -> int:
    async with (
        AsyncClient(args.rpc) as client,
        httpx.AsyncClient(base_url=args.rpc) as control,
        httpx.AsyncClient(base_url=args.api) as api,
    ):
        player = Player(
            client,
            control,
            api,
            PlayerState.load(args.state),
            dev_wallet=args.dev_wallet,
            treasury_wallet=args.treasury,
        )
        try:
            await run_command(args, player)
        except FAILURES as exc:
            print(f"error: {exc}", file=sys.stderr)
            return 1
        except (SolanaRpcException, httpx.TransportError):
            # solana-py wraps its transport errors; either way the chain did not answer.
            print(
                f"error: no answer from the local chain at {args.rpc} (is `make dev` or "
                "`python -m localnet` running?)",
                file=sys.stderr,
            )
            return 2
    return 0


def main(argv: Sequence[str] | None = None) -> int:
    return asyncio.run(_main(build_parser().parse_args(argv)))


if __name__ == "__main__":
    sys.exit(main())
