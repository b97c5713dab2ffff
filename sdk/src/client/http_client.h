// Internal: the Client implementation over Writ's HTTP endpoints.
#ifndef WRIT_SDK_SRC_CLIENT_HTTP_CLIENT_H_
#define WRIT_SDK_SRC_CLIENT_HTTP_CLIENT_H_

#include <memory>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "sdk/src/client/client_util.h"
#include "writ/client/client.h"

namespace writ {

// HttpClient calls Writ at `base_url_` (the issuer URL without trailing
// slashes): POST /oauth2/token, POST /v1/x509-svid, POST
// /v1/ssh-certificate, GET /v1/bundle.pem. Thread-safe: every call is
// independent and the members are read-only.
class HttpClient final : public Client {
 public:
  // Options must have been checked by Client::New.
  explicit HttpClient(ClientOptions options);

  absl::StatusOr<Token> ExchangeToken(const TokenRequest& request) override;
  absl::StatusOr<X509SvidReply> MintX509Svid(absl::string_view csr_pem,
                                             std::optional<absl::Duration> lifetime) override;
  absl::StatusOr<SshCertificateReply> MintSshCertificate(
      absl::string_view public_key_line, const std::vector<std::string>& principals,
      std::optional<absl::Duration> lifetime) override;
  absl::StatusOr<std::string> FetchBundlePem() override;
  const std::string& issuer_url() const override { return options_.issuer_url; }

 private:
  // Attest gets a fresh token from the attestation source; its failure keeps
  // its code and names the source.
  absl::StatusOr<std::string> Attest();
  // Call makes one request to `path` (with `query`, already encoded) and
  // returns the body of a 200 answer; any other answer is ReplyError, a
  // transport failure kUnavailable naming the issuer's host.
  absl::StatusOr<std::string> Call(absl::string_view method, absl::string_view path,
                                   absl::string_view query, std::vector<std::string> headers,
                                   std::string body);

  const ClientOptions options_;
  std::string base_url_;
  std::string host_;
  const Clock* clock_;
  client_internal::FetcherHandle fetcher_;
};

}  // namespace writ

#endif  // WRIT_SDK_SRC_CLIENT_HTTP_CLIENT_H_
