// Strict base64url (RFC 4648 section 5) as JOSE uses it (RFC 7515 section 2):
// no padding, no whitespace, no characters outside [A-Za-z0-9_-].
#ifndef WRIT_BASE_BASE64URL_H_
#define WRIT_BASE_BASE64URL_H_

#include <string>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"

namespace writ {

// Base64UrlEncode returns the unpadded base64url encoding of `data`.
std::string Base64UrlEncode(absl::string_view data);

// Base64UrlDecode decodes unpadded base64url. It returns kInvalidArgument for
// padding ('='), any character outside the base64url alphabet, a length that
// no encoding can have (len % 4 == 1), or non-zero unused bits in the last
// character (so every byte string has exactly one accepted encoding).
absl::StatusOr<std::string> Base64UrlDecode(absl::string_view encoded);

}  // namespace writ

#endif  // WRIT_BASE_BASE64URL_H_
