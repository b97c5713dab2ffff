#include "sdk/src/verify/bundle_source.h"

#include <openssl/x509v3.h>

#include <algorithm>
#include <utility>

#include "absl/strings/str_cat.h"
#include "writ/base/status_macros.h"
#include "writ/net/fetch_url.h"
#include "writ/x509/certificate.h"

namespace writ::verify_internal {
namespace {

absl::Status OptionError(absl::string_view field, absl::string_view why) {
  return absl::InvalidArgumentError(absl::StrCat("peer SVID verifier: ", field, ": ", why));
}

}  // namespace

absl::StatusOr<std::shared_ptr<const BundleRoots>> ParseBundle(absl::string_view pem) {
  ASSIGN_OR_RETURN(std::vector<SslPtr<X509>> certificates, ParseCertificateChainPem(pem));
  for (size_t i = 0; i < certificates.size(); ++i) {
    if (X509_check_ca(certificates[i].get()) != 1) {
      return absl::InvalidArgumentError(absl::StrCat("certificate ", i + 1, " of the bundle (",
                                                     CertificateSubject(certificates[i].get()),
                                                     ") is not a CA certificate"));
    }
  }
  auto roots = std::make_shared<BundleRoots>();
  roots->certificates = std::move(certificates);
  return std::shared_ptr<const BundleRoots>(std::move(roots));
}

absl::StatusOr<std::unique_ptr<BundleSource>> BundleSource::New(BundleSourceOptions options,
                                                                HttpFetcher* fetcher,
                                                                const Clock* clock) {
  if (clock == nullptr) clock = &Clock::Real();
  if (options.refresh <= absl::ZeroDuration()) {
    return OptionError("bundle_refresh", "must be positive");
  }
  if (options.refetch_cooldown < absl::ZeroDuration()) {
    return OptionError("refetch_cooldown", "must not be negative");
  }
  if (options.stale_max < absl::ZeroDuration()) {
    return OptionError("bundle_stale_max", "must not be negative");
  }
  if (options.fetch_timeout <= absl::ZeroDuration()) {
    return OptionError("fetch_timeout", "must be positive");
  }
  std::unique_ptr<BundleSource> source(new BundleSource(options, fetcher, clock));
  if (!options.static_pem.empty()) {
    absl::StatusOr<std::shared_ptr<const BundleRoots>> roots = ParseBundle(options.static_pem);
    if (!roots.ok()) return OptionError("bundle_pem", roots.status().message());
    absl::MutexLock lock(&source->mu_);
    source->bundle_ = *std::move(roots);
    return source;
  }
  if (fetcher == nullptr) return OptionError("bundle_pem", "is empty and no fetcher was given");
  if (absl::Status url = ParseFetchUrl(options.url).status(); !url.ok()) {
    return OptionError("issuer_url", url.message());
  }
  return source;
}

absl::StatusOr<std::shared_ptr<const BundleRoots>> BundleSource::UsableLocked(
    absl::Time now) const {
  if (bundle_ != nullptr &&
      (!options_.static_pem.empty() || now < fetched_at_ + options_.refresh + options_.stale_max)) {
    return bundle_;
  }
  const std::string why = last_status_.ok() ? std::string("no bundle was fetched yet")
                                            : std::string(last_status_.message());
  if (bundle_ != nullptr) {
    return absl::UnavailableError(
        absl::StrCat("the trust bundle from ", options_.url, " is older than bundle_refresh + ",
                     "bundle_stale_max and cannot be fetched again: ", why));
  }
  return absl::UnavailableError(absl::StrCat("no trust bundle: ", why));
}

absl::StatusOr<std::shared_ptr<const BundleRoots>> BundleSource::Roots() {
  uint64_t seen_fetches = 0;
  {
    absl::MutexLock lock(&mu_);
    if (!options_.static_pem.empty()) return bundle_;
    const absl::Time now = clock_->Now();
    if (bundle_ != nullptr && now < fetched_at_ + options_.refresh) return bundle_;
    // A failed fetch is not retried before refetch_cooldown: a dead issuer
    // costs one timeout per cooldown, not one per connection.
    if (!last_status_.ok() && now < last_attempt_ + options_.refetch_cooldown) {
      return UsableLocked(now);
    }
    // Someone is fetching: the previous bundle serves meanwhile.
    if (fetching_ && bundle_ != nullptr) {
      absl::StatusOr<std::shared_ptr<const BundleRoots>> stale = UsableLocked(now);
      if (stale.ok()) return stale;
    }
    // A fetch in flight counts as one made after this call began.
    seen_fetches = fetching_ ? fetches_ - 1 : fetches_;
  }
  absl::MutexLock fetch_lock(&fetch_mu_);
  bool fetched_meanwhile = false;
  {
    absl::MutexLock lock(&mu_);
    fetched_meanwhile = fetches_ != seen_fetches;
  }
  if (!fetched_meanwhile) FetchNow();
  absl::MutexLock lock(&mu_);
  return UsableLocked(clock_->Now());
}

absl::StatusOr<std::shared_ptr<const BundleRoots>> BundleSource::RootsAfterFailure(
    const std::shared_ptr<const BundleRoots>& seen) {
  uint64_t seen_fetches = 0;
  {
    absl::MutexLock lock(&mu_);
    if (!options_.static_pem.empty()) {
      return absl::NotFoundError("the trust bundle is static (bundle_pem)");
    }
    if (bundle_ != nullptr && bundle_ != seen) return bundle_;  // Someone re-fetched already.
    const absl::Time now = clock_->Now();
    if (now < last_failure_refetch_ + options_.refetch_cooldown) {
      return absl::NotFoundError(absl::StrCat("the trust bundle was re-fetched less than ",
                                              absl::FormatDuration(options_.refetch_cooldown),
                                              " ago (refetch_cooldown)"));
    }
    last_failure_refetch_ = now;
    // A fetch in flight counts as one made after this call began.
    seen_fetches = fetching_ ? fetches_ - 1 : fetches_;
  }
  absl::MutexLock fetch_lock(&fetch_mu_);
  bool fetched_meanwhile = false;
  {
    absl::MutexLock lock(&mu_);
    fetched_meanwhile = fetches_ != seen_fetches;
  }
  if (!fetched_meanwhile) FetchNow();
  absl::MutexLock lock(&mu_);
  if (!last_status_.ok()) {
    return absl::UnavailableError(
        absl::StrCat("re-fetching the trust bundle failed: ", last_status_.message()));
  }
  return bundle_;
}

void BundleSource::FetchNow() {
  {
    absl::MutexLock lock(&mu_);
    fetching_ = true;
    ++fetches_;
    last_attempt_ = clock_->Now();
  }
  absl::StatusOr<std::shared_ptr<const BundleRoots>> downloaded = Download();
  absl::MutexLock lock(&mu_);
  fetching_ = false;
  if (downloaded.ok()) {
    bundle_ = *std::move(downloaded);
    fetched_at_ = clock_->Now();
    last_status_ = absl::OkStatus();
  } else {
    last_status_ = downloaded.status();
  }
}

absl::StatusOr<std::shared_ptr<const BundleRoots>> BundleSource::Download() {
  FetchLimits limits;
  limits.total_timeout = options_.fetch_timeout;
  limits.connect_timeout = std::min(options_.fetch_timeout, absl::Seconds(2));
  limits.max_bytes = kMaxCertificateChainPemBytes;
  absl::StatusOr<HttpResponse> response = fetcher_->Get(options_.url, limits);
  if (!response.ok()) {
    return absl::UnavailableError(
        absl::StrCat("fetching the trust bundle failed: ", response.status().message()));
  }
  if (response->status != 200) {
    return absl::UnavailableError(absl::StrCat("fetching the trust bundle from ", options_.url,
                                               " got HTTP ", response->status));
  }
  absl::StatusOr<std::shared_ptr<const BundleRoots>> roots = ParseBundle(response->body);
  if (!roots.ok()) {
    return absl::UnavailableError(absl::StrCat("the trust bundle from ", options_.url,
                                               " is invalid: ", roots.status().message()));
  }
  return roots;
}

PeerSvidVerifierState BundleSource::State() const {
  absl::MutexLock lock(&mu_);
  PeerSvidVerifierState state;
  state.root_count = bundle_ != nullptr ? bundle_->certificates.size() : 0;
  state.last_fetch = fetched_at_;
  state.fetches = fetches_;
  state.last_error = std::string(last_status_.message());
  return state;
}

}  // namespace writ::verify_internal
