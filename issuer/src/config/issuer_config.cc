#include "issuer/src/config/issuer_config.h"

#include "issuer/src/config/config_defaults.h"

namespace writ::issuer {

std::vector<TrustedIssuerConfig> DefaultTrustedIssuers(const std::string& audience) {
  TrustedIssuerConfig github;
  github.name = "github";
  github.issuer = "https://token.actions.githubusercontent.com";
  github.audiences = {audience};
  github.algorithms = {JwsAlgorithm::kRs256};

  TrustedIssuerConfig gitlab;
  gitlab.name = "gitlab";
  gitlab.issuer = "https://gitlab.com";
  gitlab.audiences = {audience};
  gitlab.algorithms = {JwsAlgorithm::kRs256};
  return {std::move(github), std::move(gitlab)};
}

IssuerConfig DefaultIssuerConfig() {
  IssuerConfig config;
  config.issuer_url = "http://127.0.0.1:8080";
  config.http.host = "127.0.0.1";
  config.http.port = 8080;
  config.grpc.host = "127.0.0.1";
  config.grpc.port = 8081;
  config.data_dir = "writ-data";
  config.policy_dir = "policies";
  config.trusted_issuers = DefaultTrustedIssuers(config.issuer_url);
  // The example organisation of the shipped policies (policies/*.yaml), so
  // their x509-svid rules can issue; production configs name their own.
  config.x509.trust_domain = "acme.example";
  return config;
}

}  // namespace writ::issuer
