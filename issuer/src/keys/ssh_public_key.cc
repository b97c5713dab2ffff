#include "issuer/src/keys/ssh_public_key.h"

#include <cstdint>

#include "absl/strings/escaping.h"
#include "absl/strings/str_cat.h"
#include "writ/crypto/openssl_error.h"

namespace writ::issuer::keys_internal {
namespace {

void AppendSshString(std::string* out, absl::string_view s) {
  const uint32_t n = static_cast<uint32_t>(s.size());
  out->push_back(static_cast<char>((n >> 24) & 0xff));
  out->push_back(static_cast<char>((n >> 16) & 0xff));
  out->push_back(static_cast<char>((n >> 8) & 0xff));
  out->push_back(static_cast<char>(n & 0xff));
  out->append(s.data(), s.size());
}

}  // namespace

absl::StatusOr<std::string> SshEd25519PublicKeyLine(const EVP_PKEY* key,
                                                    absl::string_view comment) {
  if (key == nullptr || !EVP_PKEY_is_a(key, "ED25519")) {
    return absl::InvalidArgumentError("an SSH CA key must be Ed25519");
  }
  for (char c : comment) {
    if (static_cast<unsigned char>(c) <= 0x20 || c == 0x7f) {
      return absl::InvalidArgumentError("an SSH key comment must not hold spaces or controls");
    }
  }
  unsigned char raw[32];
  size_t len = sizeof(raw);
  if (EVP_PKEY_get_raw_public_key(key, raw, &len) != 1 || len != sizeof(raw)) {
    return OpenSslError(absl::StatusCode::kInternal, "cannot read the Ed25519 public key");
  }
  std::string blob;
  AppendSshString(&blob, "ssh-ed25519");
  AppendSshString(&blob, absl::string_view(reinterpret_cast<const char*>(raw), len));
  std::string line = absl::StrCat("ssh-ed25519 ", absl::Base64Escape(blob));
  if (!comment.empty()) absl::StrAppend(&line, " ", comment);
  return line;
}

}  // namespace writ::issuer::keys_internal
