"""The player CLI: its commands in process against the local chain (argument parsing included, output lines
checked), its API reports against routes that do or do not exist, and `python -m player` as a process against
`python -m localnet` on an ephemeral 127.0.0.1 port."""

from __future__ import annotations

import socket
import subprocess
import sys
from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import httpx
import pytest
from solders.pubkey import Pubkey
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from localnet.default_programs import register_default_programs
from localnet.runtime import LocalChain
from localnet.server import create_rpc_app
from localnet.transport import IN_PROCESS_URL, in_process_client
from player.__main__ import build_parser, run_command
from player.api_report import NOT_AVAILABLE, post_report
from player.commands import Player
from player.sending import ActionFailed
from player.state import PlayerState

REPO = Path(__file__).resolve().parents[2]


class Session:
    """A Player wired to an in-process chain and an API without routes; `lines` is everything it printed."""

    def __init__(self, player: Player) -> None:
        self.player = player
        self.lines: list[str] = []
        player.say = self.lines.append

    async def run(self, *argv: str) -> list[str]:
        start = len(self.lines)
        await run_command(build_parser().parse_args(list(argv)), self.player)
        return self.lines[start:]


@pytest.fixture
async def session(tmp_path: Path) -> AsyncIterator[Session]:
    chain = LocalChain(seed=b"player-cli-test", unix_timestamp=1_750_000_000)
    register_default_programs(chain, gateway_url="http://127.0.0.1:9")
    app = create_rpc_app(chain)
    client = in_process_client(app)
    control = httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url=IN_PROCESS_URL)
    api = httpx.AsyncClient(transport=httpx.ASGITransport(app=Starlette()), base_url="http://api.invalid")
    try:
        yield Session(Player(client, control, api, PlayerState.load(tmp_path / "player.json")))
    finally:
        await client.close()
        await control.aclose()
        await api.aclose()


async def test_wallets_mint_create_and_two_joins_lock_the_pool(session: Session) -> None:
    wallets = await session.run("wallets", "3")
    minted = await session.run("mint", "--decimals", "6")
    created = await session.run("create", "--max", "3", "--lock", "60", "--creator", "w1")
    joined = await session.run("join", "p1", "--as", "w2", "--as", "w3")
    status = await session.run("status", "p1")

    assert [line.split()[0] for line in wallets] == ["w1", "w2", "w3"]
    assert all(line.endswith(" 10 SOL") for line in wallets)
    assert minted[0].startswith("mint ")
    assert "(6 decimals, token program)" in minted[0]
    assert minted[1:] == [f"w{i} 1000000000 (1000 tokens)" for i in (1, 2, 3)]
    pool = session.player.state.pools["p1"]
    assert created[0].startswith(f"created pool p1 {pool} by w1; sig ")
    assert created[3] == "  status Open, participants 1/3, total 20000000 (entry 20000000), lock not started"
    assert created[4] == f"  {NOT_AVAILABLE}"
    assert joined[0].startswith("w2 joined p1; sig ")
    assert "status Open, participants 2/3, total 40000000" in joined[1]
    assert joined[3].startswith("w3 joined p1; sig ")
    assert "status Locked (max reached), participants 3/3, total 60000000" in joined[4]
    assert status[0].startswith(f"pool p1 {pool}: status Locked (max reached), participants 3/3")
    assert status[1] == "  participants: w1, w2, w3"


async def test_a_refused_action_names_the_program_error(session: Session) -> None:
    await session.run("wallets", "2")
    await session.run("mint")

    with pytest.raises(ActionFailed) as too_small:
        await session.run("create", "--entry", "1000000", "--max", "2")
    await session.run("create", "--max", "2")
    await session.run("join", "p1", "--as", "w2")
    with pytest.raises(ActionFailed) as full:
        await session.run("join", "p1", "--as", "w2")

    assert (
        str(too_small.value)
        == "w1 creating a pool refused: pool program error InvalidAmount (6029): Invalid amount"
    )
    assert "pool program error PoolUnavailableForJoin (6049)" in str(full.value)


