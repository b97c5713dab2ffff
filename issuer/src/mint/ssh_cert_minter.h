// SshCertMinter: OpenSSH user certificates (PROTOCOL.certkeys) signed by
// Writ's SSH CA, for just-in-time VM access.
#ifndef WRIT_ISSUER_MINT_SSH_CERT_MINTER_H_
#define WRIT_ISSUER_MINT_SSH_CERT_MINTER_H_

#include <cstdint>
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "absl/time/time.h"
#include "writ/base/clock.h"
#include "writ/crypto/ssl_ptr.h"

namespace writ::issuer {

// SshCertMinterOptions tunes an SshCertMinter.
struct SshCertMinterOptions {
  // How far before "now" valid_after is set (clock skew). 0 to 1 hour.
  // Default: 30 s
  absl::Duration backdate = absl::Seconds(30);
  // extensions granted in every certificate (sorted by name on the wire, as
  // PROTOCOL.certkeys requires). Default: permit-pty only (no agent, port or
  // X11 forwarding).
  std::vector<std::string> extensions = {"permit-pty"};
};

// SshCertRequest is what the policy granted, plus the caller's public key.
struct SshCertRequest {
  // public_key: one OpenSSH public key line ("ssh-ed25519 AAAA... comment"),
  // untrusted. Accepted: ssh-ed25519, ecdsa-sha2-nistp256/384/521, ssh-rsa
  // of 2048 to 8192 bits. A certificate or anything else is refused.
  std::string public_key;
  // principals: the user names the certificate is valid for (1 to 256 of
  // them, no repeats, each 1..255 printable ASCII bytes without spaces or
  // commas). Never empty: an empty list would be valid for every user.
  std::vector<std::string> principals;
  // source_addresses: addresses or CIDRs for the "source-address" critical
  // option (sshd refuses the certificate from anywhere else); empty: no pin.
  // At most 64, each "192.0.2.7", "10.0.0.0/8", "2001:db8::/32"...
  std::vector<std::string> source_addresses;
  // lifetime from now; >= 1 s and finite. valid_before is now + lifetime,
  // rounded down to a whole second.
  absl::Duration lifetime;
  // key_id is logged by sshd on every login: it carries the issuance id so a
  // login maps back to its ledger record. 1 to 255 bytes of printable ASCII
  // without spaces (it also ends the certificate line, as its comment).
  std::string key_id;
};

// MintedSshCert is a signed certificate and what the ledger keeps of it.
struct MintedSshCert {
  // certificate: one line, "<type>-cert-v01@openssh.com <base64> <key_id>",
  // ready to be written as <key>-cert.pub.
  std::string certificate;
  // serial: random, non-zero. valid_after and valid_before are the whole
  // seconds written into the certificate.
  uint64_t serial = 0;
  // sha256_fingerprint_hex: SHA-256 of the certificate blob, lowercase hex.
  std::string sha256_fingerprint_hex;
  absl::Time valid_after;
  absl::Time valid_before;
  // public_key_type: the certified key's type ("ssh-ed25519", ...).
  std::string public_key_type;
};

// SshCertMinter signs OpenSSH user certificates with one CA key (Ed25519,
// or ECDSA P-256/P-384). Thread-safe; `clock` must outlive it.
class SshCertMinter {
 public:
  // New takes ownership of `ca_key`. kInvalidArgument for a null clock or
  // key, a key of another kind, a key that cannot sign (public half only),
  // or an option out of range (an extension name that is empty, over 255
  // bytes, not printable ASCII, holds a space or comma, or is repeated).
  static absl::StatusOr<std::unique_ptr<SshCertMinter>> New(SslPtr<EVP_PKEY> ca_key,
                                                            const Clock* clock,
                                                            SshCertMinterOptions options = {});
  ~SshCertMinter();

  // Mint validates `request` and signs a user certificate. kInvalidArgument
  // names what is wrong: a public key that does not parse or is not an
  // accepted kind (weak RSA included; see ParseSshPublicKeyLine in
  // ssh_public_key.h), a bad or repeated principal, a source address that is
  // not an IPv4/IPv6 address or CIDR (host bits after the prefix must be
  // zero, as sshd requires), a bad lifetime or key id. kInternal when
  // OpenSSL fails.
  absl::StatusOr<MintedSshCert> Mint(const SshCertRequest& request) const;

  // ca_public_key_line: the CA's OpenSSH public key line, for
  // TrustedUserCAKeys.
  const std::string& ca_public_key_line() const { return ca_public_key_line_; }

  struct Rep;

 private:
  SshCertMinter(std::unique_ptr<Rep> rep, std::string ca_line);
  std::unique_ptr<Rep> rep_;
  std::string ca_public_key_line_;
};

// OpenSshPublicKeyLine returns the public half of `key` (Ed25519, ECDSA
// P-256/384/521, RSA) as an OpenSSH public key line with `comment`.
absl::StatusOr<std::string> OpenSshPublicKeyLine(const EVP_PKEY* key, absl::string_view comment);

}  // namespace writ::issuer

#endif  // WRIT_ISSUER_MINT_SSH_CERT_MINTER_H_
