"""Fixtures every test folder may use: the local PostgreSQL + pgBouncer stack and its throw-away database.

Tests are laid out by what they test (`tests/api`, `tests/chain`, `tests/db`, `tests/monitor`, ...), not by
the fixtures they need, so the shared fixtures are plugins loaded here once. `skip_allowlist` fails the
session on any skip not listed in `tests/skip_allowlist.txt`; `pytester` runs the inner sessions that test it.
"""

pytest_plugins = ["tests.support.database", "tests.support.skip_allowlist", "pytester"]
