#include "issuer/src/keys/file_key_manager.h"

#include <algorithm>
#include <filesystem>
#include <system_error>
#include <utility>

#include "absl/cleanup/cleanup.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "issuer/src/keys/key_files.h"
#include "issuer/src/keys/key_ring.h"
#include "issuer/src/keys/key_ring_state.h"
#include "issuer/src/keys/trust_bundle_internal.h"
#include "writ/base/status_macros.h"
#include "writ/spiffe/spiffe_id.h"
#include "writ/x509/certificate.h"

namespace writ::issuer {

using keys_internal::KeyRecord;
using keys_internal::LoadedKey;
using keys_internal::RingContext;
using keys_internal::Snapshot;

namespace {

constexpr KeyPurpose kPurposes[] = {KeyPurpose::kJwt, KeyPurpose::kX509Ca, KeyPurpose::kSshCa};

bool Enabled(const FileKeyManagerOptions& o, KeyPurpose p) {
  return p == KeyPurpose::kJwt || (p == KeyPurpose::kX509Ca && o.enable_x509) ||
         (p == KeyPurpose::kSshCa && o.enable_ssh);
}

std::string Seconds(absl::Duration d) {
  return absl::FormatDuration(absl::Trunc(d, absl::Seconds(1)));
}

absl::Status ValidateOptions(const FileKeyManagerOptions& o) {
  auto id = SpiffeId::Parse(absl::StrCat("spiffe://", o.trust_domain));
  if (!id.ok() || !id->path().empty()) {
    return absl::InvalidArgumentError(
        absl::StrCat("trust domain \"", o.trust_domain, "\" is not a SPIFFE trust domain",
                     id.ok() ? "" : absl::StrCat(": ", id.status().message())));
  }
  for (auto [name, d] :
       {std::pair{"ca_lifetime", o.ca_lifetime}, std::pair{"publish_lead", o.publish_lead},
        std::pair{"rotate_after", o.rotate_after},
        std::pair{"retired_publish_for", o.retired_publish_for}}) {
    if (d <= absl::ZeroDuration() || d == absl::InfiniteDuration()) {
      return absl::InvalidArgumentError(absl::StrCat(name, " must be positive and finite"));
    }
  }
  if (o.enable_x509 && o.x509_mode == X509CaMode::kIntermediate && o.root_bundle_file.empty()) {
    return absl::InvalidArgumentError("intermediate CA mode needs a root bundle file");
  }
  return absl::OkStatus();
}

absl::Status LoadRoots(const std::string& path, RingContext* ctx) {
  ASSIGN_OR_RETURN(std::string pem,
                   keys_internal::ReadPublicFile(path, kMaxCertificateChainPemBytes));
  auto roots = ParseCertificateChainPem(pem);
  if (!roots.ok()) {
    return absl::InvalidArgumentError(absl::StrCat(path, ": ", roots.status().message()));
  }
  for (size_t i = 0; i < roots->size(); ++i) {
    X509* root = (*roots)[i].get();
    if (X509_check_ca(root) != 1) {
      return absl::InvalidArgumentError(absl::StrCat(path, ": certificate ", i + 1, " (\"",
                                                     CertificateSubject(root),
                                                     "\") is not a CA certificate"));
    }
    auto jwk = keys_internal::AuthorityKeyJwk(root);
    if (!jwk.ok()) {
      return absl::InvalidArgumentError(
          absl::StrCat(path, ": certificate ", i + 1, ": ", jwk.status().message()));
    }
    ASSIGN_OR_RETURN(std::string der, CertificateToDer(root));
    ctx->roots_der.push_back(std::move(der));
  }
  ctx->roots = *std::move(roots);
  return absl::OkStatus();
}

// CheckNoStrayKeys refuses to start new rings in a directory that holds key
// files (other than the legacy JWT key) but no state file: the state was
// lost, and new keys would silently replace keys that verifiers still trust.
absl::Status CheckNoStrayKeys(const std::string& dir) {
  std::error_code ec;
  for (const auto& entry : std::filesystem::directory_iterator(dir, ec)) {
    const std::string name = entry.path().filename().string();
    if (absl::EndsWith(name, ".pem") && name != FileKeyManager::kLegacyJwtKeyFile) {
      return absl::FailedPreconditionError(absl::StrCat(
          dir, " holds key files (", name, ") but no ", FileKeyManager::kStateFile,
          ": restore it from a backup, or move the key files away to start new key rings"));
    }
  }
  if (ec) return absl::InternalError(absl::StrCat("cannot list ", dir, ": ", ec.message()));
  return absl::OkStatus();
}

LoadedKey* Find(std::vector<LoadedKey>& keys, KeyPurpose purpose, KeyState state) {
  for (LoadedKey& k : keys) {
    if (k.record.purpose == purpose && k.record.state == state) return &k;
  }
  return nullptr;
}

std::string WaitingForCertificate(const RingContext& ctx, const LoadedKey& key) {
  return absl::StrCat(
      "the prepared x509-ca key ", key.record.id,
      key.certificate_problem.empty()
          ? " has no certificate yet"
          : absl::StrCat(" has no usable certificate (", key.certificate_problem, ")"),
      ": have the root of x509.root_bundle_file sign ", keys_internal::CsrPath(ctx, key.record),
      " and place the certificate at ", keys_internal::CertificatePath(ctx, key.record));
}

// CheckRetiredRoom refuses an on-demand rotation of `purpose` that would
// publish more than kMaxRetiredKeys retired keys: each stays in the JWKS, the
// trust bundle and keyring.json until its publish_until, and dropping one
// early would break credentials it signed.
absl::Status CheckRetiredRoom(const std::vector<LoadedKey>& keys, KeyPurpose purpose,
                              absl::Time now) {
  std::vector<absl::Time> until;
  for (const LoadedKey& k : keys) {
    if (k.record.purpose == purpose && k.record.state == KeyState::kRetired &&
        k.record.publish_until > now) {
      until.push_back(k.record.publish_until);
    }
  }
  if (until.size() < FileKeyManager::kMaxRetiredKeys) return absl::OkStatus();
  std::sort(until.begin(), until.end());
  // The rotation fits again once enough of them have left what is published.
  const absl::Time free_at = until[until.size() - FileKeyManager::kMaxRetiredKeys];
  return absl::FailedPreconditionError(absl::StrCat(
      "too many retired ", KeyPurposeName(purpose), " keys still published (", until.size(),
      ", the limit is ", FileKeyManager::kMaxRetiredKeys, "): wait until ",
      absl::FormatTime(absl::RFC3339_sec, free_at, absl::UTCTimeZone()),
      ", when enough of them have left what is published"));
}

}  // namespace

FileKeyManagerOptions FileKeyManagerOptionsFromConfig(const IssuerConfig& config,
                                                      const Clock* clock) {
  FileKeyManagerOptions o;
  o.clock = clock;
  o.enable_x509 = config.x509.enabled;
  o.enable_ssh = config.ssh.enabled;
  o.trust_domain = config.x509.trust_domain;
  o.x509_mode =
      config.x509.mode == "intermediate" ? X509CaMode::kIntermediate : X509CaMode::kSelfSigned;
  o.root_bundle_file = config.x509.root_bundle_file;
  o.ca_lifetime = config.x509.ca_lifetime;
  o.publish_lead = config.keys.publish_lead;
  o.rotate_after = config.keys.rotate_after;
  o.retired_publish_for = config.tokens.max_lifetime + absl::Minutes(5);
  return o;
}

FileKeyManager::FileKeyManager(const FileKeyManagerOptions& options,
                               std::unique_ptr<RingContext> ctx)
    : options_(options),
      clock_(options.clock != nullptr ? options.clock : &Clock::Real()),
      ctx_(std::move(ctx)) {}

FileKeyManager::~FileKeyManager() = default;

absl::StatusOr<std::unique_ptr<FileKeyManager>> FileKeyManager::Open(absl::string_view dir) {
  return Open(dir, FileKeyManagerOptions());
}

absl::StatusOr<std::unique_ptr<FileKeyManager>> FileKeyManager::Open(
    absl::string_view dir, const FileKeyManagerOptions& options) {
  RETURN_IF_ERROR(ValidateOptions(options));
  auto ctx = std::make_unique<RingContext>();
  ctx->dir = std::string(dir);
  ctx->trust_domain = options.trust_domain;
  ctx->intermediate = options.enable_x509 && options.x509_mode == X509CaMode::kIntermediate;
  ctx->ca_lifetime = options.ca_lifetime;
  if (ctx->intermediate) RETURN_IF_ERROR(LoadRoots(options.root_bundle_file, ctx.get()));
  RETURN_IF_ERROR(keys_internal::EnsurePrivateDir(ctx->dir));
  auto km = std::unique_ptr<FileKeyManager>(new FileKeyManager(options, std::move(ctx)));
  RETURN_IF_ERROR(km->Load());
  return km;
}

absl::Status FileKeyManager::Load() {
  absl::MutexLock write_lock(&write_mu_);
  const absl::Time now = clock_->Now();
  const std::string legacy = absl::StrCat(ctx_->dir, "/", kLegacyJwtKeyFile);
  keys_internal::RingState state;
  bool dirty = false;
  if (keys_internal::FileExists(state_path())) {
    ASSIGN_OR_RETURN(std::string json, keys_internal::ReadPrivateFile(
                                           state_path(), keys_internal::kMaxStateFileBytes));
    ASSIGN_OR_RETURN(state, keys_internal::ParseRingState(json, state_path()));
  } else if (keys_internal::FileExists(legacy)) {
    RETURN_IF_ERROR(CheckNoStrayKeys(ctx_->dir));
    // A data directory from before key rings: its key becomes the active JWT
    // key (its kid, the thumbprint, is unchanged, so tokens it signed still
    // verify).
    KeyRecord r;
    r.purpose = KeyPurpose::kJwt;
    r.state = KeyState::kActive;
    r.file = kLegacyJwtKeyFile;
    r.created_at = r.activated_at = now;
    state.keys.push_back(r);
    dirty = true;
  } else {
    RETURN_IF_ERROR(CheckNoStrayKeys(ctx_->dir));
  }

  std::vector<LoadedKey> keys;
  std::vector<KeyRecord> dormant;
  for (const KeyRecord& r : state.keys) {
    if (!Enabled(options_, r.purpose)) {
      dormant.push_back(r);  // kept as is until the ring is enabled again
      continue;
    }
    ASSIGN_OR_RETURN(LoadedKey k, keys_internal::LoadKey(*ctx_, r, now));
    keys.push_back(std::move(k));
  }

  std::vector<std::string> new_files;
  absl::Cleanup remove_new_files = [&] {
    for (const std::string& f : new_files) (void)keys_internal::RemoveFile(f);
  };
  for (KeyPurpose p : kPurposes) {
    if (!Enabled(options_, p)) continue;
    const bool any = std::any_of(keys.begin(), keys.end(),
                                 [p](const LoadedKey& k) { return k.record.purpose == p; });
    if (any && Find(keys, p, KeyState::kActive) == nullptr) {
      return absl::FailedPreconditionError(
          absl::StrCat(state_path(), ": the ", KeyPurposeName(p),
                       " ring has no active key; restore the file from a backup"));
    }
    auto create = [&](KeyState s, absl::string_view file) -> absl::Status {
      ASSIGN_OR_RETURN(LoadedKey k, keys_internal::CreateKey(*ctx_, p, s, now, file));
      for (std::string& f : keys_internal::KeyFiles(*ctx_, k.record)) new_files.push_back(f);
      keys.push_back(std::move(k));
      dirty = true;
      return absl::OkStatus();
    };
    if (!any) {
      const bool legacy_name = p == KeyPurpose::kJwt && !keys_internal::FileExists(legacy);
      RETURN_IF_ERROR(create(KeyState::kActive, legacy_name ? kLegacyJwtKeyFile : ""));
      if (p == KeyPurpose::kJwt) created_ = true;
    }
    if (Find(keys, p, KeyState::kPrepared) == nullptr) {
      RETURN_IF_ERROR(create(KeyState::kPrepared, ""));
    }
  }
  std::shared_ptr<const Snapshot> next =
      keys_internal::BuildSnapshot(*ctx_, state.sequence, keys, dormant);
  // What is published may differ from what the sequence numbered last time
  // without a key changing (a ring disabled, another trust domain or root
  // bundle): verifiers must see a new sequence then too.
  if (dirty || keys_internal::PublishedDigest(*next->bundle) != state.published_digest) {
    dirty = true;
    next = keys_internal::BuildSnapshot(*ctx_, state.sequence + 1, std::move(keys),
                                        std::move(dormant));
  }
  if (dirty) RETURN_IF_ERROR(Commit(next, new_files, {}));
  std::move(remove_new_files).Cancel();
  absl::MutexLock lock(&mu_);
  snapshot_ = std::move(next);
  return absl::OkStatus();
}

std::shared_ptr<const Snapshot> FileKeyManager::snapshot() const {
  absl::MutexLock lock(&mu_);
  return snapshot_;
}

std::string FileKeyManager::state_path() const { return absl::StrCat(ctx_->dir, "/", kStateFile); }

const std::string& FileKeyManager::dir() const { return ctx_->dir; }

std::shared_ptr<const Signer> FileKeyManager::JwtSigner() const { return snapshot()->jwt_signer; }
std::string FileKeyManager::PublicJwks() const { return snapshot()->jwks; }
std::shared_ptr<const X509Authority> FileKeyManager::ActiveX509Ca() const {
  return snapshot()->x509_ca;
}
std::vector<std::shared_ptr<const X509Authority>> FileKeyManager::PublishedX509Cas() const {
  return snapshot()->x509_cas;
}
std::shared_ptr<const SshAuthority> FileKeyManager::ActiveSshCa() const {
  return snapshot()->ssh_ca;
}
std::shared_ptr<const TrustBundle> FileKeyManager::Bundle() const { return snapshot()->bundle; }
std::vector<KeyInfo> FileKeyManager::List() const { return snapshot()->list; }

std::string FileKeyManager::jwt_key_path() const {
  for (const KeyInfo& info : snapshot()->list) {
    if (info.purpose == KeyPurpose::kJwt && info.state == KeyState::kActive) return info.path;
  }
  return "";
}

absl::Status FileKeyManager::Commit(std::shared_ptr<const Snapshot> next,
                                    const std::vector<std::string>& new_files,
                                    const std::vector<KeyRecord>& dropped) {
  bool replaced = false;
  absl::Status written =
      options_.before_state_write ? options_.before_state_write() : absl::OkStatus();
  if (written.ok()) {
    written = keys_internal::ReplaceFile(
        ctx_->dir, state_path(),
        keys_internal::SerializeRingState(keys_internal::ToRingState(*next)), &replaced);
  }
  if (!replaced) {
    for (const std::string& f : new_files) (void)keys_internal::RemoveFile(f);
    return absl::InternalError(absl::StrCat("cannot write ", state_path(), ": ", written.message(),
                                            "; the key rings are unchanged"));
  }
  {
    absl::MutexLock lock(&mu_);
    snapshot_ = std::move(next);
  }
  // Only now that the state no longer names them: a crash in between leaves
  // stray files, never a state naming a missing file.
  for (const KeyRecord& r : dropped) {
    for (const std::string& f : keys_internal::KeyFiles(*ctx_, r)) {
      (void)keys_internal::RemoveFile(f);
    }
  }
  if (!written.ok()) {
    return absl::InternalError(absl::StrCat("the key rings changed, but ", written.message(),
                                            ": the change may not survive a power loss"));
  }
  return absl::OkStatus();
}

absl::Status FileKeyManager::RotateRing(KeyPurpose purpose, bool force, absl::Time now,
                                        std::vector<LoadedKey>* keys,
                                        std::vector<std::string>* new_files) {
  LoadedKey* active = Find(*keys, purpose, KeyState::kActive);
  LoadedKey* prepared = Find(*keys, purpose, KeyState::kPrepared);
  if (active == nullptr || prepared == nullptr) {
    return absl::InternalError(
        absl::StrCat("the ", KeyPurposeName(purpose), " ring lacks an active or a prepared key"));
  }
  if (purpose == KeyPurpose::kX509Ca && prepared->x509 == nullptr) {
    return absl::FailedPreconditionError(WaitingForCertificate(*ctx_, *prepared));
  }
  const absl::Duration published = now - prepared->record.created_at;
  if (!force && published < options_.publish_lead) {
    return absl::FailedPreconditionError(absl::StrCat(
        "the prepared ", KeyPurposeName(purpose), " key ", prepared->record.id,
        " has been published for ", Seconds(published), ", less than the publish lead of ",
        Seconds(options_.publish_lead), ", so verifiers may not have fetched it yet: wait ",
        Seconds(absl::Ceil(options_.publish_lead - published, absl::Seconds(1))),
        " or rotate with --force"));
  }
  ASSIGN_OR_RETURN(LoadedKey next,
                   keys_internal::CreateKey(*ctx_, purpose, KeyState::kPrepared, now));
  for (std::string& f : keys_internal::KeyFiles(*ctx_, next.record)) new_files->push_back(f);
  active->record.state = KeyState::kRetired;
  active->record.retired_at = now;
  active->record.publish_until = now + options_.retired_publish_for;
  prepared->record.state = KeyState::kActive;
  prepared->record.activated_at = now;
  keys->push_back(std::move(next));  // last: invalidates active and prepared
  return absl::OkStatus();
}

absl::StatusOr<std::vector<KeyInfo>> FileKeyManager::Rotate(KeyPurpose purpose,
                                                            const RotateOptions& options) {
  absl::MutexLock write_lock(&write_mu_);
  if (!Enabled(options_, purpose)) {
    return absl::FailedPreconditionError(
        absl::StrCat("the ", KeyPurposeName(purpose), " key ring is disabled"));
  }
  // Picks up a certificate the operator has just placed for the prepared
  // key; a refused one is named by RotateRing's error.
  (void)RescanLocked();
  std::shared_ptr<const Snapshot> current = snapshot();
  std::vector<LoadedKey> keys = current->keys;
  std::vector<std::string> new_files;
  const absl::Time now = clock_->Now();
  RETURN_IF_ERROR(CheckRetiredRoom(keys, purpose, now));
  RETURN_IF_ERROR(RotateRing(purpose, options.force, now, &keys, &new_files));
  RETURN_IF_ERROR(Commit(
      keys_internal::BuildSnapshot(*ctx_, current->sequence + 1, std::move(keys), current->dormant),
      new_files, {}));
  std::vector<KeyInfo> ring;
  for (const KeyInfo& info : snapshot()->list) {
    if (info.purpose == purpose) ring.push_back(info);
  }
  return ring;
}

absl::Status FileKeyManager::RescanLocked() {
  if (!ctx_->intermediate) return absl::OkStatus();
  std::shared_ptr<const Snapshot> current = snapshot();
  std::vector<LoadedKey> keys = current->keys;
  const absl::Time now = clock_->Now();
  absl::Status problem;
  bool changed = false;
  for (LoadedKey& k : keys) {
    if (k.record.purpose != KeyPurpose::kX509Ca || k.record.state == KeyState::kRetired) continue;
    const std::string was = k.certificate_problem;
    auto attached = keys_internal::AttachCertificate(*ctx_, now, &k);
    changed = changed || k.certificate_problem != was || (attached.ok() && *attached);
    problem.Update(attached.status());
  }
  if (changed) {
    // What is published (the roots) is unchanged: same sequence, no write.
    auto next =
        keys_internal::BuildSnapshot(*ctx_, current->sequence, std::move(keys), current->dormant);
    absl::MutexLock lock(&mu_);
    snapshot_ = std::move(next);
  }
  return problem;
}

absl::Status FileKeyManager::Reload() {
  absl::MutexLock write_lock(&write_mu_);
  return RescanLocked();
}

absl::StatusOr<std::vector<KeyPurpose>> FileKeyManager::RotateDue() {
  absl::MutexLock write_lock(&write_mu_);
  absl::Status problem = RescanLocked();
  std::shared_ptr<const Snapshot> current = snapshot();
  const absl::Time now = clock_->Now();
  std::vector<LoadedKey> keys = current->keys;
  std::vector<std::string> new_files;
  std::vector<KeyPurpose> rotated;
  uint64_t sequence = current->sequence;
  for (KeyPurpose p : kPurposes) {
    if (!Enabled(options_, p)) continue;
    const LoadedKey* active = Find(keys, p, KeyState::kActive);
    const LoadedKey* prepared = Find(keys, p, KeyState::kPrepared);
    if (active == nullptr || prepared == nullptr) continue;
    bool due = now - active->record.activated_at >= options_.rotate_after;
    // A CA certificate close to its end would clamp (then refuse) what it
    // signs: rotate early, whatever the key's age.
    if (active->x509 != nullptr &&
        active->not_after - now <= options_.publish_lead + options_.retired_publish_for) {
      due = true;
    }
    // Intermediate mode: an active CA without a usable certificate (expired,
    // refused) gives way to a prepared one that has one.
    if (p == KeyPurpose::kX509Ca && ctx_->intermediate && active->x509 == nullptr &&
        prepared->x509 != nullptr) {
      due = true;
    }
    if (!due) continue;
    if (p == KeyPurpose::kX509Ca && prepared->x509 == nullptr) {
      problem.Update(absl::FailedPreconditionError(absl::StrCat(
          "the x509-ca ring is due for rotation, but ", WaitingForCertificate(*ctx_, *prepared))));
      continue;
    }
    if (now - prepared->record.created_at < options_.publish_lead) continue;
    absl::Status s = RotateRing(p, /*force=*/false, now, &keys, &new_files);
    if (!s.ok()) {
      for (const std::string& f : new_files) (void)keys_internal::RemoveFile(f);
      return s;
    }
    rotated.push_back(p);
    ++sequence;
  }
  std::vector<KeyRecord> dropped;
  for (auto it = keys.begin(); it != keys.end();) {
    if (it->record.state == KeyState::kRetired && it->record.publish_until <= now) {
      dropped.push_back(it->record);
      it = keys.erase(it);
    } else {
      ++it;
    }
  }
  if (!dropped.empty()) ++sequence;
  if (!rotated.empty() || !dropped.empty()) {
    RETURN_IF_ERROR(
        Commit(keys_internal::BuildSnapshot(*ctx_, sequence, std::move(keys), current->dormant),
               new_files, dropped));
  }
  RETURN_IF_ERROR(problem);
  return rotated;
}

}  // namespace writ::issuer