async def test_cancel_refunds_and_clock(session: Session) -> None:
    await session.run("wallets", "2")
    await session.run("mint")
    await session.run("create", "--max", "3")
    await session.run("join", "p1", "--as", "w2")
    cancelled = await session.run("cancel", "p1", "--as", "w1")
    refunds = await session.run("claim-refund", "p1", "--as", "w2") + await session.run(
        "claim-refund", "p1", "--as", "w1"
    )
    clock = await session.run("advance", "--seconds", "60", "--slots", "5")

    assert "status Cancelled (cancelled by creator)" in cancelled[1]
    assert refunds[0].startswith("w2 got a refund of 20000000 (20 tokens) from p1, 0 burned; sig ")
    assert refunds[2].startswith("w1 got a refund of 19000000 (19 tokens) from p1, 1000000 burned; sig ")
    assert clock[0].startswith("clock advanced by 60 s and 5 slots: slot ")
    assert clock[0].endswith(f"unix time {1_750_000_000 + 60}")


def _api(status: int, body: dict[str, str], media_type: str = "application/json") -> httpx.AsyncClient:
    async def answer(request: Request) -> Response:
        return JSONResponse(body, status_code=status, media_type=media_type)

    app = Starlette(routes=[Route("/api/pools/{pool}/join", answer, methods=["POST"])])
    return httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://api.invalid")


def _closed_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


async def test_api_reports_say_what_the_api_answered() -> None:
    path, body = f"/api/pools/{Pubkey.default()}/join", {"signature": "s", "wallet": "w"}
    async with (
        _api(201, {"id": "1"}) as recorded,
        _api(404, {"type": "/problems/pool-not-found", "title": "Pool not found"}, PROBLEM) as refused,
        _api(404, {"type": "about:blank", "title": "Not found"}, PROBLEM) as no_route,
        _api(201, {}) as routes,
        httpx.AsyncClient(base_url=f"http://127.0.0.1:{_closed_port()}") as down,
    ):
        answers = [
            await post_report(recorded, path, body),
            await post_report(refused, path, body),
            await post_report(no_route, path, body),  # the API's own answer to an unknown route
            await post_report(routes, "/api/pools/x/donate", body),  # no such route
            await post_report(routes, path.replace("/api", "", 1), body),  # 404 from the framework
            await post_report(down, path, body),  # connection refused
        ]

    assert answers == [
        "API: recorded (201)",
        "API: refused (404): Pool not found",
        NOT_AVAILABLE,
        NOT_AVAILABLE,
        NOT_AVAILABLE,
        NOT_AVAILABLE,
    ]


PROBLEM = "application/problem+json"


@pytest.fixture
def localnet_url() -> Iterator[str]:
    """`python -m localnet` on a free port, stopped (SIGTERM, then kill) when the test ends."""
    command = [sys.executable, "-m", "localnet", "--host", "127.0.0.1", "--port", "0", "--frozen-clock"]
    # The context manager closes the stdout pipe; the finally stops the server however the test ends.
    with subprocess.Popen(
        command, cwd=REPO / "dev", stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True
    ) as server:
        try:
            assert server.stdout is not None
            line = server.stdout.readline()
            assert "listening on " in line, line
            yield line.rsplit(" ", 1)[1].strip()
        finally:
            server.terminate()
            try:
                server.wait(timeout=10)
            except subprocess.TimeoutExpired:
                server.kill()
                server.wait()


def test_the_cli_as_a_process(localnet_url: str, tmp_path: Path) -> None:
    def player(*argv: str) -> subprocess.CompletedProcess[str]:
        base = [
            "--rpc",
            localnet_url,
            "--api",
            f"http://127.0.0.1:{_closed_port()}",
            "--state",
            str(tmp_path / "p.json"),
        ]
        command = [sys.executable, "-m", "player", *base, *argv]
        return subprocess.run(
            command, cwd=REPO / "dev", capture_output=True, text=True, timeout=60, check=False
        )

    steps = [
        player("wallets", "2"),
        player("mint"),
        player("create", "--max", "2"),
        player("join", "p1", "--as", "w2"),
    ]
    refused = player("join", "p1", "--as", "w1")
    unreachable = player("--rpc", f"http://127.0.0.1:{_closed_port()}", "status", "p1")

    assert [step.returncode for step in steps] == [0, 0, 0, 0], [step.stderr for step in steps]
    assert "status Locked (max reached), participants 2/2" in steps[3].stdout
    assert "API: endpoint not available yet" in steps[3].stdout
    assert refused.returncode == 1
    assert refused.stderr.startswith(
        "error: w1 joining p1 refused: pool program error PoolUnavailableForJoin (6049)"
    )
    assert unreachable.returncode == 2
    assert "no answer from the local chain" in unreachable.stderr
