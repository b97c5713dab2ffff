#include "issuer/src/keys/key_manager.h"

#include "absl/strings/str_cat.h"

namespace writ::issuer {

const char* KeyPurposeName(KeyPurpose purpose) {
  switch (purpose) {
    case KeyPurpose::kJwt:
      return "jwt";
    case KeyPurpose::kX509Ca:
      return "x509-ca";
    case KeyPurpose::kSshCa:
      return "ssh-ca";
  }
  return "unknown";
}

absl::StatusOr<KeyPurpose> ParseKeyPurpose(absl::string_view name) {
  for (KeyPurpose p : {KeyPurpose::kJwt, KeyPurpose::kX509Ca, KeyPurpose::kSshCa}) {
    if (name == KeyPurposeName(p)) return p;
  }
  return absl::InvalidArgumentError(absl::StrCat(
      "unknown key purpose \"", name, "\": expected \"jwt\", \"x509-ca\" or \"ssh-ca\""));
}

const char* KeyStateName(KeyState state) {
  switch (state) {
    case KeyState::kPrepared:
      return "prepared";
    case KeyState::kActive:
      return "active";
    case KeyState::kRetired:
      return "retired";
  }
  return "unknown";
}

}  // namespace writ::issuer
