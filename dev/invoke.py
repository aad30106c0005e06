"""`make invoke`: run a *built* Lambda function (`dev/sam.sh build` → `.aws-sam/build`) the way
`sam local invoke` does, without Docker.

    dev/invoke.py ApiFunction events/api_get_health.json   # the answer on stdout, the logs on stderr
    dev/invoke.py --check-all                              # every event against its function, checked

The same as in Lambda: python3.12 without its own site-packages; the function's build folder as the task
root (first on the path, the working directory); the layer's build folder where `/opt` would be (`python/`
and `python/lib/python3.12/site-packages`); the environment from the built `template.yaml` (parameter
defaults, mappings, conditions) plus the env-vars file (`events/env.local.json`), only for declared
variables, as SAM does; Lambda's own variables (`AWS_LAMBDA_FUNCTION_NAME`, `LAMBDA_TASK_ROOT`, `TZ`, ...);
a context with the template's timeout and memory; the process killed at the timeout. Nothing of the
caller's environment leaks in.

Different, on purpose: unless `--no-local-stack` is given, the database URL and the RPC URL point at the
local stack (`dev/stack.sh env`, the local chain's port) and the monitor's signer at the local wallet files
of `make dev` (`.local/wallets`), where `sam local` would read them from the secrets named in the env-vars
file. The container image's operating system is not reproduced.
"""

from __future__ import annotations

import argparse
import json
import os
import shlex
import socket
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

from invoke_checks import CheckFailed, check_answer, function_for_event
from lambda_env import FunctionSpec, TemplateError, function_spec, load_env_vars, load_template

from local_wallets import load_or_create, randomness_secret_path, wallet_path

REPO = Path(__file__).resolve().parent.parent
BUILD_DIR = REPO / ".aws-sam" / "build"
BOOTSTRAP = Path(__file__).resolve().parent / "lambda_bootstrap.py"
DEFAULT_ENV_VARS = REPO / "events" / "env.local.json"


class InvokeError(Exception):
    """Something to fix before a function can be invoked (nothing built, no python3.12, ...)."""


@dataclass(frozen=True)
class Invocation:
    spec: FunctionSpec
    answer: Any
    error: dict[str, Any] | None
    logs: str
    seconds: float


def python312() -> str:
    done = subprocess.run([str(REPO / "dev" / "python312.sh")], capture_output=True, text=True, check=False)
    if done.returncode != 0:
        raise InvokeError(done.stderr.strip())
    return done.stdout.strip()


def local_stack_env(chain_url: str | None = None) -> dict[str, str]:
    """The local stack's pooled database URL and the local chain, in place of the secret and a real RPC."""
    done = subprocess.run(
        [str(REPO / "dev" / "stack.sh"), "env"], capture_output=True, text=True, check=False, timeout=60
    )
    if done.returncode != 0:
        raise InvokeError(f"dev/stack.sh env failed: {done.stderr.strip()}")
    exported = {}
    for line in done.stdout.splitlines():
        key, _, value = line.removeprefix("export ").partition("=")
        exported[key] = shlex.split(value)[0] if value else ""
    chain_url = chain_url or f"http://127.0.0.1:{os.environ.get('MISSOUT_CHAIN_PORT', '8899')}"
    # The monitor's signer from the local wallet files `make dev` keeps, in place of the Secrets Manager ones.
    dev, treasury = load_or_create("dev"), load_or_create("treasury")
    return {
        "DATABASE_URL": exported["DATABASE_URL"],
        "SOLANA_RPC_URLS": chain_url,
        "DEV_WALLET_PUBKEY": str(dev.pubkey()),
        "TREASURY_WALLET_PUBKEY": str(treasury.pubkey()),
        "DEV_WALLET_KEYPAIR_PATH": str(wallet_path("dev")),
        "RANDOMNESS_SECRET_PATH": str(randomness_secret_path()),
    }


# Each secret has exactly one source: the local files above replace these.
SECRET_ARNS_REPLACED_LOCALLY = ("DEV_WALLET_SECRET_ARN", "RANDOMNESS_SECRET_ARN")


