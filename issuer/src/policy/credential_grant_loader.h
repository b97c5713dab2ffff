// Loads the credential-kind parts of a rule's grant (policies/README.md):
//
//   grant:
//     credentials: [jwt, x509-svid, ssh]   # default [jwt]
//     x509_svid: {renewable: true}          # only with x509-svid
//     ssh: {principals: [...], source_address: client | [CIDR...]}   # required with ssh
//
// Internal to writ_policy; errors are recorded in the YamlErrors, as
// "file:line: rule \"x\": grant.field: what is wrong".
#ifndef WRIT_ISSUER_POLICY_CREDENTIAL_GRANT_LOADER_H_
#define WRIT_ISSUER_POLICY_CREDENTIAL_GRANT_LOADER_H_

#include "absl/strings/string_view.h"
#include "issuer/src/policy/compiled_policy.h"
#include "issuer/src/policy/yaml_util.h"
#include "yaml-cpp/yaml.h"

namespace writ::issuer::policy_internal {

// LoadCredentials reads grant.credentials into rule->credentials (left at
// the default, [jwt], when absent). Returns false when the list is malformed
// (not a list, empty, an unknown name or a name twice); rule->credentials
// then holds the entries that were valid.
bool LoadCredentials(YamlErrors& e, const YAML::Node& grant, absl::string_view where, Rule* rule);

// LoadKindBlocks reads grant.x509_svid and grant.ssh into `rule` and checks
// them, and rule->subject_template when `subject_ok`, against
// rule->credentials: x509-svid needs a spiffe:// subject that can expand to a
// valid SPIFFE ID; ssh needs an ssh block; a block for a kind the rule does not
// grant is an error. Returns false when anything was recorded.
bool LoadKindBlocks(YamlErrors& e, const YAML::Node& grant, absl::string_view where,
                    bool subject_ok, Rule* rule);

}  // namespace writ::issuer::policy_internal

#endif  // WRIT_ISSUER_POLICY_CREDENTIAL_GRANT_LOADER_H_
