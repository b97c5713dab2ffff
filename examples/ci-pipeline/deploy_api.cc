// deploy-api: the deployment API a CI job calls with its Writ token. It
// trusts Writ only: it verifies each token with the SDK's TokenVerifier
// (signature via Writ's discovery document and JWKS, iss, aud, exp) and
// requires deploy:write to deploy and deploy:read to list.
//
//   deploy-api --issuer http://127.0.0.1:8080 [--audience https://deploy.acme.example] [--port 0]

#include <iostream>
#include <mutex>
#include <string>
#include <vector>

#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "examples/common/protected_api.h"

namespace {

// Fact returns an attested fact Writ copied into the token (the rule's
// include_claims, under "attest": {"claims": {...}}), or "".
std::string Fact(const writ::VerifiedToken& token, absl::string_view name) {
  std::optional<absl::string_view> value = token.claims.GetStringAt({"attest", "claims", name});
  return value ? std::string(*value) : "";
}

}  // namespace

int main(int argc, char** argv) {
  writ::TokenVerifierOptions options;
  options.audience = "https://deploy.acme.example";
  int port = 0;
  for (int i = 1; i + 1 < argc; i += 2) {
    const std::string flag = argv[i], value = argv[i + 1];
    if (flag == "--issuer") {
      options.issuer_url = value;
    } else if (flag == "--audience") {
      options.audience = value;
    } else if (flag == "--port" && absl::SimpleAtoi(value, &port)) {
    } else {
      std::cerr << "usage: deploy-api --issuer URL [--audience AUD] [--port N]\n";
      return 2;
    }
  }
  absl::StatusOr<std::unique_ptr<writ::TokenVerifier>> verifier = writ::TokenVerifier::New(options);
  if (!verifier.ok()) {
    std::cerr << "deploy-api: " << verifier.status().message() << "\n";
    return 2;
  }
  writ::examples::ProtectedApi api(*std::move(verifier));
  std::mutex mu;
  std::vector<std::string> deployments;
  api.Handle("POST", "/v1/deployments", "deploy:write",
             [&](const writ::VerifiedToken& token,
                 const httplib::Request&) -> absl::StatusOr<std::string> {
               const std::string entry = absl::StrCat(
                   R"({"deployed_by":")", token.subject, R"(","repository":")",
                   Fact(token, "repository"), R"(","run_id":")", Fact(token, "run_id"), R"("})");
               std::lock_guard<std::mutex> lock(mu);
               deployments.push_back(entry);
               return entry;
             });
  api.Handle(
      "GET", "/v1/deployments", "deploy:read",
      [&](const writ::VerifiedToken&, const httplib::Request&) -> absl::StatusOr<std::string> {
        std::lock_guard<std::mutex> lock(mu);
        return absl::StrCat("[", absl::StrJoin(deployments, ","), "]");
      });
  return writ::examples::ServeUntilSignal(api, "deploy-api", port);
}
