// SvidSummary: "serial <hex> from <CA subject>" for an SVID chain, so the
// example's output shows each rotation (new key and serial) and a CA
// rotation (new issuer).
#ifndef WRIT_EXAMPLES_SERVICE_MTLS_SVID_SUMMARY_H_
#define WRIT_EXAMPLES_SERVICE_MTLS_SVID_SUMMARY_H_

#include <openssl/x509.h>

#include <string>

#include "absl/strings/str_cat.h"
#include "writ/x509/certificate.h"

namespace writ::examples {

inline std::string SvidSummary(const std::string& chain_pem) {
  absl::StatusOr<std::vector<SslPtr<X509>>> chain = ParseCertificateChainPem(chain_pem);
  if (!chain.ok() || chain->empty()) return "unparseable SVID";
  X509* leaf = (*chain)[0].get();
  char issuer[256] = {0};
  X509_NAME_oneline(X509_get_issuer_name(leaf), issuer, sizeof(issuer));
  const ASN1_INTEGER* serial = X509_get0_serialNumber(leaf);
  std::string hex;
  for (int i = 0; i < serial->length && i < 4; ++i) {
    absl::StrAppend(&hex, absl::Hex(serial->data[i], absl::kZeroPad2));
  }
  return absl::StrCat("serial ", hex, "... from ", issuer);
}

}  // namespace writ::examples

#endif  // WRIT_EXAMPLES_SERVICE_MTLS_SVID_SUMMARY_H_
