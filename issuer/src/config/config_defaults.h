// Internal to writ_config: the pieces of DefaultIssuerConfig that the loader
// recomputes when a file changes what they depend on.
#ifndef WRIT_ISSUER_CONFIG_CONFIG_DEFAULTS_H_
#define WRIT_ISSUER_CONFIG_CONFIG_DEFAULTS_H_

#include <string>
#include <vector>

#include "issuer/src/attest/trusted_issuer.h"

namespace writ::issuer {

// DefaultTrustedIssuers returns the default trust list: GitHub Actions
// (https://token.actions.githubusercontent.com) and GitLab.com
// (https://gitlab.com), both accepting tokens for `audience`, RS256 only.
std::vector<TrustedIssuerConfig> DefaultTrustedIssuers(const std::string& audience);

}  // namespace writ::issuer

#endif  // WRIT_ISSUER_CONFIG_CONFIG_DEFAULTS_H_
