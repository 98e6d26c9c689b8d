#!/usr/bin/env bash
# Set up (if needed), check the code (ruff, mypy: settings in pyproject.toml), then run the test
# suite; arguments go to pytest, its exit code is ours. INKREAD_SKIP_LINT=1 skips the checks.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
scripts/setup.sh
if [[ "${INKREAD_SKIP_LINT:-0}" != "1" ]]; then
    echo "test: ruff check src; ruff format --check src; mypy" >&2
    .venv/bin/ruff check src
    .venv/bin/ruff format --check src
    .venv/bin/mypy
fi
exec .venv/bin/python -m pytest "$@"
