#include "bench/inproc_clients.h"

#include <functional>
#include <utility>

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

// InprocCertificateClient asks the certificate pipeline for one certificate
// per token with `issue`, giving it the next of `items` (pre-made CSRs or
// public keys) in turn.
class InprocCertificateClient final : public ExchangeClient {
 public:
  using Issue = std::function<issuer::CertificateResult(const std::string& subject_token,
                                                        const std::string& item)>;
  InprocCertificateClient(Issue issue, const std::vector<std::string>* items, size_t first)
      : issue_(std::move(issue)), items_(items), next_(first) {}
  bool Exchange(const std::string& subject_token, std::string* error_kind) override {
    issuer::CertificateResult r = issue_(subject_token, (*items_)[next_++ % items_->size()]);
    if (r.status.ok()) return true;
    *error_kind = absl::StrCat("inproc:", r.oauth_error);
    return false;
  }

 private:
  Issue issue_;
  const std::vector<std::string>* items_;
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
  auto issue = [certs](const std::string& subject_token, const std::string& csr) {
    issuer::SvidExchangeRequest req;
    req.subject_token = subject_token;
    req.csr = csr;
    return certs->IssueSvid(req, {"inproc", "127.0.0.1"});
  };
  return std::make_unique<InprocCertificateClient>(issue, csrs, first);
}

std::unique_ptr<ExchangeClient> NewInprocSshClient(const issuer::CertificateExchange* certs,
                                                   const std::vector<std::string>* keys,
                                                   size_t first) {
  auto issue = [certs](const std::string& subject_token, const std::string& key) {
    issuer::SshExchangeRequest req;
    req.subject_token = subject_token;
    req.public_key = key;
    return certs->IssueSsh(req, {"inproc", "127.0.0.1"});
  };
  return std::make_unique<InprocCertificateClient>(issue, keys, first);
}

}  // namespace writ::bench
