// Test-only helpers for the JOSE unit tests: building tokens by hand, making
// signers and key sets, reading tests/testdata/jose. Not part of any library.
#ifndef WRIT_SDK_SRC_JOSE_JOSE_TEST_UTIL_H_
#define WRIT_SDK_SRC_JOSE_JOSE_TEST_UTIL_H_

#include <openssl/core_names.h>

#include <fstream>
#include <map>
#include <memory>
#include <sstream>
#include <string>
#include <tuple>
#include <utility>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/string_view.h"
#include "gtest/gtest.h"
#include "writ/base/base64url.h"
#include "writ/crypto/keys.h"
#include "writ/jose/jwk.h"
#include "writ/jose/signer.h"

namespace writ::jose_test {

// B64 is base64url without padding.
inline std::string B64(absl::string_view data) { return Base64UrlEncode(data); }

// Bytes keeps the embedded NULs of a string literal.
template <size_t N>
std::string Bytes(const char (&literal)[N]) {
  return std::string(literal, N - 1);
}

// FromB64 decodes base64url that the test itself typed in; a typo is fatal.
inline std::string FromB64(absl::string_view encoded) {
  auto decoded = Base64UrlDecode(encoded);
  if (!decoded.ok()) {
    ADD_FAILURE() << "bad base64url in test data: " << decoded.status();
    return "";
  }
  return *std::move(decoded);
}

// Token joins already-encoded segments with dots.
inline std::string Token(absl::string_view header_json, absl::string_view payload,
                         absl::string_view signature) {
  return absl::StrCat(B64(header_json), ".", B64(payload), ".", B64(signature));
}

// SignToken returns BASE64URL(header).BASE64URL(payload).BASE64URL(signature)
// with `signer` signing exactly that header (so the header may be hostile).
inline std::string SignToken(const Signer& signer, absl::string_view header_json,
                             absl::string_view payload) {
  const std::string input = absl::StrCat(B64(header_json), ".", B64(payload));
  auto signature = signer.Sign(input);
  EXPECT_TRUE(signature.ok()) << signature.status();
  return absl::StrCat(input, ".", B64(signature.ok() ? *signature : ""));
}

// NewSigner generates a key of `spec` and binds it to `alg` and `kid`.
inline std::unique_ptr<PrivateKeySigner> NewSigner(KeySpec spec, JwsAlgorithm alg,
                                                   absl::string_view kid) {
  auto key = GenerateKey(spec);
  EXPECT_TRUE(key.ok()) << key.status();
  if (!key.ok()) return nullptr;
  auto signer = PrivateKeySigner::New(*std::move(key), alg, kid);
  EXPECT_TRUE(signer.ok()) << signer.status();
  return signer.ok() ? *std::move(signer) : nullptr;
}

// SignerForSameKey makes a second signer over `signer`'s private key with
// another algorithm and kid (through PEM, so the key is a separate object).
inline std::unique_ptr<PrivateKeySigner> SignerForSameKey(const PrivateKeySigner& signer,
                                                          JwsAlgorithm alg, absl::string_view kid) {
  auto pem = PrivateKeyToPem(signer.private_key());
  EXPECT_TRUE(pem.ok()) << pem.status();
  auto key = ParsePrivateKeyPem(pem.ok() ? *pem : "");
  EXPECT_TRUE(key.ok()) << key.status();
  if (!key.ok()) return nullptr;
  auto copy = PrivateKeySigner::New(*std::move(key), alg, kid);
  EXPECT_TRUE(copy.ok()) << copy.status();
  return copy.ok() ? *std::move(copy) : nullptr;
}

// SetOf builds a key set from public keys; duplicates are a test bug.
inline JwkSet SetOf(std::vector<PublicJwk> keys) {
  auto set = JwkSet::FromKeys(std::move(keys));
  EXPECT_TRUE(set.ok()) << set.status();
  return set.ok() ? *std::move(set) : JwkSet();
}

// BnParam returns an OpenSSL big-number key parameter as minimal big-endian
// bytes (the JWK form of RSA "n" and "e").
inline std::string BnParam(const EVP_PKEY* key, const char* name) {
  BIGNUM* raw = nullptr;
  if (EVP_PKEY_get_bn_param(key, name, &raw) != 1) {
    ADD_FAILURE() << "no key parameter " << name;
    return "";
  }
  SslPtr<BIGNUM> bn(raw);
  std::string out(static_cast<size_t>(BN_num_bytes(bn.get())), '\0');
  BN_bn2bin(bn.get(), reinterpret_cast<unsigned char*>(out.data()));
  return out;
}

// RsaJwkJson writes the public JWK of any RSA key, whatever its size, so a
// test can offer keys that PublicJwk::FromKey would refuse to build.
inline std::string RsaJwkJson(const EVP_PKEY* key, absl::string_view kid) {
  return absl::StrCat(R"({"kty":"RSA","kid":")", kid, R"(","n":")",
                      B64(BnParam(key, OSSL_PKEY_PARAM_RSA_N)), R"(","e":")",
                      B64(BnParam(key, OSSL_PKEY_PARAM_RSA_E)), R"("})");
}

// GenerateRsaKey makes an RSA key of exactly `bits` bits (any size OpenSSL
// allows, unlike KeySpec).
inline SslPtr<EVP_PKEY> GenerateRsaKey(size_t bits) {
  SslPtr<EVP_PKEY> key(EVP_PKEY_Q_keygen(nullptr, nullptr, "RSA", bits));
  EXPECT_NE(key, nullptr);
  return key;
}

// CachedSigner returns a signer made once per (spec, alg, kid) for the whole
// test binary: RSA keys are slow to generate. Never freed; not thread-safe.
inline const PrivateKeySigner& CachedSigner(KeySpec spec, JwsAlgorithm alg, absl::string_view kid) {
  static auto* const signers = new std::map<std::tuple<KeySpec, JwsAlgorithm, std::string>,
                                            std::unique_ptr<PrivateKeySigner>>();
  auto& slot = (*signers)[{spec, alg, std::string(kid)}];
  if (!slot) slot = NewSigner(spec, alg, kid);
  return *slot;
}

// ReadTestData returns the bytes of tests/testdata/jose/`name`.
inline std::string ReadTestData(absl::string_view name) {
  const std::string path = absl::StrCat(WRIT_TESTDATA_DIR, "/jose/", name);
  std::ifstream in(path, std::ios::binary);
  EXPECT_TRUE(in.good()) << "cannot open " << path;
  std::ostringstream out;
  out << in.rdbuf();
  return out.str();
}

}  // namespace writ::jose_test

#endif  // WRIT_SDK_SRC_JOSE_JOSE_TEST_UTIL_H_
