"""Every uvicorn server in the repository listens on a socket with TCP_NODELAY (docs/local-stack.md,
"Serving the local chain over HTTP"): a server handed a plain socket answers each request about 40 ms late,
which once inflated every figure measured against the served chain."""

from __future__ import annotations

import re
import socket
import subprocess
from pathlib import Path

from tests.support.http_server import free_socket

REPO = Path(__file__).resolve().parents[2]
SERVES = re.compile(r"\.serve\(\s*sockets=|\.run\(\s*sockets=|\"sockets\"\s*:")
NODELAY_SOURCES = ("bind_listening_socket(", "free_socket(")


def _python_files() -> list[Path]:
    listed = subprocess.run(
        ["git", "ls-files", "--cached", "--others", "--exclude-standard", "*.py"],
        cwd=REPO,
        capture_output=True,
        text=True,
        check=True,
    ).stdout.split()
    return [REPO / name for name in listed]


def test_every_server_given_a_socket_builds_it_with_nodelay() -> None:
    serving = [path for path in _python_files() if path.exists() and SERVES.search(path.read_text())]
    assert serving, "the pattern found no server at all: it no longer matches how servers are started"
    plain = [
        str(path.relative_to(REPO))
        for path in serving
        if not any(source in path.read_text() for source in NODELAY_SOURCES)
    ]
    assert plain == [], f"uvicorn handed a socket not made by bind_listening_socket: {plain}"


def test_accepted_connections_inherit_nodelay_from_the_listener() -> None:
    with free_socket() as listener, socket.create_connection(listener.getsockname()):
        accepted, _ = listener.accept()
        with accepted:
            assert accepted.getsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY) != 0


def test_a_plain_listener_gives_accepted_connections_no_nodelay() -> None:
    """Why the helper exists: without it the accepted side has Nagle on, and asyncio does not turn it off."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as listener:
        listener.bind(("127.0.0.1", 0))
        listener.listen()
        with socket.create_connection(listener.getsockname()):
            accepted, _ = listener.accept()
            with accepted:
                assert accepted.getsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY) == 0
