"""Logging and metrics, configured the Powertools way (POWERTOOLS_* environment variables).

One Logger per service name, shared by every module of a function, so correlation ids and appended keys reach
every line. Locally (no Lambda context) the same JSON lines go to stderr.
"""

from __future__ import annotations

import os
from functools import cache

from aws_lambda_powertools import Logger, Metrics


@cache
def logger() -> Logger:
    return Logger(service=os.environ.get("POWERTOOLS_SERVICE_NAME", "missout"))


@cache
def metrics() -> Metrics:
    # Namespace from POWERTOOLS_METRICS_NAMESPACE; EMF lines on stdout, no CloudWatch API call.
    return Metrics(namespace=os.environ.get("POWERTOOLS_METRICS_NAMESPACE", "MissOut"))
