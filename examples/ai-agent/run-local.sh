#!/usr/bin/env bash
# run-local.sh: an AI agent works on a support task with one narrow,
# one-minute, delegated Writ token per tool call. writ-dev-oidc plays the
# agent platform (it signs the task's token and the agent's identity token);
# writ-issuer decides with examples/ai-agent/policies; tickets-tools verifies
# every call with the SDK's TokenVerifier.
#
#   scripts/build.sh build && examples/ai-agent/run-local.sh
source "$(dirname "${BASH_SOURCE[0]}")/../common/lib.sh"
HERE=$EXAMPLES_DIR/ai-agent
TOOLS_BIN=$BUILD_DIR/examples/ai-agent/tickets-tools
AGENT_BIN=$BUILD_DIR/examples/ai-agent/triage-agent

step "The agent platform's OIDC provider, trusted by Writ as \"platform\""
start_dev_oidc
start_issuer platform "$HERE/policies"
mint_oidc '{"sub":"task:1042","aud":"writ","task_type":"support","requested_by":"alice@acme.example"}' \
  >"$WORK/task.jwt"
mint_oidc '{"sub":"agent:triage-bot","aud":"writ"}' >"$WORK/agent.jwt"
mint_oidc '{"sub":"agent:unknown-bot","aud":"writ"}' >"$WORK/stranger.jwt"
echo "task token (sub task:1042) and agent token (sub agent:triage-bot) issued by the platform"

step "The tool server accepts only Writ tokens for https://tickets.acme.example"
"$TOOLS_BIN" --issuer "$WRIT_URL" >"$WORK/tools.log" 2>&1 &
CHILD_PIDS+=($!)
wait_for_line "$WORK/tools.log" 'listening on'
TOOLS_URL=$(sed -n 's/.*listening on //p' "$WORK/tools.log")

step "The agent works the task: one scoped, delegated token per tool call"
"$AGENT_BIN" --issuer "$WRIT_URL" --tools "$TOOLS_URL" \
  --task-token-file "$WORK/task.jwt" --agent-token-file "$WORK/agent.jwt"

delegated() {  # delegated AUDIENCE SCOPE [ACTOR_FILE]: a token as the agent would get it
  "$WRIT" token --oidc-token-file "$WORK/task.jwt" --oidc-audience writ \
    --actor-token-file "${3:-$WORK/agent.jwt}" --audience "$1" --scope "$2" --lifetime 1m
}

step "The token says who: sub is the task, act the agent"
delegated https://tickets.acme.example tickets:read |
  "$WRIT" verify --audience https://tickets.acme.example --scope tickets:read --token-file -

step "What the tool server refuses"
read_only=$(delegated https://tickets.acme.example tickets:read)
expect_fail "wrong scope: a tickets:read token used to comment" \
  curl -fsS -X POST -H "Authorization: Bearer $read_only" -d '{}' "$TOOLS_URL/tools/comment"
wiki=$(delegated https://wiki.acme.example wiki:read)
expect_fail "wrong audience: a wiki token at the ticket tools" \
  curl -fsS -H "Authorization: Bearer $wiki" "$TOOLS_URL/tools/list_tickets"
undelegated=$("$WRIT" token --oidc-token-file "$WORK/task.jwt" --oidc-audience writ \
  --audience https://tickets.acme.example --scope tickets:read)
expect_fail "no agent named: the task's own token" \
  curl -fsS -H "Authorization: Bearer $undelegated" "$TOOLS_URL/tools/list_tickets"

step "What Writ refuses"
expect_fail "a scope no agent gets (tickets:delete)" \
  delegated https://tickets.acme.example tickets:delete
expect_fail "another agent acting for the task" \
  delegated https://tickets.acme.example tickets:read "$WORK/stranger.jwt"

step "The ledger shows each delegated decision"
"$WRIT" audit list --ledger "$WORK/data/ledger" --limit 4
echo
echo "ai-agent: OK"
