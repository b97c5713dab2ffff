// SHA-256 and hex helpers.
#ifndef WRIT_CRYPTO_DIGEST_H_
#define WRIT_CRYPTO_DIGEST_H_

#include <string>

#include "absl/strings/string_view.h"

namespace writ {

// Sha256 returns the 32-byte SHA-256 digest of `data`.
std::string Sha256(absl::string_view data);

// Sha256Hex returns the SHA-256 digest of `data` as 64 lowercase hex digits.
std::string Sha256Hex(absl::string_view data);

}  // namespace writ

#endif  // WRIT_CRYPTO_DIGEST_H_
