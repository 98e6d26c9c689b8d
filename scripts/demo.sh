#!/usr/bin/env bash
# Set up (if needed), then read the example handwritten note. Extra arguments go to the CLI.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
scripts/setup.sh
exec .venv/bin/inkread examples/handwritten_note.jpg --mode handwritten "$@"
