"""Nothing in the shared package may switch a connection to autocommit (measured: wrong results behind a
transaction pooler), and the engine refuses it at run time if someone tries."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from missout.db.connection_plan import plan_connection
from missout.db.engine import AutocommitForbidden, build_engine
from missout.settings import DatabaseSettings

PACKAGE = Path(__file__).resolve().parents[2] / "layers" / "shared" / "missout"
FORBIDDEN = re.compile(r"AUTOCOMMIT|\.autocommit\s*=|autocommit_block|isolation_level\s*=")
ALLOWED = {"db/engine.py"}  # the guard itself names the attribute it checks


def test_package_source_never_enables_autocommit() -> None:
    offenders = []
    for path in PACKAGE.rglob("*.py"):
        relative = path.relative_to(PACKAGE).as_posix()
        if relative in ALLOWED:
            continue
        for number, line in enumerate(path.read_text().splitlines(), 1):
            if FORBIDDEN.search(line):
                offenders.append(f"{relative}:{number}: {line.strip()}")
    assert offenders == []
    assert any(PACKAGE.rglob("*.py"))  # the scan really looked at files


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
