// OpenSSH public keys: parsing an untrusted public key line
// ("ssh-ed25519 AAAA... comment") and encoding an EVP_PKEY in the SSH wire
// format (RFC 4253 6.6, RFC 5656 3.1, RFC 8709 4).
#ifndef WRIT_ISSUER_MINT_SSH_PUBLIC_KEY_H_
#define WRIT_ISSUER_MINT_SSH_PUBLIC_KEY_H_

#include <cstddef>
#include <string>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "writ/crypto/ssl_ptr.h"

namespace writ::issuer {

// kMaxSshPublicKeyLineBytes bounds an untrusted public key line (an RSA-8192
// key is about 1.4 KB of base64; the rest is room for a comment).
inline constexpr size_t kMaxSshPublicKeyLineBytes = 16 * 1024;

// SshPublicKey is one parsed and validated OpenSSH public key.
struct SshPublicKey {
  // type: "ssh-ed25519", "ecdsa-sha2-nistp256", "ecdsa-sha2-nistp384",
  // "ecdsa-sha2-nistp521" or "ssh-rsa".
  std::string type;
  // blob: the key's wire encoding (string type, then the key fields), the
  // bytes behind the line's base64.
  std::string blob;
  // bits: 256 for Ed25519 and P-256, 384, 521, or the RSA modulus size.
  int bits = 0;
  // key: the same public key as an OpenSSL key; never null after a
  // successful parse.
  SslPtr<EVP_PKEY> key;

  // fields: `blob` after its type string, which is what a certificate
  // embeds after its nonce. Points into `blob`.
  absl::string_view fields() const { return absl::string_view(blob).substr(4 + type.size()); }
};

// ParseSshPublicKeyLine parses one OpenSSH public key line, "<type> <base64>
// [comment]" (spaces or tabs between fields, surrounding whitespace and a
// final newline ignored, the comment dropped). Accepted: ssh-ed25519,
// ecdsa-sha2-nistp256/384/521 (uncompressed points on the curve) and ssh-rsa
// with a 2048 to 8192-bit odd modulus and an odd exponent of 3 up to 64 bits.
// Returns kInvalidArgument, naming the defect, for anything else: an empty,
// multi-line or over-long line, a certificate, DSA, a security-key or
// unknown type, base64 that is not canonical, key data whose embedded type
// differs from the line's, truncated data or trailing bytes, a point off the
// curve, a weak or oversized RSA key. Never reads past `line`.
absl::StatusOr<SshPublicKey> ParseSshPublicKeyLine(absl::string_view line);

// EncodeSshPublicKey sets `type` and `blob` to the OpenSSH type name and wire
// encoding of the public half of `key`: Ed25519, EC P-256/384/521 or RSA.
// kInvalidArgument for a null key or one of another kind.
absl::Status EncodeSshPublicKey(const EVP_PKEY* key, std::string* type, std::string* blob);

}  // namespace writ::issuer

#endif  // WRIT_ISSUER_MINT_SSH_PUBLIC_KEY_H_
