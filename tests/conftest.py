"""Fixtures every test folder may use: the local PostgreSQL + pgBouncer stack and its throw-away database.

Tests are laid out by what they test (`tests/api`, `tests/chain`, `tests/db`, `tests/monitor`, ...), not by
the fixtures they need, so the shared fixtures are plugins loaded here once.
"""

pytest_plugins = ["tests.support.database"]
