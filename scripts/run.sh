#!/usr/bin/env bash
# run.sh: sets up, builds and runs Writ's main job on its embedded default.
#
# Until the issuer lands (issue "The issuer"), the main job is a demo of the
# JOSE core: key generation, a JWKS, a signed and verified token, and the
# rejection of a tampered and an alg:none token.
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/setup.sh
scripts/build.sh build
exec build/sdk/cli/writ demo "$@"
