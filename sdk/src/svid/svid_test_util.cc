#include "sdk/src/svid/svid_test_util.h"

#include <utility>

#include "writ/base/status_macros.h"
#include "writ/crypto/keys.h"
#include "writ/x509/certificate.h"
#include "writ/x509/certificate_request.h"

namespace writ::test {

absl::StatusOr<std::unique_ptr<TestCa>> TestCa::New(const Clock* clock) {
  std::unique_ptr<TestCa> ca(new TestCa(clock));
  absl::MutexLock lock(&ca->mu_);
  RETURN_IF_ERROR(ca->AddAuthorityLocked().status());
  return ca;
}

absl::StatusOr<int> TestCa::AddAuthority() {
  absl::MutexLock lock(&mu_);
  return AddAuthorityLocked();
}

absl::StatusOr<int> TestCa::AddAuthorityLocked() {
  Authority authority;
  ASSIGN_OR_RETURN(authority.key, GenerateKey(KeySpec::kEcP256));
  CertificateTemplate tmpl;
  tmpl.subject_common_name = "Writ Test CA " + std::to_string(authorities_.size());
  tmpl.not_before = absl::FromUnixSeconds(absl::ToUnixSeconds(clock_->Now() - absl::Hours(1)));
  tmpl.not_after = tmpl.not_before + absl::Hours(24 * 365);
  ASSIGN_OR_RETURN(tmpl.serial, RandomSerial());
  tmpl.is_ca = true;
  tmpl.key_usage = {.digital_signature = true, .key_cert_sign = true, .crl_sign = true};
  ASSIGN_OR_RETURN(authority.cert,
                   IssueCertificate(tmpl, authority.key.get(), nullptr, authority.key.get()));
  authorities_.push_back(std::move(authority));
  return static_cast<int>(authorities_.size()) - 1;
}

void TestCa::SignWith(int index) {
  absl::MutexLock lock(&mu_);
  signing_ = index;
}

void TestCa::Unpublish(int index) {
  absl::MutexLock lock(&mu_);
  authorities_.at(index).published = false;
}

std::string TestCa::BundlePem() const {
  absl::MutexLock lock(&mu_);
  std::string out;
  for (const Authority& authority : authorities_) {
    if (authority.published) out += CertificateToPem(authority.cert.get()).value_or("");
  }
  return out;
}

std::string TestCa::AuthorityPem(int index) const {
  absl::MutexLock lock(&mu_);
  return CertificateToPem(authorities_.at(index).cert.get()).value_or("");
}

void TestCa::set_lifetime(absl::Duration lifetime) {
  absl::MutexLock lock(&mu_);
  lifetime_ = lifetime;
}

void TestCa::set_backdate(absl::Duration backdate) {
  absl::MutexLock lock(&mu_);
  backdate_ = backdate;
}

absl::StatusOr<std::string> TestCa::IssueLeafPem(const EVP_PKEY* subject_key,
                                                 const std::vector<std::string>& uri_sans,
                                                 bool is_ca) const {
  absl::MutexLock lock(&mu_);
  const Authority& authority = authorities_.at(signing_);
  CertificateTemplate tmpl;
  tmpl.uri_sans = uri_sans;
  const absl::Time now = absl::FromUnixSeconds(absl::ToUnixSeconds(clock_->Now()));
  tmpl.not_before = now - backdate_;
  tmpl.not_after = now + lifetime_;
  ASSIGN_OR_RETURN(tmpl.serial, RandomSerial());
  tmpl.is_ca = is_ca;
  tmpl.key_usage = {.digital_signature = true, .key_cert_sign = is_ca};
  tmpl.extended_key_usage = {.server_auth = true, .client_auth = true};
  ASSIGN_OR_RETURN(SslPtr<X509> leaf,
                   IssueCertificate(tmpl, subject_key, authority.cert.get(), authority.key.get()));
  return CertificateToPem(leaf.get());
}

absl::StatusOr<SvidResponse> TestCa::Issue(absl::string_view csr_pem,
                                           absl::string_view spiffe_id) const {
  ASSIGN_OR_RETURN(CertificateRequest csr, CertificateRequest::ParsePem(csr_pem));
  RETURN_IF_ERROR(csr.VerifySignature());
  SvidResponse response;
  response.spiffe_id = std::string(spiffe_id);
  ASSIGN_OR_RETURN(response.certificate_chain_pem,
                   IssueLeafPem(csr.public_key(), {std::string(spiffe_id)}));
  response.bundle_pem = BundlePem();
  return response;
}

SvidIssuer TestCa::Issuer(std::string spiffe_id) {
  return [this, spiffe_id = std::move(spiffe_id)](
             absl::string_view csr_pem) -> absl::StatusOr<SvidResponse> {
    {
      absl::MutexLock lock(&mu_);
      ++calls_;
      if (!fail_with_.ok()) return fail_with_;
    }
    return Issue(csr_pem, spiffe_id);
  };
}

void TestCa::FailWith(absl::Status status) {
  absl::MutexLock lock(&mu_);
  fail_with_ = std::move(status);
}

int TestCa::calls() const {
  absl::MutexLock lock(&mu_);
  return calls_;
}

SslPtr<X509> LeafOf(absl::string_view chain_pem) {
  absl::StatusOr<std::vector<SslPtr<X509>>> chain = ParseCertificateChainPem(chain_pem);
  if (!chain.ok() || chain->empty()) return nullptr;
  return std::move(chain->front());
}

std::string LeafKeyPem(absl::string_view chain_pem) {
  SslPtr<X509> leaf = LeafOf(chain_pem);
  if (leaf == nullptr) return "";
  return PublicKeyToPem(X509_get0_pubkey(leaf.get())).value_or("");
}

}  // namespace writ::test
