#include "tests/testing/fake_key_manager.h"

#include <openssl/x509.h>
#include <openssl/x509v3.h>

#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <utility>

#include "absl/strings/escaping.h"
#include "absl/strings/str_cat.h"
#include "writ/crypto/digest.h"
#include "writ/crypto/keys.h"
#include "writ/jose/signer.h"
#include "writ/x509/certificate.h"

namespace writ::test {
namespace {

using issuer::KeyInfo;
using issuer::KeyPurpose;
using issuer::KeyState;

// Test code: a broken generator is a broken test environment, not input.
template <typename T>
T Must(absl::StatusOr<T> v) {
  if (!v.ok()) {
    fprintf(stderr, "FakeKeyManager: %s\n", std::string(v.status().message()).c_str());
    abort();
  }
  return *std::move(v);
}

void AppendSshString(std::string& out, absl::string_view s) {
  const uint32_t n = static_cast<uint32_t>(s.size());
  for (int shift = 24; shift >= 0; shift -= 8)
    out.push_back(static_cast<char>((n >> shift) & 0xff));
  out.append(s.data(), s.size());
}

// Ed25519LineOf is the OpenSSH public key line of an Ed25519 key.
std::string Ed25519LineOf(const EVP_PKEY* key, absl::string_view comment) {
  unsigned char raw[32];
  size_t len = sizeof(raw);
  if (EVP_PKEY_get_raw_public_key(key, raw, &len) != 1 || len != 32) abort();
  std::string blob;
  AppendSshString(blob, "ssh-ed25519");
  AppendSshString(blob, absl::string_view(reinterpret_cast<const char*>(raw), len));
  return absl::StrCat("ssh-ed25519 ", absl::Base64Escape(blob), " ", comment);
}

KeyInfo Info(KeyPurpose purpose, std::string id, KeyState state, std::string algorithm) {
  KeyInfo info;
  info.purpose = purpose;
  info.id = std::move(id);
  info.state = state;
  info.algorithm = std::move(algorithm);
  return info;
}

}  // namespace

std::string CaKeyId(const EVP_PKEY* key) {
  unsigned char* der = nullptr;
  int len = i2d_PUBKEY(key, &der);
  if (len <= 0) abort();
  std::string spki(reinterpret_cast<const char*>(der), static_cast<size_t>(len));
  OPENSSL_free(der);
  return absl::BytesToHexString(Sha256(spki).substr(0, 16));
}

absl::StatusOr<std::shared_ptr<const issuer::X509Authority>> NewCa(
    absl::string_view common_name, absl::Time not_before, absl::Time not_after,
    const issuer::X509Authority* issuer, int path_length) {
  auto ca = std::make_shared<issuer::X509Authority>();
  absl::StatusOr<SslPtr<EVP_PKEY>> key = GenerateKey(KeySpec::kEcP256);
  if (!key.ok()) return key.status();
  CertificateTemplate tmpl;
  tmpl.subject_common_name = std::string(common_name);
  tmpl.not_before = not_before;
  tmpl.not_after = not_after;
  absl::StatusOr<std::string> serial = RandomSerial();
  if (!serial.ok()) return serial.status();
  tmpl.serial = *serial;
  tmpl.is_ca = true;
  tmpl.path_length = path_length;
  tmpl.key_usage.key_cert_sign = true;
  tmpl.key_usage.crl_sign = true;
  absl::StatusOr<SslPtr<X509>> cert =
      issuer == nullptr ? IssueCertificate(tmpl, key->get(), nullptr, key->get())
                        : IssueCertificate(tmpl, key->get(), issuer->certificate.get(),
                                           issuer->private_key.get());
  if (!cert.ok()) return cert.status();
  ca->id = CaKeyId(key->get());
  ca->certificate = *std::move(cert);
  ca->private_key = *std::move(key);
  if (issuer != nullptr &&
      X509_check_issued(issuer->certificate.get(), issuer->certificate.get()) != X509_V_OK) {
    // The issuer is itself an intermediate: it and its chain go above us.
    X509_up_ref(issuer->certificate.get());
    ca->chain.emplace_back(issuer->certificate.get());
    for (const SslPtr<X509>& c : issuer->chain) {
      X509_up_ref(c.get());
      ca->chain.emplace_back(c.get());
    }
  }
  return std::shared_ptr<const issuer::X509Authority>(std::move(ca));
}

absl::StatusOr<std::shared_ptr<const issuer::X509Authority>> NewSelfSignedCa(
    absl::string_view common_name, absl::Time not_before, absl::Time not_after) {
  return NewCa(common_name, not_before, not_after, nullptr);
}

FakeKeyManager::FakeKeyManager(absl::Time now, std::string trust_domain, absl::Duration ca_lifetime)
    : now_(now), trust_domain_(std::move(trust_domain)), ca_lifetime_(ca_lifetime) {
  absl::MutexLock lock(&mu_);
  NewJwtKey();
  NewX509Ca();
  NewSshCa();
  Republish();
}

void FakeKeyManager::NewJwtKey() {
  jwt_ = std::shared_ptr<const Signer>(
      Must(PrivateKeySigner::New(Must(GenerateKey(KeySpec::kEcP256)), JwsAlgorithm::kEs256)));
}

void FakeKeyManager::NewX509Ca() {
  ++ca_count_;
  ca_ = Must(NewCa(absl::StrCat("Writ test CA ", ca_count_), now_ - absl::Hours(1),
                   now_ + ca_lifetime_, root_.get()));
}

void FakeKeyManager::NewSshCa() {
  auto ssh = std::make_shared<issuer::SshAuthority>();
  ssh->private_key = Must(GenerateKey(KeySpec::kEd25519));
  ssh->id = CaKeyId(ssh->private_key.get());
  ssh->public_key_line = Ed25519LineOf(ssh->private_key.get(), "writ-ssh-ca-" + ssh->id);
  ssh_ = std::move(ssh);
}

void FakeKeyManager::Republish() {
  auto bundle = std::make_shared<issuer::TrustBundle>();
  bundle->sequence = bundle_ == nullptr ? 1 : bundle_->sequence + 1;
  bundle->trust_domain = trust_domain_;
  auto add_ca = [&bundle](const issuer::X509Authority& ca) {
    bundle->x509_authorities_der.push_back(Must(CertificateToDer(ca.certificate.get())));
  };
  if (root_ != nullptr) {
    add_ca(*root_);
  } else {
    add_ca(*ca_);
    for (const auto& ca : retired_ca_) add_ca(*ca);
  }
  bundle->jwt_keys.push_back(jwt_->public_jwk());
  for (const auto& s : retired_jwt_) bundle->jwt_keys.push_back(s->public_jwk());
  bundle->ssh_ca_keys.push_back(ssh_->public_key_line);
  for (const auto& s : retired_ssh_) bundle->ssh_ca_keys.push_back(s->public_key_line);
  bundle_ = std::move(bundle);
}

std::shared_ptr<const Signer> FakeKeyManager::JwtSigner() const {
  absl::MutexLock lock(&mu_);
  return jwt_;
}

std::string FakeKeyManager::PublicJwks() const {
  absl::MutexLock lock(&mu_);
  std::string out = "{\"keys\":[" + jwt_->public_jwk().ToJson();
  for (const auto& s : retired_jwt_) out += "," + s->public_jwk().ToJson();
  return out + "]}";
}

std::shared_ptr<const issuer::X509Authority> FakeKeyManager::ActiveX509Ca() const {
  absl::MutexLock lock(&mu_);
  return ca_active_ ? ca_ : nullptr;
}

std::vector<std::shared_ptr<const issuer::X509Authority>> FakeKeyManager::PublishedX509Cas() const {
  absl::MutexLock lock(&mu_);
  std::vector<std::shared_ptr<const issuer::X509Authority>> out = {ca_};
  out.insert(out.end(), retired_ca_.rbegin(), retired_ca_.rend());
  return out;
}

std::shared_ptr<const issuer::SshAuthority> FakeKeyManager::ActiveSshCa() const {
  absl::MutexLock lock(&mu_);
  return ssh_;
}

std::shared_ptr<const issuer::TrustBundle> FakeKeyManager::Bundle() const {
  absl::MutexLock lock(&mu_);
  return bundle_;
}

std::vector<KeyInfo> FakeKeyManager::List() const {
  absl::MutexLock lock(&mu_);
  std::vector<KeyInfo> out;
  out.push_back(Info(KeyPurpose::kJwt, jwt_->kid(), KeyState::kActive, "ES256"));
  for (const auto& s : retired_jwt_) {
    out.push_back(Info(KeyPurpose::kJwt, s->kid(), KeyState::kRetired, "ES256"));
  }
  out.push_back(Info(KeyPurpose::kX509Ca, ca_->id,
                     ca_active_ ? KeyState::kActive : KeyState::kPrepared, "EC P-256"));
  for (const auto& c : retired_ca_) {
    out.push_back(Info(KeyPurpose::kX509Ca, c->id, KeyState::kRetired, "EC P-256"));
  }
  out.push_back(Info(KeyPurpose::kSshCa, ssh_->id, KeyState::kActive, "Ed25519"));
  for (const auto& s : retired_ssh_) {
    out.push_back(Info(KeyPurpose::kSshCa, s->id, KeyState::kRetired, "Ed25519"));
  }
  return out;
}

absl::StatusOr<std::vector<KeyInfo>> FakeKeyManager::Rotate(KeyPurpose purpose,
                                                            const issuer::RotateOptions&) {
  {
    absl::MutexLock lock(&mu_);
    if (!rotate_error_.ok()) return rotate_error_;
    switch (purpose) {
      case KeyPurpose::kJwt:
        retired_jwt_.push_back(jwt_);
        NewJwtKey();
        break;
      case KeyPurpose::kX509Ca:
        retired_ca_.push_back(ca_);
        NewX509Ca();
        break;
      case KeyPurpose::kSshCa:
        retired_ssh_.push_back(ssh_);
        NewSshCa();
        break;
    }
    Republish();
  }
  std::vector<KeyInfo> ring;
  for (KeyInfo& k : List()) {
    if (k.purpose == purpose) ring.push_back(std::move(k));
  }
  return ring;
}

absl::StatusOr<std::vector<KeyPurpose>> FakeKeyManager::RotateDue() {
  absl::MutexLock lock(&mu_);
  ++rotate_due_calls_;
  return rotate_due_result_;
}

void FakeKeyManager::RotateX509Ca() {
  absl::MutexLock lock(&mu_);
  retired_ca_.push_back(ca_);
  NewX509Ca();
  Republish();
}

void FakeKeyManager::SetX509CaActive(bool active) {
  absl::MutexLock lock(&mu_);
  ca_active_ = active;
}

void FakeKeyManager::DropRetired() {
  absl::MutexLock lock(&mu_);
  retired_jwt_.clear();
  retired_ca_.clear();
  retired_ssh_.clear();
  Republish();
}

void FakeKeyManager::UseIntermediateMode() {
  absl::MutexLock lock(&mu_);
  root_ = Must(NewCa("Writ test offline root", now_ - absl::Hours(2),
                     now_ + ca_lifetime_ + absl::Hours(1), nullptr, /*path_length=*/1));
  NewX509Ca();
  Republish();
}

std::shared_ptr<const issuer::X509Authority> FakeKeyManager::root() const {
  absl::MutexLock lock(&mu_);
  return root_;
}

int FakeKeyManager::rotate_due_calls() const {
  absl::MutexLock lock(&mu_);
  return rotate_due_calls_;
}

void FakeKeyManager::set_rotate_error(absl::Status error) {
  absl::MutexLock lock(&mu_);
  rotate_error_ = std::move(error);
}

void FakeKeyManager::set_rotate_due_result(absl::StatusOr<std::vector<issuer::KeyPurpose>> result) {
  absl::MutexLock lock(&mu_);
  rotate_due_result_ = std::move(result);
}

}  // namespace writ::test
