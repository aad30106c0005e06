#!/usr/bin/env bash
# AWS SAM CLI wrapper for the MissOut stack.
#
#   dev/sam.sh install            create .venv-sam with the pinned SAM CLI (done implicitly by the others)
#   dev/sam.sh validate [ARGS]    sam validate --lint   (offline: cfn-lint in-process, no AWS credentials)
#   dev/sam.sh build [ARGS]       sam build with python3.12 on PATH, then precompile the built artifacts
#   dev/sam.sh sizes              unpacked size and .pyc count of each built artifact
#   dev/sam.sh sam ARGS...        any other SAM CLI command, e.g. `sam local generate-event ...`
#
# The SAM CLI lives in its own virtualenv because its pins (boto3, pydantic, click) would downgrade the
# application's packages if installed into .venv.
#
# Environment overrides: SAM_VENV (default <repo>/.venv-sam), PYTHON312 (path to a python3.12 binary;
# otherwise dev/python312.sh finds one on PATH or under pyenv).
set -euo pipefail

readonly SAM_CLI_VERSION="1.170.0"
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
readonly ROOT
readonly SAM_VENV="${SAM_VENV:-$ROOT/.venv-sam}"
readonly BUILD_DIR="$ROOT/.aws-sam/build"

# The SAM CLI otherwise prints a telemetry notice on first use and sends usage data.
export SAM_CLI_TELEMETRY=0

die() {
    echo "sam.sh: $*" >&2
    exit 1
}

ensure_sam() {
    if [[ -x "$SAM_VENV/bin/sam" ]]; then
        return
    fi
    echo "sam.sh: installing aws-sam-cli==$SAM_CLI_VERSION into $SAM_VENV" >&2
    local base_python
    base_python="$(command -v python3)" || die "python3 not found (needed to create $SAM_VENV)"
    "$base_python" -m venv "$SAM_VENV"
    "$SAM_VENV/bin/python" -m pip install --quiet --upgrade pip
    "$SAM_VENV/bin/python" -m pip install --quiet "aws-sam-cli==$SAM_CLI_VERSION"
}

# `sam build` for runtime python3.12 refuses any other version, and the precompiled bytecode must match the
# Lambda runtime's magic number.
find_python312() {
    "$ROOT/dev/python312.sh" || die "python3.12 is needed to build the Lambda artifacts"
}

print_sizes() {
    [[ -d "$BUILD_DIR" ]] || die "nothing built yet ($BUILD_DIR missing)"
    local artifact pyc_count
    for artifact in "$BUILD_DIR"/*/; do
        pyc_count="$(find "$artifact" -name '*.pyc' | wc -l)"
        printf '%-24s %8s  %6d .pyc\n' "$(basename "$artifact")" "$(du -sh "$artifact" | cut -f1)" "$pyc_count"
    done
}

run_build() {
    local python312 python312_bin started
    python312="$(find_python312)"
    python312_bin="$(dirname "$python312")"
    started=$SECONDS
    (cd "$ROOT" && PATH="$python312_bin:$PATH" "$SAM_VENV/bin/sam" build "$@")
    echo "sam.sh: sam build took $((SECONDS - started)) s; sizes before precompiling:"
    print_sizes

    # Lambda mounts the layer read-only at /opt, so a layer without .pyc recompiles every module on every
    # cold start (measured: 1.2 s -> 0.45 s import time). unchecked-hash keeps the .pyc valid whatever
    # timestamps the zip step gives the sources.
    started=$SECONDS
    "$python312" -m compileall -q -j 2 --invalidation-mode unchecked-hash "$BUILD_DIR"/*/
    echo "sam.sh: precompiling took $((SECONDS - started)) s; sizes after:"
    print_sizes
}

main() {
    local command="${1:-}"
    if (($# > 0)); then shift; fi
    case "$command" in
        install)
            ensure_sam
            "$SAM_VENV/bin/sam" --version
            ;;
        validate)
            ensure_sam
            (cd "$ROOT" && "$SAM_VENV/bin/sam" validate --lint "$@")
            ;;
        build)
            ensure_sam
            run_build "$@"
            ;;
        sizes)
            print_sizes
            ;;
        sam)
            ensure_sam
            (cd "$ROOT" && "$SAM_VENV/bin/sam" "$@")
            ;;
        *)
            sed -n '2,8p' "${BASH_SOURCE[0]}" | sed 's/^# \{0,1\}//' >&2
            exit 2
            ;;
    esac
}

main "$@"
