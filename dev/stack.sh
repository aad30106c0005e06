#!/usr/bin/env bash
# Local PostgreSQL + pgBouncer: see docs/local-stack.md. The logic lives in stack.py (tests
# import it); this wrapper only picks an interpreter: the project venv if it exists, else the
# system python3 (stack.py uses the standard library only, so `install` works before the venv).
set -euo pipefail
here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
python="$here/../.venv/bin/python"
[[ -x "$python" ]] || python="$(command -v python3)"
exec "$python" "$here/stack.py" "$@"
