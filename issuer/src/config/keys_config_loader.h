// Internal to writ_config: the `keys`, `x509` and `ssh` sections of
// writ.yaml, and the checks that span them and `tokens`.
#ifndef WRIT_ISSUER_CONFIG_KEYS_CONFIG_LOADER_H_
#define WRIT_ISSUER_CONFIG_KEYS_CONFIG_LOADER_H_

#include <optional>

#include "absl/strings/string_view.h"
#include "issuer/src/config/issuer_config.h"
#include "issuer/src/config/yaml_fields.h"
#include "yaml-cpp/yaml.h"

namespace writ::issuer::config_internal {

// KeyLifetimeNodes remembers where the durations the cross-section check
// compares were written, to point its error there.
struct KeyLifetimeNodes {
  std::optional<YAML::Node> rotate_after, publish_lead, ca_lifetime, max_lifetime;
};

// ReadKeysConfig reads `keys: {rotate_after, publish_lead, check_interval}`;
// each a positive duration, and publish_lead must not exceed rotate_after.
void ReadKeysConfig(const Field& field, ConfigErrors& errors, KeysConfig* out,
                    KeyLifetimeNodes* nodes);

// ReadX509Config reads `x509: {enabled, trust_domain, mode, root_bundle_file,
// ca_lifetime, facts_extension_oid}`: trust_domain a SPIFFE trust domain,
// mode "self-signed" or "intermediate" (which needs root_bundle_file,
// resolved against `base_dir`), ca_lifetime positive, facts_extension_oid a
// dotted OID or empty.
void ReadX509Config(const Field& field, absl::string_view base_dir, ConfigErrors& errors,
                    X509Config* out, KeyLifetimeNodes* nodes);

// ReadSshConfig reads `ssh: {enabled}`.
void ReadSshConfig(const Field& field, ConfigErrors& errors, SshConfig* out);

// CheckCaLifetime records an error when X.509 is enabled in self-signed mode
// and x509.ca_lifetime does not exceed keys.rotate_after + keys.publish_lead
// + tokens.max_lifetime: a CA certificate must outlive the key's time as
// prepared and active key plus the longest credential it signs.
void CheckCaLifetime(const IssuerConfig& config, const KeyLifetimeNodes& nodes,
                     ConfigErrors& errors);

// IsDottedOid is true for an OID in dotted decimal form: at least two arcs,
// the first 0, 1 or 2, the second below 40 when the first is 0 or 1, no
// leading zeros.
bool IsDottedOid(absl::string_view oid);

}  // namespace writ::issuer::config_internal

#endif  // WRIT_ISSUER_CONFIG_KEYS_CONFIG_LOADER_H_
