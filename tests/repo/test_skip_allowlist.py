"""The skip allow-list: a skip that is not listed fails the session; a listed one does not."""

from __future__ import annotations

import pytest

INI = "[pytest]\nskip_allowlist = allow.txt\nasyncio_default_fixture_loop_scope = function\n"
TESTS = """
import pytest

def test_runs():
    assert 1 + 1 == 2

def test_skipped_by_name():
    pytest.skip("no python3.12 here")
"""


def _session(pytester: pytest.Pytester, allowlist: str) -> pytest.RunResult:
    pytester.makefile(".txt", allow=allowlist)
    pytester.makeini(INI)
    pytester.makepyfile(test_inner=TESTS)
    return pytester.runpytest_inprocess("-p", "tests.support.skip_allowlist")


def test_a_skip_not_on_the_list_fails_the_session_and_is_named(pytester: pytest.Pytester) -> None:
    result = _session(pytester, "# nothing allowed\n")
    result.assert_outcomes(passed=1, skipped=1)
    assert result.ret == pytest.ExitCode.TESTS_FAILED
    result.stdout.fnmatch_lines(
        ["*skips not on the allow-list*", "test_inner.py::test_skipped_by_name: Skipped: no python3.12 here"]
    )


def test_a_listed_skip_keeps_the_session_green(pytester: pytest.Pytester) -> None:
    result = _session(pytester, "# why it may skip\ntest_inner.py::test_skipped_by_*  # trailing comment\n")
    result.assert_outcomes(passed=1, skipped=1)
    assert result.ret == pytest.ExitCode.OK
    assert "skips not on the allow-list" not in result.stdout.str()


def test_a_module_skipped_at_collection_counts_too(pytester: pytest.Pytester) -> None:
    pytester.makefile(".txt", allow="")
    pytester.makeini(INI)
    pytester.makepyfile(test_module='import pytest\npytest.skip("whole module", allow_module_level=True)\n')
    result = pytester.runpytest_inprocess("-p", "tests.support.skip_allowlist")
    assert result.ret == pytest.ExitCode.TESTS_FAILED
    result.stdout.fnmatch_lines(["*test_module.py: Skipped: whole module"])
