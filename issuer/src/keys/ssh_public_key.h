// Internal to writ_keys: the OpenSSH public key line of an Ed25519 key, as
// sshd's TrustedUserCAKeys and authorized_keys files hold it. (mint/ has a
// general encoder; keys/ does not depend on mint, and the CA key is always
// Ed25519.)
#ifndef WRIT_ISSUER_KEYS_SSH_PUBLIC_KEY_H_
#define WRIT_ISSUER_KEYS_SSH_PUBLIC_KEY_H_

#include <string>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "writ/crypto/ssl_ptr.h"

namespace writ::issuer::keys_internal {

// SshEd25519PublicKeyLine returns "ssh-ed25519 <base64> <comment>", the
// base64 (standard alphabet, padded) of the RFC 8709 wire encoding: string
// "ssh-ed25519", string <32-byte public key> (each string a 4-byte
// big-endian length and the bytes). kInvalidArgument when `key` is not
// Ed25519 or `comment` holds whitespace or control characters.
absl::StatusOr<std::string> SshEd25519PublicKeyLine(const EVP_PKEY* key, absl::string_view comment);

}  // namespace writ::issuer::keys_internal

#endif  // WRIT_ISSUER_KEYS_SSH_PUBLIC_KEY_H_
