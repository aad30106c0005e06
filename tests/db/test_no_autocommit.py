"""Nothing in the shared package or the functions may switch a connection to autocommit (measured: wrong
results behind a transaction pooler) or set session characteristics (isolation level, read-only, deferrable:
with pg8000 they become `SET SESSION CHARACTERISTICS`, which pgBouncer leaks to the next client), and the
engine refuses autocommit at run time if someone tries."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from missout.db.connection_plan import plan_connection
from missout.db.engine import AutocommitForbidden, build_engine
from missout.settings import DatabaseSettings

REPO = Path(__file__).resolve().parents[2]
PACKAGE = REPO / "layers" / "shared" / "missout"
FUNCTIONS = REPO / "functions"
FORBIDDEN = re.compile(
    r"AUTOCOMMIT|\.autocommit\s*=|autocommit_block|isolation_level\s*=|postgresql_readonly|postgresql_deferrable"
)
ALLOWED = {"layers/shared/missout/db/engine.py"}  # the guard itself names the attribute it checks


def _offenders(roots: tuple[Path, ...], base: Path = REPO) -> list[str]:
    offenders = []
    for root in roots:
        for path in root.rglob("*.py"):
            relative = path.relative_to(base).as_posix()
            if relative in ALLOWED:
                continue
            for number, line in enumerate(path.read_text().splitlines(), 1):
                if FORBIDDEN.search(line):
                    offenders.append(f"{relative}:{number}: {line.strip()}")
    return offenders


def test_source_never_enables_autocommit_or_session_characteristics() -> None:
    assert _offenders((PACKAGE, FUNCTIONS)) == []
    assert any(PACKAGE.rglob("*.py"))  # the scan really looked at files
    assert any(FUNCTIONS.rglob("*.py"))


@pytest.mark.parametrize(
    "line",
    [
        'conn.execution_options(isolation_level="SERIALIZABLE")',
        "conn.execution_options(postgresql_readonly=True)",
        "conn.execution_options(postgresql_deferrable=True)",
        "engine.execution_options(isolation_level = 'AUTOCOMMIT')",
    ],
)
def test_the_scan_flags_each_session_option(line: str, tmp_path: Path) -> None:
    # The scan must flag each option, or the test above proves nothing.
    (tmp_path / "offender.py").write_text(f"x = 1\n{line}\n")
    assert _offenders((tmp_path,), base=tmp_path) == [f"offender.py:2: {line}"]


def test_the_guard_itself_is_the_only_mention() -> None:
    text = (PACKAGE / "db" / "engine.py").read_text()
    assert "autocommit" in text
    assert "AUTOCOMMIT" not in text


class _FakeDbapiConnection:
    autocommit = True


class _FakeFairy:
    dbapi_connection = _FakeDbapiConnection()


class _FakeConnection:
    connection = _FakeFairy()


def test_engine_refuses_statements_in_autocommit() -> None:
    engine = build_engine(
        plan_connection("postgresql://u:p@127.0.0.1:6543/app"),
        DatabaseSettings(url="postgresql://u:p@127.0.0.1:6543/app"),
    )
    listeners = [fn for fn in engine.dispatch.before_cursor_execute]
    assert listeners, "the autocommit guard is not installed"
    with pytest.raises(AutocommitForbidden):
        listeners[0](_FakeConnection(), None, "SELECT 1", None, None, False)
