"""The API refuses to load pydantic v1 (`missout_api.pydantic_v1`): FastAPI's check for v1 models then
answers without it, exactly, and nothing installed needs v1, so nothing can fail for the lack of it."""

from __future__ import annotations

import re
import sysconfig
from pathlib import Path

from tests.support.fresh_process import run_fresh

_AFTER_INIT = """
import json, sys
import missout_api.handler
try:
    import pydantic.v1
    refused = None
except ImportError as exc:
    refused = str(exc)
from fastapi._compat.shared import is_pydantic_v1_model_class
from missout_api.schemas import PoolList
print(json.dumps({
    "loaded": sys.modules.get("pydantic.v1", "absent") is not None,
    "refused": refused,
    "pool_list_is_v1": is_pydantic_v1_model_class(PoolList),
}))
"""


def test_the_api_handler_init_never_loads_pydantic_v1_and_fastapi_finds_no_v1_model() -> None:
    result = run_fresh(_AFTER_INIT, env={})
    assert result["loaded"] is False
    assert "pydantic.v1" in (result["refused"] or "")  # importing it fails loudly
    assert result["pool_list_is_v1"] is False


def test_a_process_that_loaded_pydantic_v1_first_keeps_it() -> None:
    code = (
        "import json, sys, pydantic.v1, missout_api.handler\n"
        "print(json.dumps({'kept': sys.modules['pydantic.v1'] is not None}))"
    )
    assert run_fresh(code, env={}) == {"kept": True}


# An import of pydantic v1 in any form: `import pydantic.v1`, `from pydantic.v1 ...`,
# `from pydantic import v1`, or the module named as a string (importlib.import_module).
_V1_IMPORT = re.compile(
    rb"^\s*(?:import\s+pydantic\.v1\b|from\s+pydantic\.v1\b|from\s+pydantic\s+import\s+[^\n#]*\bv1\b)"
    rb"|[\"']pydantic\.v1[\"']",
    re.MULTILINE,
)
# FastAPI's own check, the one `missout_api.pydantic_v1` answers (it catches the ImportError).
_THE_CHECK = "fastapi/_compat/shared.py"


def test_no_installed_package_but_fastapis_check_imports_pydantic_v1() -> None:
    # Every package of this environment (the Lambda layer's pins and the development tools that share a
    # process with the app in the tests): one that imported pydantic v1 would fail with the API loaded.
    users = set()
    for root in {Path(sysconfig.get_paths()["purelib"]), Path(sysconfig.get_paths()["platlib"])}:
        for source in root.rglob("*.py"):
            relative = source.relative_to(root).as_posix()
            if relative.startswith("pydantic/"):
                continue  # pydantic itself (v1 lives there)
            text = source.read_bytes()
            if b"v1" in text and _V1_IMPORT.search(text):
                users.add(relative)
    assert users == {_THE_CHECK}
