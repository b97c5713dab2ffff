// Internal to writ_config: the `trusted_issuers` list of writ.yaml.
#ifndef WRIT_ISSUER_CONFIG_TRUSTED_ISSUER_LOADER_H_
#define WRIT_ISSUER_CONFIG_TRUSTED_ISSUER_LOADER_H_

#include <vector>

#include "absl/strings/string_view.h"
#include "issuer/src/attest/trusted_issuer.h"
#include "issuer/src/config/yaml_fields.h"
#include "yaml-cpp/yaml.h"

namespace writ::issuer::config_internal {

// ReadTrustedIssuers parses `node` (the value of trusted_issuers, at field
// path `path`) into `out`, replacing its content. static_jwks_file paths
// resolve against `base_dir` and are read into static_jwks. Every problem is
// recorded in `errors`; `out` is only meaningful when none was recorded.
void ReadTrustedIssuers(const YAML::Node& node, absl::string_view path, absl::string_view base_dir,
                        ConfigErrors& errors, std::vector<TrustedIssuerConfig>* out);

}  // namespace writ::issuer::config_internal

#endif  // WRIT_ISSUER_CONFIG_TRUSTED_ISSUER_LOADER_H_
