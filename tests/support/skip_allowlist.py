"""Every skipped test must be on `tests/skip_allowlist.txt`; any other skip fails the session.

A skip is a test that did not run, and a green run that silently did not run something is how gaps hide (a
fixture that cannot find a file, a missing tool). So skips are allowed only by name, with the reason written
next to them in the list. The list's lines are node-id patterns (`fnmatch`: `*` and `?` work); `#` starts a
comment. The session's exit status becomes 1 when a skip is not covered, after the usual summary.
"""

from __future__ import annotations

from fnmatch import fnmatchcase
from pathlib import Path

import pytest

ALLOWLIST_OPTION = "skip_allowlist"


def pytest_addoption(parser: pytest.Parser) -> None:
    parser.addini(ALLOWLIST_OPTION, "file of node-id patterns whose skips are allowed", default="")


def _patterns(config: pytest.Config) -> list[str]:
    configured = str(config.getini(ALLOWLIST_OPTION))
    if not configured:
        return []
    path = Path(configured)
    if not path.is_absolute():
        path = config.rootpath / path
    patterns = []
    for line in path.read_text(encoding="utf-8").splitlines():
        pattern = line.split("#", 1)[0].strip()
        if pattern:
            patterns.append(pattern)
    return patterns


class SkipAllowlist:
    def __init__(self, patterns: list[str]) -> None:
        self.patterns = patterns
        self.unlisted: list[tuple[str, str]] = []

    def _record(self, report: pytest.TestReport | pytest.CollectReport) -> None:
        if not report.skipped or hasattr(report, "wasxfail"):
            return
        if any(fnmatchcase(report.nodeid, pattern) for pattern in self.patterns):
            return
        longrepr = report.longrepr
        reason = longrepr[2] if isinstance(longrepr, tuple) else str(longrepr)
        self.unlisted.append((report.nodeid or "<collection>", reason))

    def pytest_runtest_logreport(self, report: pytest.TestReport) -> None:
        self._record(report)

    def pytest_collectreport(self, report: pytest.CollectReport) -> None:
        self._record(report)

    def pytest_terminal_summary(self, terminalreporter: pytest.TerminalReporter) -> None:
        if not self.unlisted:
            return
        terminalreporter.section("skips not on the allow-list", red=True)
        for nodeid, reason in self.unlisted:
            terminalreporter.line(f"{nodeid}: {reason}")
        terminalreporter.line("Make the test run, or add its node id with the reason to the allow-list.")

    @pytest.hookimpl(trylast=True)
    def pytest_sessionfinish(self, session: pytest.Session) -> None:
        if self.unlisted and session.exitstatus in (pytest.ExitCode.OK, pytest.ExitCode.NO_TESTS_COLLECTED):
            session.exitstatus = pytest.ExitCode.TESTS_FAILED


def pytest_configure(config: pytest.Config) -> None:
    config.pluginmanager.register(SkipAllowlist(_patterns(config)), "missout-skip-allowlist")
