#include "issuer/src/keys/trust_bundle.h"

#include <algorithm>
#include <cstdint>
#include <string>

#include "absl/strings/escaping.h"
#include "absl/strings/str_cat.h"
#include "issuer/src/keys/trust_bundle_internal.h"
#include "rapidjson/document.h"
#include "rapidjson/stringbuffer.h"
#include "rapidjson/writer.h"
#include "writ/crypto/keys.h"
#include "writ/x509/certificate.h"

namespace writ::issuer {
namespace keys_internal {

absl::StatusOr<PublicJwk> AuthorityKeyJwk(const X509* cert) {
  const EVP_PKEY* key = X509_get0_pubkey(cert);
  const std::string kind = KeyDescription(key);
  JwsAlgorithm alg;
  if (kind == "EC P-256") {
    alg = JwsAlgorithm::kEs256;
  } else if (kind == "EC P-384") {
    alg = JwsAlgorithm::kEs384;
  } else if (kind == "EC P-521") {
    alg = JwsAlgorithm::kEs512;
  } else if (kind == "Ed25519") {
    alg = JwsAlgorithm::kEdDsa;
  } else if (key != nullptr && EVP_PKEY_is_a(key, "RSA")) {
    alg = JwsAlgorithm::kRs256;
  } else {
    return absl::InvalidArgumentError(
        absl::StrCat("a ", kind, " key cannot be published as a JWK"));
  }
  return PublicJwk::FromKey(key, alg);
}

}  // namespace keys_internal

namespace {

using Writer = rapidjson::Writer<rapidjson::StringBuffer>;

void String(Writer& w, absl::string_view s) {
  w.String(s.data(), static_cast<rapidjson::SizeType>(s.size()));
}

// WriteKeyMembers copies the key type and key parameters of a JWK (what
// PublicJwk::ToJson renders), leaving out "alg", "use" and "kid": the SPIFFE
// bundle sets "use" itself and defines no "alg" (section 4.2: parameters
// defined neither there nor in the SVID specification should not appear).
void WriteKeyMembers(Writer& w, const PublicJwk& jwk) {
  rapidjson::Document doc;
  const std::string json = jwk.ToJson();
  doc.Parse(json.data(), json.size());
  if (doc.HasParseError() || !doc.IsObject()) return;  // ToJson output always parses
  for (const char* name : {"kty", "crv", "x", "y", "n", "e"}) {
    auto it = doc.FindMember(name);
    if (it == doc.MemberEnd() || !it->value.IsString()) continue;
    w.Key(name);
    w.String(it->value.GetString(), it->value.GetStringLength());
  }
}

}  // namespace

std::string SpiffeBundleJson(const TrustBundle& bundle, absl::Duration refresh_hint) {
  rapidjson::StringBuffer buf;
  Writer w(buf);
  w.StartObject();
  w.Key("keys");
  w.StartArray();
  for (const std::string& der : bundle.x509_authorities_der) {
    auto cert = ParseCertificateDer(der);
    if (!cert.ok()) continue;  // the key manager only publishes certificates it parsed
    auto jwk = keys_internal::AuthorityKeyJwk(cert->get());
    if (!jwk.ok()) continue;  // and only roots whose key a JWK can carry
    w.StartObject();
    w.Key("use");
    w.String("x509-svid");
    WriteKeyMembers(w, *jwk);
    w.Key("x5c");
    w.StartArray();
    String(w, absl::Base64Escape(der));
    w.EndArray();
    w.EndObject();
  }
  for (const PublicJwk& jwk : bundle.jwt_keys) {
    w.StartObject();
    w.Key("use");
    w.String("jwt-svid");
    w.Key("kid");
    String(w, jwk.kid());
    WriteKeyMembers(w, jwk);
    w.EndObject();
  }
  w.EndArray();
  w.Key("spiffe_sequence");
  w.Uint64(bundle.sequence);
  w.Key("spiffe_refresh_hint");
  w.Int64(std::max<int64_t>(0, absl::ToInt64Seconds(refresh_hint)));
  w.EndObject();
  return std::string(buf.GetString(), buf.GetSize());
}

std::string X509BundlePem(const TrustBundle& bundle) {
  std::string out;
  for (const std::string& der : bundle.x509_authorities_der) {
    auto cert = ParseCertificateDer(der);
    if (!cert.ok()) continue;
    auto pem = CertificateToPem(cert->get());
    if (pem.ok()) out += *pem;
  }
  return out;
}

std::string SshCaKeysFile(const TrustBundle& bundle) {
  std::string out;
  for (const std::string& line : bundle.ssh_ca_keys) absl::StrAppend(&out, line, "\n");
  return out;
}

}  // namespace writ::issuer
