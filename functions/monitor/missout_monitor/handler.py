"""Monitor Lambda: EventBridge Scheduler invokes it every minute; it ticks every few seconds until its time
budget is spent, then returns a summary. Deliberately free of FastAPI: the import cost is measured in bench/.

Each tick runs in its own `asyncio.run` (HTTP clients are bound to their event loop); what must outlive a tick
(RPC endpoint health, the database engine, the loaded keys) lives at module level or in caches.
"""

from __future__ import annotations

from missout.coldstart import begin_init, end_init

_collector_was_running = begin_init()  # before the heavy imports below: see missout.coldstart

import asyncio
import time
import uuid
from dataclasses import asdict
from typing import Any

from aws_lambda_powertools.metrics import MetricUnit
from aws_lambda_powertools.utilities.typing import LambdaContext

from missout.monitor.schedule import run_on_cadence
from missout.monitor.service import MonitorService
from missout.observability import logger, metrics
from missout.settings import monitor_settings

log = logger()
emf = metrics()


def _scheduler_keys(event: Any) -> dict[str, str]:
    """The Scheduler `Input` we configured (scheduled_time, execution_id, attempt); tolerate anything else,
    e.g. a hand-written `sam local invoke` event, rather than fail the run."""
    if not isinstance(event, dict):
        return {}
    return {
        key: str(event[key])[:100] for key in ("scheduled_time", "execution_id", "attempt") if key in event
    }


@log.inject_lambda_context(log_event=False)
@emf.log_metrics(capture_cold_start_metric=True)
def handler(event: Any, context: LambdaContext) -> dict[str, Any]:
    settings = monitor_settings()
    keys = _scheduler_keys(event)
    log.append_keys(**keys)
    # The lease holder: unique per invocation, readable in the pools table and the logs.
    holder = f"{keys.get('execution_id', 'run')}:{uuid.uuid4().hex[:8]}"
    service = MonitorService.from_environment(holder)
    seen = 0
    started = time.monotonic()

    def tick() -> None:
        nonlocal seen
        report = asyncio.run(service.tick(context.get_remaining_time_in_millis))
        seen += report.pools_seen

    summary = run_on_cadence(
        tick,
        period_s=settings.tick_seconds,
        remaining_ms=context.get_remaining_time_in_millis,
        safety_margin_ms=settings.safety_margin_ms,
        on_error=lambda exc: log.warning(
            "tick failed", extra={"error": f"{type(exc).__name__}: {exc}"[:300]}
        ),
    )
    # Per-tick metrics are flushed by each tick; the run's own go out when the decorator flushes.
    emf.add_metric(name="TicksFailed", unit=MetricUnit.Count, value=summary.failed_ticks)
    result = {
        **asdict(summary),
        "pools_seen": seen,
        "seconds": round(time.monotonic() - started, 1),
    }
    log.info("monitor run finished", extra=result)
    return result


end_init(_collector_was_running)
