"""`make dev`: the whole system on this machine, in one terminal, stopped by Ctrl-C.

1. PostgreSQL + pgBouncer (dev/stack.sh), migrations over the direct URL;
2. the local Solana chain on 127.0.0.1:8899 unless SOLANA_RPC_URLS points elsewhere;
3. the API on http://127.0.0.1:3000 (uvicorn serving the same FastAPI app the Lambda serves);
4. an S3-compatible server for avatars (moto's server mode) on 127.0.0.1, in this process;
5. the monitor: the real Lambda handler invoked once a minute with a 60 s budget, ticking every 5 s inside,
   exactly as EventBridge Scheduler drives it in AWS.
"""

from __future__ import annotations

import importlib.util
import json
import os
import shlex
import signal
import subprocess
import sys
import threading
import time
import uuid
from datetime import UTC, datetime
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
PYTHON = sys.executable
API_PORT = int(os.environ.get("MISSOUT_API_PORT", "3000"))
CHAIN_PORT = int(os.environ.get("MISSOUT_CHAIN_PORT", "8899"))
MONITOR_INVOCATION_S = 60.0


def say(message: str) -> None:
    print(f"[dev] {message}", flush=True)


def stack_env() -> dict[str, str]:
    subprocess.run([str(REPO / "dev" / "stack.sh"), "start"], check=True)
    out = subprocess.run(
        [str(REPO / "dev" / "stack.sh"), "env"], check=True, capture_output=True, text=True
    ).stdout
    env: dict[str, str] = {}
    for line in out.splitlines():
        key, _, value = line.removeprefix("export ").partition("=")
        env[key] = shlex.split(value)[0] if value else ""
    return env


def migrate(env: dict[str, str]) -> None:
    say("migrations: alembic upgrade head (direct URL)")
    subprocess.run([PYTHON, "-m", "alembic", "upgrade", "head"], cwd=REPO, env=env, check=True)


def wait_for_port(port: int, what: str, timeout_s: float = 20.0) -> None:
    import socket

    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        with socket.socket() as sock:
            if sock.connect_ex(("127.0.0.1", port)) == 0:
                return
        time.sleep(0.1)
    raise SystemExit(f"[dev] {what} did not start listening on 127.0.0.1:{port}")


def local_wallets(env: dict[str, str]) -> None:
    """The DEV (crank signer) and treasury wallets of this machine, created once under .local/wallets."""
    from local_wallets import load_or_create, randomness_secret_path, wallet_path

    dev, treasury = load_or_create("dev"), load_or_create("treasury")
    env["DEV_WALLET_PUBKEY"] = env.get("DEV_WALLET_PUBKEY") or str(dev.pubkey())
    env["TREASURY_WALLET_PUBKEY"] = env.get("TREASURY_WALLET_PUBKEY") or str(treasury.pubkey())
    env["DEV_WALLET_KEYPAIR_PATH"] = env.get("DEV_WALLET_KEYPAIR_PATH") or str(wallet_path("dev"))
    env["RANDOMNESS_SECRET_PATH"] = env.get("RANDOMNESS_SECRET_PATH") or str(randomness_secret_path())
    say(f"wallets: dev {env['DEV_WALLET_PUBKEY']}, treasury {env['TREASURY_WALLET_PUBKEY']} (.local/wallets)")


def fund_dev_wallet(env: dict[str, str]) -> None:
    """The DEV wallet pays crank fees; on the local chain an airdrop covers them."""
    import urllib.request

    body = json.dumps(
        {
            "jsonrpc": "2.0",
            "id": 1,
            "method": "requestAirdrop",
            "params": [env["DEV_WALLET_PUBKEY"], 100 * 10**9],
        }
    ).encode()
    request = urllib.request.Request(  # noqa: S310 - our own loopback URL
        env["SOLANA_RPC_URLS"], data=body, headers={"content-type": "application/json"}
    )
    with urllib.request.urlopen(request, timeout=5) as response:  # noqa: S310
        answer = json.loads(response.read())
    if "error" in answer:
        say(f"chain: could not fund the dev wallet: {answer['error'].get('message')}")
    else:
        say("chain: dev wallet funded with 100 SOL")


def start_chain(env: dict[str, str]) -> subprocess.Popen[bytes] | None:
    if env.get("SOLANA_RPC_URLS"):
        say(f"chain: using SOLANA_RPC_URLS={env['SOLANA_RPC_URLS']}")
        return None
    if importlib.util.find_spec("localnet.__main__") is None:
        say("chain: the local chain is not available in this checkout; running without Solana")
        return None
    say(f"chain: starting the local Solana chain on http://127.0.0.1:{CHAIN_PORT} (SOLANA_RPC_URLS not set)")
    process = subprocess.Popen(
        [PYTHON, "-m", "localnet", "--host", "127.0.0.1", "--port", str(CHAIN_PORT)],
        cwd=REPO / "dev",
        env=env,
    )
    wait_for_port(CHAIN_PORT, "the local chain")
    env["SOLANA_RPC_URLS"] = f"http://127.0.0.1:{CHAIN_PORT}"
    return process


