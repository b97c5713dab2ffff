#!/usr/bin/env bash
# fuzz.sh: builds the libFuzzer targets with clang and fuzzes each for a while.
#
#   scripts/fuzz.sh [SECONDS_PER_TARGET]     default 60
#
# New inputs that increase coverage go into tests/fuzz/corpus/<target>/; a
# crash leaves crash-* in the current directory: add it to the corpus once
# fixed, so the replay test guards against regressions.
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/setup.sh --fuzz
seconds="${1:-60}"
CC=clang CXX=clang++ cmake -S . -B build-fuzz -G Ninja -DWRIT_FUZZ=ON -DWRIT_BENCH=OFF >/dev/null
targets=(jws_parse jwks_parse csr_parse form_body policy_parse config_parse ledger_decode spiffe_id
  ssh_public_key client_reply http_request)
cmake --build build-fuzz --target "${targets[@]/%/_fuzzer}"
for target in "${targets[@]}"; do
  echo "fuzz: $target for ${seconds}s"
  "build-fuzz/tests/fuzz/${target}_fuzzer" -max_total_time="$seconds" -max_len=20000 \
    "tests/fuzz/corpus/$target"
done
