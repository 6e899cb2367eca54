#!/usr/bin/env bash
# Set up this checkout on a fresh machine: a virtual environment (.venv) with the pinned
# packages, and Debian's Chromium (image export, browser tests) and HAProxy (serving replicas)
# when they are missing.
# Usage: bash scripts/setup.sh [--dev]     (--dev adds the test tools)
set -euo pipefail
cd "$(dirname "$0")/.."

requirements=requirements.txt
[ "${1:-}" = "--dev" ] && requirements=requirements-dev.txt

# Debian packages: Chromium (image export, browser tests) and HAProxy (scripts/serve_replicas.sh,
# tested by tests/e2e/test_replicas.py). HAProxy lives in /usr/sbin, often off a user's PATH.
has_chromium() { command -v chromium >/dev/null 2>&1; }
has_haproxy() { command -v haproxy >/dev/null 2>&1 || [ -x /usr/sbin/haproxy ]; }
missing=()
has_chromium || missing+=(chromium)
has_haproxy || missing+=(haproxy)
if [ "${#missing[@]}" -gt 0 ]; then
  if [ "$(id -u)" = 0 ]; then sudo=""; elif command -v sudo >/dev/null 2>&1; then sudo="sudo"; else sudo="none"; fi
  if [ "$sudo" = none ] || ! command -v apt-get >/dev/null 2>&1; then
    echo "setup: missing ${missing[*]} and no way to install it here (apt-get as root);" \
      "image export will explain how, and serve_replicas.sh needs HAProxy." >&2
  else
    echo "setup: installing ${missing[*]} (Debian packages)..."
    $sudo apt-get update -qq
    DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq "${missing[@]}" >/dev/null
  fi
fi

# Browser tests drive this Debian Chromium (tests/e2e); Playwright's own browser download is
# never needed, so never let anything try it.
export PLAYWRIGHT_SKIP_BROWSER_DOWNLOAD=1
if [ "${CI:-}" = "true" ]; then
  has_chromium || { echo "setup: CI needs Chromium for the browser tests and it could not be installed." >&2; exit 1; }
  has_haproxy || { echo "setup: CI needs HAProxy for the replica test and it could not be installed." >&2; exit 1; }
fi

if [ ! -x .venv/bin/python ]; then
  python3 -m venv .venv
fi
.venv/bin/python -m pip install -q --upgrade pip
.venv/bin/python -m pip install -q -r "$requirements"
echo "setup: done ($requirements)."
