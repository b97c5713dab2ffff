#include "tests/integration/cert_fixture.h"

#include <filesystem>
#include <fstream>

#include "absl/strings/match.h"
#include "tests/testing/status_test_util.h"
#include "tests/testing/test_sshd.h"
#include "writ/x509/verify.h"

namespace writ::integration {
namespace {

// TempFiles writes texts into a fresh directory removed on destruction.
class TempFiles {
 public:
  TempFiles() {
    absl::StatusOr<std::string> dir = test::MakeTempDir();
    if (dir.ok()) dir_ = *dir;
  }
  ~TempFiles() {
    std::error_code ec;
    if (!dir_.empty()) std::filesystem::remove_all(dir_, ec);
  }
  std::string Write(const std::string& name, const std::string& text) {
    std::string path = dir_ + "/" + name;
    std::ofstream(path, std::ios::binary) << text;
    return path;
  }

 private:
  std::string dir_;
};

}  // namespace

Workload NewWorkload(KeySpec spec, const CertificateRequestTemplate& tmpl) {
  Workload w;
  absl::StatusOr<SslPtr<EVP_PKEY>> key = GenerateKey(spec);
  EXPECT_OK(key);
  if (!key.ok()) return w;
  w.key = *std::move(key);
  w.key_pem = PrivateKeyToPem(w.key.get()).value_or("");
  w.csr_pem = CertificateRequest::CreatePem(w.key.get(), tmpl).value_or("");
  w.csr_der = CertificateRequest::CreateDer(w.key.get(), tmpl).value_or("");
  EXPECT_FALSE(w.csr_pem.empty());
  return w;
}

absl::Status RunOpenssl(const std::vector<std::string>& args) {
  std::vector<std::string> argv = {"/usr/bin/openssl"};
  argv.insert(argv.end(), args.begin(), args.end());
  absl::StatusOr<test::ProcessResult> r = test::RunProcess(argv);
  if (!r.ok()) return r.status();
  if (r->exit_code != 0) {
    return absl::FailedPreconditionError(absl::StrCat("openssl ", args.empty() ? "" : args[0],
                                                      " exited ", r->exit_code, ": ", r->output));
  }
  return absl::OkStatus();
}

absl::Status SvidCheck(const std::string& svid_pem, const std::string& bundle_pem,
                       const std::string& expect_id, std::string* facts_json) {
  TempFiles files;
  absl::StatusOr<test::ProcessResult> r = test::RunProcess(
      {WRIT_PYTHON, "-s", WRIT_SVID_CHECK_PY, "--bundle", files.Write("bundle.pem", bundle_pem),
       "--svid", files.Write("svid.pem", svid_pem), "--trust-domain", kTrustDomain, "--expect-id",
       expect_id, "--facts-oid", kFactsOid},
      absl::Seconds(60));
  if (!r.ok()) return r.status();
  if (r->exit_code != 0) {
    return absl::FailedPreconditionError(
        absl::StrCat("svid_check.py exited ", r->exit_code, ": ", r->output));
  }
  if (facts_json != nullptr) {
    const size_t at = r->output.find("\"facts\": ");
    *facts_json = at == std::string::npos ? "" : r->output.substr(at + 9);
  }
  return absl::OkStatus();
}

absl::Status OpensslVerify(const std::string& svid_pem, const std::string& bundle_pem) {
  absl::StatusOr<std::vector<SslPtr<X509>>> chain = ParseCertificateChainPem(svid_pem);
  if (!chain.ok()) return chain.status();
  TempFiles files;
  std::string leaf = files.Write("leaf.pem", CertificateToPem(chain->front().get()).value_or(""));
  std::vector<std::string> args = {"verify", "-CAfile", files.Write("bundle.pem", bundle_pem)};
  if (chain->size() > 1) {
    std::string rest;
    for (size_t i = 1; i < chain->size(); ++i) rest += *CertificateToPem((*chain)[i].get());
    args.push_back("-untrusted");
    args.push_back(files.Write("chain.pem", rest));
  }
  args.push_back(leaf);
  return RunOpenssl(args);
}

absl::Status VerifyInProcess(const std::string& svid_pem, const std::string& bundle_pem,
                             absl::Time at) {
  absl::StatusOr<std::vector<SslPtr<X509>>> chain = ParseCertificateChainPem(svid_pem);
  if (!chain.ok()) return chain.status();
  absl::StatusOr<std::vector<SslPtr<X509>>> roots = ParseCertificateChainPem(bundle_pem);
  if (!roots.ok()) return roots.status();
  std::vector<const X509*> intermediates, root_ptrs;
  for (size_t i = 1; i < chain->size(); ++i) intermediates.push_back((*chain)[i].get());
  for (const SslPtr<X509>& r : *roots) root_ptrs.push_back(r.get());
  return VerifyCertificate(chain->front().get(), intermediates, root_ptrs, at);
}

std::vector<std::string> UriSans(const std::string& pem) {
  absl::StatusOr<std::vector<SslPtr<X509>>> chain = ParseCertificateChainPem(pem);
  if (!chain.ok()) return {};
  return CertificateUriSans(chain->front().get()).value_or(std::vector<std::string>{});
}

void IssuerCertFixture::StartCertServer(FixtureOptions options) {
  ASSERT_NO_FATAL_FAILURE(WritePolicy("20-certs.yaml", kCertPolicy));
  grpc_tls_ = options.grpc_tls;
  ASSERT_NO_FATAL_FAILURE(StartServer(options));
  std::shared_ptr<grpc::Channel> channel = Channel();
  certs_ = v1::CertificateService::NewStub(channel);
  keys_ = v1::KeyService::NewStub(channel);
  ledger_stub_ = v1::LedgerService::NewStub(channel);
}

void IssuerCertFixture::TearDown() {
  certs_.reset();
  keys_.reset();
  ledger_stub_.reset();
  IssuerFixture::TearDown();
}

HttpResult IssuerCertFixture::PostSvid(const std::string& token, const std::string& body,
                                       const std::string& content_type, const std::string& query) {
  std::vector<std::string> headers;
  if (!token.empty()) headers.push_back("Authorization: Bearer " + token);
  return HttpRequest("POST", url("/v1/x509-svid" + query), content_type, body, headers);
}

HttpResult IssuerCertFixture::PostSsh(const std::string& token, const std::string& public_key,
                                      const std::string& query) {
  std::vector<std::string> headers;
  if (!token.empty()) headers.push_back("Authorization: Bearer " + token);
  return HttpRequest("POST", url("/v1/ssh-certificate" + query), "text/plain", public_key, headers);
}

std::shared_ptr<grpc::Channel> IssuerCertFixture::Channel(const std::string& cert_chain_pem,
                                                          const std::string& key_pem) {
  if (!grpc_tls_) return grpc::CreateChannel(grpc_target(), grpc::InsecureChannelCredentials());
  grpc::SslCredentialsOptions tls;
  tls.pem_root_certs = grpc_tls_cert_pem();
  tls.pem_cert_chain = cert_chain_pem;
  tls.pem_private_key = key_pem;
  // A fresh channel per identity: gRPC would otherwise share one connection
  // (and its handshake) between channels with equal arguments.
  grpc::ChannelArguments args;
  args.SetInt(GRPC_ARG_USE_LOCAL_SUBCHANNEL_POOL, 1);
  return grpc::CreateCustomChannel(grpc_target(), grpc::SslCredentials(tls), args);
}

issuer::LedgerRecord IssuerCertFixture::RecordOfSerial(const std::string& serial) {
  absl::StatusOr<issuer::LedgerRecord> rec = server_->ledger()->FindByJti(serial);
  EXPECT_OK(rec);
  return rec.ok() ? *rec : issuer::LedgerRecord{};
}

}  // namespace writ::integration