def start_api(env: dict[str, str]) -> subprocess.Popen[bytes]:
    say(f"api: http://127.0.0.1:{API_PORT}  (try: curl -s 127.0.0.1:{API_PORT}/health)")
    process = subprocess.Popen(
        [
            PYTHON,
            "-m",
            "uvicorn",
            "--factory",
            "missout_api.app:create_app",
            "--host",
            "127.0.0.1",
            "--port",
            str(API_PORT),
            "--no-access-log",  # the app logs every request itself, with its request id
            "--app-dir",
            str(REPO / "functions" / "api"),
        ],
        cwd=REPO,
        env={**env, "POWERTOOLS_SERVICE_NAME": "api"},
    )
    wait_for_port(API_PORT, "the API")
    return process


def run_monitor(env: dict[str, str], stop: threading.Event) -> None:
    """Invoke the real monitor handler back to back, each invocation with a fresh 60 s budget."""
    # EMF metric lines are for CloudWatch; at a terminal the per-tick summary line says the same.
    os.environ.update({**env, "POWERTOOLS_SERVICE_NAME": "monitor", "POWERTOOLS_METRICS_DISABLED": "true"})
    # dev/ is already on the path: it is this script's folder.
    for path in (REPO / "layers" / "shared", REPO / "functions" / "monitor"):
        sys.path.insert(0, str(path))
    from local_lambda import lambda_context
    from missout_monitor.handler import handler

    say("monitor: ticking every 5 s (one invocation per minute, like EventBridge Scheduler)")
    while not stop.is_set():
        event = {
            "scheduled_time": datetime.now(UTC).isoformat(timespec="seconds"),
            "execution_id": uuid.uuid4().hex[:16],
            "attempt": "1",
        }
        summary = handler(event, lambda_context("monitor", MONITOR_INVOCATION_S))
        say(f"monitor: invocation done: {json.dumps(summary)[:300]}")


def _aws_dummy_credentials() -> dict[str, str]:
    """What `local_s3.fake_credentials` put in this process's environment, for the API child process."""
    return {k: os.environ[k] for k in ("AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY", "AWS_DEFAULT_REGION")}


def main() -> int:
    env = {
        **os.environ,
        **stack_env(),
        "STAGE": "local",
        "MISSOUT_LOG_FORMAT": "console",  # one readable line per event instead of JSON
        "POWERTOOLS_METRICS_NAMESPACE": "MissOut",
        "PYTHONPATH": os.pathsep.join(
            [str(REPO / "layers" / "shared"), str(REPO / "functions" / "api"), str(REPO / "dev")]
        ),
    }
    migrate(env)
    local_wallets(env)
    children: dict[str, subprocess.Popen[bytes]] = {}
    stop = threading.Event()

    def shutdown(*_: object) -> None:
        stop.set()
        for child in children.values():
            if child.poll() is None:
                child.terminate()
        for child in children.values():
            try:
                child.wait(timeout=10)
            except subprocess.TimeoutExpired:
                child.kill()
        subprocess.run([str(REPO / "dev" / "stack.sh"), "stop"], check=False)
        say("stopped")
        os._exit(0)  # the monitor thread may be sleeping inside a tick: do not wait for it

    signal.signal(signal.SIGINT, shutdown)
    signal.signal(signal.SIGTERM, shutdown)
    from local_s3 import start_local_s3

    s3 = start_local_s3()  # a daemon thread of this process: it ends with it
    env.update(API_AVATAR_BUCKET=s3.bucket, API_AVATAR_S3_ENDPOINT_URL=s3.url, **_aws_dummy_credentials())
    say(f"s3: avatar bucket {s3.bucket} at {s3.url}")
    chain = start_chain(env)
    if chain is not None:
        children["local chain"] = chain
        fund_dev_wallet(env)
    children["api"] = start_api(env)
    say("everything is up; Ctrl-C stops it all")
    monitor = threading.Thread(target=run_monitor, args=(env, stop), daemon=True)
    monitor.start()
    while True:
        for name, child in children.items():
            if child.poll() is not None:
                say(f"{name} exited with code {child.returncode}: stopping everything")
                shutdown()
        time.sleep(0.5)


if __name__ == "__main__":
    sys.exit(main())
