#include "issuer/src/mint/jwt_minter.h"

#include <openssl/rand.h>

#include "absl/strings/str_join.h"
#include "rapidjson/stringbuffer.h"
#include "rapidjson/writer.h"
#include "writ/base/base64url.h"
#include "writ/base/status_macros.h"
#include "writ/crypto/digest.h"
#include "writ/jose/signer.h"

namespace writ::issuer {
namespace {

using JsonWriter = rapidjson::Writer<rapidjson::StringBuffer>;

void String(JsonWriter& w, absl::string_view s) {
  w.String(s.data(), static_cast<rapidjson::SizeType>(s.size()));
}

void Member(JsonWriter& w, absl::string_view key, absl::string_view value) {
  String(w, key);
  String(w, value);
}

absl::StatusOr<std::string> NewJti() {
  unsigned char bytes[16];
  if (RAND_bytes(bytes, sizeof(bytes)) != 1) return absl::InternalError("RAND_bytes failed");
  return Base64UrlEncode(absl::string_view(reinterpret_cast<const char*>(bytes), sizeof(bytes)));
}

// WriteActors writes the nested "act" claims, current actor outermost.
void WriteActors(JsonWriter& w, const std::vector<ActorRef>& actors, size_t i) {
  if (i >= actors.size()) return;
  String(w, "act");
  w.StartObject();
  Member(w, "sub", actors[i].subject);
  if (!actors[i].issuer.empty()) Member(w, "iss", actors[i].issuer);
  WriteActors(w, actors, i + 1);
  w.EndObject();
}

}  // namespace

absl::StatusOr<MintedToken> JwtMinter::Mint(const MintRequest& r) const {
  if (r.subject.empty()) return absl::InvalidArgumentError("minted token needs a subject");
  if (r.audience.empty()) return absl::InvalidArgumentError("minted token needs an audience");
  if (r.lifetime < absl::Seconds(1)) {
    return absl::InvalidArgumentError("minted token needs a lifetime of at least 1 s");
  }
  MintedToken out;
  ASSIGN_OR_RETURN(out.jti, NewJti());
  // Whole seconds: NumericDate, and "exp" never later than the granted life.
  out.issued_at = absl::FromUnixSeconds(absl::ToUnixSeconds(clock_->Now()));
  out.expires_at = out.issued_at + absl::Seconds(absl::ToInt64Seconds(r.lifetime));
  const int64_t iat = absl::ToUnixSeconds(out.issued_at);

  rapidjson::StringBuffer buf;
  JsonWriter w(buf);
  w.StartObject();
  Member(w, "iss", issuer_url_);
  Member(w, "sub", r.subject);
  Member(w, "aud", r.audience);
  String(w, "exp");
  w.Int64(absl::ToUnixSeconds(out.expires_at));
  String(w, "iat");
  w.Int64(iat);
  String(w, "nbf");
  w.Int64(iat);
  Member(w, "jti", out.jti);
  Member(w, "client_id", r.client_id);
  // RFC 9068 2.2.3: "scope" when scopes were granted; absent otherwise.
  if (!r.scopes.empty()) Member(w, "scope", absl::StrJoin(r.scopes, " "));
  WriteActors(w, r.actors, 0);
  String(w, "attest");
  w.StartObject();
  Member(w, "iss", r.attested_issuer);
  Member(w, "sub", r.attested_subject);
  if (!r.facts.empty()) {
    String(w, "claims");
    w.StartObject();
    for (const auto& [name, value] : r.facts) Member(w, name, value);
    w.EndObject();
  }
  w.EndObject();
  if (!r.rule.empty()) Member(w, "writ_rule", r.rule);
  w.EndObject();

  std::shared_ptr<const Signer> signer = keys_->JwtSigner();
  ASSIGN_OR_RETURN(out.token, SignCompactJws(*signer, "at+jwt",
                                             absl::string_view(buf.GetString(), buf.GetSize())));
  out.sha256_hex = Sha256Hex(out.token);
  out.kid = signer->kid();
  return out;
}

}  // namespace writ::issuer
