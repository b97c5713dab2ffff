#include "bench/inproc_clients.h"

#include "absl/strings/str_cat.h"

namespace writ::bench {
namespace {

// InprocClient calls the issuance pipeline directly, without a transport:
// attestation, policy, minting and the durable ledger only. It measures what
// HTTP and gRPC (and their clients) add.
class InprocClient final : public ExchangeClient {
 public:
  InprocClient(const issuer::TokenExchange* exchange, const ExchangeRequestShape& shape)
      : exchange_(exchange), shape_(shape) {}
  bool Exchange(const std::string& subject_token, std::string* error_kind) override {
    issuer::ExchangeRequest req;
    req.subject_token = subject_token;
    req.subject_token_type = issuer::kTokenTypeJwt;
    req.audiences = {shape_.audience};
    req.scopes = {shape_.scope};
    issuer::ExchangeResult r = exchange_->Exchange(req, {"inproc", "127.0.0.1"});
    if (r.status.ok()) return true;
    *error_kind = absl::StrCat("inproc:", r.oauth_error);
    return false;
  }

 private:
  const issuer::TokenExchange* exchange_;
  ExchangeRequestShape shape_;
};

// InprocSvidClient asks the certificate pipeline for an X.509-SVID with a
// pre-made P-256 CSR (from a pool: CSR creation is the workload's cost).
class InprocSvidClient final : public ExchangeClient {
 public:
  InprocSvidClient(const issuer::CertificateExchange* certs, const std::vector<std::string>* csrs,
                   size_t first)
      : certs_(certs), csrs_(csrs), next_(first) {}
  bool Exchange(const std::string& subject_token, std::string* error_kind) override {
    issuer::SvidExchangeRequest req;
    req.subject_token = subject_token;
    req.csr = (*csrs_)[next_++ % csrs_->size()];
    issuer::CertificateResult r = certs_->IssueSvid(req, {"inproc", "127.0.0.1"});
    if (r.status.ok()) return true;
    *error_kind = absl::StrCat("inproc:", r.oauth_error);
    return false;
  }

 private:
  const issuer::CertificateExchange* certs_;
  const std::vector<std::string>* csrs_;
  size_t next_;
};

// InprocSshClient asks for an SSH user certificate for a pre-made Ed25519
// public key line.
class InprocSshClient final : public ExchangeClient {
 public:
  InprocSshClient(const issuer::CertificateExchange* certs, const std::vector<std::string>* keys,
                  size_t first)
      : certs_(certs), keys_(keys), next_(first) {}
  bool Exchange(const std::string& subject_token, std::string* error_kind) override {
    issuer::SshExchangeRequest req;
    req.subject_token = subject_token;
    req.public_key = (*keys_)[next_++ % keys_->size()];
    issuer::CertificateResult r = certs_->IssueSsh(req, {"inproc", "127.0.0.1"});
    if (r.status.ok()) return true;
    *error_kind = absl::StrCat("inproc:", r.oauth_error);
    return false;
  }

 private:
  const issuer::CertificateExchange* certs_;
  const std::vector<std::string>* keys_;
  size_t next_;
};

}  // namespace

std::unique_ptr<ExchangeClient> NewInprocTokenClient(const issuer::TokenExchange* exchange,
                                                     const ExchangeRequestShape& shape) {
  return std::make_unique<InprocClient>(exchange, shape);
}

std::unique_ptr<ExchangeClient> NewInprocSvidClient(const issuer::CertificateExchange* certs,
                                                    const std::vector<std::string>* csrs,
                                                    size_t first) {
  return std::make_unique<InprocSvidClient>(certs, csrs, first);
}

std::unique_ptr<ExchangeClient> NewInprocSshClient(const issuer::CertificateExchange* certs,
                                                   const std::vector<std::string>* keys,
                                                   size_t first) {
  return std::make_unique<InprocSshClient>(certs, keys, first);
}

}  // namespace writ::bench
