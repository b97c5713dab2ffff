#include "writ/crypto/keys.h"

#include <openssl/core_names.h>
#include <openssl/pem.h>

#include "absl/strings/str_cat.h"
#include "writ/crypto/openssl_error.h"

namespace writ {
namespace {

absl::StatusOr<std::string> BioContents(BIO* bio) {
  char* data = nullptr;
  const long len = BIO_get_mem_data(bio, &data);
  if (len < 0 || data == nullptr) return OpenSslError(absl::StatusCode::kInternal, "reading PEM");
  return std::string(data, static_cast<size_t>(len));
}

SslPtr<BIO> MemBio(absl::string_view data) {
  return SslPtr<BIO>(BIO_new_mem_buf(data.data(), static_cast<int>(data.size())));
}

}  // namespace

absl::StatusOr<SslPtr<EVP_PKEY>> GenerateKey(KeySpec spec) {
  EVP_PKEY* key = nullptr;
  switch (spec) {
    case KeySpec::kEcP256:
      key = EVP_PKEY_Q_keygen(nullptr, nullptr, "EC", "P-256");
      break;
    case KeySpec::kEcP384:
      key = EVP_PKEY_Q_keygen(nullptr, nullptr, "EC", "P-384");
      break;
    case KeySpec::kEcP521:
      key = EVP_PKEY_Q_keygen(nullptr, nullptr, "EC", "P-521");
      break;
    case KeySpec::kEd25519:
      key = EVP_PKEY_Q_keygen(nullptr, nullptr, "ED25519");
      break;
    case KeySpec::kRsa2048:
      key = EVP_PKEY_Q_keygen(nullptr, nullptr, "RSA", size_t{2048});
      break;
    case KeySpec::kRsa3072:
      key = EVP_PKEY_Q_keygen(nullptr, nullptr, "RSA", size_t{3072});
      break;
    case KeySpec::kRsa4096:
      key = EVP_PKEY_Q_keygen(nullptr, nullptr, "RSA", size_t{4096});
      break;
  }
  if (key == nullptr) return OpenSslError(absl::StatusCode::kInternal, "key generation failed");
  return SslPtr<EVP_PKEY>(key);
}

absl::StatusOr<SslPtr<EVP_PKEY>> ParsePrivateKeyPem(absl::string_view pem) {
  if (pem.size() > 64 * 1024) return absl::InvalidArgumentError("private key PEM is over 64 KiB");
  auto bio = MemBio(pem);
  // An empty passphrase callback: an encrypted key fails instead of prompting.
  auto no_passphrase = [](char*, int, int, void*) -> int { return -1; };
  EVP_PKEY* key = PEM_read_bio_PrivateKey(bio.get(), nullptr, no_passphrase, nullptr);
  if (key == nullptr) {
    return OpenSslError(absl::StatusCode::kInvalidArgument,
                        "not a PEM private key (unencrypted PKCS#8, RSA or EC)");
  }
  return SslPtr<EVP_PKEY>(key);
}

absl::StatusOr<SslPtr<EVP_PKEY>> ParsePublicKeyPem(absl::string_view pem) {
  if (pem.size() > 64 * 1024) return absl::InvalidArgumentError("public key PEM is over 64 KiB");
  auto bio = MemBio(pem);
  EVP_PKEY* key = PEM_read_bio_PUBKEY(bio.get(), nullptr, nullptr, nullptr);
  if (key == nullptr) {
    return OpenSslError(absl::StatusCode::kInvalidArgument,
                        "not a PEM public key (SubjectPublicKeyInfo)");
  }
  return SslPtr<EVP_PKEY>(key);
}

absl::StatusOr<std::string> PrivateKeyToPem(const EVP_PKEY* key) {
  SslPtr<BIO> bio(BIO_new(BIO_s_mem()));
  if (!bio ||
      PEM_write_bio_PrivateKey(bio.get(), key, nullptr, nullptr, 0, nullptr, nullptr) != 1) {
    return OpenSslError(absl::StatusCode::kInternal, "encoding private key as PEM");
  }
  return BioContents(bio.get());
}

absl::StatusOr<std::string> PublicKeyToPem(const EVP_PKEY* key) {
  SslPtr<BIO> bio(BIO_new(BIO_s_mem()));
  if (!bio || PEM_write_bio_PUBKEY(bio.get(), key) != 1) {
    return OpenSslError(absl::StatusCode::kInternal, "encoding public key as PEM");
  }
  return BioContents(bio.get());
}

std::string KeyDescription(const EVP_PKEY* key) {
  if (key == nullptr) return "no key";
  if (EVP_PKEY_is_a(key, "RSA")) return absl::StrCat("RSA ", EVP_PKEY_get_bits(key));
  if (EVP_PKEY_is_a(key, "ED25519")) return "Ed25519";
  if (EVP_PKEY_is_a(key, "EC")) {
    char group[64] = {0};
    size_t len = 0;
    if (EVP_PKEY_get_utf8_string_param(key, OSSL_PKEY_PARAM_GROUP_NAME, group, sizeof(group),
                                       &len) == 1) {
      const absl::string_view name(group, len);
      if (name == "prime256v1" || name == "P-256") return "EC P-256";
      if (name == "secp384r1" || name == "P-384") return "EC P-384";
      if (name == "secp521r1" || name == "P-521") return "EC P-521";
      return absl::StrCat("EC ", name);
    }
    return "EC";
  }
  const char* name = EVP_PKEY_get0_type_name(key);
  return name != nullptr ? name : "unknown key type";
}

}  // namespace writ
