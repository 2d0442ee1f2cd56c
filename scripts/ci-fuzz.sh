#!/usr/bin/env bash
# Builds the package reader fuzzer with clang (libFuzzer + ASan + UBSan) in build-fuzz/ and runs it
# for a bounded time (FUZZ_SECONDS, default 60) from the seed corpus: the valid test package and
# every corruption of tests/hardening/package_corruptions.h. Fails on any crash, sanitizer report,
# leak or timeout; the reproducer is left in build-fuzz/fuzz/artifacts/. Safe to rerun.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/ci-deps.sh
build=build-fuzz
seconds="${FUZZ_SECONDS:-60}"
san="-fsanitize=address,undefined -fno-sanitize-recover=undefined -fno-omit-frame-pointer"
cmake -S . -B "$build" -G Ninja -DCMAKE_BUILD_TYPE=RelWithDebInfo \
  -DCMAKE_CXX_COMPILER=clang++ -DCMAKE_CXX_FLAGS="$san" \
  -DCMAKE_EXE_LINKER_FLAGS="$san" -DTS2COREML_FUZZ=ON > /dev/null
cmake --build "$build" -j "$(nproc)" --target package_fuzzer make_package_fuzz_seeds
seeds="$build/fuzz/seeds"
corpus="$build/fuzz/corpus"
artifacts="$build/fuzz/artifacts"
rm -rf "$seeds"
mkdir -p "$seeds" "$corpus" "$artifacts"
"$build/fuzz/make_package_fuzz_seeds" "$seeds"
echo "ci-fuzz.sh: fuzzing the package reader for ${seconds}s from $(ls "$seeds" | wc -l) seeds"
export ASAN_OPTIONS="detect_leaks=1:abort_on_error=1:symbolize=1"
export UBSAN_OPTIONS="print_stacktrace=1:halt_on_error=1"
"$build/fuzz/package_fuzzer" -max_total_time="$seconds" -timeout=10 -rss_limit_mb=2048 \
  -malloc_limit_mb=1024 -print_final_stats=1 -artifact_prefix="$artifacts/" \
  "$corpus" "$seeds"