@contextmanager
def local_chain() -> Iterator[str]:
    """A local chain of its own (`python -m localnet` on a free port) for the invocations that read the chain;
    stopped when the block ends."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    command = [sys.executable, "-m", "localnet", "--host", "127.0.0.1", "--port", str(port)]
    # Its log goes to a file: a pipe nobody reads would fill up and stall the server.
    with tempfile.TemporaryFile() as log:
        chain = subprocess.Popen(command, cwd=REPO / "dev", stdout=log, stderr=subprocess.STDOUT)
        try:
            deadline = time.monotonic() + 30
            while True:
                with socket.socket() as client:
                    if client.connect_ex(("127.0.0.1", port)) == 0:
                        break
                if chain.poll() is not None or time.monotonic() > deadline:
                    log.seek(0)
                    raise InvokeError(f"the local chain did not start: {log.read().decode()[-500:]}")
                time.sleep(0.2)
            yield f"http://127.0.0.1:{port}"
        finally:
            chain.terminate()
            chain.wait(timeout=30)


def _layer_roots(template: Mapping[str, Any], logical_id: str, build_dir: Path) -> list[Path]:
    """Build folders of the function's layers (only layers of this template: the ones `sam build` makes)."""
    resources = template.get("Resources", {})
    props = {**template.get("Globals", {}).get("Function", {}), **resources[logical_id].get("Properties", {})}
    roots = []
    for layer in props.get("Layers", []):
        name = layer.get("Ref") if isinstance(layer, dict) else None
        if name not in resources:
            raise InvokeError(f"{logical_id}: layer {layer} is not built by this template")
        roots.append(build_dir / str(resources[name]["Properties"]["ContentUri"]))
    return roots


def lambda_environment(spec: FunctionSpec, task_root: Path, layer_roots: list[Path]) -> dict[str, str]:
    """What the Lambda runtime sets for every function, then the function's own variables."""
    region = spec.environment.get("AWS_REGION", "us-east-1")
    return {
        "PATH": "/usr/local/bin:/usr/bin:/bin",
        "LANG": "en_US.UTF-8",
        "TZ": ":UTC",
        "LAMBDA_TASK_ROOT": str(task_root),
        "_HANDLER": spec.handler,
        "AWS_EXECUTION_ENV": "AWS_Lambda_python3.12",
        "AWS_LAMBDA_FUNCTION_NAME": spec.logical_id,
        "AWS_LAMBDA_FUNCTION_VERSION": "$LATEST",
        "AWS_LAMBDA_FUNCTION_MEMORY_SIZE": str(spec.memory_mb),
        "AWS_LAMBDA_LOG_GROUP_NAME": f"/aws/lambda/{spec.logical_id}",
        "AWS_LAMBDA_LOG_STREAM_NAME": "local-invoke",
        "AWS_REGION": region,
        "AWS_DEFAULT_REGION": region,
        # The artifacts are read-only in Lambda; here they must not change under the next build's hashes.
        "PYTHONDONTWRITEBYTECODE": "1",
        "MISSOUT_LAYER_ROOT": os.pathsep.join(str(r) for r in layer_roots),
        **spec.environment,
    }


def invoke(
    logical_id: str,
    event: Path,
    *,
    build_dir: Path = BUILD_DIR,
    env_vars: Path | None = DEFAULT_ENV_VARS,
    local_stack: bool = True,
    timeout_s: int | None = None,
    chain_url: str | None = None,
) -> Invocation:
    built_template = build_dir / "template.yaml"
    if not built_template.exists():
        raise InvokeError(f"nothing built: {built_template} is missing; run `make sam-build` first")
    template = load_template(built_template)
    spec = function_spec(template, logical_id, env_vars=load_env_vars(env_vars))
    if timeout_s is not None:
        spec = replace(spec, timeout_s=timeout_s)
    task_root = build_dir / spec.code_uri
    layers = _layer_roots(template, logical_id, build_dir)
    if len(layers) != 1:
        raise InvokeError(f"{logical_id}: expected exactly one layer, found {len(layers)}")
    environment = lambda_environment(spec, task_root, layers)
    if local_stack:
        for name in SECRET_ARNS_REPLACED_LOCALLY:
            environment.pop(name, None)
        environment.update(local_stack_env(chain_url))
    environment["MISSOUT_TIMEOUT_S"] = str(spec.timeout_s)
    environment["MISSOUT_LAYER_ROOT"] = str(layers[0])

    with tempfile.TemporaryDirectory(prefix="missout-invoke-") as scratch:
        result_file = Path(scratch) / "result.json"
        command = [python312(), "-S", str(BOOTSTRAP), spec.handler, str(event.resolve()), str(result_file)]
        started = time.monotonic()
        try:
            done = subprocess.run(
                command,
                env=environment,
                capture_output=True,
                text=True,
                timeout=spec.timeout_s + 5,
                check=False,
            )
        except subprocess.TimeoutExpired as exc:
            logs = (exc.stdout or b"").decode() if isinstance(exc.stdout, bytes) else (exc.stdout or "")
            error = {"errorType": "TimeoutError", "errorMessage": f"Task timed out after {spec.timeout_s} s"}
            return Invocation(spec, None, error, logs, time.monotonic() - started)
        seconds = time.monotonic() - started
        logs = done.stdout + done.stderr
        if not result_file.exists():
            error = {"errorType": "Runtime.ExitError", "errorMessage": f"exited {done.returncode}"}
            return Invocation(spec, None, error, logs, seconds)
        outcome = json.loads(result_file.read_text(encoding="utf-8"))
    return Invocation(spec, outcome.get("result"), outcome.get("error"), logs, seconds)


