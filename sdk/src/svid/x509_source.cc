#include "writ/svid/x509_source.h"

#include <algorithm>
#include <random>
#include <utility>

#include "absl/strings/str_cat.h"
#include "openssl/crypto.h"
#include "sdk/src/svid/memfd_pem.h"
#include "sdk/src/svid/spiffe_leaf.h"
#include "writ/base/status_macros.h"
#include "writ/crypto/openssl_error.h"
#include "writ/x509/certificate.h"
#include "writ/x509/certificate_request.h"
#include "writ/x509/verify.h"

namespace writ {
namespace {

// The renewal thread re-reads the clock at least this often, so a suspended
// machine or a stepped clock delays a renewal by no more than this.
constexpr absl::Duration kMaxWait = absl::Minutes(1);

absl::Status Refused(absl::string_view why) {
  return absl::InvalidArgumentError(absl::StrCat("X.509-SVID from the issuer refused: ", why));
}

// SecretPem is a private key's PEM that is wiped when it goes out of scope.
class SecretPem {
 public:
  explicit SecretPem(std::string pem) : pem_(std::move(pem)) {}
  ~SecretPem() { OPENSSL_cleanse(pem_.data(), pem_.size()); }
  SecretPem(const SecretPem&) = delete;
  SecretPem& operator=(const SecretPem&) = delete;
  absl::string_view get() const { return pem_; }

