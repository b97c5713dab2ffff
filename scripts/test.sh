#!/usr/bin/env bash
# test.sh: sets up, builds and runs every test.
#
#   scripts/test.sh                 all tests, then the unit and corpus-replay
#                                   and integration tests again under ASan + UBSan
#   WRIT_SANITIZE=0 scripts/test.sh skip the sanitizer pass
#
# Test labels: unit (beside the code), fuzz (corpus replay), interop
# (independent JOSE libraries from Debian). Select with: ctest -L LABEL.
set -euo pipefail
cd "$(dirname "$0")/.."
start=$SECONDS
scripts/setup.sh
echo "== build (RelWithDebInfo) =="
scripts/build.sh build
echo "== tests =="
ctest --test-dir build --output-on-failure --parallel "$(nproc)" --timeout 600

if [[ "${WRIT_SANITIZE:-1}" != "0" ]]; then
  echo "== build (ASan + UBSan) =="
  scripts/build.sh build-asan -DWRIT_SANITIZE=ON -DWRIT_BENCH=OFF
  echo "== unit, corpus-replay and integration tests under ASan + UBSan =="
  ASAN_OPTIONS=detect_leaks=1:abort_on_error=1 UBSAN_OPTIONS=print_stacktrace=1 \
    ctest --test-dir build-asan --output-on-failure --parallel "$(nproc)" --timeout 600 -L "unit|fuzz|integration"
fi
echo "test.sh: all passed in $((SECONDS - start)) s"
