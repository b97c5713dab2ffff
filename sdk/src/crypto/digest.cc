#include "writ/crypto/digest.h"

#include <openssl/evp.h>

#include <cstdlib>

namespace writ {

std::string Sha256(absl::string_view data) {
  // Fetched once: an implicit fetch per call goes through the provider lookup.
  static EVP_MD* const sha256 = EVP_MD_fetch(nullptr, "SHA256", nullptr);
  std::string out(32, '\0');
  unsigned int len = 0;
  if (sha256 == nullptr ||
      EVP_Digest(data.data(), data.size(), reinterpret_cast<unsigned char*>(out.data()), &len,
                 sha256, nullptr) != 1 ||
      len != 32) {
    abort();  // SHA-256 is always available in OpenSSL 3; failing here is a broken install.
  }
  return out;
}

std::string Sha256Hex(absl::string_view data) {
  static constexpr char kHex[] = "0123456789abcdef";
  const std::string digest = Sha256(data);
  std::string hex;
  hex.reserve(digest.size() * 2);
  for (unsigned char c : digest) {
    hex.push_back(kHex[c >> 4]);
    hex.push_back(kHex[c & 15]);
  }
  return hex;
}

}  // namespace writ
