#!/usr/bin/env bash
# Prints the path of a python3.12 interpreter (the Lambda runtime's version), or fails saying how to get one.
# Looked for, in order: $PYTHON312, `python3.12` on PATH, pyenv's 3.12 versions (under `pyenv root`, or
# $PYENV_ROOT, or ~/.pyenv). Used by `sam build`, `make invoke` and `make test-py312`: one way to find it.
set -euo pipefail

is_312() {
    [[ -n "$1" && -x "$1" ]] && "$1" -c 'import sys; sys.exit(sys.version_info[:2] != (3, 12))' 2>/dev/null
}

candidates=("${PYTHON312:-}" "$(command -v python3.12 || true)")
pyenv_root="${PYENV_ROOT:-}"
if [[ -z "$pyenv_root" ]] && command -v pyenv >/dev/null; then
    pyenv_root="$(pyenv root)"
fi
pyenv_root="${pyenv_root:-$HOME/.pyenv}"
# Newest 3.12 patch release first.
while IFS= read -r found; do
    candidates+=("$found")
done < <(ls -1d "$pyenv_root"/versions/3.12.*/bin/python3.12 2>/dev/null | sort -V -r)

for candidate in "${candidates[@]}"; do
    if is_312 "$candidate"; then
        echo "$candidate"
        exit 0
    fi
done
echo "python3.12 not found: install it (e.g. 'pyenv install 3.12') or set PYTHON312=/path/to/python3.12" >&2
exit 1
