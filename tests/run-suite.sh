#!/bin/bash
# Build nsgate twice (plain, and with ASan/UBSan) and run the whole CTest suite
# on both: unit tests, and lab tests that each run in their own hermetic
# network + mount namespace (tests/lab/lab.sh), never in the machine's own.
# Then build the libFuzzer targets with clang and run each briefly
# (tests/fuzz/run.sh: FUZZ_SECONDS each, default 20; a crash fails the suite).
# Last, the Debian package is built, installed and tried (tests/package).
set -euo pipefail
top=$(cd "$(dirname "$0")/.." && pwd)
jobs=$(nproc)

[ "$(id -u)" = 0 ] || { echo "run-suite: the lab tests need root" >&2; exit 1; }

run() {
	local dir=$1; shift
	cmake -S "$top" -B "$dir" -DCMAKE_BUILD_TYPE=RelWithDebInfo "$@" >/dev/null
	cmake --build "$dir" -j "$jobs"
	(cd "$dir" && ctest --output-on-failure -j "$jobs")
}

echo "== plain build"
run "$top/build"
echo "== ASan/UBSan build"
ASAN_OPTIONS=detect_leaks=1:abort_on_error=1 UBSAN_OPTIONS=halt_on_error=1:print_stacktrace=1 \
	run "$top/build-asan" -DNSGATE_SANITIZE=ON
echo "== fuzzers (clang, libFuzzer)"
bash "$top/tests/fuzz/run.sh" "${FUZZ_SECONDS:-20}"
echo "== Debian package (build, lintian, install, a lab test against /usr/sbin/nsgate, purge)"
bash "$top/tests/package/test-package.sh"
