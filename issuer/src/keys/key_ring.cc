#include "issuer/src/keys/key_ring.h"

#include <algorithm>
#include <tuple>
#include <utility>

#include "absl/cleanup/cleanup.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "issuer/src/keys/ca_certificates.h"
#include "issuer/src/keys/key_files.h"
#include "issuer/src/mint/ssh_cert_minter.h"
#include "writ/base/status_macros.h"
#include "writ/crypto/digest.h"
#include "writ/crypto/keys.h"
#include "writ/x509/certificate.h"

namespace writ::issuer::keys_internal {
namespace {

constexpr size_t kMaxKeyFileBytes = 64 * 1024;

// ShareKey returns another owning reference to `key` (OpenSSL reference
// counting; the key itself is never modified after loading).
SslPtr<EVP_PKEY> ShareKey(EVP_PKEY* key) {
  EVP_PKEY_up_ref(key);
  return SslPtr<EVP_PKEY>(key);
}

std::string Stem(absl::string_view file) {
  return std::string(file.substr(0, file.size() - 4));  // drops ".pem"
}

const char* Algorithm(KeyPurpose purpose) {
  switch (purpose) {
    case KeyPurpose::kJwt:
      return "ES256";
    case KeyPurpose::kX509Ca:
      return "EC P-256";
    case KeyPurpose::kSshCa:
      return "Ed25519";
  }
  return "";
}

// Materialize checks that `key` suits `purpose`, computes its id into
// `out->record.id` and builds the signer or SSH authority.
absl::Status Materialize(KeyPurpose purpose, SslPtr<EVP_PKEY> key, absl::string_view path,
                         LoadedKey* out) {
  out->key = std::shared_ptr<EVP_PKEY>(std::move(key));
  switch (purpose) {
    case KeyPurpose::kJwt: {
      auto signer = PrivateKeySigner::New(ShareKey(out->key.get()), JwsAlgorithm::kEs256);
      if (!signer.ok()) {
        return absl::InvalidArgumentError(
            absl::StrCat(path, ": not an ES256 (P-256) key: ", signer.status().message()));
      }
      out->record.id = (*signer)->kid();
      out->jwt_signer = std::shared_ptr<const Signer>(*std::move(signer));
      return absl::OkStatus();
    }
    case KeyPurpose::kX509Ca: {
      if (KeyDescription(out->key.get()) != "EC P-256") {
        return absl::InvalidArgumentError(absl::StrCat(
            path, ": an X.509 CA key must be EC P-256, not ", KeyDescription(out->key.get())));
      }
      ASSIGN_OR_RETURN(out->record.id, CaKeyId(out->key.get()));
      return absl::OkStatus();
    }
    case KeyPurpose::kSshCa: {
      if (!EVP_PKEY_is_a(out->key.get(), "ED25519")) {
        return absl::InvalidArgumentError(absl::StrCat(
            path, ": an SSH CA key must be Ed25519, not ", KeyDescription(out->key.get())));
      }
      ASSIGN_OR_RETURN(out->record.id, CaKeyId(out->key.get()));
      auto ssh = std::make_shared<SshAuthority>();
      ssh->id = out->record.id;
      ssh->private_key = ShareKey(out->key.get());
      ASSIGN_OR_RETURN(
          ssh->public_key_line,
          OpenSshPublicKeyLine(out->key.get(), absl::StrCat("writ-ssh-ca-", out->record.id)));
      out->ssh = std::move(ssh);
      return absl::OkStatus();
    }
  }
  return absl::InternalError("unknown key purpose");
}

// Attach makes `chain` (checked) the key's certificate.
absl::Status Attach(std::vector<SslPtr<X509>> chain, LoadedKey* key) {
  auto authority = std::make_shared<X509Authority>();
  authority->id = key->record.id;
  // Nothing of `key` changes unless all of it does.
  ASSIGN_OR_RETURN(std::string der, CertificateToDer(chain.front().get()));
  ASSIGN_OR_RETURN(absl::Time not_after, CertificateNotAfter(chain.front().get()));
  key->certificate_der = std::move(der);
  key->not_after = not_after;
  authority->private_key = ShareKey(key->key.get());
  authority->certificate = std::move(chain.front());
  for (size_t i = 1; i < chain.size(); ++i) authority->chain.push_back(std::move(chain[i]));
  key->x509 = std::move(authority);
  return absl::OkStatus();
}

absl::Status LoadCertificate(const RingContext& ctx, absl::Time now, LoadedKey* key) {
  const std::string path = CertificatePath(ctx, key->record);
  ASSIGN_OR_RETURN(std::string pem, ReadPublicFile(path, kMaxCertificateChainPemBytes));
  auto chain = ParseCertificateChainPem(pem);
  if (!chain.ok()) {
    return absl::FailedPreconditionError(absl::StrCat(path, ": ", chain.status().message()));
  }
  std::vector<const X509*> roots;
  // A retired key signs nothing more: its certificate is not re-verified
  // (it may well have expired by now).
  if (ctx.intermediate && key->record.state != KeyState::kRetired) {
    for (const auto& root : ctx.roots) roots.push_back(root.get());
  }
  RETURN_IF_ERROR(CheckCaCertificate(*chain, key->key.get(), roots, now, path));
  return Attach(*std::move(chain), key);
}

absl::Status WriteCsr(const RingContext& ctx, const LoadedKey& key) {
  ASSIGN_OR_RETURN(std::string csr,
                   CaCertificateRequestPem(key.key.get(), key.record.id, ctx.trust_domain));
  return WriteNewFile(ctx.dir, CsrPath(ctx, key.record), csr, 0644);
}

auto SortKey(const KeyRecord& r) { return std::make_tuple(r.purpose, r.state, r.created_at); }

}  // namespace

std::string KeyFilePath(const RingContext& ctx, const KeyRecord& record) {
  return absl::StrCat(ctx.dir, "/", record.file);
}
std::string CertificatePath(const RingContext& ctx, const KeyRecord& record) {
  return absl::StrCat(ctx.dir, "/", Stem(record.file), ".crt");
}
std::string CsrPath(const RingContext& ctx, const KeyRecord& record) {
  return absl::StrCat(ctx.dir, "/", Stem(record.file), ".csr");
}

std::vector<std::string> KeyFiles(const RingContext& ctx, const KeyRecord& record) {
  std::vector<std::string> files = {KeyFilePath(ctx, record)};
  if (record.purpose == KeyPurpose::kX509Ca) {
    files.push_back(CertificatePath(ctx, record));
    files.push_back(CsrPath(ctx, record));
  }
  return files;
}

absl::StatusOr<LoadedKey> CreateKey(const RingContext& ctx, KeyPurpose purpose, KeyState state,
                                    absl::Time now, absl::string_view file) {
  LoadedKey k;
  k.record.purpose = purpose;
  k.record.state = state;
  k.record.created_at = now;
  if (state == KeyState::kActive) k.record.activated_at = now;
  ASSIGN_OR_RETURN(
      SslPtr<EVP_PKEY> key,
      GenerateKey(purpose == KeyPurpose::kSshCa ? KeySpec::kEd25519 : KeySpec::kEcP256));
  RETURN_IF_ERROR(Materialize(purpose, std::move(key), "generated key", &k));
  k.record.file = file.empty() ? absl::StrCat(KeyPurposeName(purpose), "-", k.record.id, ".pem")
                               : std::string(file);
  ASSIGN_OR_RETURN(std::string pem, PrivateKeyToPem(k.key.get()));
  RETURN_IF_ERROR(WriteNewFile(ctx.dir, KeyFilePath(ctx, k.record), pem, 0600));
  absl::Cleanup remove_files = [&] {
    for (const std::string& f : KeyFiles(ctx, k.record)) (void)RemoveFile(f);
  };
  if (purpose == KeyPurpose::kX509Ca) {
    if (ctx.intermediate) {
      RETURN_IF_ERROR(WriteCsr(ctx, k));
    } else {
      ASSIGN_OR_RETURN(SslPtr<X509> cert,
                       SelfSignedCaCertificate(k.key.get(), k.record.id, ctx.trust_domain, now,
                                               ctx.ca_lifetime));
      ASSIGN_OR_RETURN(std::string cert_pem, CertificateToPem(cert.get()));
      RETURN_IF_ERROR(WriteNewFile(ctx.dir, CertificatePath(ctx, k.record), cert_pem, 0644));
      std::vector<SslPtr<X509>> chain;
      chain.push_back(std::move(cert));
      RETURN_IF_ERROR(Attach(std::move(chain), &k));
    }
  }
  std::move(remove_files).Cancel();
  return k;
}

absl::StatusOr<LoadedKey> LoadKey(const RingContext& ctx, const KeyRecord& record, absl::Time now) {
  LoadedKey k;
  k.record = record;
  const std::string path = KeyFilePath(ctx, record);
  if (!FileExists(path)) {
    return absl::FailedPreconditionError(absl::StrCat(
        "the key ring state names ", path, " (", KeyPurposeName(record.purpose), " key ", record.id,
        ", ", KeyStateName(record.state), "), but it does not exist"));
  }
  ASSIGN_OR_RETURN(std::string pem, ReadPrivateFile(path, kMaxKeyFileBytes));
  auto key = ParsePrivateKeyPem(pem);
  if (!key.ok()) {
    return absl::InvalidArgumentError(absl::StrCat(path, ": ", key.status().message()));
  }
  RETURN_IF_ERROR(Materialize(record.purpose, *std::move(key), path, &k));
  if (!record.id.empty() && k.record.id != record.id) {
    return absl::FailedPreconditionError(
        absl::StrCat(path, ": holds key ", k.record.id, ", but the key ring state says ", record.id,
                     ": the file was replaced; restore the original"));
  }
  if (record.purpose != KeyPurpose::kX509Ca) return k;
  const std::string certificate_path = CertificatePath(ctx, k.record);
  if (!ctx.intermediate) {
    if (!FileExists(certificate_path)) {
      return absl::FailedPreconditionError(
          absl::StrCat(certificate_path, ": missing; it is the self-signed certificate of CA key ",
                       k.record.id, " and part of the published trust bundle"));
    }
    RETURN_IF_ERROR(LoadCertificate(ctx, now, &k));
    return k;
  }
  if (FileExists(certificate_path)) {
    // A certificate that expired while the issuer was down, or one placed
    // but refused, leaves the key without a CA certificate, as if none had
    // been placed: failing here would stop JWT issuance too. RotateDue and
    // Reload report the problem until a good certificate is placed.
    absl::Status loaded = LoadCertificate(ctx, now, &k);
    if (loaded.ok()) return k;
    k.certificate_problem = std::string(loaded.message());
  }
  if (record.state != KeyState::kRetired && !FileExists(CsrPath(ctx, k.record))) {
    RETURN_IF_ERROR(WriteCsr(ctx, k));
  }
  return k;
}

absl::StatusOr<bool> AttachCertificate(const RingContext& ctx, absl::Time now, LoadedKey* key) {
  if (key->x509 != nullptr || !FileExists(CertificatePath(ctx, key->record))) {
    key->certificate_problem.clear();
    return false;
  }
  if (absl::Status s = LoadCertificate(ctx, now, key); !s.ok()) {
    key->certificate_problem = std::string(s.message());
    return s;
  }
  key->certificate_problem.clear();
  return true;
}

std::shared_ptr<const Snapshot> BuildSnapshot(const RingContext& ctx, uint64_t sequence,
                                              std::vector<LoadedKey> keys,
                                              std::vector<KeyRecord> dormant) {
  std::stable_sort(keys.begin(), keys.end(), [](const LoadedKey& a, const LoadedKey& b) {
    return SortKey(a.record) < SortKey(b.record);
  });
  auto snap = std::make_shared<Snapshot>();
  auto bundle = std::make_shared<TrustBundle>();
  bundle->sequence = sequence;
  bundle->trust_domain = ctx.trust_domain;
  if (ctx.intermediate) bundle->x509_authorities_der = ctx.roots_der;
  std::vector<std::string> active_jwk, other_jwks;
  for (const LoadedKey& k : keys) {
    const KeyRecord& r = k.record;
    KeyInfo info;
    info.purpose = r.purpose;
    info.id = r.id;
    info.state = r.state;
    info.algorithm = Algorithm(r.purpose);
    info.created_at = r.created_at;
    info.activated_at = r.activated_at;
    info.retired_at = r.retired_at;
    info.publish_until = r.publish_until;
    info.path = KeyFilePath(ctx, r);
    const bool active = r.state == KeyState::kActive;
    switch (r.purpose) {
      case KeyPurpose::kJwt:
        if (active) snap->jwt_signer = k.jwt_signer;
        (active ? active_jwk : other_jwks).push_back(k.jwt_signer->public_jwk().ToJson());
        bundle->jwt_keys.push_back(k.jwt_signer->public_jwk());
        break;
      case KeyPurpose::kX509Ca:
        info.not_after = k.not_after;
        info.has_certificate = k.x509 != nullptr;
        if (ctx.intermediate && k.x509 == nullptr) info.csr_path = CsrPath(ctx, r);
        if (active) snap->x509_ca = k.x509;
        if (k.x509 != nullptr) snap->x509_cas.push_back(k.x509);
        if (!ctx.intermediate && !k.certificate_der.empty()) {
          bundle->x509_authorities_der.push_back(k.certificate_der);
        }
        break;
      case KeyPurpose::kSshCa:
        if (active) snap->ssh_ca = k.ssh;
        bundle->ssh_ca_keys.push_back(k.ssh->public_key_line);
        break;
    }
    snap->list.push_back(std::move(info));
  }
  active_jwk.insert(active_jwk.end(), other_jwks.begin(), other_jwks.end());
  snap->jwks = absl::StrCat(R"({"keys":[)", absl::StrJoin(active_jwk, ","), "]}");
  snap->sequence = sequence;
  snap->keys = std::move(keys);
  snap->dormant = std::move(dormant);
  snap->bundle = std::move(bundle);
  return snap;
}

std::string PublishedDigest(const TrustBundle& bundle) {
  // Each item length-prefixed and tagged, so no two bundles share an input.
  std::string input;
  auto add = [&input](char tag, absl::string_view item) {
    absl::StrAppend(&input, std::string(1, tag), item.size(), ":", item);
  };
  add('t', bundle.trust_domain);
  for (const std::string& der : bundle.x509_authorities_der) add('x', der);
  for (const PublicJwk& jwk : bundle.jwt_keys) add('j', jwk.ToJson());
  for (const std::string& line : bundle.ssh_ca_keys) add('s', line);
  return Sha256Hex(input);
}

RingState ToRingState(const Snapshot& snapshot) {
  RingState state;
  state.sequence = snapshot.sequence;
  state.published_digest = PublishedDigest(*snapshot.bundle);
  for (const LoadedKey& k : snapshot.keys) state.keys.push_back(k.record);
  state.keys.insert(state.keys.end(), snapshot.dormant.begin(), snapshot.dormant.end());
  std::stable_sort(state.keys.begin(), state.keys.end(),
                   [](const KeyRecord& a, const KeyRecord& b) { return SortKey(a) < SortKey(b); });
  return state;
}

}  // namespace writ::issuer::keys_internal
