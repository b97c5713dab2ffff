#include "issuer/src/mint/ssh_cert_minter.h"

#include <arpa/inet.h>
#include <openssl/rand.h>

#include <algorithm>
#include <cstring>
#include <limits>
#include <set>

#include "absl/status/status.h"
#include "absl/strings/ascii.h"
#include "absl/strings/escaping.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "issuer/src/mint/ssh_public_key.h"
#include "issuer/src/mint/ssh_wire.h"
#include "writ/base/status_macros.h"
#include "writ/crypto/digest.h"
#include "writ/crypto/keys.h"
#include "writ/crypto/openssl_error.h"

namespace writ::issuer {
namespace {

constexpr uint32_t kUserCertificate = 1;  // SSH2_CERT_TYPE_USER
constexpr size_t kNonceBytes = 32;
constexpr size_t kMaxNameBytes = 255;
constexpr size_t kMaxPrincipals = 256;
constexpr size_t kMaxSourceAddresses = 64;
constexpr char kCaComment[] = "writ-ssh-ca";

std::string Quote(absl::string_view s) {
  constexpr size_t kMax = 64;
  return absl::StrCat("\"", absl::CHexEscape(s.substr(0, kMax)), s.size() > kMax ? "...\"" : "\"");
}

// CheckName accepts 1..255 bytes of printable ASCII without spaces (and
// without commas when `no_comma`): what sshd can match, log and list.
absl::Status CheckName(absl::string_view what, absl::string_view name, bool no_comma) {
  if (name.empty() || name.size() > kMaxNameBytes) {
    return absl::InvalidArgumentError(absl::StrCat(what, " ", Quote(name), " is ", name.size(),
                                                   " bytes; it must be 1 to ", kMaxNameBytes));
  }
  for (char c : name) {
    const auto u = static_cast<uint8_t>(c);
    if (u <= 0x20 || u >= 0x7f || (no_comma && c == ',')) {
      return absl::InvalidArgumentError(absl::StrCat(what, " ", Quote(name),
                                                     " must be printable ASCII without spaces",
                                                     no_comma ? " or commas" : ""));
    }
  }
  return absl::OkStatus();
}

absl::Status CheckPrincipals(const std::vector<std::string>& principals) {
  if (principals.empty()) {
    // An empty list would make the certificate valid for every user.
    return absl::InvalidArgumentError("an SSH certificate needs at least one principal");
  }
  if (principals.size() > kMaxPrincipals) {
    return absl::InvalidArgumentError(
        absl::StrCat(principals.size(), " principals; at most ", kMaxPrincipals, " are allowed"));
  }
  std::set<absl::string_view> seen;
  for (const std::string& p : principals) {
    RETURN_IF_ERROR(CheckName("principal", p, /*no_comma=*/true));
    if (!seen.insert(p).second) {
      return absl::InvalidArgumentError(absl::StrCat("principal ", Quote(p), " is listed twice"));
    }
  }
  return absl::OkStatus();
}

// CheckSourceAddress accepts what sshd's addr_match_cidr_list accepts: an
// IPv4 or IPv6 address, optionally "/prefix", with no host bits set past
// the prefix (sshd rejects the whole certificate otherwise).
absl::Status CheckSourceAddress(absl::string_view entry) {
  const size_t slash = entry.find('/');
  const std::string address(entry.substr(0, slash));
  unsigned char bytes[16] = {0};
  int max_prefix = 0;
  if (inet_pton(AF_INET, address.c_str(), bytes) == 1) {
    max_prefix = 32;
  } else if (inet_pton(AF_INET6, address.c_str(), bytes) == 1) {
    max_prefix = 128;
  } else {
    return absl::InvalidArgumentError(
        absl::StrCat("source address ", Quote(entry), " is not an IPv4 or IPv6 address or CIDR"));
  }
  if (slash == absl::string_view::npos) return absl::OkStatus();
  const absl::string_view digits = entry.substr(slash + 1);
  int prefix = 0;
  const bool digits_ok =
      !digits.empty() && digits.size() <= 3 && (digits.size() == 1 || digits[0] != '0') &&
      std::all_of(digits.begin(), digits.end(),
                  [](char c) { return absl::ascii_isdigit(static_cast<unsigned char>(c)); });
  if (digits_ok) {
    for (char c : digits) prefix = prefix * 10 + (c - '0');
  }
  if (!digits_ok || prefix > max_prefix) {
    return absl::InvalidArgumentError(absl::StrCat(
        "source address ", Quote(entry), " has a bad prefix length (0 to ", max_prefix, ")"));
  }
  for (int bit = prefix; bit < max_prefix; ++bit) {
    if (bytes[bit / 8] & (0x80 >> (bit % 8))) {
      return absl::InvalidArgumentError(absl::StrCat("source address ", Quote(entry),
                                                     " has host bits set after /", prefix,
                                                     "; give the network address"));
    }
  }
  return absl::OkStatus();
}

absl::Status CheckSourceAddresses(const std::vector<std::string>& addresses) {
  if (addresses.size() > kMaxSourceAddresses) {
    return absl::InvalidArgumentError(absl::StrCat(addresses.size(), " source addresses; at most ",
                                                   kMaxSourceAddresses, " are allowed"));
  }
  for (const std::string& a : addresses) RETURN_IF_ERROR(CheckSourceAddress(a));
  return absl::OkStatus();
}

absl::StatusOr<std::string> RandomBytes(size_t n) {
  std::string out(n, '\0');
  if (RAND_bytes(reinterpret_cast<unsigned char*>(out.data()), static_cast<int>(n)) != 1) {
    return OpenSslError(absl::StatusCode::kInternal, "random bytes");
  }
  return out;
}

absl::StatusOr<uint64_t> RandomSerial() {
  for (;;) {
    ASSIGN_OR_RETURN(std::string bytes, RandomBytes(8));
    uint64_t serial = 0;
    for (char c : bytes) serial = (serial << 8) | static_cast<uint8_t>(c);
    if (serial != 0) return serial;
  }
}

std::string BignumBytes(const BIGNUM* bn) {
  std::string out(static_cast<size_t>(BN_num_bytes(bn)), '\0');
  BN_bn2bin(bn, reinterpret_cast<unsigned char*>(out.data()));
  return out;
}

}  // namespace

struct SshCertMinter::Rep {
  SslPtr<EVP_PKEY> ca_key;
  const Clock* clock = nullptr;
  absl::Duration backdate;
  std::string ca_blob;
  // signature_algorithm: "ssh-ed25519" or "ecdsa-sha2-nistp256"/"384".
  std::string signature_algorithm;
  SslPtr<EVP_MD> md;                 // null for Ed25519, which signs the message itself
  SslPtr<EVP_MD_CTX> sign_template;  // initialised once, copied per signature
  std::string extensions;            // wire form, built once

