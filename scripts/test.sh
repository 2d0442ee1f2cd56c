#!/usr/bin/env bash
# Installs, builds and runs the whole test suite. Fails when any test fails or is skipped.
# Safe to rerun.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/install-deps.sh
# The zoo test models take minutes of mostly one core: make them while the build runs. ctest's
# make_test_models then finds them made by this version of the script and keeps them.
mkdir -p build
models_log=build/make_test_models.log
/usr/bin/python3 tests/models/make_models.py build/test_models > "$models_log" 2>&1 &
models_pid=$!
trap 'kill "$models_pid" 2>/dev/null || true' EXIT
bash scripts/build.sh
if ! wait "$models_pid"; then
  echo "test.sh: making the test models failed (see below); ctest's make_test_models retries" >&2
  cat "$models_log" >&2
fi
trap - EXIT
log=$(mktemp)
trap 'rm -f "$log"' EXIT
status=0
ctest --test-dir build --output-on-failure -j "$(nproc)" 2>&1 | tee "$log" || status=$?
if grep -qE '\*\*\*Skipped|Not Run|[1-9][0-9]* tests? skipped' "$log"; then
  echo "test.sh: some tests were skipped or not run; every test must run" >&2
  exit 1
fi
exit "$status"
