#include "sdk/src/x509/x509_util.h"

#include <openssl/core_names.h>
#include <openssl/err.h>
#include <openssl/pem.h>

#include <ctime>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/time/civil_time.h"
#include "writ/crypto/keys.h"
#include "writ/crypto/openssl_error.h"

namespace writ::x509_internal {
namespace {

// Buffers that OpenSSL allocates for us (PEM_read_bio output).
struct OpenSslFree {
  void operator()(void* p) const { OPENSSL_free(p); }
};
template <typename T>
using OpenSslBuffer = std::unique_ptr<T, OpenSslFree>;

struct GeneralNameDeleter {
  void operator()(GENERAL_NAME* p) const { GENERAL_NAME_free(p); }
};

// Longest URI or DNS name accepted in a SAN. DNS names are at most 253
// octets; SPIFFE IDs at most 2048 bytes.
constexpr size_t kMaxSanBytes = 2048;

// ValidateSan accepts printable ASCII without spaces, which covers DNS names
// and URIs (RFC 3986 has no raw spaces or control characters) and rules out
// the embedded-NUL tricks that once fooled hostname checks.
absl::Status ValidateSan(absl::string_view kind, absl::string_view name) {
  if (name.empty()) return absl::InvalidArgumentError(absl::StrCat(kind, " SAN is empty"));
  if (name.size() > kMaxSanBytes) {
    return absl::InvalidArgumentError(
        absl::StrCat(kind, " SAN is ", name.size(), " bytes; the limit is ", kMaxSanBytes));
  }
  for (char c : name) {
    if (c < 0x21 || c > 0x7e) {
      return absl::InvalidArgumentError(
          absl::StrCat(kind, " SAN holds a byte that is not printable ASCII (0x",
                       absl::Hex(static_cast<unsigned char>(c), absl::kZeroPad2),
                       "): spaces, control "
                       "characters and non-ASCII must be percent- or punycode-encoded"));
    }
  }
  return absl::OkStatus();
}

absl::StatusOr<std::string> MemBioContents(BIO* bio) {
  char* data = nullptr;
  const long len = BIO_get_mem_data(bio, &data);
  if (len < 0 || (len > 0 && data == nullptr)) {
    return OpenSslError(absl::StatusCode::kInternal, "reading memory BIO");
  }
  return std::string(data, static_cast<size_t>(len));
}

}  // namespace

void ExtensionStackDeleter::operator()(STACK_OF(X509_EXTENSION) * s) const {
  sk_X509_EXTENSION_pop_free(s, X509_EXTENSION_free);
}

SslPtr<BIO> MemBio(absl::string_view data) {
  return SslPtr<BIO>(BIO_new_mem_buf(data.data(), static_cast<int>(data.size())));
}

absl::StatusOr<std::vector<std::string>> ReadPemBlocks(absl::string_view pem,
                                                       const std::vector<absl::string_view>& labels,
                                                       absl::string_view what) {
  SslPtr<BIO> bio = MemBio(pem);
  if (bio == nullptr) return OpenSslError(absl::StatusCode::kInternal, "allocating BIO");
  std::vector<std::string> blocks;
  for (;;) {
    char* raw_name = nullptr;
    char* raw_header = nullptr;
    unsigned char* raw_data = nullptr;
    long len = 0;
    const int ok = PEM_read_bio(bio.get(), &raw_name, &raw_header, &raw_data, &len);
    OpenSslBuffer<char> name(raw_name);
    OpenSslBuffer<char> header(raw_header);
    OpenSslBuffer<unsigned char> data(raw_data);
    if (ok != 1) {
      const unsigned long err = ERR_peek_last_error();
      if (ERR_GET_LIB(err) == ERR_LIB_PEM && ERR_GET_REASON(err) == PEM_R_NO_START_LINE) {
        // End of input: no further "-----BEGIN" line.
        ClearOpenSslErrors();
        break;
      }
      return OpenSslError(absl::StatusCode::kInvalidArgument,
                          absl::StrCat("malformed PEM block in ", what, " input"));
    }
    const absl::string_view label(name.get());
    bool accepted = false;
    for (absl::string_view l : labels) accepted = accepted || l == label;
    if (!accepted) {
      return absl::InvalidArgumentError(absl::StrCat("PEM block is labelled \"", label,
                                                     "\"; expected ", what, " (\"",
                                                     absl::StrJoin(labels, "\" or \""), "\")"));
    }
    if (header != nullptr && header.get()[0] != '\0') {
      return absl::InvalidArgumentError(
          absl::StrCat("PEM ", what, " has headers (encrypted PEM?); they are not supported"));
    }
    blocks.emplace_back(reinterpret_cast<const char*>(data.get()), static_cast<size_t>(len));
  }
  if (blocks.empty()) {
    return absl::InvalidArgumentError(absl::StrCat(
        "no PEM ", what, " found (expected a \"-----BEGIN ", labels.front(), "-----\" line)"));
  }
  return blocks;
}

absl::StatusOr<std::string> DerToPem(absl::string_view label, absl::string_view der) {
  SslPtr<BIO> bio(BIO_new(BIO_s_mem()));
  const std::string name(label);
  if (bio == nullptr ||
      PEM_write_bio(bio.get(), name.c_str(), "", reinterpret_cast<const unsigned char*>(der.data()),
                    static_cast<long>(der.size())) <= 0) {
    return OpenSslError(absl::StatusCode::kInternal, absl::StrCat("encoding ", label, " as PEM"));
  }
  return MemBioContents(bio.get());
}

std::string NameToString(const X509_NAME* name) {
  SslPtr<BIO> bio(BIO_new(BIO_s_mem()));
  if (bio == nullptr || name == nullptr ||
      X509_NAME_print_ex(bio.get(), name, 0, XN_FLAG_RFC2253) < 0) {
    ClearOpenSslErrors();
    return "";
  }
  absl::StatusOr<std::string> s = MemBioContents(bio.get());
  if (!s.ok()) return "";
  return *std::move(s);
}

absl::StatusOr<std::string> CommonName(const X509_NAME* name) {
  int last = -1;
  for (int i = -1; (i = X509_NAME_get_index_by_NID(name, NID_commonName, i)) >= 0;) last = i;
  if (last < 0) return std::string();
  const ASN1_STRING* data = X509_NAME_ENTRY_get_data(X509_NAME_get_entry(name, last));
  unsigned char* raw = nullptr;
  const int len = ASN1_STRING_to_UTF8(&raw, data);
  OpenSslBuffer<unsigned char> utf8(raw);
  if (len < 0) return OpenSslError(absl::StatusCode::kInvalidArgument, "malformed common name");
  return std::string(reinterpret_cast<const char*>(utf8.get()), static_cast<size_t>(len));
}

absl::StatusOr<SubjectAltNames> CollectSans(const GENERAL_NAMES* names) {
  SubjectAltNames out;
  if (names == nullptr) return out;
  for (int i = 0; i < sk_GENERAL_NAME_num(names); ++i) {
    const GENERAL_NAME* gen = sk_GENERAL_NAME_value(names, i);
    const ASN1_IA5STRING* value = nullptr;
    std::vector<std::string>* dest = nullptr;
    absl::string_view kind;
    if (gen->type == GEN_URI) {
      value = gen->d.uniformResourceIdentifier;
      dest = &out.uris;
      kind = "URI";
    } else if (gen->type == GEN_DNS) {
      value = gen->d.dNSName;
      dest = &out.dns_names;
      kind = "DNS";
    } else {
      out.has_other_names = true;
      continue;
    }
    const absl::string_view text(reinterpret_cast<const char*>(ASN1_STRING_get0_data(value)),
                                 static_cast<size_t>(ASN1_STRING_length(value)));
    if (absl::Status s = ValidateSan(kind, text); !s.ok()) return s;
    dest->emplace_back(text);
  }
  return out;
}

absl::StatusOr<SslPtr<GENERAL_NAMES>> BuildSans(const std::vector<std::string>& uris,
                                                const std::vector<std::string>& dns_names) {
  SslPtr<GENERAL_NAMES> names(GENERAL_NAMES_new());
  if (names == nullptr) return OpenSslError(absl::StatusCode::kInternal, "allocating SANs");
  auto add = [&](int type, absl::string_view kind, absl::string_view text) -> absl::Status {
    if (absl::Status s = ValidateSan(kind, text); !s.ok()) return s;
    SslPtr<ASN1_STRING> ia5(ASN1_IA5STRING_new());
    std::unique_ptr<GENERAL_NAME, GeneralNameDeleter> gen(GENERAL_NAME_new());
    if (ia5 == nullptr || gen == nullptr ||
        ASN1_STRING_set(ia5.get(), text.data(), static_cast<int>(text.size())) != 1) {
      return OpenSslError(absl::StatusCode::kInternal, "building a SAN");
    }
    GENERAL_NAME_set0_value(gen.get(), type, ia5.release());
    if (sk_GENERAL_NAME_push(names.get(), gen.get()) <= 0) {
      return OpenSslError(absl::StatusCode::kInternal, "building SANs");
    }
    gen.release();  // Now owned by `names`.
    return absl::OkStatus();
  };
  for (const std::string& uri : uris) {
    if (absl::Status s = add(GEN_URI, "URI", uri); !s.ok()) return s;
  }
  for (const std::string& dns : dns_names) {
    if (absl::Status s = add(GEN_DNS, "DNS", dns); !s.ok()) return s;
  }
  return names;
}

absl::StatusOr<SslPtr<EVP_MD_CTX>> NewSigningContext(const EVP_PKEY* key) {
  if (key == nullptr) return absl::InvalidArgumentError("no signing key given");
  const char* digest = nullptr;
  if (EVP_PKEY_is_a(key, "EC")) {
    char group[64] = {0};
    size_t len = 0;
    if (EVP_PKEY_get_utf8_string_param(key, OSSL_PKEY_PARAM_GROUP_NAME, group, sizeof(group),
                                       &len) != 1) {
      return OpenSslError(absl::StatusCode::kInvalidArgument, "EC key has no named curve");
    }
    const absl::string_view name(group, len);
    if (name == "prime256v1" || name == "P-256") {
      digest = "SHA256";
    } else if (name == "secp384r1" || name == "P-384") {
      digest = "SHA384";
    } else if (name == "secp521r1" || name == "P-521") {
      digest = "SHA512";
    } else {
      return absl::InvalidArgumentError(absl::StrCat("cannot sign with an EC key on curve ", name,
                                                     "; use P-256, P-384 or P-521"));
    }
  } else if (EVP_PKEY_is_a(key, "ED25519")) {
    digest = nullptr;  // Ed25519 signs the message itself.
  } else if (EVP_PKEY_is_a(key, "RSA")) {
    if (EVP_PKEY_get_bits(key) < 2048) {
      return absl::InvalidArgumentError(
          absl::StrCat("cannot sign with ", KeyDescription(key), "; RSA keys need 2048 bits"));
    }
    digest = "SHA256";
  } else {
    return absl::InvalidArgumentError(absl::StrCat("cannot sign with a ", KeyDescription(key),
                                                   " key; use EC P-256/P-384/P-521, Ed25519 or "
                                                   "RSA"));
  }
  SslPtr<EVP_MD_CTX> ctx(EVP_MD_CTX_new());
  if (ctx == nullptr) return OpenSslError(absl::StatusCode::kInternal, "allocating EVP_MD_CTX");
  // OpenSSL takes a non-const key only to count a reference to it.
  if (EVP_DigestSignInit_ex(ctx.get(), nullptr, digest, nullptr, nullptr,
                            const_cast<EVP_PKEY*>(key), nullptr) != 1) {
    return OpenSslError(
        absl::StatusCode::kInvalidArgument,
        absl::StrCat("cannot sign with this ", KeyDescription(key), " key (is it a private key?)"));
  }
  return ctx;
}

absl::StatusOr<SslPtr<ASN1_TIME>> ToAsn1Time(absl::Time t, absl::string_view what) {
  if (t == absl::InfinitePast() || t == absl::InfiniteFuture()) {
    return absl::InvalidArgumentError(absl::StrCat(what, " is not set to a finite time"));
  }
  SslPtr<ASN1_TIME> out(ASN1_TIME_adj(nullptr, absl::ToTimeT(t), 0, 0));
  if (out == nullptr) {
    return OpenSslError(absl::StatusCode::kInvalidArgument,
                        absl::StrCat(what, " (", absl::FormatTime(t),
                                     ") is outside the years an X.509 time can encode"));
  }
  return out;
}

absl::StatusOr<absl::Time> FromAsn1Time(const ASN1_TIME* t) {
  struct tm tm = {};
  if (t == nullptr || ASN1_TIME_to_tm(t, &tm) != 1) {
    return OpenSslError(absl::StatusCode::kInvalidArgument, "malformed X.509 time");
  }
  const absl::CivilSecond civil(tm.tm_year + 1900, tm.tm_mon + 1, tm.tm_mday, tm.tm_hour, tm.tm_min,
                                tm.tm_sec);
  return absl::FromCivil(civil, absl::UTCTimeZone());
}

}  // namespace writ::x509_internal
