// svid_bench: X.509-SVIDs per second from SvidMinter::Mint, next to the
// crypto bound (the ECDSA operations each SVID needs, timed alone), in the
// same run on the same core.
//
//   build/bench/svid_bench [SECONDS_PER_CASE]     default 1.0
//
// Cases (single thread, P-256 CA, P-256 workload CSR as PEM):
//   Mint               CSR parse + proof-of-possession check + issue
//                      vs. one ECDSA P-256 verify + one sign
//   Mint with facts    as above plus the attested-facts extension (built
//                      into the certificate before its one signature)
//                      vs. the same one verify + one sign
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <functional>
#include <string>

#include "bench/bench_util.h"
#include "issuer/src/mint/svid_minter.h"
#include "writ/base/clock.h"
#include "writ/crypto/keys.h"
#include "writ/x509/certificate.h"
#include "writ/x509/certificate_request.h"

namespace writ {
namespace {

using writ::bench::Check;
using writ::bench::Rate;

void Report(const char* name, double rate, const char* bound_name, double bound) {
  std::printf("%-16s %8.0f/s %8.1f us | crypto bound (%s) %8.0f/s %8.1f us | %.0f%% of bound\n",
              name, rate, 1e6 / rate, bound_name, bound, 1e6 / bound, 100 * rate / bound);
}

int Main(int argc, char** argv) {
  const double seconds = argc > 1 ? std::atof(argv[1]) : 1.0;
  const absl::Time now = absl::FromUnixSeconds(1'800'000'000);
  FakeClock clock(now);

  SslPtr<EVP_PKEY> ca_key = Check(GenerateKey(KeySpec::kEcP256), "CA key");
  CertificateTemplate ca_tmpl;
  ca_tmpl.subject_common_name = "svid_bench CA";
  ca_tmpl.not_before = now - absl::Hours(1);
  ca_tmpl.not_after = now + absl::Hours(24 * 365);
  ca_tmpl.serial = Check(RandomSerial(), "serial");
  ca_tmpl.is_ca = true;
  ca_tmpl.key_usage.key_cert_sign = true;
  SslPtr<X509> ca =
      Check(IssueCertificate(ca_tmpl, ca_key.get(), nullptr, ca_key.get()), "CA certificate");

  SslPtr<EVP_PKEY> workload_key = Check(GenerateKey(KeySpec::kEcP256), "workload key");
  issuer::SvidRequest request;
  request.csr = Check(CertificateRequest::CreatePem(workload_key.get(), {}), "CSR");
  request.spiffe_id = "spiffe://acme.example/ns/prod/sa/web";
  request.lifetime = absl::Hours(1);
  request.facts = {{"repository", "acme/payments"}, {"run_id", "6789012345"}};

  auto make = [&](const std::string& oid) {
    X509_up_ref(ca.get());
    EVP_PKEY_up_ref(ca_key.get());
    issuer::SvidMinterOptions options;
    options.facts_extension_oid = oid;
    return Check(issuer::SvidMinter::New(SslPtr<X509>(ca.get()), SslPtr<EVP_PKEY>(ca_key.get()),
                                         &clock, options),
                 "SvidMinter");
  };
  auto plain = make("");
  auto with_facts = make("1.3.6.1.4.1.99999.1");

  // The crypto bound: raw ECDSA P-256 over a certificate-sized message.
  const std::string tbs(400, 'x');
  unsigned char sig[80];
  size_t sig_len = sizeof(sig);
  auto sign = [&] {
    SslPtr<EVP_MD_CTX> ctx(EVP_MD_CTX_new());
    sig_len = sizeof(sig);
    return EVP_DigestSignInit_ex(ctx.get(), nullptr, "SHA256", nullptr, nullptr, ca_key.get(),
                                 nullptr) == 1 &&
           EVP_DigestSign(ctx.get(), sig, &sig_len,
                          reinterpret_cast<const unsigned char*>(tbs.data()), tbs.size()) == 1;
  };
  if (!sign()) std::abort();
  auto verify = [&] {
    SslPtr<EVP_MD_CTX> ctx(EVP_MD_CTX_new());
    return EVP_DigestVerifyInit_ex(ctx.get(), nullptr, "SHA256", nullptr, nullptr, ca_key.get(),
                                   nullptr) == 1 &&
           EVP_DigestVerify(ctx.get(), sig, sig_len,
                            reinterpret_cast<const unsigned char*>(tbs.data()), tbs.size()) == 1;
  };
  const double sign_us = 1e6 / Rate(seconds, sign);
  const double verify_us = 1e6 / Rate(seconds, verify);

  Report("Mint", Rate(seconds, [&] { return plain->Mint(request).ok(); }), "verify+sign",
         1e6 / (verify_us + sign_us));
  Report("Mint with facts", Rate(seconds, [&] { return with_facts->Mint(request).ok(); }),
         "verify+sign", 1e6 / (verify_us + sign_us));
  return 0;
}

}  // namespace
}  // namespace writ

int main(int argc, char** argv) { return writ::Main(argc, argv); }
