// Turning OpenSSL's thread-local error queue into an absl::Status.
#ifndef WRIT_CRYPTO_OPENSSL_ERROR_H_
#define WRIT_CRYPTO_OPENSSL_ERROR_H_

#include "absl/status/status.h"
#include "absl/strings/string_view.h"

namespace writ {

// OpenSslError returns a status with `code` whose message is `what` followed by
// every entry of this thread's OpenSSL error queue, which it empties. Never
// returns OK.
absl::Status OpenSslError(absl::StatusCode code, absl::string_view what);

// ClearOpenSslErrors empties this thread's OpenSSL error queue. Call it after
// an expected failure (a bad signature) so the entries do not leak into a
// later, unrelated status.
void ClearOpenSslErrors();

}  // namespace writ

#endif  // WRIT_CRYPTO_OPENSSL_ERROR_H_
