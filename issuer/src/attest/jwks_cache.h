// JwksCache: the verification keys of every trusted issuer, fetched over an
// HttpFetcher (OIDC discovery, then JWKS), cached, refreshed, and kept
// usable for a bounded time while an issuer cannot be reached.
#ifndef WRIT_ISSUER_ATTEST_JWKS_CACHE_H_
#define WRIT_ISSUER_ATTEST_JWKS_CACHE_H_

#include <cstdint>
#include <memory>
#include <string>
#include <thread>
#include <vector>

#include "absl/base/thread_annotations.h"
#include "absl/container/flat_hash_map.h"
#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/time.h"
#include "issuer/src/attest/http_fetcher.h"
#include "issuer/src/attest/trusted_issuer.h"
#include "writ/base/clock.h"
#include "writ/jose/jwk.h"

namespace writ::issuer {

// IssuerKeyState describes one issuer's keys, for readiness checks and the
// startup banner. Holds no key material.
struct IssuerKeyState {
  std::string name;
  std::string issuer;
  // source is "static_jwks", "jwks_uri" or "discovery".
  std::string source;
  // jwks_uri is the URL keys come from (discovered or configured); empty for
  // static_jwks or before discovery succeeded.
  std::string jwks_uri;
  // key_count is the number of usable keys held now (0 before any fetch).
  size_t key_count = 0;
  // last_fetch is when keys were last fetched successfully;
  // absl::InfinitePast() if never (or static).
  absl::Time last_fetch = absl::InfinitePast();
  // fetches counts fetch attempts (successful or not).
  uint64_t fetches = 0;
  // last_error is the last failed fetch's message; empty after a success.
  std::string last_error;
  // ready is true when usable keys are held now: static keys, keys within
  // jwks_ttl, or keys past it but within stale_keys_max.
  bool ready = false;
};

// IssuerKeys holds the keys of one trusted issuer. Thread-safe.
//
// Keys are fetched on first use and after jwks_ttl. Concurrent callers share
// one fetch in flight. A failed fetch is retried at most once per
// refresh_cooldown; meanwhile, and while another caller's fetch is in flight,
// keys past their TTL stay usable until stale_keys_max after it. An unknown
// kid causes at most one fetch per refresh_cooldown. Fetches happen without
// any lock that another issuer's IssuerKeys takes.
class IssuerKeys {
 public:
  // New checks the key source: parses static_jwks, or checks jwks_uri /
  // issuer against the scheme rule. `fetcher` may be null only with
  // static_jwks. `fetcher` and `clock` are not owned and must outlive this.
  // Returns kInvalidArgument naming the issuer and the field.
  static absl::StatusOr<std::unique_ptr<IssuerKeys>> New(const TrustedIssuerConfig& config,
                                                         HttpFetcher* fetcher, const Clock* clock);

  // Keys returns the keys to verify with: fresh keys at once; otherwise a
  // fetch (or the wait for one in flight), falling back to stale keys within
  // stale_keys_max. Returns kUnavailable, naming the issuer and the last
  // fetch error, when no usable keys can be had.
  absl::StatusOr<std::shared_ptr<const JwkSet>> Keys();

  // KeysAfterUnknownKid is called when a token's kid is not in `seen` (what
  // Keys() returned). Returns newer keys when another caller already
  // refreshed; otherwise fetches (once per refresh_cooldown, sharing a fetch
  // in flight) and returns the result. Returns kNotFound when the cooldown
  // forbids a fetch (or the source is static), and kUnavailable when the
  // fetch failed.
  absl::StatusOr<std::shared_ptr<const JwkSet>> KeysAfterUnknownKid(
      const std::shared_ptr<const JwkSet>& seen);

  // State describes the keys now. Never blocks on a fetch.
  IssuerKeyState State() const;

  const TrustedIssuerConfig& config() const { return config_; }

 private:
  IssuerKeys(TrustedIssuerConfig config, HttpFetcher* fetcher, const Clock* clock)
      : config_(std::move(config)), fetcher_(fetcher), clock_(clock) {}

  // FetchLocked runs one fetch, or waits for the one in flight, and returns
  // its outcome. Releases mu_ while fetching.
  absl::Status FetchLocked() ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  // FetchKeys does the network part without any lock held.
  absl::StatusOr<std::shared_ptr<const JwkSet>> FetchKeys(std::string* jwks_uri);
  absl::StatusOr<std::string> Discover();
  absl::StatusOr<std::string> GetJson(absl::string_view what, absl::string_view url);
  absl::Status Unavailable(absl::string_view why) const ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);

  const TrustedIssuerConfig config_;
  HttpFetcher* const fetcher_;
  const Clock* const clock_;

  mutable absl::Mutex mu_;
  std::shared_ptr<const JwkSet> keys_ ABSL_GUARDED_BY(mu_);
  absl::Time fetched_at_ ABSL_GUARDED_BY(mu_) = absl::InfinitePast();
  absl::Time last_attempt_ ABSL_GUARDED_BY(mu_) = absl::InfinitePast();
  absl::Time last_kid_refresh_ ABSL_GUARDED_BY(mu_) = absl::InfinitePast();
  // jwks_uri_ is the configured or last discovered URL; discovered_at_ says
  // when discovery ran (discovery is redone after jwks_ttl or a failure).
  std::string jwks_uri_ ABSL_GUARDED_BY(mu_);
  absl::Time discovered_at_ ABSL_GUARDED_BY(mu_) = absl::InfinitePast();
  bool idle_ ABSL_GUARDED_BY(mu_) = true;
  // waiters_ counts callers waiting for the fetch in flight; at most
  // kMaxFetchWaiters wait, later ones get kUnavailable at once.
  static constexpr int kMaxFetchWaiters = 16;
  int waiters_ ABSL_GUARDED_BY(mu_) = 0;
  uint64_t fetches_ ABSL_GUARDED_BY(mu_) = 0;
  absl::Status last_status_ ABSL_GUARDED_BY(mu_);
};

// JwksCache holds the IssuerKeys of every trusted issuer, by name. The set of
// issuers is fixed at construction, so lookups take no lock. Thread-safe.
class JwksCache {
 public:
  // New builds every issuer's IssuerKeys (see IssuerKeys::New). Names must be
  // unique. `fetcher` and `clock` are not owned and must outlive the cache.
  static absl::StatusOr<std::unique_ptr<JwksCache>> New(
      const std::vector<TrustedIssuerConfig>& configs, HttpFetcher* fetcher, const Clock* clock);
  // The destructor waits for warm-up fetches still running.
  ~JwksCache();

  // Find returns the issuer named `name`, or null. Lives as long as the cache.
  IssuerKeys* Find(absl::string_view name) const;

  // States describes every issuer, in configuration order.
  std::vector<IssuerKeyState> States() const;

  // StartWarmUp fetches every issuer's keys in the background, one thread per
  // issuer that fetches, and returns at once. Failures are recorded in
  // States(); requests fetch again as usual. Call at most once.
  void StartWarmUp();

 private:
  JwksCache() = default;
  std::vector<std::unique_ptr<IssuerKeys>> issuers_;
  absl::flat_hash_map<std::string, IssuerKeys*> by_name_;
  std::vector<std::thread> warmers_;
};

}  // namespace writ::issuer

#endif  // WRIT_ISSUER_ATTEST_JWKS_CACHE_H_
