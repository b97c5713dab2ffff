#!/usr/bin/env bash
# run-local.sh: two gRPC services, frontend and inventory, authenticate each
# other with Writ X.509-SVIDs through the SDK and keep talking while their
# SVIDs rotate every second and while Writ rotates its CA. writ-dev-oidc
# plays the cluster's service-account token issuer.
#
#   scripts/build.sh build && examples/service-mtls/run-local.sh
source "$(dirname "${BASH_SOURCE[0]}")/../common/lib.sh"
HERE=$EXAMPLES_DIR/service-mtls
INVENTORY_BIN=$BUILD_DIR/examples/service-mtls/inventory
FRONTEND_BIN=$BUILD_DIR/examples/service-mtls/frontend
INVENTORY_ID=spiffe://acme.example/ns/shop/sa/inventory
FRONTEND_ID=spiffe://acme.example/ns/shop/sa/frontend

step "Writ trusts the cluster's token issuer as \"cluster\"; its CA key may rotate after 3 s"
start_dev_oidc
start_issuer cluster "$HERE/policies" "keys: {rotate_after: 1h, publish_lead: 3s, check_interval: 1s}"
sa_token() {  # sa_token NAME: a projected service-account token for shop/NAME
  mint_oidc "{\"sub\":\"system:serviceaccount:shop:$1\",\"aud\":\"writ\",
    \"kubernetes.io\":{\"namespace\":\"shop\",\"serviceaccount\":{\"name\":\"$1\"}}}" >"$WORK/$1.jwt"
}
sa_token inventory
sa_token frontend
sa_token reporting

step "inventory serves mTLS, accepting only $FRONTEND_ID"
"$INVENTORY_BIN" --issuer "$WRIT_URL" --token-file "$WORK/inventory.jwt" --allow "$FRONTEND_ID" \
  --rotate-every 1s >"$WORK/inventory.log" 2>&1 &
CHILD_PIDS+=($!)
wait_for_line "$WORK/inventory.log" 'listening on'
INVENTORY=$(sed -n 's/.*listening on \([0-9.:]*\).*/\1/p' "$WORK/inventory.log")
head -n 2 "$WORK/inventory.log"

step "frontend calls it on one channel for 8 s; both rotate SVIDs every second"
"$FRONTEND_BIN" --issuer "$WRIT_URL" --token-file "$WORK/frontend.jwt" --inventory "$INVENTORY" \
  --expect "$INVENTORY_ID" --calls 32 --interval 250ms --rotate-every 1s >"$WORK/frontend.log" 2>&1 &
frontend_pid=$!
CHILD_PIDS+=($frontend_pid)
sleep 2.5

step "Meanwhile Writ rotates its X.509 CA (the new CA was published 3 s ahead)"
# Not forced: Writ refuses until the prepared CA has been published for the
# lead, so every verifier holding a fresh bundle already trusts it.
for attempt in 1 2 3 4 5 6 7 8 9 10; do
  if "$WRIT" keys rotate x509-ca --grpc "$WRIT_GRPC" 2>"$WORK/rotate.err"; then break; fi
  if ((attempt == 10)); then cat "$WORK/rotate.err" >&2; exit 1; fi
  echo "not yet: $(cat "$WORK/rotate.err")"
  sleep 0.5
done

if ! wait "$frontend_pid"; then
  cat "$WORK/frontend.log"
  echo "service-mtls: calls failed across the rotation" >&2
  exit 1
fi
grep -E '^(call|frontend:)' "$WORK/frontend.log" | sed -n '1,3p;$p'
cas=$(grep -o 'from [^;]*' "$WORK/frontend.log" | sort -u | wc -l)
echo "SVIDs from $cas different CAs were used without a failed call"
if ((cas < 2)); then
  echo "service-mtls: expected SVIDs from the old and the new CA" >&2
  exit 1
fi

step "What inventory refuses: a valid Writ SVID for another service"
expect_fail "spiffe://acme.example/ns/shop/sa/reporting is not allowed" \
  "$FRONTEND_BIN" --issuer "$WRIT_URL" --token-file "$WORK/reporting.jwt" \
  --inventory "$INVENTORY" --expect "$INVENTORY_ID" --calls 1 --interval 0s

step "What frontend refuses: a server that is not $INVENTORY_ID"
expect_fail "the server is not spiffe://acme.example/ns/shop/sa/billing" \
  "$FRONTEND_BIN" --issuer "$WRIT_URL" --token-file "$WORK/frontend.jwt" \
  --inventory "$INVENTORY" --expect spiffe://acme.example/ns/shop/sa/billing --calls 1 --interval 0s
echo
echo "service-mtls: OK"
