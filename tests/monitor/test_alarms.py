"""The monitor's alarms in template.yaml watch metrics the monitor really emits, in the namespace it emits
them to: a renamed metric would otherwise leave an alarm silently watching nothing."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest

from missout.monitor.service import emit_tick_metrics
from missout.monitor.tick import TickReport

TEMPLATE = (Path(__file__).resolve().parents[2] / "template.yaml").read_text(encoding="utf-8")
ALARMS = ["MonitorStuckPoolsAlarm", "MonitorRandomnessDeadlineAlarm", "MonitorDeadEndPoolsAlarm"]


def alarm(name: str) -> dict[str, str]:
    block = TEMPLATE[TEMPLATE.index(f"  {name}:\n") :]
    block = block[: block.index("\n\n")]
    fields = dict(
        re.findall(r"^      (Namespace|MetricName|ComparisonOperator): (\S+)$", block, re.MULTILINE)
    )
    return fields


def test_every_monitor_alarm_watches_an_emitted_metric(
    capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    report = TickReport(pools_seen=3, min_slots_left=900)
    report.alerts["deadline_at_risk"] = 1
    report.dead_ends[7] = "vault_mismatch"
    capsys.readouterr()
    emit_tick_metrics(report, stuck=2, seconds=0.5)
    [emf] = [json.loads(line) for line in capsys.readouterr().out.splitlines() if line.startswith('{"_aws"')]
    [directive] = emf["_aws"]["CloudWatchMetrics"]
    emitted = {metric["Name"] for metric in directive["Metrics"]}
    for name in [*ALARMS, "MonitorHeartbeatAlarm"]:
        fields = alarm(name)
        assert fields["Namespace"] == directive["Namespace"], name
        assert fields["MetricName"] in emitted, name
    assert (emf["StuckPools"], emf["DeadlineAtRiskPools"], emf["DeadEndPools"]) == ([2.0], [1.0], [1.0])
    assert emf["RandomnessSlotsLeft"] == [900.0]
