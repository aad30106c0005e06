"""Logging and metrics, configured the Powertools way (POWERTOOLS_* environment variables).

One Logger per service name, shared by every module of a function, so correlation ids and appended keys reach
every line. In AWS every line is one JSON object (CloudWatch Logs Insights queries them); at a terminal
(`MISSOUT_LOG_FORMAT=console`, set by `make dev`) the same fields are printed as one short readable line.
"""

from __future__ import annotations

import json
import logging
import os
from functools import cache

from aws_lambda_powertools import Logger, Metrics
from aws_lambda_powertools.logging.formatter import LambdaPowertoolsFormatter

# Keys every line carries that a person at a terminal does not need to read.
_QUIET_KEYS = {
    "level",
    "location",
    "message",
    "timestamp",
    "service",
    "cold_start",
    "function_name",
    "function_memory_size",
    "function_arn",
    "function_request_id",
    "xray_trace_id",
    "sampling_rate",
}


class ConsoleFormatter(LambdaPowertoolsFormatter):
    """`19:15:58 INFO  api      request method=GET path=/health status=200 [req-id]`"""

    def format(self, record: logging.LogRecord) -> str:
        fields = json.loads(super().format(record))
        clock = str(fields.get("timestamp", ""))[11:19]
        extras = " ".join(
            f"{key}={value}"
            for key, value in fields.items()
            if key not in _QUIET_KEYS and key != "correlation_id"
        )
        correlation = f" [{fields['correlation_id']}]" if fields.get("correlation_id") else ""
        line = (
            f"{clock} {fields.get('level', ''):<5} {fields.get('service', ''):<8} {fields.get('message', '')}"
        )
        return f"{line} {extras}{correlation}".rstrip()


@cache
def logger() -> Logger:
    service = os.environ.get("POWERTOOLS_SERVICE_NAME", "missout")
    if os.environ.get("MISSOUT_LOG_FORMAT") == "console":
        return Logger(service=service, logger_formatter=ConsoleFormatter())
    return Logger(service=service)


@cache
def metrics() -> Metrics:
    # Namespace from POWERTOOLS_METRICS_NAMESPACE; EMF lines on stdout, no CloudWatch API call.
    return Metrics(namespace=os.environ.get("POWERTOOLS_METRICS_NAMESPACE", "MissOut"))
