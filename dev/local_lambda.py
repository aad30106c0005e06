"""A Lambda context for running the real handlers outside Lambda (`make dev`, tests, benchmarks).

It carries what Powertools and Mangum read (name, ARN, memory, request id) and a real deadline, so
`get_remaining_time_in_millis()` counts down exactly as it does on Lambda.
"""

from __future__ import annotations

import time
import uuid
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, cast

if TYPE_CHECKING:
    from aws_lambda_powertools.utilities.typing import LambdaContext


@dataclass
class LocalContext:
    function_name: str = "local-function"
    timeout_s: float = 60.0
    memory_limit_in_mb: int = 512
    aws_request_id: str = field(default_factory=lambda: str(uuid.uuid4()))
    log_group_name: str = "/aws/lambda/local"
    log_stream_name: str = "local"
    function_version: str = "$LATEST"
    _deadline: float = field(init=False)

    def __post_init__(self) -> None:
        self._deadline = time.monotonic() + self.timeout_s

    @property
    def invoked_function_arn(self) -> str:
        return f"arn:aws:lambda:local:000000000000:function:{self.function_name}"

    def get_remaining_time_in_millis(self) -> int:
        return max(0, int((self._deadline - time.monotonic()) * 1000))


def lambda_context(function_name: str, timeout_s: float) -> LambdaContext:
    """A `LocalContext` typed as the handlers expect it (they only use what both classes provide)."""
    return cast("LambdaContext", LocalContext(function_name=function_name, timeout_s=timeout_s))
