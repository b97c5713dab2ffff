// IssuerCertFixture: IssuerFixture with a certificate policy and helpers for
// the certificate endpoints (X.509-SVIDs, SSH certificates, bundles) over
// HTTP and gRPC.
//
// Policy "20-certs.yaml" (next to kCiPolicy's JWT rule):
//   ci-svid     the ci workload (kCiSubject, owner acme): a renewable SVID of
//               kGrantedSubject, 10m by default, at most 30m
//   ci-ssh      the same workload: SSH for "deploy" and "ci-acme", pinned to
//               the client's address
//   batch-svid  "repo:acme/batch:...": an SVID that is not renewable
//   jwt-only    "repo:acme/jwt-only:...": a JWT rule only
#ifndef WRIT_TESTS_INTEGRATION_CERT_FIXTURE_H_
#define WRIT_TESTS_INTEGRATION_CERT_FIXTURE_H_

#include <grpcpp/grpcpp.h>

#include <memory>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/strings/str_cat.h"
#include "tests/integration/issuer_fixture.h"
#include "tests/testing/grpc_call.h"
#include "writ/crypto/keys.h"
#include "writ/crypto/ssl_ptr.h"
#include "writ/v1/writ.grpc.pb.h"
#include "writ/x509/certificate.h"
#include "writ/x509/certificate_request.h"

namespace writ::integration {

inline constexpr char kCertPolicy[] = R"(rules:
  - name: ci-svid
    issuer: ci
    subject: "repo:acme/app:ref:refs/heads/main"
    claims:
      repository_owner: acme
    grant:
      subject: "spiffe://acme.example/ci/{repository}"
      credentials: [x509-svid]
      x509_svid:
        renewable: true
      default_lifetime: 10m
      max_lifetime: 30m
      include_claims: [repository, ref]
  - name: ci-ssh
    issuer: ci
    subject: "repo:acme/app:ref:refs/heads/main"
    grant:
      subject: "spiffe://acme.example/ci/{repository}"
      credentials: [ssh]
      ssh:
        principals: ["deploy", "ci-{repository_owner}"]
        source_address: client
      default_lifetime: 5m
      max_lifetime: 10m
  - name: batch-svid
    issuer: ci
    subject: "repo:acme/batch:ref:refs/heads/main"
    grant:
      subject: "spiffe://acme.example/ci/{repository}"
      credentials: [x509-svid]
  - name: jwt-only
    issuer: ci
    subject: "repo:acme/jwt-only:ref:refs/heads/main"
    grant:
      audiences: ["https://deploy.acme.example"]
)";

// kBatchClaims make MintCi's token the batch-svid workload's.
inline constexpr char kBatchClaims[] =
    R"({"sub":"repo:acme/batch:ref:refs/heads/main","repository":"acme/batch"})";
inline constexpr char kBatchSpiffeId[] = "spiffe://acme.example/ci/acme/batch";
inline constexpr char kJwtOnlyClaims[] =
    R"({"sub":"repo:acme/jwt-only:ref:refs/heads/main","repository":"acme/jwt-only"})";

// Workload is a key and a CSR for it (asking for no name, or `tmpl`'s).
struct Workload {
  SslPtr<EVP_PKEY> key;
  std::string key_pem;
  std::string csr_pem;
  std::string csr_der;
};

Workload NewWorkload(KeySpec spec = KeySpec::kEcP256, const CertificateRequestTemplate& tmpl = {});

// RunOpenssl runs /usr/bin/openssl with `args`; OK when it exits 0, else
// kFailedPrecondition with its output.
absl::Status RunOpenssl(const std::vector<std::string>& args);

// SvidCheck runs the independent SPIFFE check (tests/interop/svid_check.py,
// python3-cryptography) on `svid_pem` against `bundle_pem`, with the
// fixture's trust domain and facts OID; OK when every rule holds. Returns
// the facts it decoded (JSON) in `facts_json`.
absl::Status SvidCheck(const std::string& svid_pem, const std::string& bundle_pem,
                       const std::string& expect_id, std::string* facts_json = nullptr);

// OpensslVerify runs `openssl verify -CAfile <bundle> [-untrusted <chain>]
// <leaf>` on the PEM texts (`svid_pem` is the leaf followed by any chain).
absl::Status OpensslVerify(const std::string& svid_pem, const std::string& bundle_pem);

// VerifyInProcess checks the first certificate of `svid_pem` (with the
// rest as intermediates) against the PEM bundle at `at`.
absl::Status VerifyInProcess(const std::string& svid_pem, const std::string& bundle_pem,
                             absl::Time at);

// UriSans returns the URI SANs of the first certificate of `pem`.
std::vector<std::string> UriSans(const std::string& pem);

class IssuerCertFixture : public IssuerFixture {
 protected:
  // StartCertServer writes kCertPolicy and starts the server and stubs.
  void StartCertServer(FixtureOptions options = {});
  void TearDown() override;

  // PostSvid POSTs `body` to /v1/x509-svid with "Authorization: Bearer
  // <token>" (none when `token` is empty) and `query` ("?lifetime=5m").
  HttpResult PostSvid(const std::string& token, const std::string& body,
                      const std::string& content_type = "application/x-pem-file",
                      const std::string& query = "");
  // PostSsh POSTs a public key line to /v1/ssh-certificate.
  HttpResult PostSsh(const std::string& token, const std::string& public_key,
                     const std::string& query = "");

  // Channel credentials for this server's gRPC listener: plaintext, or TLS
  // trusting its certificate and presenting `cert_chain_pem`/`key_pem` when
  // given.
  std::shared_ptr<grpc::Channel> Channel(const std::string& cert_chain_pem = "",
                                         const std::string& key_pem = "");

  // RecordOfSerial returns the ledger record of a certificate serial.
  issuer::LedgerRecord RecordOfSerial(const std::string& serial);

  std::unique_ptr<v1::CertificateService::Stub> certs_;
  std::unique_ptr<v1::KeyService::Stub> keys_;
  std::unique_ptr<v1::LedgerService::Stub> ledger_stub_;
  bool grpc_tls_ = false;
};

using test::CallGrpc;
using test::GrpcCall;

}  // namespace writ::integration

#endif  // WRIT_TESTS_INTEGRATION_CERT_FIXTURE_H_