  // Sign returns the certificate's signature field for `data`: string
  // algorithm, string signature (for ECDSA, mpint r and mpint s).
  absl::StatusOr<std::string> Sign(absl::string_view data) const {
    // Copying a context set up once skips OpenSSL 3's per-init provider
    // lookups (see DESIGN.md, "OpenSSL 3.0 traps").
    SslPtr<EVP_MD_CTX> ctx(EVP_MD_CTX_new());
    size_t len = 0;
    const auto* in = reinterpret_cast<const unsigned char*>(data.data());
    if (ctx == nullptr || EVP_MD_CTX_copy_ex(ctx.get(), sign_template.get()) != 1 ||
        EVP_DigestSign(ctx.get(), nullptr, &len, in, data.size()) != 1) {
      return OpenSslError(absl::StatusCode::kInternal, "SSH CA signature setup");
    }
    std::string sig(len, '\0');
    if (EVP_DigestSign(ctx.get(), reinterpret_cast<unsigned char*>(sig.data()), &len, in,
                       data.size()) != 1) {
      return OpenSslError(absl::StatusCode::kInternal, "SSH CA signature");
    }
    sig.resize(len);
    if (md != nullptr) {
      // OpenSSL gives DER ECDSA-Sig-Value; SSH wants mpint r, mpint s.
      const auto* p = reinterpret_cast<const unsigned char*>(sig.data());
      SslPtr<ECDSA_SIG> ecdsa(d2i_ECDSA_SIG(nullptr, &p, static_cast<long>(sig.size())));
      if (ecdsa == nullptr) return OpenSslError(absl::StatusCode::kInternal, "ECDSA signature");
      const BIGNUM* r = nullptr;
      const BIGNUM* s = nullptr;
      ECDSA_SIG_get0(ecdsa.get(), &r, &s);
      SshWriter rs;
      rs.Mpint(BignumBytes(r));
      rs.Mpint(BignumBytes(s));
      sig = rs.Release();
    }
    SshWriter out;
    out.String(signature_algorithm);
    out.String(sig);
    return out.Release();
  }
};

SshCertMinter::SshCertMinter(std::unique_ptr<Rep> rep, std::string ca_line)
    : rep_(std::move(rep)), ca_public_key_line_(std::move(ca_line)) {}

SshCertMinter::~SshCertMinter() = default;

absl::StatusOr<std::unique_ptr<SshCertMinter>> SshCertMinter::New(SslPtr<EVP_PKEY> ca_key,
                                                                  const Clock* clock,
                                                                  SshCertMinterOptions options) {
  if (ca_key == nullptr) return absl::InvalidArgumentError("SSH CA key is null");
  if (clock == nullptr) return absl::InvalidArgumentError("SSH CA clock is null");
  if (options.backdate < absl::ZeroDuration() || options.backdate > absl::Hours(1)) {
    return absl::InvalidArgumentError(absl::StrCat("SSH certificate backdate ",
                                                   absl::FormatDuration(options.backdate),
                                                   " is out of range (0 to 1h)"));
  }
  auto rep = std::make_unique<Rep>();
  std::string type;
  RETURN_IF_ERROR(EncodeSshPublicKey(ca_key.get(), &type, &rep->ca_blob));
  if (type == "ssh-ed25519") {
    rep->signature_algorithm = type;
  } else if (type == "ecdsa-sha2-nistp256" || type == "ecdsa-sha2-nistp384") {
    // RFC 5656 6.2.1: the curve size picks the hash.
    rep->signature_algorithm = type;
    rep->md.reset(
        EVP_MD_fetch(nullptr, type == "ecdsa-sha2-nistp256" ? "SHA256" : "SHA384", nullptr));
    if (rep->md == nullptr) return OpenSslError(absl::StatusCode::kInternal, "fetching SHA-2");
  } else {
    return absl::InvalidArgumentError(
        absl::StrCat("SSH CA key is ", KeyDescription(ca_key.get()),
                     "; an SSH CA key must be Ed25519 or EC P-256/P-384"));
  }

  std::vector<std::string> extensions = options.extensions;
  std::sort(extensions.begin(), extensions.end());
  SshWriter ext;
  for (size_t i = 0; i < extensions.size(); ++i) {
    RETURN_IF_ERROR(CheckName("SSH certificate extension", extensions[i], /*no_comma=*/true));
    if (i > 0 && extensions[i] == extensions[i - 1]) {
      return absl::InvalidArgumentError(
          absl::StrCat("SSH certificate extension ", Quote(extensions[i]), " is listed twice"));
    }
    ext.String(extensions[i]);
    ext.String("");  // every extension Writ grants is a flag without data
  }
  rep->extensions = ext.Release();

  ASSIGN_OR_RETURN(std::string ca_line, OpenSshPublicKeyLine(ca_key.get(), kCaComment));
  rep->ca_key = std::move(ca_key);
  rep->clock = clock;
  rep->backdate = options.backdate;
  rep->sign_template.reset(EVP_MD_CTX_new());
  if (rep->sign_template == nullptr ||
      EVP_DigestSignInit(rep->sign_template.get(), nullptr, rep->md.get(), nullptr,
                         rep->ca_key.get()) != 1) {
    return OpenSslError(absl::StatusCode::kInvalidArgument,
                        "SSH CA key cannot sign (a public key only?)");
  }
  // A public-only key would fail on the first Mint; fail here instead.
  if (absl::StatusOr<std::string> probe = rep->Sign("writ ssh ca probe"); !probe.ok()) {
    return absl::InvalidArgumentError(
        absl::StrCat("SSH CA key cannot sign (a public key only?): ", probe.status().message()));
  }
  return std::unique_ptr<SshCertMinter>(new SshCertMinter(std::move(rep), std::move(ca_line)));
}

absl::StatusOr<MintedSshCert> SshCertMinter::Mint(const SshCertRequest& request) const {
  if (request.lifetime < absl::Seconds(1) || request.lifetime == absl::InfiniteDuration()) {
    return absl::InvalidArgumentError(absl::StrCat("SSH certificate lifetime ",
                                                   absl::FormatDuration(request.lifetime),
                                                   " must be at least 1s and finite"));
  }
  RETURN_IF_ERROR(CheckName("SSH certificate key id", request.key_id, /*no_comma=*/false));
  RETURN_IF_ERROR(CheckPrincipals(request.principals));
  RETURN_IF_ERROR(CheckSourceAddresses(request.source_addresses));
  ASSIGN_OR_RETURN(SshPublicKey key, ParseSshPublicKeyLine(request.public_key));

  const absl::Time now = rep_->clock->Now();
  const int64_t after = absl::ToUnixSeconds(now - rep_->backdate);
  const int64_t before = absl::ToUnixSeconds(now + request.lifetime);
  if (after < 0 || before == std::numeric_limits<int64_t>::max()) {
    return absl::InvalidArgumentError(
        absl::StrCat("SSH certificate validity ", after, "..", before,
                     " (Unix seconds) is out of range: check the clock and lifetime"));
  }
  ASSIGN_OR_RETURN(std::string nonce, RandomBytes(kNonceBytes));
  ASSIGN_OR_RETURN(uint64_t serial, RandomSerial());

  const std::string cert_type = absl::StrCat(key.type, "-cert-v01@openssh.com");
  SshWriter principals;
  for (const std::string& p : request.principals) principals.String(p);
  SshWriter critical;
  if (!request.source_addresses.empty()) {
    critical.String("source-address");
    SshWriter value;  // the option's data is itself a string
    value.String(absl::StrJoin(request.source_addresses, ","));
    critical.String(value.data());
  }

  SshWriter cert;
  cert.String(cert_type);
  cert.String(nonce);
  cert.Raw(key.fields());
  cert.U64(serial);
  cert.U32(kUserCertificate);
  cert.String(request.key_id);
  cert.String(principals.data());
  cert.U64(static_cast<uint64_t>(after));
  cert.U64(static_cast<uint64_t>(before));
  cert.String(critical.data());
  cert.String(rep_->extensions);
  cert.String("");  // reserved
  cert.String(rep_->ca_blob);
  ASSIGN_OR_RETURN(std::string signature, rep_->Sign(cert.data()));
  cert.String(signature);

  MintedSshCert out;
  const std::string blob = cert.Release();
  out.certificate = absl::StrCat(cert_type, " ", absl::Base64Escape(blob), " ", request.key_id);
  out.serial = serial;
  out.sha256_fingerprint_hex = Sha256Hex(blob);
  out.valid_after = absl::FromUnixSeconds(after);
  out.valid_before = absl::FromUnixSeconds(before);
  out.public_key_type = key.type;
  return out;
}

absl::StatusOr<std::string> OpenSshPublicKeyLine(const EVP_PKEY* key, absl::string_view comment) {
  for (char c : comment) {
    const auto u = static_cast<uint8_t>(c);
    if (u < 0x20 || u == 0x7f) {
      return absl::InvalidArgumentError(
          "an OpenSSH public key comment must not contain line breaks or control characters");
    }
  }
  std::string type, blob;
  RETURN_IF_ERROR(EncodeSshPublicKey(key, &type, &blob));
  std::string line = absl::StrCat(type, " ", absl::Base64Escape(blob));
  if (!comment.empty()) absl::StrAppend(&line, " ", comment);
  return line;
}

}  // namespace writ::issuer
