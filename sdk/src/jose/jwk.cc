#include "writ/jose/jwk.h"

#include <openssl/core_names.h>

#include <optional>
#include <utility>

#include "absl/container/flat_hash_set.h"
#include "absl/strings/str_cat.h"
#include "sdk/src/jose/signature_ops.h"
#include "sdk/src/jose/strict_json.h"
#include "writ/base/base64url.h"
#include "writ/base/status_macros.h"
#include "writ/crypto/digest.h"
#include "writ/crypto/openssl_error.h"

namespace writ {

struct PublicJwk::Rep {
  JwkKeyType type = JwkKeyType::kEc;
  JwsAlgorithm alg = JwsAlgorithm::kEs256;
  std::string kid;
  std::string crv;   // EC and OKP
  std::string n, e;  // RSA, base64url
  std::string x, y;  // EC (x, y) and OKP (x), base64url
  SslPtr<EVP_PKEY> pkey;
  std::optional<internal::PreparedDigestContext> verifier;
};

namespace {

using internal::AsStringView;
using internal::FindMember;

// The largest RSA public exponent accepted, in bits (BoringSSL allows 33).
constexpr int kMaxRsaExponentBits = 32;

struct CurveInfo {
  absl::string_view crv;
  const char* group;
  JwsAlgorithm alg;
  size_t coord_bytes;
};
constexpr CurveInfo kCurves[] = {
    {"P-256", "P-256", JwsAlgorithm::kEs256, 32},
    {"P-384", "P-384", JwsAlgorithm::kEs384, 48},
    {"P-521", "P-521", JwsAlgorithm::kEs512, 66},
};

const CurveInfo* FindCurve(absl::string_view crv) {
  for (const auto& c : kCurves) {
    if (c.crv == crv) return &c;
  }
  return nullptr;
}

const CurveInfo* CurveForAlgorithm(JwsAlgorithm alg) {
  for (const auto& c : kCurves) {
    if (c.alg == alg) return &c;
  }
  return nullptr;
}

absl::StatusOr<std::string> RequiredB64(const rapidjson::Value& jwk, absl::string_view name) {
  const rapidjson::Value* v = FindMember(jwk, name);
  if (v == nullptr || !v->IsString()) {
    return absl::InvalidArgumentError(
        absl::StrCat("JWK member \"", name, "\" is missing or not a string"));
  }
  auto decoded = Base64UrlDecode(AsStringView(*v));
  if (!decoded.ok()) {
    return absl::InvalidArgumentError(
        absl::StrCat("JWK member \"", name, "\": ", decoded.status().message()));
  }
  if (decoded->empty())
    return absl::InvalidArgumentError(absl::StrCat("JWK member \"", name, "\" is empty"));
  return decoded;
}

absl::StatusOr<SslPtr<EVP_PKEY>> KeyFromParams(const char* type, OSSL_PARAM_BLD* bld) {
  SslPtr<OSSL_PARAM> params(OSSL_PARAM_BLD_to_param(bld));
  SslPtr<EVP_PKEY_CTX> ctx(EVP_PKEY_CTX_new_from_name(nullptr, type, nullptr));
  EVP_PKEY* pkey = nullptr;
  if (!params || !ctx || EVP_PKEY_fromdata_init(ctx.get()) != 1 ||
      EVP_PKEY_fromdata(ctx.get(), &pkey, EVP_PKEY_PUBLIC_KEY, params.get()) != 1) {
    return OpenSslError(absl::StatusCode::kInvalidArgument,
                        absl::StrCat("JWK is not a valid ", type, " public key"));
  }
  SslPtr<EVP_PKEY> key(pkey);
  if (absl::string_view(type) != "EC") return key;
  // An EC point must lie on its curve (invalid-curve attacks). RSA gets no
  // such check: OpenSSL's runs a primality test on n (milliseconds per key)
  // and a malformed public RSA key can only fail to verify.
  SslPtr<EVP_PKEY_CTX> check(EVP_PKEY_CTX_new_from_pkey(nullptr, key.get(), nullptr));
  if (!check || EVP_PKEY_public_check(check.get()) != 1) {
    return OpenSslError(absl::StatusCode::kInvalidArgument,
                        absl::StrCat("JWK ", type, " public key fails validation"));
  }
  return key;
}

absl::StatusOr<SslPtr<EVP_PKEY>> RsaKey(absl::string_view n, absl::string_view e) {
  if (n[0] == 0 || e[0] == 0) {
    return absl::InvalidArgumentError("JWK RSA \"n\" or \"e\" has a leading zero octet");
  }
  SslPtr<BIGNUM> bn_n(
      BN_bin2bn(reinterpret_cast<const unsigned char*>(n.data()), n.size(), nullptr));
  SslPtr<BIGNUM> bn_e(
      BN_bin2bn(reinterpret_cast<const unsigned char*>(e.data()), e.size(), nullptr));
  SslPtr<OSSL_PARAM_BLD> bld(OSSL_PARAM_BLD_new());
  if (!bn_n || !bn_e || !bld ||
      !OSSL_PARAM_BLD_push_BN(bld.get(), OSSL_PKEY_PARAM_RSA_N, bn_n.get()) ||
      !OSSL_PARAM_BLD_push_BN(bld.get(), OSSL_PKEY_PARAM_RSA_E, bn_e.get())) {
    return OpenSslError(absl::StatusCode::kInternal, "building RSA key parameters");
  }
  if (!BN_is_odd(bn_e.get()) || BN_is_one(bn_e.get())) {
    return absl::InvalidArgumentError("JWK RSA exponent \"e\" must be odd and greater than 1");
  }
  // Real keys use 65537. A huge exponent makes every verification as slow as
  // a private-key operation (a hostile JWKS could multiply that by max_keys),
  // and OpenSSL refuses exponents over 64 bits for moduli over 3072 bits anyway.
  if (BN_num_bits(bn_e.get()) > kMaxRsaExponentBits) {
    return absl::InvalidArgumentError(
        absl::StrCat("JWK RSA exponent \"e\" is longer than ", kMaxRsaExponentBits, " bits"));
  }
  return KeyFromParams("RSA", bld.get());
}

absl::StatusOr<SslPtr<EVP_PKEY>> EcKey(const CurveInfo& curve, absl::string_view x,
                                       absl::string_view y) {
  if (x.size() != curve.coord_bytes || y.size() != curve.coord_bytes) {
    return absl::InvalidArgumentError(
        absl::StrCat("JWK ", curve.crv, " coordinates must be ", curve.coord_bytes, " bytes each"));
  }
  std::string point = absl::StrCat("\x04", x, y);
  SslPtr<OSSL_PARAM_BLD> bld(OSSL_PARAM_BLD_new());
  if (!bld ||
      !OSSL_PARAM_BLD_push_utf8_string(bld.get(), OSSL_PKEY_PARAM_GROUP_NAME, curve.group, 0) ||
      !OSSL_PARAM_BLD_push_octet_string(bld.get(), OSSL_PKEY_PARAM_PUB_KEY, point.data(),
                                        point.size())) {
    return OpenSslError(absl::StatusCode::kInternal, "building EC key parameters");
  }
  return KeyFromParams("EC", bld.get());
}

absl::StatusOr<SslPtr<EVP_PKEY>> Ed25519Key(absl::string_view x) {
  if (x.size() != 32) return absl::InvalidArgumentError("JWK Ed25519 \"x\" must be 32 bytes");
  EVP_PKEY* key = EVP_PKEY_new_raw_public_key_ex(
      nullptr, "ED25519", nullptr, reinterpret_cast<const unsigned char*>(x.data()), x.size());
  if (key == nullptr)
    return OpenSslError(absl::StatusCode::kInvalidArgument, "JWK Ed25519 key is invalid");
  return SslPtr<EVP_PKEY>(key);
}

// Finish binds the algorithm, checks the key fits it and prepares verification.
absl::StatusOr<std::shared_ptr<PublicJwk::Rep>> Finish(std::shared_ptr<PublicJwk::Rep> rep) {
  RETURN_IF_ERROR(internal::CheckKeyFitsAlgorithm(rep->pkey.get(), rep->alg));
  ASSIGN_OR_RETURN(auto verifier,
                   internal::PreparedDigestContext::New(
                       rep->pkey.get(), rep->alg, internal::PreparedDigestContext::Mode::kVerify));
  rep->verifier.emplace(std::move(verifier));
  return rep;
}

absl::StatusOr<std::shared_ptr<PublicJwk::Rep>> ParseJwkObject(const rapidjson::Value& jwk,
                                                               const JwkParseOptions& options) {
  if (!jwk.IsObject()) return absl::InvalidArgumentError("JWK is not a JSON object");
  auto rep = std::make_shared<PublicJwk::Rep>();
  if (const auto* kid = FindMember(jwk, "kid"); kid != nullptr) {
    if (!kid->IsString()) return absl::InvalidArgumentError("JWK \"kid\" is not a string");
    RETURN_IF_ERROR(internal::ValidateKid(AsStringView(*kid)));
    rep->kid = std::string(AsStringView(*kid));
  }
  const auto* kty = FindMember(jwk, "kty");
  if (kty == nullptr || !kty->IsString()) {
    return absl::InvalidArgumentError("JWK \"kty\" is missing or not a string");
  }
  for (absl::string_view secret : {"d", "p", "q", "dp", "dq", "qi", "oth", "k"}) {
    if (FindMember(jwk, secret) != nullptr) {
      return absl::InvalidArgumentError(
          absl::StrCat("JWK holds private or symmetric key material (\"", secret,
                       "\"); publish public keys only"));
    }
  }
  if (const auto* use = FindMember(jwk, "use"); use != nullptr) {
    if (!use->IsString() || AsStringView(*use) != "sig") {
      return absl::InvalidArgumentError("JWK \"use\" is not \"sig\"");
    }
  }
  if (const auto* ops = FindMember(jwk, "key_ops"); ops != nullptr) {
    bool verify = false;
    if (ops->IsArray()) {
      for (const auto& op : ops->GetArray())
        verify |= op.IsString() && AsStringView(op) == "verify";
    }
    if (!verify) return absl::InvalidArgumentError("JWK \"key_ops\" does not include \"verify\"");
  }
  std::optional<JwsAlgorithm> alg;
  if (const auto* a = FindMember(jwk, "alg"); a != nullptr) {
    if (!a->IsString()) return absl::InvalidArgumentError("JWK \"alg\" is not a string");
    ASSIGN_OR_RETURN(alg, JwsAlgorithmFromName(AsStringView(*a)));
  }

  const absl::string_view type = AsStringView(*kty);
  if (type == "RSA") {
    rep->type = JwkKeyType::kRsa;
    ASSIGN_OR_RETURN(std::string n, RequiredB64(jwk, "n"));
    ASSIGN_OR_RETURN(std::string e, RequiredB64(jwk, "e"));
    ASSIGN_OR_RETURN(rep->pkey, RsaKey(n, e));
    rep->n = Base64UrlEncode(n);
    rep->e = Base64UrlEncode(e);
    rep->alg = alg.value_or(options.rsa_default_algorithm);
  } else if (type == "EC") {
    rep->type = JwkKeyType::kEc;
    const auto* crv = FindMember(jwk, "crv");
    const CurveInfo* curve =
        crv != nullptr && crv->IsString() ? FindCurve(AsStringView(*crv)) : nullptr;
    if (curve == nullptr) {
      return absl::InvalidArgumentError("JWK EC \"crv\" is missing or not P-256, P-384 or P-521");
    }
    ASSIGN_OR_RETURN(std::string x, RequiredB64(jwk, "x"));
    ASSIGN_OR_RETURN(std::string y, RequiredB64(jwk, "y"));
    ASSIGN_OR_RETURN(rep->pkey, EcKey(*curve, x, y));
    rep->crv = std::string(curve->crv);
    rep->x = Base64UrlEncode(x);
    rep->y = Base64UrlEncode(y);
    rep->alg = alg.value_or(curve->alg);
  } else if (type == "OKP") {
    rep->type = JwkKeyType::kOkp;
    const auto* crv = FindMember(jwk, "crv");
    if (crv == nullptr || !crv->IsString() || AsStringView(*crv) != "Ed25519") {
      return absl::InvalidArgumentError("JWK OKP \"crv\" is missing or not Ed25519");
    }
    ASSIGN_OR_RETURN(std::string x, RequiredB64(jwk, "x"));
    ASSIGN_OR_RETURN(rep->pkey, Ed25519Key(x));
    rep->crv = "Ed25519";
    rep->x = Base64UrlEncode(x);
    rep->alg = alg.value_or(JwsAlgorithm::kEdDsa);
  } else if (type == "oct") {
    return absl::InvalidArgumentError("JWK kty \"oct\" (symmetric) is never accepted");
  } else {
    return absl::InvalidArgumentError(
        absl::StrCat("JWK kty \"", internal::Printable(type, 16), "\" is not supported"));
  }
  return Finish(std::move(rep));
}

absl::StatusOr<std::string> PaddedBn(const EVP_PKEY* key, const char* param, size_t pad) {
  BIGNUM* raw = nullptr;
  if (EVP_PKEY_get_bn_param(key, param, &raw) != 1) {
    return OpenSslError(absl::StatusCode::kInvalidArgument,
                        absl::StrCat("reading key parameter ", param));
  }
  SslPtr<BIGNUM> bn(raw);
  const size_t len = pad != 0 ? pad : static_cast<size_t>(BN_num_bytes(bn.get()));
  std::string out(len, '\0');
  if (BN_bn2binpad(bn.get(), reinterpret_cast<unsigned char*>(out.data()), static_cast<int>(len)) <
      0) {
    return absl::InternalError("key parameter too large");
  }
  return out;
}

}  // namespace

absl::StatusOr<PublicJwk> PublicJwk::Parse(absl::string_view json, const JwkParseOptions& options) {
  if (json.size() > options.max_document_bytes)
    return absl::InvalidArgumentError("JWK is too large");
  rapidjson::Document doc;
  RETURN_IF_ERROR(internal::ParseStrictJsonObject(json, "JWK", &doc));
  ASSIGN_OR_RETURN(auto rep, ParseJwkObject(doc, options));
  return PublicJwk(std::move(rep));
}

absl::StatusOr<PublicJwk> PublicJwk::FromKey(const EVP_PKEY* key, JwsAlgorithm alg,
                                             absl::string_view kid) {
  if (key == nullptr) return absl::InvalidArgumentError("no key");
  RETURN_IF_ERROR(internal::CheckKeyFitsAlgorithm(key, alg));
  auto rep = std::make_shared<Rep>();
  rep->alg = alg;
  if (IsRsaAlgorithm(alg)) {
    rep->type = JwkKeyType::kRsa;
    ASSIGN_OR_RETURN(std::string n, PaddedBn(key, OSSL_PKEY_PARAM_RSA_N, 0));
    ASSIGN_OR_RETURN(std::string e, PaddedBn(key, OSSL_PKEY_PARAM_RSA_E, 0));
    ASSIGN_OR_RETURN(rep->pkey, RsaKey(n, e));
    rep->n = Base64UrlEncode(n);
    rep->e = Base64UrlEncode(e);
  } else if (alg == JwsAlgorithm::kEdDsa) {
    rep->type = JwkKeyType::kOkp;
    std::string x(32, '\0');
    size_t len = x.size();
    if (EVP_PKEY_get_raw_public_key(key, reinterpret_cast<unsigned char*>(x.data()), &len) != 1 ||
        len != 32) {
      return OpenSslError(absl::StatusCode::kInvalidArgument, "reading Ed25519 public key");
    }
    ASSIGN_OR_RETURN(rep->pkey, Ed25519Key(x));
    rep->crv = "Ed25519";
    rep->x = Base64UrlEncode(x);
  } else {
    rep->type = JwkKeyType::kEc;
    const CurveInfo* curve = CurveForAlgorithm(alg);
    ASSIGN_OR_RETURN(std::string x, PaddedBn(key, OSSL_PKEY_PARAM_EC_PUB_X, curve->coord_bytes));
    ASSIGN_OR_RETURN(std::string y, PaddedBn(key, OSSL_PKEY_PARAM_EC_PUB_Y, curve->coord_bytes));
    ASSIGN_OR_RETURN(rep->pkey, EcKey(*curve, x, y));
    rep->crv = std::string(curve->crv);
    rep->x = Base64UrlEncode(x);
    rep->y = Base64UrlEncode(y);
  }
  ASSIGN_OR_RETURN(rep, Finish(std::move(rep)));
  PublicJwk jwk(rep);
  if (kid.empty()) {
    rep->kid = jwk.Thumbprint();
  } else {
    RETURN_IF_ERROR(internal::ValidateKid(kid));
    rep->kid = std::string(kid);
  }
  return jwk;
}

const std::string& PublicJwk::kid() const { return rep_->kid; }
JwsAlgorithm PublicJwk::algorithm() const { return rep_->alg; }
JwkKeyType PublicJwk::key_type() const { return rep_->type; }
const EVP_PKEY* PublicJwk::key() const { return rep_->pkey.get(); }

absl::Status PublicJwk::Verify(JwsAlgorithm alg, absl::string_view data,
                               absl::string_view signature) const {
  if (alg != rep_->alg) {
    return absl::UnauthenticatedError(absl::StrCat("token \"alg\" ", JwsAlgorithmName(alg),
                                                   " does not match the key's algorithm ",
                                                   JwsAlgorithmName(rep_->alg)));
  }
  return rep_->verifier->Verify(data, signature);
}

std::string PublicJwk::Thumbprint() const {
  // RFC 7638 section 3.2: the required members only, in lexicographic order,
  // no whitespace.
  std::string canonical;
  switch (rep_->type) {
    case JwkKeyType::kRsa:
      canonical = absl::StrCat(R"({"e":")", rep_->e, R"(","kty":"RSA","n":")", rep_->n, R"("})");
      break;
    case JwkKeyType::kEc:
      canonical = absl::StrCat(R"({"crv":")", rep_->crv, R"(","kty":"EC","x":")", rep_->x,
                               R"(","y":")", rep_->y, R"("})");
      break;
    case JwkKeyType::kOkp:
      canonical =
          absl::StrCat(R"({"crv":")", rep_->crv, R"(","kty":"OKP","x":")", rep_->x, R"("})");
      break;
  }
  return Base64UrlEncode(Sha256(canonical));
}

