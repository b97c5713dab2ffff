// libFuzzer target: PKCS#10 CSR parsing (DER and PEM) and signature checks.
#include <cstddef>
#include <cstdint>
#include <cstdlib>

#include "writ/x509/certificate_request.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const absl::string_view input(reinterpret_cast<const char*>(data), size);
  auto check = [](absl::StatusOr<writ::CertificateRequest> csr) {
    if (!csr.ok()) return;
    if (csr->public_key() == nullptr) abort();
    (void)csr->VerifySignature();
  };
  check(writ::CertificateRequest::ParseDer(input));
  check(writ::CertificateRequest::ParsePem(input));
  return 0;
}
