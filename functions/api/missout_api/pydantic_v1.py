"""Keep FastAPI from loading pydantic v1, which nothing in this function uses.

FastAPI refuses pydantic v1 models: for every route's response model, body and parameter it asks whether the
type is a `pydantic.v1.BaseModel`, and to ask it imports `pydantic.v1`, the whole v1 package (about 12 ms of
CPU, a tenth of what our code adds to the API's cold start; bench/figures/cold_start.py). No release of
FastAPI up to 0.165.0 avoids it. FastAPI already answers "not a v1 model" when `pydantic.v1` cannot be
imported (it is written for the pydantic release that drops v1), and that answer is exact here: a process
that cannot import `pydantic.v1` cannot hold a v1 model.

So the API marks `pydantic.v1` unimportable before its first route is registered. The price: any code in
this process that imports `pydantic.v1` fails at once with ImportError ("import of pydantic.v1 halted"), a
loud failure, never a wrong answer. Nothing does today; tests/handlers/test_pydantic_v1.py checks every
installed runtime dependency (layers/shared/requirements.txt) and fails if one starts to.
"""

from __future__ import annotations

import sys

MODULE = "pydantic.v1"


def keep_pydantic_v1_unloaded() -> bool:
    """Make `import pydantic.v1` fail unless it is loaded already (then nothing changes: FastAPI's check is
    paid for). Returns whether it is now refused."""
    if sys.modules.get(MODULE, None) is not None:
        return False
    # None in sys.modules is the import system's own "not importable" mark (importlib reference docs).
    sys.modules[MODULE] = None  # type: ignore[assignment]
    return True
