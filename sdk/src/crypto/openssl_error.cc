#include "writ/crypto/openssl_error.h"

#include <openssl/err.h>

#include <string>

#include "absl/strings/str_cat.h"

namespace writ {

absl::Status OpenSslError(absl::StatusCode code, absl::string_view what) {
  std::string message(what);
  unsigned long err;
  bool first = true;
  while ((err = ERR_get_error()) != 0) {
    char buf[256];
    ERR_error_string_n(err, buf, sizeof(buf));
    absl::StrAppend(&message, first ? ": " : "; ", buf);
    first = false;
  }
  return absl::Status(code == absl::StatusCode::kOk ? absl::StatusCode::kInternal : code, message);
}

void ClearOpenSslErrors() { ERR_clear_error(); }

}  // namespace writ
