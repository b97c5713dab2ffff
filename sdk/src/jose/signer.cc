#include "writ/jose/signer.h"

#include <algorithm>
#include <optional>

#include "absl/strings/str_cat.h"
#include "sdk/src/jose/signature_ops.h"
#include "sdk/src/jose/strict_json.h"
#include "writ/base/base64url.h"
#include "writ/base/status_macros.h"

namespace writ {

struct PrivateKeySigner::Rep {
  SslPtr<EVP_PKEY> key;
  JwsAlgorithm alg;
  PublicJwk public_jwk;
  internal::PreparedDigestContext context;
};

absl::StatusOr<std::unique_ptr<PrivateKeySigner>> PrivateKeySigner::New(SslPtr<EVP_PKEY> key,
                                                                        JwsAlgorithm alg,
                                                                        absl::string_view kid) {
  if (!key) return absl::InvalidArgumentError("no signing key");
  RETURN_IF_ERROR(internal::CheckKeyFitsAlgorithm(key.get(), alg));
  ASSIGN_OR_RETURN(PublicJwk jwk, PublicJwk::FromKey(key.get(), alg, kid));
  ASSIGN_OR_RETURN(auto context, internal::PreparedDigestContext::New(
                                     key.get(), alg, internal::PreparedDigestContext::Mode::kSign));
  auto rep = std::unique_ptr<Rep>(new Rep{std::move(key), alg, std::move(jwk), std::move(context)});
  return std::unique_ptr<PrivateKeySigner>(new PrivateKeySigner(std::move(rep)));
}

PrivateKeySigner::PrivateKeySigner(std::unique_ptr<Rep> rep) : rep_(std::move(rep)) {}
PrivateKeySigner::~PrivateKeySigner() = default;

JwsAlgorithm PrivateKeySigner::algorithm() const { return rep_->alg; }
const std::string& PrivateKeySigner::kid() const { return rep_->public_jwk.kid(); }
const PublicJwk& PrivateKeySigner::public_jwk() const { return rep_->public_jwk; }
const EVP_PKEY* PrivateKeySigner::private_key() const { return rep_->key.get(); }

absl::StatusOr<std::string> PrivateKeySigner::Sign(absl::string_view data) const {
  return rep_->context.Sign(data);
}

absl::StatusOr<std::string> SignCompactJws(const Signer& signer, absl::string_view type,
                                           absl::string_view payload) {
  // A "typ" is a media type: printable ASCII. Anything else would make a
  // header that strict parsers (Writ's own included) refuse.
  if (type.size() > 256 ||
      !std::all_of(type.begin(), type.end(), [](char c) { return c >= 0x20 && c < 0x7f; })) {
    return absl::InvalidArgumentError("JWS \"typ\" must be at most 256 printable ASCII bytes");
  }
  std::string header = absl::StrCat(R"({"alg":")", JwsAlgorithmName(signer.algorithm()), "\"");
  if (!signer.kid().empty()) {
    header += ",\"kid\":";
    internal::AppendJsonString(signer.kid(), &header);
  }
  if (!type.empty()) {
    header += ",\"typ\":";
    internal::AppendJsonString(type, &header);
  }
  header += '}';
  std::string token = absl::StrCat(Base64UrlEncode(header), ".", Base64UrlEncode(payload));
  ASSIGN_OR_RETURN(std::string signature, signer.Sign(token));
  absl::StrAppend(&token, ".", Base64UrlEncode(signature));
  return token;
}

}  // namespace writ
