# lib.sh: what every example's run script shares. Sourced, not run.
#
# It starts writ-dev-oidc (a local OIDC provider standing in for GitHub,
# Kubernetes or an agent platform) and a writ-issuer that trusts it under one
# name, each in a fresh temporary directory, on ephemeral loopback ports, and
# stops both when the script exits. Binaries come from $WRIT_BUILD_DIR
# (default: <repo>/build; build it with scripts/build.sh).
set -euo pipefail

EXAMPLES_DIR=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
REPO_DIR=$(dirname "$EXAMPLES_DIR")
BUILD_DIR=${WRIT_BUILD_DIR:-$REPO_DIR/build}
WRIT=$BUILD_DIR/sdk/cli/writ
WRIT_ISSUER_BIN=$BUILD_DIR/issuer/src/main/writ-issuer
WRIT_DEV_OIDC=$BUILD_DIR/examples/common/writ-dev-oidc
for bin in "$WRIT" "$WRIT_ISSUER_BIN" "$WRIT_DEV_OIDC"; do
  if [[ ! -x $bin ]]; then
    echo "example: $bin is missing: build first (scripts/build.sh build)" >&2
    exit 1
  fi
done

WORK=$(mktemp -d "${TMPDIR:-/tmp}/writ-example.XXXXXX")
CHILD_PIDS=()
example_cleanup() {
  local rc=$?
  for pid in "${CHILD_PIDS[@]}"; do kill "$pid" 2>/dev/null || true; done
  for pid in "${CHILD_PIDS[@]}"; do wait "$pid" 2>/dev/null || true; done
  if [[ $rc -ne 0 && -f $WORK/issuer.log ]]; then
    echo "--- writ-issuer log (last 20 lines) ---" >&2
    tail -n 20 "$WORK/issuer.log" >&2
  fi
  rm -rf "$WORK"
}
trap example_cleanup EXIT

# step prints a numbered line, so the output reads as a walkthrough.
STEP=0
step() {
  STEP=$((STEP + 1))
  echo
  echo "== $STEP. $*"
}

# wait_for_line FILE PATTERN [SECONDS]: waits until FILE has a line matching.
wait_for_line() {
  local file=$1 pattern=$2 deadline=$((SECONDS + ${3:-30}))
  until grep -q -- "$pattern" "$file" 2>/dev/null; do
    if ((SECONDS > deadline)); then
      echo "example: timed out waiting for '$pattern' in $file" >&2
      return 1
    fi
    sleep 0.1
  done
}

# start_dev_oidc [RUNNER_CLAIMS_JSON]: starts the provider and sets
# DEV_OIDC_ISSUER, ACTIONS_ID_TOKEN_REQUEST_URL, ACTIONS_ID_TOKEN_REQUEST_TOKEN.
start_dev_oidc() {
  "$WRIT_DEV_OIDC" --runner-claims "${1:-{\}}" --env-file "$WORK/dev-oidc.env" \
    >"$WORK/dev-oidc.log" 2>&1 &
  CHILD_PIDS+=($!)
  wait_for_line "$WORK/dev-oidc.env" '^ACTIONS_ID_TOKEN_REQUEST_TOKEN='
  set -a  # the writ CLI reads ACTIONS_ID_TOKEN_REQUEST_* from the environment
  # shellcheck disable=SC1091
  source "$WORK/dev-oidc.env"
  set +a
}

# mint_oidc CLAIMS_JSON: a token from the provider (what a platform would
# hand the workload: a projected service-account token, an agent identity).
mint_oidc() {
  curl -sf -H "Authorization: Bearer $ACTIONS_ID_TOKEN_REQUEST_TOKEN" -d "$1" \
    "$DEV_OIDC_ISSUER/mint"
}

# start_issuer NAME POLICY_DIR [EXTRA_YAML]: starts writ-issuer trusting the
# provider as trusted issuer NAME (audience "writ"), and sets WRIT_URL
# (http://127.0.0.1:PORT) and WRIT_GRPC (127.0.0.1:PORT).
start_issuer() {
  local name=$1 policy_dir=$2 extra=${3:-}
  cat >"$WORK/writ.yaml" <<YAML
http: {host: 127.0.0.1, port: 0}
grpc: {host: 127.0.0.1, port: 0}
data_dir: $WORK/data
policy_dir: $policy_dir
trusted_issuers:
  - name: $name
    issuer: $DEV_OIDC_ISSUER
    audiences: [writ]
$extra
YAML
  "$WRIT_ISSUER_BIN" --config "$WORK/writ.yaml" >"$WORK/issuer.log" 2>&1 &
  CHILD_PIDS+=($!)
  wait_for_line "$WORK/issuer.log" 'writ-issuer: ready'
  WRIT_URL=$(sed -n 's/^  issuer: *//p' "$WORK/issuer.log" | head -n 1)
  WRIT_GRPC=$(sed -n 's/^  gRPC: *\([0-9.:]*\).*/\1/p' "$WORK/issuer.log" | head -n 1)
  export WRIT_ISSUER=$WRIT_URL  # the writ CLI's default --issuer
  echo "writ-issuer at $WRIT_URL (gRPC $WRIT_GRPC), trusting $DEV_OIDC_ISSUER as \"$name\""
}

# expect_fail WHAT CMD...: runs CMD, which must fail; prints its one-line error.
expect_fail() {
  local what=$1
  shift
  local out
  if out=$("$@" 2>&1); then
    echo "example: expected a refusal ($what), but it succeeded" >&2
    return 1
  fi
  echo "refused as expected ($what): $(tail -n 1 <<<"$out")"
}
