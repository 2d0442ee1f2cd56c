#!/usr/bin/env bash
# Installs, builds and runs the whole test suite. Fails when any test fails or is skipped.
# Safe to rerun.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/install-deps.sh
bash scripts/build.sh
log=$(mktemp)
trap 'rm -f "$log"' EXIT
status=0
ctest --test-dir build --output-on-failure -j "$(nproc)" 2>&1 | tee "$log" || status=$?
if grep -qE '\*\*\*Skipped|Not Run|[1-9][0-9]* tests? skipped' "$log"; then
  echo "test.sh: some tests were skipped or not run; every test must run" >&2
  exit 1
fi
exit "$status"
