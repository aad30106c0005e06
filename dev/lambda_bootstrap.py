"""Runs inside the child interpreter that `dev/invoke.py` starts: one invocation of a built Lambda handler.

Started as `python3.12 -S dev/lambda_bootstrap.py <module.function> <event file> <result file>`, so the
interpreter's own site-packages are not on the path. The path is then what Lambda gives a function: the task
root (the function's build folder) first, then the layer as it would be mounted at `/opt` (its `python/` and
`python/lib/python3.12/site-packages`), then the standard library. A requirement missing from the built
artifacts therefore fails here as it would in AWS. Standard library only, on purpose.

The handler's return value goes to the result file as JSON; whatever the handler prints (Powertools logs) goes
to stdout as usual. An exception is reported as Lambda reports it (errorType, errorMessage, stackTrace).
"""

from __future__ import annotations

import importlib
import json
import os
import sys
import time
import traceback
import uuid
from pathlib import Path
from typing import Any


class Context:
    """The Lambda context as the runtime hands it over: names, ARN, memory, request id, and a deadline."""

    def __init__(self, function_name: str, timeout_s: float, memory_mb: int) -> None:
        self.function_name = function_name
        self.function_version = "$LATEST"
        self.memory_limit_in_mb = memory_mb
        self.aws_request_id = str(uuid.uuid4())
        self.log_group_name = f"/aws/lambda/{function_name}"
        self.log_stream_name = "local-invoke"
        region = os.environ.get("AWS_REGION", "us-east-1")
        self.invoked_function_arn = f"arn:aws:lambda:{region}:123456789012:function:{function_name}"
        self._deadline = time.monotonic() + timeout_s

    def get_remaining_time_in_millis(self) -> int:
        return max(0, int((self._deadline - time.monotonic()) * 1000))


def _lambda_path(task_root: str, layer_root: str) -> list[str]:
    version = f"python{sys.version_info[0]}.{sys.version_info[1]}"
    layer = Path(layer_root)
    return [task_root, str(layer / "python" / "lib" / version / "site-packages"), str(layer / "python")]


def main(handler_name: str, event_path: str, result_path: str) -> int:
    task_root = os.environ["LAMBDA_TASK_ROOT"]
    # sys.path[0] is this script's folder (dev/): the function must not see it, only what Lambda would give.
    stdlib = [p for p in sys.path[1:] if "site-packages" not in p]
    sys.path[:] = _lambda_path(task_root, os.environ["MISSOUT_LAYER_ROOT"]) + stdlib
    os.chdir(task_root)

    module_name, _, function_name = handler_name.rpartition(".")
    event = json.loads(Path(event_path).read_text(encoding="utf-8"))
    context = Context(
        os.environ["AWS_LAMBDA_FUNCTION_NAME"],
        float(os.environ["MISSOUT_TIMEOUT_S"]),
        int(os.environ["AWS_LAMBDA_FUNCTION_MEMORY_SIZE"]),
    )
    outcome: dict[str, Any]
    try:
        handler = getattr(importlib.import_module(module_name), function_name)
        outcome = {"result": handler(event, context)}
    except Exception as exc:  # reported like the Lambda runtime does, then a non-zero exit
        outcome = {
            "error": {
                "errorType": type(exc).__name__,
                "errorMessage": str(exc),
                "stackTrace": traceback.format_exception(exc),
            }
        }
    sys.stdout.flush()
    Path(result_path).write_text(json.dumps(outcome), encoding="utf-8")
    return 1 if "error" in outcome else 0


if __name__ == "__main__":
    sys.exit(main(*sys.argv[1:4]))
