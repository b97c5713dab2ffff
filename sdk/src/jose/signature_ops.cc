#include "sdk/src/jose/signature_ops.h"

#include <openssl/core_names.h>
#include <openssl/rsa.h>

#include "absl/strings/str_cat.h"
#include "writ/crypto/keys.h"
#include "writ/crypto/openssl_error.h"

namespace writ::internal {
namespace {

const char* DigestName(JwsAlgorithm alg) {
  switch (alg) {
    case JwsAlgorithm::kRs256:
    case JwsAlgorithm::kPs256:
    case JwsAlgorithm::kEs256:
      return "SHA256";
    case JwsAlgorithm::kRs384:
    case JwsAlgorithm::kPs384:
    case JwsAlgorithm::kEs384:
      return "SHA384";
    case JwsAlgorithm::kRs512:
    case JwsAlgorithm::kPs512:
    case JwsAlgorithm::kEs512:
      return "SHA512";
    case JwsAlgorithm::kEdDsa:
      return nullptr;  // Ed25519 hashes internally.
  }
  return nullptr;
}

bool IsPss(JwsAlgorithm alg) {
  return alg == JwsAlgorithm::kPs256 || alg == JwsAlgorithm::kPs384 || alg == JwsAlgorithm::kPs512;
}

const char* CurveDescription(JwsAlgorithm alg) {
  switch (alg) {
    case JwsAlgorithm::kEs256:
      return "EC P-256";
    case JwsAlgorithm::kEs384:
      return "EC P-384";
    case JwsAlgorithm::kEs512:
      return "EC P-521";
    default:
      return nullptr;
  }
}

absl::StatusOr<std::string> RawToDer(absl::string_view raw, size_t half) {
  SslPtr<ECDSA_SIG> sig(ECDSA_SIG_new());
  BIGNUM* r = BN_bin2bn(reinterpret_cast<const unsigned char*>(raw.data()), half, nullptr);
  BIGNUM* s = BN_bin2bn(reinterpret_cast<const unsigned char*>(raw.data()) + half, half, nullptr);
  if (!sig || r == nullptr || s == nullptr || ECDSA_SIG_set0(sig.get(), r, s) != 1) {
    BN_free(r);
    BN_free(s);
    return OpenSslError(absl::StatusCode::kInternal, "building ECDSA signature");
  }
  unsigned char* der = nullptr;
  const int len = i2d_ECDSA_SIG(sig.get(), &der);
  if (len <= 0) return OpenSslError(absl::StatusCode::kInternal, "encoding ECDSA signature");
  std::string out(reinterpret_cast<char*>(der), static_cast<size_t>(len));
  OPENSSL_free(der);
  return out;
}

absl::StatusOr<std::string> DerToRaw(const unsigned char* der, size_t der_len, size_t half) {
  const unsigned char* p = der;
  SslPtr<ECDSA_SIG> sig(d2i_ECDSA_SIG(nullptr, &p, static_cast<long>(der_len)));
  if (!sig) return OpenSslError(absl::StatusCode::kInternal, "decoding ECDSA signature");
  const BIGNUM* r = ECDSA_SIG_get0_r(sig.get());
  const BIGNUM* s = ECDSA_SIG_get0_s(sig.get());
  std::string out(2 * half, '\0');
  auto* o = reinterpret_cast<unsigned char*>(out.data());
  if (BN_bn2binpad(r, o, static_cast<int>(half)) < 0 ||
      BN_bn2binpad(s, o + half, static_cast<int>(half)) < 0) {
    return OpenSslError(absl::StatusCode::kInternal, "ECDSA signature component too large");
  }
  return out;
}

}  // namespace

size_t EcCoordinateBytes(JwsAlgorithm alg) {
  switch (alg) {
    case JwsAlgorithm::kEs256:
      return 32;
    case JwsAlgorithm::kEs384:
      return 48;
    case JwsAlgorithm::kEs512:
      return 66;
    default:
      return 0;
  }
}

absl::Status CheckKeyFitsAlgorithm(const EVP_PKEY* key, JwsAlgorithm alg) {
  const std::string have = KeyDescription(key);
  if (IsRsaAlgorithm(alg)) {
    if (!EVP_PKEY_is_a(key, "RSA")) {
      return absl::InvalidArgumentError(
          absl::StrCat(JwsAlgorithmName(alg), " needs an RSA key, not ", have));
    }
    const int bits = EVP_PKEY_get_bits(key);
    if (bits < kMinRsaBits || bits > kMaxRsaBits) {
      return absl::InvalidArgumentError(
          absl::StrCat("RSA key of ", bits, " bits is outside ", kMinRsaBits, "..", kMaxRsaBits));
    }
    return absl::OkStatus();
  }
  if (alg == JwsAlgorithm::kEdDsa) {
    if (!EVP_PKEY_is_a(key, "ED25519")) {
      return absl::InvalidArgumentError(absl::StrCat("EdDSA needs an Ed25519 key, not ", have));
    }
    return absl::OkStatus();
  }
  if (have != CurveDescription(alg)) {
    return absl::InvalidArgumentError(absl::StrCat(JwsAlgorithmName(alg), " needs an ",
                                                   CurveDescription(alg), " key, not ", have));
  }
  return absl::OkStatus();
}

absl::StatusOr<PreparedDigestContext> PreparedDigestContext::New(const EVP_PKEY* key,
                                                                 JwsAlgorithm alg, Mode mode) {
  SslPtr<EVP_MD_CTX> ctx(EVP_MD_CTX_new());
  if (!ctx) return OpenSslError(absl::StatusCode::kInternal, "EVP_MD_CTX_new");
  EVP_PKEY_CTX* pctx = nullptr;
  auto* k = const_cast<EVP_PKEY*>(key);  // OpenSSL takes a reference; it does not modify.
  const int ok = mode == Mode::kSign ? EVP_DigestSignInit_ex(ctx.get(), &pctx, DigestName(alg),
                                                             nullptr, nullptr, k, nullptr)
                                     : EVP_DigestVerifyInit_ex(ctx.get(), &pctx, DigestName(alg),
                                                               nullptr, nullptr, k, nullptr);
  if (ok != 1) return OpenSslError(absl::StatusCode::kInternal, "initialising digest context");
  if (IsPss(alg)) {
    // RFC 7518 section 3.5: MGF1 with the same hash, salt as long as the hash.
    if (EVP_PKEY_CTX_set_rsa_padding(pctx, RSA_PKCS1_PSS_PADDING) != 1 ||
        EVP_PKEY_CTX_set_rsa_pss_saltlen(pctx, RSA_PSS_SALTLEN_DIGEST) != 1) {
      return OpenSslError(absl::StatusCode::kInternal, "setting RSA-PSS parameters");
    }
  }
  const int max_size = EVP_PKEY_get_size(key);
  if (max_size <= 0) return OpenSslError(absl::StatusCode::kInternal, "key has no signature size");
  return PreparedDigestContext(std::move(ctx), alg, static_cast<size_t>(max_size));
}

absl::StatusOr<SslPtr<EVP_MD_CTX>> PreparedDigestContext::Copy() const {
  SslPtr<EVP_MD_CTX> copy(EVP_MD_CTX_new());
  if (!copy || EVP_MD_CTX_copy_ex(copy.get(), ctx_.get()) != 1) {
    return OpenSslError(absl::StatusCode::kInternal, "copying digest context");
  }
  return copy;
}

absl::Status PreparedDigestContext::Verify(absl::string_view data,
                                           absl::string_view signature) const {
  std::string der;
  absl::string_view to_verify = signature;
  if (const size_t half = EcCoordinateBytes(alg_); half != 0) {
    if (signature.size() != 2 * half) {
      return absl::UnauthenticatedError(absl::StrCat(JwsAlgorithmName(alg_), " signature must be ",
                                                     2 * half, " bytes (raw R||S), got ",
                                                     signature.size()));
    }
    auto converted = RawToDer(signature, half);
    if (!converted.ok()) return converted.status();
    der = *std::move(converted);
    to_verify = der;
  }
  auto ctx = Copy();
  if (!ctx.ok()) return ctx.status();
  const int ok = EVP_DigestVerify(
      ctx->get(), reinterpret_cast<const unsigned char*>(to_verify.data()), to_verify.size(),
      reinterpret_cast<const unsigned char*>(data.data()), data.size());
  if (ok != 1) {
    ClearOpenSslErrors();
    return absl::UnauthenticatedError(
        absl::StrCat(JwsAlgorithmName(alg_), " signature does not verify"));
  }
  return absl::OkStatus();
}

absl::StatusOr<std::string> PreparedDigestContext::Sign(absl::string_view data) const {
  auto ctx = Copy();
  if (!ctx.ok()) return ctx.status();
  const auto* in = reinterpret_cast<const unsigned char*>(data.data());
  size_t len = max_signature_bytes_;
  std::string sig(len, '\0');
  if (EVP_DigestSign(ctx->get(), reinterpret_cast<unsigned char*>(sig.data()), &len, in,
                     data.size()) != 1) {
    return OpenSslError(absl::StatusCode::kInternal, "signing");
  }
  sig.resize(len);
  if (const size_t half = EcCoordinateBytes(alg_); half != 0) {
    return DerToRaw(reinterpret_cast<const unsigned char*>(sig.data()), sig.size(), half);
  }
  return sig;
}

}  // namespace writ::internal
