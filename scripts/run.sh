#!/usr/bin/env bash
# run.sh: sets up, builds and runs Writ's main job, the issuer, on its
# embedded dev default: HTTP on 127.0.0.1:8080, gRPC on 127.0.0.1:8081, keys
# and the RocksDB ledger in ./writ-data, the policies in ./policies, GitHub
# Actions and GitLab.com trusted. Ctrl-C stops it gracefully.
#
#   scripts/run.sh [writ-issuer flags]     e.g. --config deploy/github-actions/writ.yaml
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/setup.sh
scripts/build.sh build
exec build/issuer/src/main/writ-issuer "$@"
