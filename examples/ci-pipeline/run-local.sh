#!/usr/bin/env bash
# run-local.sh: the GitHub Actions workflow in github-workflow.yml, run on
# this machine. writ-dev-oidc plays GitHub's runner (it serves
# ACTIONS_ID_TOKEN_REQUEST_URL and signs job tokens with the claims a push
# to acme/app main has); writ-issuer trusts it as "github" and decides with
# the shipped policies/github-actions.yaml; deploy-api is the relying party.
#
#   scripts/build.sh build && examples/ci-pipeline/run-local.sh
source "$(dirname "${BASH_SOURCE[0]}")/../common/lib.sh"
DEPLOY_API=$BUILD_DIR/examples/ci-pipeline/deploy-api

step "A local OIDC provider plays GitHub's runner for a push to acme/app main"
start_dev_oidc '{"sub":"repo:acme/app:ref:refs/heads/main","repository":"acme/app",
  "repository_owner":"acme","ref":"refs/heads/main","event_name":"push","sha":"3f2a9c1",
  "run_id":"4242","workflow":"deploy",
  "job_workflow_ref":"acme/app/.github/workflows/deploy.yml@refs/heads/main"}'
echo "runner token endpoint: $ACTIONS_ID_TOKEN_REQUEST_URL"

step "writ-issuer trusts it as \"github\", with the shipped GitHub Actions policy"
mkdir -p "$WORK/policies"
cp "$REPO_DIR/policies/github-actions.yaml" "$WORK/policies/"
start_issuer github "$WORK/policies"

step "The deployment API verifies Writ tokens with the SDK's TokenVerifier"
"$DEPLOY_API" --issuer "$WRIT_URL" >"$WORK/deploy-api.log" 2>&1 &
CHILD_PIDS+=($!)
wait_for_line "$WORK/deploy-api.log" 'listening on'
DEPLOY_URL=$(sed -n 's/.*listening on //p' "$WORK/deploy-api.log")
echo "deploy-api at $DEPLOY_URL"

step "The job's step: writ token, exactly as in github-workflow.yml"
token=$("$WRIT" token --github-actions --oidc-audience writ \
  --audience https://deploy.acme.example --scope deploy:write --lifetime 10m)
echo "got a Writ token (${#token} characters; never printed)"

step "The job's step: deploy with it"
curl -fsS -H "Authorization: Bearer $token" -d '{"version":"3f2a9c1"}' "$DEPLOY_URL/v1/deployments"
echo

step "What the deployment API refuses"
expect_fail "no token" curl -fsS -d '{}' "$DEPLOY_URL/v1/deployments"
read_token=$("$WRIT" token --github-actions --oidc-audience writ \
  --audience https://deploy.acme.example --scope deploy:read)
expect_fail "a deploy:read token cannot deploy" \
  curl -fsS -H "Authorization: Bearer $read_token" -d '{}' "$DEPLOY_URL/v1/deployments"
IFS=. read -r header payload signature <<<"$token"
expect_fail "a token whose claims were edited" curl -fsS \
  -H "Authorization: Bearer $header.${payload}x.$signature" -d '{}' "$DEPLOY_URL/v1/deployments"

step "What Writ refuses: a scope the policy does not grant"
expect_fail "scope artifacts:write" "$WRIT" token --github-actions --oidc-audience writ \
  --audience https://deploy.acme.example --scope artifacts:write

step "writ verify: check a token against the issuer, as any relying party would"
echo "$token" | "$WRIT" verify --audience https://deploy.acme.example --scope deploy:write --token-file -

step "The ledger recorded every decision"
"$WRIT" audit list --ledger "$WORK/data/ledger" --limit 5
echo
echo "ci-pipeline: OK"
