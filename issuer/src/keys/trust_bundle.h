// TrustBundle: what verifiers need to trust Writ's credentials, and its
// published formats (SPIFFE bundle, PEM, OpenSSH CA keys).
#ifndef WRIT_ISSUER_KEYS_TRUST_BUNDLE_H_
#define WRIT_ISSUER_KEYS_TRUST_BUNDLE_H_

#include <cstdint>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "absl/time/time.h"
#include "writ/jose/jwk.h"

namespace writ::issuer {

// TrustBundle is an immutable snapshot of everything published: the keys of
// every state except retired keys past publish_until.
struct TrustBundle {
  // sequence increases by one with every change to what is published (a
  // rotation, a retired key dropped); persisted, so it never goes back.
  uint64_t sequence = 0;
  // trust_domain is the SPIFFE trust domain ("acme.example").
  std::string trust_domain;
  // x509_authorities: DER certificates verifiers trust as roots for
  // X.509-SVIDs. Self-signed mode: Writ's own CA certificates (prepared,
  // active, retired). Intermediate mode: the operator's root(s).
  std::vector<std::string> x509_authorities_der;
  // jwt_keys: public keys of Writ's JWTs (prepared, active, retired).
  std::vector<PublicJwk> jwt_keys;
  // ssh_ca_keys: OpenSSH public key lines of the SSH CA (prepared, active,
  // retired), for sshd's TrustedUserCAKeys.
  std::vector<std::string> ssh_ca_keys;
};

// SpiffeBundleJson renders the SPIFFE trust bundle format
// (SPIFFE_Trust_Domain_and_Bundle.md section 4): a JWKS whose X.509
// authorities have "use":"x509-svid" and one "x5c" certificate each, whose
// JWT keys have "use":"jwt-svid" and a "kid", plus "spiffe_sequence" and
// "spiffe_refresh_hint" (seconds).
std::string SpiffeBundleJson(const TrustBundle& bundle, absl::Duration refresh_hint);

// X509BundlePem renders the X.509 authorities as concatenated PEM
// certificates.
std::string X509BundlePem(const TrustBundle& bundle);

// SshCaKeysFile renders the SSH CA keys one per line, the format of sshd's
// TrustedUserCAKeys file.
std::string SshCaKeysFile(const TrustBundle& bundle);

}  // namespace writ::issuer

#endif  // WRIT_ISSUER_KEYS_TRUST_BUNDLE_H_
