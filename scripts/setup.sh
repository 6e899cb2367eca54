#!/usr/bin/env bash
# Set up this checkout on a fresh machine: a virtual environment (.venv) with the pinned
# packages, and Debian's Chromium for image export and browser tests when it is missing.
# Usage: bash scripts/setup.sh [--dev]     (--dev adds the test tools)
set -euo pipefail
cd "$(dirname "$0")/.."

requirements=requirements.txt
[ "${1:-}" = "--dev" ] && requirements=requirements-dev.txt

if ! command -v chromium >/dev/null 2>&1; then
  if [ "$(id -u)" = 0 ]; then sudo=""; elif command -v sudo >/dev/null 2>&1; then sudo="sudo"; else sudo="none"; fi
  if [ "$sudo" = none ] || ! command -v apt-get >/dev/null 2>&1; then
    echo "setup: no Chromium and no way to install it here; image export will explain how." >&2
  else
    echo "setup: installing Chromium (Debian package) for image export..."
    $sudo apt-get update -qq
    DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq chromium >/dev/null
  fi
fi

# Browser tests drive this Debian Chromium (tests/e2e); Playwright's own browser download is
# never needed, so never let anything try it.
export PLAYWRIGHT_SKIP_BROWSER_DOWNLOAD=1
if [ "${CI:-}" = "true" ] && ! command -v chromium >/dev/null 2>&1; then
  echo "setup: CI needs Chromium for the browser tests and it could not be installed." >&2
  exit 1
fi

if [ ! -x .venv/bin/python ]; then
  python3 -m venv .venv
fi
.venv/bin/python -m pip install -q --upgrade pip
.venv/bin/python -m pip install -q -r "$requirements"
echo "setup: done ($requirements)."
