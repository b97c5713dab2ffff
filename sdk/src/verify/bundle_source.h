// BundleSource: the X.509 trust bundle of one trust domain, static or fetched
// (PEM over an HttpFetcher), cached, refreshed, and kept in use for a bounded
// time while it cannot be fetched. PeerSvidVerifier's key cache, as
// JwksSource is TokenVerifier's.
#ifndef WRIT_SDK_SRC_VERIFY_BUNDLE_SOURCE_H_
#define WRIT_SDK_SRC_VERIFY_BUNDLE_SOURCE_H_

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "absl/base/thread_annotations.h"
#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/time.h"
#include "writ/base/clock.h"
#include "writ/crypto/ssl_ptr.h"
#include "writ/net/http_fetcher.h"
#include "writ/verify/svid_verifier.h"

namespace writ::verify_internal {

// BundleRoots is one bundle: its CA certificates, in the order published.
struct BundleRoots {
  std::vector<SslPtr<X509>> certificates;
};

// BundleSourceOptions: see the PeerSvidVerifierOptions fields of the same
// meaning. Exactly one of url and static_pem is set.
struct BundleSourceOptions {
  std::string url;
  std::string static_pem;
  absl::Duration refresh = absl::Minutes(5);
  absl::Duration refetch_cooldown = absl::Seconds(30);
  absl::Duration stale_max = absl::Hours(1);
  absl::Duration fetch_timeout = absl::Seconds(5);
};

// ParseBundle reads a PEM bundle: at least one certificate, each a CA.
// Returns kInvalidArgument saying which is not.
absl::StatusOr<std::shared_ptr<const BundleRoots>> ParseBundle(absl::string_view pem);

// BundleSource holds one bundle. Thread-safe.
//
// Fetched on first use and after `refresh`; one fetch at a time, and while
// one is in flight other callers use the previous bundle when it is within
// stale_max. A failed fetch is retried at most once per refetch_cooldown.
class BundleSource {
 public:
  // New parses static_pem, or checks url (the fetch URL rule); `fetcher` may
  // be null only with static_pem. `fetcher` and `clock` are not owned and
  // must outlive this. Returns kInvalidArgument naming the field.
  static absl::StatusOr<std::unique_ptr<BundleSource>> New(BundleSourceOptions options,
                                                           HttpFetcher* fetcher,
                                                           const Clock* clock);

  // Roots returns the bundle to verify with: the held one while fresh, else
  // after a fetch, else the held one within stale_max. Returns kUnavailable,
  // naming the URL and the fetch error, when there is none.
  absl::StatusOr<std::shared_ptr<const BundleRoots>> Roots();

  // RootsAfterFailure is called when a chain did not verify against `seen`
  // (what Roots() returned): returns a bundle another caller fetched since,
  // else fetches (at most once per refetch_cooldown). Returns kNotFound when
  // the cooldown or a static bundle forbids a fetch, kUnavailable when the
  // fetch failed.
  absl::StatusOr<std::shared_ptr<const BundleRoots>> RootsAfterFailure(
      const std::shared_ptr<const BundleRoots>& seen);

  // State describes the bundle now; never waits for a fetch.
  PeerSvidVerifierState State() const;

 private:
  BundleSource(BundleSourceOptions options, HttpFetcher* fetcher, const Clock* clock)
      : options_(std::move(options)), fetcher_(fetcher), clock_(clock) {}

  // UsableLocked returns the held bundle when it is within refresh +
  // stale_max of its fetch, else kUnavailable.
  absl::StatusOr<std::shared_ptr<const BundleRoots>> UsableLocked(absl::Time now) const
      ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  // FetchNow fetches and stores the outcome. Holds fetch_mu_ (one fetch at
  // a time), mu_ only around the bookkeeping.
  void FetchNow() ABSL_EXCLUSIVE_LOCKS_REQUIRED(fetch_mu_) ABSL_LOCKS_EXCLUDED(mu_);
  absl::StatusOr<std::shared_ptr<const BundleRoots>> Download();

  const BundleSourceOptions options_;
  HttpFetcher* const fetcher_;
  const Clock* const clock_;

  // fetch_mu_ is held for the whole of one fetch; mu_ never waits for it.
  absl::Mutex fetch_mu_ ABSL_ACQUIRED_BEFORE(mu_);
  mutable absl::Mutex mu_;
  std::shared_ptr<const BundleRoots> bundle_ ABSL_GUARDED_BY(mu_);
  absl::Time fetched_at_ ABSL_GUARDED_BY(mu_) = absl::InfinitePast();
  absl::Time last_attempt_ ABSL_GUARDED_BY(mu_) = absl::InfinitePast();
  absl::Time last_failure_refetch_ ABSL_GUARDED_BY(mu_) = absl::InfinitePast();
  absl::Status last_status_ ABSL_GUARDED_BY(mu_);
  bool fetching_ ABSL_GUARDED_BY(mu_) = false;
  uint64_t fetches_ ABSL_GUARDED_BY(mu_) = 0;
};

}  // namespace writ::verify_internal

#endif  // WRIT_SDK_SRC_VERIFY_BUNDLE_SOURCE_H_