std::string PublicJwk::ToJson() const {
  std::string out;
  switch (rep_->type) {
    case JwkKeyType::kRsa:
      out = absl::StrCat(R"({"kty":"RSA","n":")", rep_->n, R"(","e":")", rep_->e, "\"");
      break;
    case JwkKeyType::kEc:
      out = absl::StrCat(R"({"kty":"EC","crv":")", rep_->crv, R"(","x":")", rep_->x, R"(","y":")",
                         rep_->y, "\"");
      break;
    case JwkKeyType::kOkp:
      out = absl::StrCat(R"({"kty":"OKP","crv":")", rep_->crv, R"(","x":")", rep_->x, "\"");
      break;
  }
  if (!rep_->kid.empty()) {
    out += ",\"kid\":";
    internal::AppendJsonString(rep_->kid, &out);
  }
  absl::StrAppend(&out, R"(,"use":"sig","alg":")", JwsAlgorithmName(rep_->alg), "\"}");
  return out;
}

absl::StatusOr<JwkSet> JwkSet::Parse(absl::string_view json, const JwkParseOptions& options) {
  if (json.size() > options.max_document_bytes) {
    return absl::InvalidArgumentError(
        absl::StrCat("JWK Set is larger than ", options.max_document_bytes, " bytes"));
  }
  rapidjson::Document doc;
  RETURN_IF_ERROR(internal::ParseStrictJsonObject(json, "JWK Set", &doc));
  const rapidjson::Value* keys = FindMember(doc, "keys");
  if (keys == nullptr || !keys->IsArray()) {
    return absl::InvalidArgumentError("JWK Set has no \"keys\" array");
  }
  if (keys->Size() > options.max_keys) {
    return absl::InvalidArgumentError(absl::StrCat("JWK Set has ", keys->Size(), " keys; at most ",
                                                   options.max_keys, " are accepted"));
  }
  std::vector<PublicJwk> parsed;
  std::vector<std::string> skipped;
  int index = 0;
  for (const auto& k : keys->GetArray()) {
    auto rep = ParseJwkObject(k, options);
    if (rep.ok()) {
      parsed.push_back(PublicJwk(*std::move(rep)));
    } else {
      skipped.push_back(absl::StrCat("key ", index, ": ", rep.status().message()));
    }
    ++index;
  }
  ASSIGN_OR_RETURN(JwkSet set, FromKeys(std::move(parsed)));
  set.skipped_ = std::move(skipped);
  return set;
}

absl::StatusOr<JwkSet> JwkSet::FromKeys(std::vector<PublicJwk> keys) {
  absl::flat_hash_set<absl::string_view> kids;
  for (const auto& k : keys) {
    if (!k.kid().empty() && !kids.insert(k.kid()).second) {
      return absl::InvalidArgumentError(
          absl::StrCat("JWK Set has two keys with kid \"", k.kid(), "\""));
    }
  }
  JwkSet set;
  set.keys_ = std::move(keys);
  return set;
}

const PublicJwk* JwkSet::Find(absl::string_view kid) const {
  // An empty kid means "no kid": it must not pick whichever key has none.
  if (kid.empty()) return nullptr;
  for (const auto& k : keys_) {
    if (k.kid() == kid) return &k;
  }
  return nullptr;
}

std::string JwkSet::ToJson() const {
  std::string out = R"({"keys":[)";
  for (size_t i = 0; i < keys_.size(); ++i) {
    if (i > 0) out += ',';
    out += keys_[i].ToJson();
  }
  out += "]}";
  return out;
}

}  // namespace writ
