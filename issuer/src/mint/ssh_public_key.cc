#include "issuer/src/mint/ssh_public_key.h"

#include <openssl/core_names.h>

#include <cstdint>

#include "absl/strings/ascii.h"
#include "absl/strings/escaping.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "issuer/src/mint/ssh_wire.h"
#include "writ/base/status_macros.h"
#include "writ/crypto/keys.h"
#include "writ/crypto/openssl_error.h"

namespace writ::issuer {
namespace {

constexpr int kMinRsaBits = 2048;
constexpr int kMaxRsaBits = 8192;
// OpenSSL refuses to verify with an exponent over 64 bits once the modulus
// is over 3072 bits (RSA_MAX_PUBEXP_BITS), so sshd could not use such a key.
constexpr int kMaxRsaExponentBits = 64;

enum class Kind { kEd25519, kEcdsa, kRsa };

struct KeyType {
  const char* name;
  Kind kind;
  const char* curve;  // the ECDSA curve identifier inside the blob
  const char* group;  // OpenSSL's group name
  int bits;
  size_t coordinate_bytes;  // Ed25519 key size, or one EC coordinate
};

constexpr KeyType kKeyTypes[] = {
    {"ssh-ed25519", Kind::kEd25519, "", "", 256, 32},
    {"ecdsa-sha2-nistp256", Kind::kEcdsa, "nistp256", "prime256v1", 256, 32},
    {"ecdsa-sha2-nistp384", Kind::kEcdsa, "nistp384", "secp384r1", 384, 48},
    {"ecdsa-sha2-nistp521", Kind::kEcdsa, "nistp521", "secp521r1", 521, 66},
    {"ssh-rsa", Kind::kRsa, "", "", 0, 0},
};

constexpr char kAccepted[] =
    "ssh-ed25519, ecdsa-sha2-nistp256/384/521 or ssh-rsa (2048 to 8192 bits)";

const KeyType* FindKeyType(absl::string_view name) {
  for (const KeyType& t : kKeyTypes) {
    if (name == t.name) return &t;
  }
  return nullptr;
}

// Quote renders untrusted text for an error message: escaped and bounded.
std::string Quote(absl::string_view s) {
  constexpr size_t kMax = 64;
  return absl::StrCat("\"", absl::CHexEscape(s.substr(0, kMax)), s.size() > kMax ? "...\"" : "\"");
}

absl::Status RefuseType(absl::string_view type) {
  if (absl::EndsWith(type, "-cert-v01@openssh.com")) {
    return absl::InvalidArgumentError(
        absl::StrCat("SSH public key is a certificate (", Quote(type),
                     "); give the plain public key (the .pub file, not -cert.pub)"));
  }
  if (type == "ssh-dss") {
    return absl::InvalidArgumentError(
        absl::StrCat("DSA (ssh-dss) SSH keys are not accepted; use ", kAccepted));
  }
  if (absl::StartsWith(type, "sk-")) {
    return absl::InvalidArgumentError(
        absl::StrCat("security key type ", Quote(type), " is not accepted; use ", kAccepted));
  }
  return absl::InvalidArgumentError(
      absl::StrCat("unknown SSH key type ", Quote(type), "; use ", kAccepted));
}

bool IsBlank(char c) { return c == ' ' || c == '\t'; }

// BitLength is the bit length of an unsigned big-endian magnitude without
// leading zeros.
int BitLength(absl::string_view magnitude) {
  if (magnitude.empty()) return 0;
  int top = 0;
  for (uint8_t b = static_cast<uint8_t>(magnitude[0]); b != 0; b >>= 1) ++top;
  return static_cast<int>(magnitude.size() - 1) * 8 + top;
}

absl::StatusOr<SslPtr<EVP_PKEY>> FromData(const char* algorithm, OSSL_PARAM_BLD* bld,
                                          absl::string_view what) {
  SslPtr<OSSL_PARAM> params(OSSL_PARAM_BLD_to_param(bld));
  SslPtr<EVP_PKEY_CTX> ctx(EVP_PKEY_CTX_new_from_name(nullptr, algorithm, nullptr));
  EVP_PKEY* key = nullptr;
  if (params == nullptr || ctx == nullptr || EVP_PKEY_fromdata_init(ctx.get()) != 1 ||
      EVP_PKEY_fromdata(ctx.get(), &key, EVP_PKEY_PUBLIC_KEY, params.get()) != 1) {
    ClearOpenSslErrors();
    return absl::InvalidArgumentError(absl::StrCat(what, " is not a valid public key"));
  }
  return SslPtr<EVP_PKEY>(key);
}

absl::StatusOr<SslPtr<EVP_PKEY>> ParseEd25519(const KeyType& t, SshReader& r) {
  absl::string_view pk;
  RETURN_IF_ERROR(r.String("the Ed25519 public key", &pk));
  if (pk.size() != t.coordinate_bytes) {
    return absl::InvalidArgumentError(
        absl::StrCat("Ed25519 public key is ", pk.size(), " bytes; expected 32"));
  }
  SslPtr<EVP_PKEY> key(EVP_PKEY_new_raw_public_key_ex(
      nullptr, "ED25519", nullptr, reinterpret_cast<const unsigned char*>(pk.data()), pk.size()));
  if (key == nullptr) return OpenSslError(absl::StatusCode::kInternal, "Ed25519 key import");
  return key;
}

absl::StatusOr<SslPtr<EVP_PKEY>> ParseEcdsa(const KeyType& t, SshReader& r) {
  absl::string_view curve, point;
  RETURN_IF_ERROR(r.String("the ECDSA curve name", &curve));
  if (curve != t.curve) {
    return absl::InvalidArgumentError(
        absl::StrCat(t.name, " key data names curve ", Quote(curve), "; expected ", t.curve));
  }
  RETURN_IF_ERROR(r.String("the ECDSA public point", &point));
  // OpenSSH writes points uncompressed: 0x04 || X || Y.
  if (point.size() != 1 + 2 * t.coordinate_bytes || point[0] != '\x04') {
    return absl::InvalidArgumentError(
        absl::StrCat(t.name, " public point is not an uncompressed point of ",
                     1 + 2 * t.coordinate_bytes, " bytes (got ", point.size(), ")"));
  }
  SslPtr<OSSL_PARAM_BLD> bld(OSSL_PARAM_BLD_new());
  if (bld == nullptr ||
      OSSL_PARAM_BLD_push_utf8_string(bld.get(), OSSL_PKEY_PARAM_GROUP_NAME, t.group, 0) != 1 ||
      OSSL_PARAM_BLD_push_octet_string(bld.get(), OSSL_PKEY_PARAM_PUB_KEY, point.data(),
                                       point.size()) != 1) {
    return OpenSslError(absl::StatusCode::kInternal, "building EC key parameters");
  }
  const std::string what = absl::StrCat(t.name, " public point (not on the curve?)");
  ASSIGN_OR_RETURN(SslPtr<EVP_PKEY> key, FromData("EC", bld.get(), what));
  // The import already refuses points off the curve; the quick check also
  // refuses the point at infinity and out-of-range coordinates. The NIST
  // curves have cofactor 1, so every other point on them is in the
  // prime-order group and the full check's n*Q (~100 us) would add nothing.
  SslPtr<EVP_PKEY_CTX> check(EVP_PKEY_CTX_new_from_pkey(nullptr, key.get(), nullptr));
  if (check == nullptr || EVP_PKEY_public_check_quick(check.get()) != 1) {
    ClearOpenSslErrors();
    return absl::InvalidArgumentError(
        absl::StrCat(t.name, " public point is not a valid point on the curve"));
  }
  return key;
}

absl::StatusOr<SslPtr<EVP_PKEY>> ParseRsa(SshReader& r, int* bits) {
  absl::string_view e, n;
  RETURN_IF_ERROR(r.Mpint("the RSA public exponent", &e));
  RETURN_IF_ERROR(r.Mpint("the RSA modulus", &n));
  const bool e_odd = !e.empty() && (static_cast<uint8_t>(e.back()) & 1) != 0;
  const bool e_at_least_3 = e.size() > 1 || (e.size() == 1 && static_cast<uint8_t>(e[0]) >= 3);
  if (!e_odd || !e_at_least_3 || BitLength(e) > kMaxRsaExponentBits) {
    return absl::InvalidArgumentError(
        absl::StrCat("ssh-rsa public exponent must be odd, at least 3 and at most ",
                     kMaxRsaExponentBits, " bits (65537 is usual)"));
  }
  *bits = BitLength(n);
  if (*bits < kMinRsaBits) {
    return absl::InvalidArgumentError(absl::StrCat(
        "RSA key of ", *bits, " bits is too weak: at least ", kMinRsaBits, " bits are required"));
  }
  if (*bits > kMaxRsaBits) {
    return absl::InvalidArgumentError(absl::StrCat(
        "RSA key of ", *bits, " bits is too large: at most ", kMaxRsaBits, " bits are accepted"));
  }
  if ((static_cast<uint8_t>(n.back()) & 1) == 0) {
    return absl::InvalidArgumentError("ssh-rsa modulus is even, so it is not an RSA modulus");
  }
  auto to_bn = [](absl::string_view m) {
    return SslPtr<BIGNUM>(BN_bin2bn(reinterpret_cast<const unsigned char*>(m.data()),
                                    static_cast<int>(m.size()), nullptr));
  };
  SslPtr<BIGNUM> bn_e = to_bn(e), bn_n = to_bn(n);
  SslPtr<OSSL_PARAM_BLD> bld(OSSL_PARAM_BLD_new());
  if (bn_e == nullptr || bn_n == nullptr || bld == nullptr ||
      OSSL_PARAM_BLD_push_BN(bld.get(), OSSL_PKEY_PARAM_RSA_N, bn_n.get()) != 1 ||
      OSSL_PARAM_BLD_push_BN(bld.get(), OSSL_PKEY_PARAM_RSA_E, bn_e.get()) != 1) {
    return OpenSslError(absl::StatusCode::kInternal, "building RSA key parameters");
  }
  return FromData("RSA", bld.get(), "ssh-rsa key");
}

absl::StatusOr<std::string> BignumParam(const EVP_PKEY* key, const char* name, size_t pad_to) {
  BIGNUM* raw = nullptr;
  if (EVP_PKEY_get_bn_param(key, name, &raw) != 1) {
    return OpenSslError(absl::StatusCode::kInternal, absl::StrCat("reading key parameter ", name));
  }
  SslPtr<BIGNUM> bn(raw);
  const size_t size = pad_to > 0 ? pad_to : static_cast<size_t>(BN_num_bytes(bn.get()));
  std::string out(size, '\0');
  if (BN_bn2binpad(bn.get(), reinterpret_cast<unsigned char*>(out.data()), static_cast<int>(size)) <
      0) {
    return OpenSslError(absl::StatusCode::kInternal, absl::StrCat("encoding ", name));
  }
  return out;
}

}  // namespace

absl::StatusOr<SshPublicKey> ParseSshPublicKeyLine(absl::string_view line) {
  if (line.size() > kMaxSshPublicKeyLineBytes) {
    return absl::InvalidArgumentError(absl::StrCat("SSH public key line is ", line.size(),
                                                   " bytes; at most ", kMaxSshPublicKeyLineBytes,
                                                   " are accepted"));
  }
  line = absl::StripAsciiWhitespace(line);
  if (line.empty()) return absl::InvalidArgumentError("SSH public key is empty");
  for (char c : line) {
    const auto u = static_cast<uint8_t>(c);
    if ((u < 0x20 && c != '\t') || u == 0x7f) {
      return absl::InvalidArgumentError(
          "SSH public key must be one line of text (it contains a line break or control "
          "character)");
    }
  }
  size_t i = 0;
  while (i < line.size() && !IsBlank(line[i])) ++i;
  const absl::string_view type = line.substr(0, i);
  while (i < line.size() && IsBlank(line[i])) ++i;
  size_t end = i;
  while (end < line.size() && !IsBlank(line[end])) ++end;
  const absl::string_view base64 = line.substr(i, end - i);

  const KeyType* key_type = FindKeyType(type);
  if (key_type == nullptr) return RefuseType(type);
  if (base64.empty()) {
    return absl::InvalidArgumentError(
        absl::StrCat("SSH public key has no key data: expected \"", type, " <base64> [comment]\""));
  }
  SshPublicKey out;
  // Decoding then re-encoding admits exactly one (padded) spelling per key.
  if (!absl::Base64Unescape(base64, &out.blob) || absl::Base64Escape(out.blob) != base64) {
    return absl::InvalidArgumentError("SSH public key data is not valid (padded) base64");
  }
  SshReader r(out.blob);
  absl::string_view embedded;
  RETURN_IF_ERROR(r.String("the key type", &embedded));
  if (embedded != type) {
    return absl::InvalidArgumentError(absl::StrCat(
        "SSH public key line says \"", type, "\" but its key data is of type ", Quote(embedded)));
  }
  out.type = key_type->name;
  out.bits = key_type->bits;
  switch (key_type->kind) {
    case Kind::kEd25519: {
      ASSIGN_OR_RETURN(out.key, ParseEd25519(*key_type, r));
      break;
    }
    case Kind::kEcdsa: {
      ASSIGN_OR_RETURN(out.key, ParseEcdsa(*key_type, r));
      break;
    }
    case Kind::kRsa: {
      ASSIGN_OR_RETURN(out.key, ParseRsa(r, &out.bits));
      break;
    }
  }
  if (r.remaining() != 0) {
    return absl::InvalidArgumentError(absl::StrCat("SSH public key data has ", r.remaining(),
                                                   " trailing bytes after the ", type, " key"));
  }
  return out;
}

absl::Status EncodeSshPublicKey(const EVP_PKEY* key, std::string* type, std::string* blob) {
  if (key == nullptr) return absl::InvalidArgumentError("no key to encode");
  SshWriter w;
  switch (EVP_PKEY_get_base_id(key)) {
    case EVP_PKEY_ED25519: {
      unsigned char raw[32];
      size_t len = sizeof(raw);
      if (EVP_PKEY_get_raw_public_key(key, raw, &len) != 1 || len != sizeof(raw)) {
        return OpenSslError(absl::StatusCode::kInternal, "reading the Ed25519 public key");
      }
      *type = "ssh-ed25519";
      w.String(*type);
      w.String(absl::string_view(reinterpret_cast<const char*>(raw), len));
      break;
    }
    case EVP_PKEY_EC: {
      char group[64] = {0};
      size_t len = 0;
      const KeyType* t = nullptr;
      if (EVP_PKEY_get_group_name(key, group, sizeof(group), &len) == 1) {
        for (const KeyType& candidate : kKeyTypes) {
          if (candidate.kind == Kind::kEcdsa && absl::string_view(group, len) == candidate.group) {
            t = &candidate;
          }
        }
      }
      ClearOpenSslErrors();
      if (t == nullptr) {
        return absl::InvalidArgumentError(
            absl::StrCat("EC key on curve \"", absl::string_view(group, len),
                         "\" has no OpenSSH form; use P-256, P-384 or P-521"));
      }
      ASSIGN_OR_RETURN(std::string x,
                       BignumParam(key, OSSL_PKEY_PARAM_EC_PUB_X, t->coordinate_bytes));
      ASSIGN_OR_RETURN(std::string y,
                       BignumParam(key, OSSL_PKEY_PARAM_EC_PUB_Y, t->coordinate_bytes));
      *type = t->name;
      w.String(*type);
      w.String(t->curve);
      w.String(absl::StrCat("\x04", x, y));
      break;
    }
    case EVP_PKEY_RSA: {
      ASSIGN_OR_RETURN(std::string e, BignumParam(key, OSSL_PKEY_PARAM_RSA_E, 0));
      ASSIGN_OR_RETURN(std::string n, BignumParam(key, OSSL_PKEY_PARAM_RSA_N, 0));
      *type = "ssh-rsa";
      w.String(*type);
      w.Mpint(e);
      w.Mpint(n);
      break;
    }
    default:
      return absl::InvalidArgumentError(
          absl::StrCat(KeyDescription(key),
                       " key has no OpenSSH form here; use Ed25519, EC "
                       "P-256/384/521 or RSA"));
  }
  *blob = w.Release();
  return absl::OkStatus();
}

}  // namespace writ::issuer
