#!/usr/bin/env bash
# Set up (if needed) and run every check: ruff, then the whole pytest suite, browser tests
# included, in two pytest-xdist workers (a test file stays in one worker; each worker that
# gets browser tests starts its own server on a free port).
# Usage: bash scripts/test.sh [extra pytest arguments]
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh --dev
.venv/bin/ruff check .
.venv/bin/ruff format --check .
.venv/bin/python -m pytest -n 2 --dist loadfile "$@"
