"""The fast `timestamptz` reader gives exactly what pg8000's own parser gives (value, type and tzinfo) for the
text PostgreSQL sends, and the app's connections through pgBouncer use it."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from pg8000.converters import timestamptz_in as pg8000_timestamptz_in
from sqlalchemy import text

from missout.db import transaction
from missout.db.timestamps import TIMESTAMPTZ_OID, timestamptz_in
from tests.support.database import TestDatabase

POSTGRES_TEXTS = (
    "2026-12-02 02:14:00.123456+00",
    "2026-12-02 02:14:00+00",
    "2026-12-02 02:14:00.000001+00",
    "0001-01-01 00:00:00+00",
    "9999-12-31 23:59:59.999999+00",
    "2026-12-02 07:59:00.5+05:45",  # another session time zone: pg8000's path
    "2026-06-01 10:00:00-07",
    "infinity",
    "-infinity",
    "0044-03-15 12:00:00+00 BC",
    "10000-01-01 00:00:00+00",
)


@pytest.mark.parametrize("sent", POSTGRES_TEXTS)
def test_the_fast_reader_matches_pg8000(sent: str) -> None:
    ours, theirs = timestamptz_in(sent), pg8000_timestamptz_in(sent)
    assert ours == theirs
    assert type(ours) is type(theirs)
    if isinstance(ours, datetime):
        assert ours.tzinfo == theirs.tzinfo


def test_app_connections_read_timestamps_through_it(app_database: TestDatabase) -> None:
    moment = datetime(2026, 12, 2, 2, 14, 0, 123456, tzinfo=UTC)
    with transaction() as conn:
        conn.exec_driver_sql("SET LOCAL TimeZone = 'UTC'")
        assert conn.connection.dbapi_connection.pg_types[TIMESTAMPTZ_OID] is timestamptz_in  # type: ignore[union-attr]
        read = conn.execute(
            text("SELECT CAST(:t AS timestamptz), timestamptz 'infinity'"), {"t": moment}
        ).one()
        conn.exec_driver_sql("SET LOCAL TimeZone = 'Asia/Kathmandu'")
        elsewhere = conn.execute(text("SELECT CAST(:t AS timestamptz)"), {"t": moment}).scalar_one()
    assert read[0] == moment
    assert read[0].tzinfo is UTC
    assert read[1] == "infinity"  # pg8000's own answer for it, unchanged
    assert elsewhere == moment
    assert elsewhere.utcoffset() == timedelta(hours=5, minutes=45)
