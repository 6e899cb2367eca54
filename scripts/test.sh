#!/usr/bin/env bash
# Set up (if needed) and run every check: ruff, then the whole pytest suite, browser tests
# included. Usage: bash scripts/test.sh [extra pytest arguments]
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh --dev
.venv/bin/ruff check .
.venv/bin/ruff format --check .
.venv/bin/python -m pytest "$@"