 private:
  std::string pem_;
};

struct CheckedSvid {
  X509Svid svid;
  std::string trust_domain;
};

// CheckResponse applies the checks New documents to the issuer's answer for
// a CSR of `key`.
absl::StatusOr<CheckedSvid> CheckResponse(SvidResponse response, const EVP_PKEY* key,
                                          absl::Time now) {
  absl::StatusOr<std::string> trust_domain = svid_internal::SpiffeTrustDomain(response.spiffe_id);
  if (!trust_domain.ok())
    return Refused(absl::StrCat("spiffe_id: ", trust_domain.status().message()));
  absl::StatusOr<std::vector<SslPtr<X509>>> chain =
      ParseCertificateChainPem(response.certificate_chain_pem);
  if (!chain.ok()) {
    return Refused(absl::StrCat("certificate_chain_pem: ", chain.status().message()));
  }
  X509* leaf = chain->front().get();
  if (EVP_PKEY_eq(X509_get0_pubkey(leaf), key) != 1) {
    ClearOpenSslErrors();
    return Refused("the leaf certificate's public key is not the key this process generated");
  }
  if (X509_check_ca(leaf) != 0) {
    return Refused("the leaf certificate is a CA certificate (an X.509-SVID leaf has cA=false)");
  }
  absl::StatusOr<std::string> leaf_id = svid_internal::LeafSpiffeId(leaf);
  if (!leaf_id.ok()) return Refused(absl::StrCat("leaf certificate: ", leaf_id.status().message()));
  if (*leaf_id != response.spiffe_id) {
    return Refused(absl::StrCat("the leaf certificate names \"", *leaf_id,
                                "\" but the issuer answered with spiffe_id \"", response.spiffe_id,
                                "\""));
  }
  absl::StatusOr<std::vector<SslPtr<X509>>> bundle = ParseCertificateChainPem(response.bundle_pem);
  if (!bundle.ok()) return Refused(absl::StrCat("bundle_pem: ", bundle.status().message()));
  std::vector<const X509*> intermediates;
  for (size_t i = 1; i < chain->size(); ++i) intermediates.push_back((*chain)[i].get());
  std::vector<const X509*> roots;
  for (const SslPtr<X509>& root : *bundle) roots.push_back(root.get());
  if (absl::Status verified = VerifyCertificate(leaf, intermediates, roots, now); !verified.ok()) {
    return Refused(
        absl::StrCat("the chain does not verify against the bundle: ", verified.message()));
  }
  CheckedSvid out;
  ASSIGN_OR_RETURN(out.svid.not_before, CertificateNotBefore(leaf));
  ASSIGN_OR_RETURN(out.svid.not_after, CertificateNotAfter(leaf));
  out.svid.spiffe_id = std::move(response.spiffe_id);
  out.svid.certificate_chain_pem = std::move(response.certificate_chain_pem);
  out.svid.bundle_pem = std::move(response.bundle_pem);
  out.trust_domain = *std::move(trust_domain);
  return out;
}

absl::Status CheckOptions(const X509SourceOptions& options) {
  if (!(options.renew_at > 0 && options.renew_at <= 1)) {
    return absl::InvalidArgumentError(
        absl::StrCat("renew_at ", options.renew_at, " is not in (0, 1]"));
  }
  if (options.retry_initial_backoff <= absl::ZeroDuration() ||
      options.retry_max_backoff < options.retry_initial_backoff ||
      options.retry_max_backoff == absl::InfiniteDuration()) {
    return absl::InvalidArgumentError(
        absl::StrCat("retry backoff from ", absl::FormatDuration(options.retry_initial_backoff),
                     " to ", absl::FormatDuration(options.retry_max_backoff),
                     ": both must be finite and > 0, and the maximum at least the initial one"));
  }
  return absl::OkStatus();
}

}  // namespace

X509Source::X509Source(SvidIssuer issuer, X509SourceOptions options, const Clock* clock)
    : issuer_(std::move(issuer)), options_(std::move(options)), clock_(clock) {}

absl::StatusOr<std::unique_ptr<X509Source>> X509Source::New(SvidIssuer issuer,
                                                            X509SourceOptions options) {
  if (!issuer) return absl::InvalidArgumentError("X509Source needs an SvidIssuer");
  RETURN_IF_ERROR(CheckOptions(options));
  const Clock* clock = options.clock != nullptr ? options.clock : &Clock::Real();
  std::unique_ptr<X509Source> source(new X509Source(std::move(issuer), std::move(options), clock));
  {
    absl::MutexLock lock(&source->renew_mu_);
    RETURN_IF_ERROR(source->RenewLocked());
  }
  source->thread_ = std::thread([s = source.get()] { s->Run(); });
  return source;
}

X509Source::~X509Source() {
  {
    absl::MutexLock lock(&mu_);
    stop_ = true;
    cv_.SignalAll();
  }
  if (thread_.joinable()) thread_.join();
}

X509Svid X509Source::Current() const {
  absl::MutexLock lock(&mu_);
  return *svid_;
}

absl::Time X509Source::NextRenewal() const {
  absl::MutexLock lock(&mu_);
  return next_renewal_;
}

absl::Status X509Source::LastRenewalStatus() const {
  absl::MutexLock lock(&mu_);
  return last_status_;
}

absl::Status X509Source::RotateNow() {
  absl::MutexLock lock(&renew_mu_);
  return RenewLocked();
}

absl::Status X509Source::RenewLocked() {
  SslPtr<EVP_PKEY> fresh;
  const EVP_PKEY* key = key_.get();
  absl::StatusOr<CheckedSvid> checked = [&]() -> absl::StatusOr<CheckedSvid> {
    if (key == nullptr || options_.fresh_key_per_renewal) {
      ASSIGN_OR_RETURN(fresh, GenerateKey(options_.key_spec));
      key = fresh.get();
    }
    ASSIGN_OR_RETURN(std::string csr, CertificateRequest::CreatePem(key, {}));
    absl::StatusOr<SvidResponse> response = issuer_(csr);
    if (!response.ok()) return response.status();
    ASSIGN_OR_RETURN(CheckedSvid svid, CheckResponse(*std::move(response), key, clock_->Now()));
    if (!trust_domain_.empty() && svid.trust_domain != trust_domain_) {
      return Refused(absl::StrCat("the SPIFFE ID \"", svid.svid.spiffe_id,
                                  "\" is outside this source's trust domain \"", trust_domain_,
                                  "\""));
    }
    if (files_ != nullptr) {
      ASSIGN_OR_RETURN(std::string pem, PrivateKeyToPem(key));
      const SecretPem key_pem(std::move(pem));
      RETURN_IF_ERROR(
          files_->Update(key_pem.get(), svid.svid.certificate_chain_pem, svid.svid.bundle_pem));
    }
    return svid;
  }();
  if (!checked.ok()) {
    absl::MutexLock lock(&mu_);
    last_status_ = checked.status();
    return checked.status();
  }
  if (fresh != nullptr) key_ = std::move(fresh);
  trust_domain_ = checked->trust_domain;
  auto svid = std::make_shared<const X509Svid>(std::move(checked->svid));
  WatcherList watchers;
  {
    absl::MutexLock lock(&mu_);
    svid_ = svid;
    last_status_ = absl::OkStatus();
    failures_ = 0;
    const absl::Time renew =
        svid->not_before + (svid->not_after - svid->not_before) * options_.renew_at;
    // A leaf already past its renewal point (a skewed issuer clock) is not
    // renewed in a tight loop.
    next_renewal_ = std::max(renew, clock_->Now() + options_.retry_initial_backoff);
    ++wake_seq_;  // the renewal thread recomputes its wait
    cv_.SignalAll();
    watchers.assign(watchers_.begin(), watchers_.end());
  }
  Notify(watchers, *svid);
  return absl::OkStatus();
}

void X509Source::Notify(const WatcherList& watchers, const X509Svid& svid) {
  {
    absl::MutexLock lock(&mu_);
    notifying_ = true;
    notifying_thread_ = std::this_thread::get_id();
  }
  for (const auto& [id, fn] : watchers) {
    {
      absl::MutexLock lock(&mu_);
      if (watchers_.find(id) == watchers_.end()) continue;  // unwatched meanwhile
    }
    (*fn)(svid);
  }
  absl::MutexLock lock(&mu_);
  notifying_ = false;
  cv_.SignalAll();
}

int X509Source::Watch(std::function<void(const X509Svid&)> fn) {
  auto shared = std::make_shared<std::function<void(const X509Svid&)>>(std::move(fn));
  // Holding renew_mu_ keeps a renewal from notifying between the insertion
  // and the first call, so `fn` sees SVIDs in order.
  absl::MutexLock renew_lock(&renew_mu_);
  int id;
  std::shared_ptr<const X509Svid> svid;
  {
    absl::MutexLock lock(&mu_);
    id = next_watch_id_++;
    watchers_[id] = shared;
    svid = svid_;
  }
  Notify({{id, shared}}, *svid);
  return id;
}

void X509Source::Unwatch(int id) {
  absl::MutexLock lock(&mu_);
  watchers_.erase(id);
  if (notifying_thread_ == std::this_thread::get_id()) return;  // called from a watcher
  while (notifying_) cv_.Wait(&mu_);
}

absl::Duration X509Source::Backoff(int failures) {
  absl::Duration base = options_.retry_initial_backoff;
  for (int i = 1; i < failures && base < options_.retry_max_backoff; ++i) base *= 2;
  base = std::min(base, options_.retry_max_backoff);
  thread_local std::mt19937_64 rng{std::random_device{}()};
  return base * std::uniform_real_distribution<double>(0.5, 1.0)(rng);
}

void X509Source::RenewInBackground() {
  absl::MutexLock renew_lock(&renew_mu_);
  {
    absl::MutexLock lock(&mu_);
    // RotateNow may have renewed while this thread waited for renew_mu_.
    if (stop_ || clock_->Now() < next_renewal_) return;
  }
  if (RenewLocked().ok()) return;
  absl::MutexLock lock(&mu_);
  ++failures_;
  next_renewal_ = clock_->Now() + Backoff(failures_);
}

void X509Source::Run() {
  mu_.Lock();
  while (!stop_) {
    const uint64_t seq = wake_seq_;
    if (clock_->Now() >= next_renewal_) {
      mu_.Unlock();
      RenewInBackground();
      mu_.Lock();
    }
    served_seq_ = std::max(served_seq_, seq);
    cv_.SignalAll();
    while (!stop_ && wake_seq_ == seq) {
      const absl::Duration left = next_renewal_ - clock_->Now();
      if (left <= absl::ZeroDuration()) break;
      cv_.WaitWithTimeout(&mu_, std::min(left, kMaxWait));
    }
  }
  mu_.Unlock();
}

void X509Source::WakeAndWaitForPass() {
  absl::MutexLock lock(&mu_);
  const uint64_t seq = ++wake_seq_;
  cv_.SignalAll();
  while (!stop_ && served_seq_ < seq) cv_.Wait(&mu_);
}

absl::StatusOr<svid_internal::SvidFiles*> X509Source::Files() {
  absl::MutexLock renew_lock(&renew_mu_);
  if (files_ == nullptr) {
    std::shared_ptr<const X509Svid> svid;
    {
      absl::MutexLock lock(&mu_);
      svid = svid_;
    }
    ASSIGN_OR_RETURN(std::string pem, PrivateKeyToPem(key_.get()));
    const SecretPem key_pem(std::move(pem));
    ASSIGN_OR_RETURN(files_, svid_internal::SvidFiles::New(
                                 key_pem.get(), svid->certificate_chain_pem, svid->bundle_pem));
  }
  return files_.get();
}

}  // namespace writ