def check_all(timeout_s: dict[str, int]) -> int:
    """Every event in events/ against the function it is for; prints one line per pair, 1 if any fails."""
    failures = 0
    events = sorted(p for p in (REPO / "events").glob("*.json") if p != DEFAULT_ENV_VARS)
    with local_chain() as chain_url:
        for event in events:
            failures += _check_one(event, timeout_s, chain_url)
    print(f"{len(events) - failures} of {len(events)} invocations answered as expected", flush=True)
    return 1 if failures else 0


def _check_one(event: Path, timeout_s: dict[str, int], chain_url: str) -> int:
    """1 if the event's answer is wrong (printed with the function's logs), else 0."""
    logical_id = function_for_event(event.name)
    invocation = invoke(logical_id, event, timeout_s=timeout_s.get(logical_id), chain_url=chain_url)
    try:
        if invocation.error is not None:
            raise CheckFailed(f"{invocation.error['errorType']}: {invocation.error['errorMessage']}")
        summary = check_answer(event.name, invocation.answer)
    except CheckFailed as exc:
        print(f"FAIL {logical_id:16} {event.name:30} {exc}", flush=True)
        print(invocation.logs[-3000:], file=sys.stderr)
        return 1
    print(f"ok   {logical_id:16} {event.name:30} {summary} ({invocation.seconds:.1f} s)", flush=True)
    return 0


def parse_args(argv: list[str]) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="dev/invoke.py", description=__doc__.split("\n\n")[0])
    parser.add_argument("function", nargs="?", help="logical id in template.yaml, e.g. ApiFunction")
    parser.add_argument("event", nargs="?", type=Path, help="event file, e.g. events/api_get_health.json")
    parser.add_argument("--env-vars", type=Path, default=DEFAULT_ENV_VARS, help="SAM env-vars JSON file")
    parser.add_argument(
        "--no-local-stack",
        action="store_true",
        help="keep the database and RPC settings of the env-vars file",
    )
    parser.add_argument("--timeout", type=int, help="seconds instead of the template's Timeout")
    parser.add_argument("--check-all", action="store_true", help="every event, answers checked")
    parser.add_argument(
        "--monitor-timeout", type=int, default=15, help="--check-all: the monitor's timeout (default 15 s)"
    )
    args = parser.parse_args(argv)
    if not args.check_all and (args.function is None or args.event is None):
        parser.error("give FUNCTION and EVENT, or --check-all")
    return args


def main(argv: list[str]) -> int:
    args = parse_args(argv)
    try:
        if args.check_all:
            return check_all({"MonitorFunction": args.monitor_timeout})
        invocation = invoke(
            args.function,
            args.event,
            env_vars=args.env_vars,
            local_stack=not args.no_local_stack,
            timeout_s=args.timeout,
        )
    except (InvokeError, TemplateError, CheckFailed) as exc:
        print(f"invoke: {exc}", file=sys.stderr)
        return 2
    sys.stderr.write(invocation.logs)
    if invocation.error is not None:
        print(json.dumps(invocation.error, indent=2))
        return 1
    print(json.dumps(invocation.answer, indent=2))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
