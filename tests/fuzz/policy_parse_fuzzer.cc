// libFuzzer target: policy YAML loading, and a decision with whatever loads.
#include <cstddef>
#include <cstdint>
#include <string>

#include "issuer/src/policy/policy_engine.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  std::string text(reinterpret_cast<const char*>(data), size);
  auto engine = writ::issuer::PolicyEngine::FromSources({{"fuzz.yaml", text}}, {});
  if (!engine.ok()) return 0;
  writ::issuer::AttestedIdentity id;
  id.issuer_name = "github";
  id.subject = "repo:acme/app:ref:refs/heads/main";
  auto claims = writ::JwtClaims::Parse(
      R"({"repository":"acme/app","ref":"refs/heads/main","kubernetes.io":{"namespace":"x"}})");
  if (claims.ok()) id.claims = *claims;
  // One request per credential kind: audience and scopes are JWT-only, SSH
  // principals SSH-only (anything else stops at the first check).
  using writ::issuer::CredentialKind;
  for (CredentialKind kind :
       {CredentialKind::kJwt, CredentialKind::kX509Svid, CredentialKind::kSsh}) {
    writ::issuer::PolicyRequest req;
    req.kind = kind;
    if (kind == CredentialKind::kJwt) {
      req.audience = "aud";
      req.scopes = {"a"};
    }
    if (kind == CredentialKind::kSsh) req.ssh_principals = {"deploy"};
    req.client_address = "10.0.0.1";
    req.now = absl::FromUnixSeconds(1795428000);
    (void)(*engine)->Explain(id, req);
  }
  return 0;
}
