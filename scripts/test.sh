#!/usr/bin/env bash
# Set up (if needed), then run the test suite; arguments go to pytest, its exit code is ours.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
scripts/setup.sh
exec .venv/bin/python -m pytest "$@"
