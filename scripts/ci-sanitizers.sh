#!/usr/bin/env bash
# Builds the project with AddressSanitizer + UndefinedBehaviorSanitizer (gcc) in build-asan/ and
# runs the test suite there, minus the heaviest model-zoo tests (see docs/performance.md,
# "Sanitizers"). Fails on any test failure, skipped test, sanitizer report or leak; LibTorch's own
# leaks are suppressed narrowly (tests/hardening/sanitizers/lsan.supp). Safe to rerun.
set -euo pipefail
cd "$(dirname "$0")/.."
build=build-asan
san="-fsanitize=address,undefined -fno-sanitize-recover=undefined -fno-omit-frame-pointer"
# -O1 with line tables: reports keep file and line; -O2 -g doubled the compile time of each
# LibTorch translation unit (docs/performance.md, "CI").
cmake -S . -B "$build" -G Ninja -DCMAKE_BUILD_TYPE=RelWithDebInfo \
  -DCMAKE_CXX_FLAGS_RELWITHDEBINFO="-O1 -g1 -DNDEBUG" -DCMAKE_CXX_FLAGS="$san" \
  -DCMAKE_EXE_LINKER_FLAGS="$san" -DCMAKE_SHARED_LINKER_FLAGS="$san" \
  -DCMAKE_MODULE_LINKER_FLAGS="$san" > /dev/null
cmake --build "$build" -j "$(nproc)"

# The test models (zoo, precision and op-sweep models) are the same files as build/'s: reuse
# them (the model scripts keep models made by their own version; hard links, and they replace files
# rather than write into them). Their make_* steps are excluded below.
for models in test_models precision_models op_models; do
  if [ -d "build/$models" ] && [ ! -e "$build/$models" ]; then
    cp -al "build/$models" "$build/$models"
  fi
done

supp="$PWD/tests/hardening/sanitizers"
export ASAN_OPTIONS="detect_leaks=1:abort_on_error=0:halt_on_error=1:detect_stack_use_after_return=0"
export LSAN_OPTIONS="suppressions=$supp/lsan.supp:print_suppressions=0"
export UBSAN_OPTIONS="print_stacktrace=1:halt_on_error=1:suppressions=$supp/ubsan.supp"
# Not under the sanitizers: the model-zoo sweeps (every test model converted, interpreted and
# compared; each is covered for memory errors by e2e_convert_test and the unit tests on the same
# code paths), the zoo through the model pre-checks (2.5 GB read; the checks run under the
# sanitizers in their unit tests, the crafted-model tests and the model fuzzer), the README
# walkthrough (a resnet18 verified end to end) and the tests that only drive cmake/compilers.
exclude='^(e2e_verify_test|e2e_precision_test|e2e_coverage_test|hardening_determinism_test|hardening_model_precheck_zoo_test|sdk_install_test)\.|^(fancy_gelu_test|make_precision_models|make_op_models|readme_walkthrough)$'
log=$(mktemp)
trap 'rm -f "$log"' EXIT
status=0
ctest --test-dir "$build" --output-on-failure -j "$(nproc)" -E "$exclude" 2>&1 | tee "$log" \
  || status=$?
if grep -qE '\*\*\*Skipped|Not Run|[1-9][0-9]* tests? skipped' "$log"; then
  echo "ci-sanitizers.sh: some tests were skipped or not run; every test must run" >&2
  exit 1
fi
exit "$status"
