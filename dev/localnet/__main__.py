"""`python -m localnet --host 127.0.0.1 --port 8899`: the local chain with the modelled programs, over HTTP.

Time follows the wall clock (slots every 0.4 s, blockhashes expiring after 150 blocks) unless
`--frozen-clock` is given; `/localnet/advance` and `/localnet/warp` jump ahead either way.
"""

from __future__ import annotations

import argparse
import asyncio
import logging
import signal

import uvicorn

from localnet.default_programs import register_default_programs
from localnet.runtime import LocalChain
from localnet.server import bind_listening_socket, create_rpc_app

log = logging.getLogger("localnet")


async def serve(host: str, port: int, follow_wall_clock: bool, oracles: int = 1) -> None:
    # Binding first lets `--port 0` report (and store in the oracle account) the port it got.
    sock = bind_listening_socket(host, port)
    url = f"http://{host}:{sock.getsockname()[1]}"
    chain = LocalChain()
    for line in register_default_programs(chain, gateway_url=url, oracles=oracles):
        log.info("modelled program: %s", line)
    chain.follow_wall_clock(follow_wall_clock)
    config = uvicorn.Config(create_rpc_app(chain), host=host, port=port, log_level="warning", lifespan="off")
    server = uvicorn.Server(config)
    # uvicorn installs its own SIGINT/SIGTERM handlers only in `run()`; with `serve()` we own them.
    loop = asyncio.get_running_loop()
    for signum in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(signum, lambda: setattr(server, "should_exit", True))
    print(f"localnet RPC listening on {url}", flush=True)
    await server.serve(sockets=[sock])


def main() -> None:
    parser = argparse.ArgumentParser(prog="python -m localnet", description=__doc__)
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=8899, help="0 picks a free port (printed on start)")
    parser.add_argument("--frozen-clock", action="store_true", help="time moves only when told to")
    parser.add_argument(
        "--oracles",
        type=int,
        default=1,
        help="Switchboard oracles on the queue (1-16); their failure modes: /localnet/switchboard/oracles",
    )
    args = parser.parse_args()
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(name)s %(levelname)s %(message)s")
    if not 1 <= args.oracles <= 16:
        parser.error("--oracles must be between 1 and 16")
    asyncio.run(serve(args.host, args.port, follow_wall_clock=not args.frozen_clock, oracles=args.oracles))


if __name__ == "__main__":
    main()
