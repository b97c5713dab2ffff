#!/usr/bin/env bash
# build.sh: configures (once) and builds Writ into a build directory.
#
#   scripts/build.sh [BUILD_DIR [extra cmake -D options...]]   default: build
#
# ccache is used when present (setup.sh installs it), so rebuilds are quick.
set -euo pipefail
cd "$(dirname "$0")/.."
# Paths relative to the checkout, so ccache hits across fresh clones (CI).
export CCACHE_BASEDIR="$PWD" CCACHE_NOHASHDIR=true
dir="${1:-build}"
shift || true
if [[ ! -f "$dir/build.ninja" ]]; then
  cmake -S . -B "$dir" -G Ninja -DCMAKE_BUILD_TYPE=RelWithDebInfo "$@" >/dev/null
fi
# The full log goes to $dir/build.log; on failure its end is shown.
if ! cmake --build "$dir" --parallel "$(nproc)" >"$dir/build.log" 2>&1; then
  tail -n 60 "$dir/build.log" >&2
  echo "build.sh: build failed; full log in $dir/build.log" >&2
  exit 1
fi
