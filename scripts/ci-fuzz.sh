#!/usr/bin/env bash
# Builds the fuzzers with clang (libFuzzer + ASan + UBSan) in build-fuzz/ and runs each for a bounded
# time, FUZZ_SECONDS (default 60) split between them: the package reader from its seed corpus (the
# valid test package and every corruption of tests/hardening/package_corruptions.h), then the
# model-file pre-checks (zip container, pickles, code; core/model/archive_precheck.h) from the
# crafted models of tests/hardening/make_hostile_models.py and the valid model's members. Fails on
# any crash, sanitizer report, leak or timeout; the reproducer is left in build-fuzz/fuzz/artifacts/.
# Safe to rerun.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/ci-deps.sh
build=build-fuzz
seconds="${FUZZ_SECONDS:-60}"
san="-fsanitize=address,undefined -fno-sanitize-recover=undefined -fno-omit-frame-pointer"
cmake -S . -B "$build" -G Ninja -DCMAKE_BUILD_TYPE=RelWithDebInfo \
  -DCMAKE_CXX_FLAGS_RELWITHDEBINFO="-O1 -g1 -DNDEBUG" -DCMAKE_CXX_COMPILER=clang++ \
  -DCMAKE_CXX_FLAGS="$san" \
  -DCMAKE_EXE_LINKER_FLAGS="$san" -DTS2COREML_FUZZ=ON > /dev/null
cmake --build "$build" -j "$(nproc)" --target package_fuzzer make_package_fuzz_seeds model_fuzzer
seeds="$build/fuzz/seeds"
corpus="$build/fuzz/corpus"
artifacts="$build/fuzz/artifacts"
rm -rf "$seeds"
mkdir -p "$seeds" "$corpus" "$artifacts"
"$build/fuzz/make_package_fuzz_seeds" "$seeds"
package_seconds=$(( (seconds + 1) / 2 ))
model_seconds=$(( seconds - package_seconds ))
echo "ci-fuzz.sh: fuzzing the package reader for ${package_seconds}s from $(ls "$seeds" | wc -l) seeds"
export ASAN_OPTIONS="detect_leaks=1:abort_on_error=1:symbolize=1"
export UBSAN_OPTIONS="print_stacktrace=1:halt_on_error=1"
"$build/fuzz/package_fuzzer" -max_total_time="$package_seconds" -timeout=10 -rss_limit_mb=2048 \
  -malloc_limit_mb=1024 -print_final_stats=1 -artifact_prefix="$artifacts/" \
  "$corpus" "$seeds"

model_seeds="$build/fuzz/model_seeds"
model_corpus="$build/fuzz/model_corpus"
rm -rf "$model_seeds"
mkdir -p "$model_seeds" "$model_corpus"
/usr/bin/python3 fuzz/make_model_seeds.py "$model_seeds"
echo "ci-fuzz.sh: fuzzing the model-file pre-checks for ${model_seconds}s from $(ls "$model_seeds" | wc -l) seeds"
"$build/fuzz/model_fuzzer" -max_total_time="$model_seconds" -timeout=10 -rss_limit_mb=2048 \
  -malloc_limit_mb=1024 -max_len=65536 -print_final_stats=1 -artifact_prefix="$artifacts/" \
  "$model_corpus" "$model_seeds"
