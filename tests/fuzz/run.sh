#!/bin/bash
# run.sh [SECONDS] : build the libFuzzer targets with clang (in build-fuzz) and
# run each for SECONDS (default 20) on a scratch copy of its corpus, so the
# seeds committed here are not rewritten. Fails when a target cannot be built
# or finds a crash, a leak, undefined behaviour, a failed property check or a
# hang; the input that did it is kept in build-fuzz/artifacts/.
# FUZZ_TARGETS="resolv" runs only those (default: config state resolv network cni).
set -euo pipefail
top=$(cd "$(dirname "$0")/../.." && pwd)
secs=${1:-20}
targets=(${FUZZ_TARGETS:-config state resolv network cni})
build=$top/build-fuzz

command -v clang >/dev/null || { echo "fuzz: clang is not installed (Debian packages clang libclang-rt-dev)" >&2; exit 1; }
CC=clang cmake -S "$top" -B "$build" -DNSGATE_FUZZ=ON -DNSGATE_TESTS=OFF -DNSGATE_BENCH=OFF >/dev/null
cmake --build "$build" -j "$(nproc)" --target "${targets[@]/#/fuzz-}"

scratch=$(mktemp -d)
trap 'rm -rf "$scratch"' EXIT
failed=0
for t in "${targets[@]}"; do
	corpus=$scratch/corpus-$t
	cp -r "$top/tests/fuzz/corpus-$t" "$corpus"
	# -timeout: an input that takes seconds is a hang, and fails like a crash.
	if "$build/tests/fuzz/fuzz-$t" -max_total_time="$secs" -timeout=10 -print_final_stats=1 \
		-dict="$top/tests/fuzz/$t.dict" -artifact_prefix="$scratch/$t-" "$corpus" >"$scratch/$t.log" 2>&1; then
		runs=$(sed -n 's/^stat::number_of_executed_units: *//p' "$scratch/$t.log")
		echo "fuzz-$t: ${runs:-?} runs in ${secs} s, no crash"
	else
		tail -n 40 "$scratch/$t.log" >&2
		mkdir -p "$build/artifacts"
		cp "$scratch/$t-"* "$build/artifacts/" 2>/dev/null || true
		echo "FAIL: fuzz-$t found a crash (input in $build/artifacts/; rerun: $build/tests/fuzz/fuzz-$t FILE)" >&2
		failed=1
	fi
done
exit "$failed"
