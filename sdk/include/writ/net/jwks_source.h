// JwksSource: the verification keys of one token issuer, fetched over an
// HttpFetcher (OIDC discovery, then the JWKS), cached, refreshed, and kept
// usable for a bounded time while the issuer cannot be reached. Writ's issuer
// uses one per trusted CI/cloud issuer; the SDK's TokenVerifier uses one for
// Writ itself.
//
//   JwksSourceOptions options;
//   options.label = "issuer \"https://writ.acme.example\"";
//   options.issuer = "https://writ.acme.example";
//   ASSIGN_OR_RETURN(auto source, JwksSource::New(options, &fetcher, nullptr));
//   ASSIGN_OR_RETURN(std::shared_ptr<const JwkSet> keys, source->Keys());
#ifndef WRIT_NET_JWKS_SOURCE_H_
#define WRIT_NET_JWKS_SOURCE_H_

#include <cstddef>
#include <cstdint>
#include <memory>
#include <string>

#include "absl/base/thread_annotations.h"
#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/time.h"
#include "writ/base/clock.h"
#include "writ/jose/jwk.h"
#include "writ/net/http_fetcher.h"

namespace writ {

// JwksSourceOptions says where one issuer's keys come from. Exactly one
// source applies: static_jwks when set, else jwks_uri when set, else OIDC
// discovery at issuer + "/.well-known/openid-configuration".
struct JwksSourceOptions {
  // label names the issuer in messages ("trusted issuer \"github\"").
  // Default: "issuer".
  std::string label = "issuer";
  // issuer is the exact "iss" the discovery document must name. Must be
  // https://, or http:// on a loopback host. Required unless jwks_uri or
  // static_jwks is set.
  std::string issuer;
  // jwks_uri skips discovery. Same scheme rule. Default: empty.
  std::string jwks_uri;
  // static_jwks is a JWKS document (JSON) used instead of any fetch.
  // Default: empty.
  std::string static_jwks;
  // jwks_ttl: how long fetched keys are used before a refresh. Default: 5 min.
  absl::Duration jwks_ttl = absl::Minutes(5);
  // refresh_cooldown: minimum time between two fetches caused by unknown kids
  // or failures. Default: 30 s.
  absl::Duration refresh_cooldown = absl::Seconds(30);
  // stale_keys_max: how long the last good keys stay usable after the TTL
  // when the issuer cannot be reached. Default: 1 h.
  absl::Duration stale_keys_max = absl::Hours(1);
  // connect_timeout and fetch_timeout bound each discovery/JWKS fetch.
  // Defaults: 2 s and 5 s.
  absl::Duration connect_timeout = absl::Seconds(2);
  absl::Duration fetch_timeout = absl::Seconds(5);
  // max_response_bytes caps a discovery or JWKS response. Default: 256 KiB.
  size_t max_response_bytes = 256 * 1024;
  // max_fetch_waiters: callers that wait for a fetch in flight (when no
  // usable keys are held) at most; later ones get kUnavailable ("being
  // fetched; try again") at once, so a slow issuer holds few threads.
  // Default: 16.
  int max_fetch_waiters = 16;
};

// JwksSourceState describes the keys held now, for readiness checks and
// startup output. Holds no key material.
struct JwksSourceState {
  // source is "static_jwks", "jwks_uri" or "discovery".
  std::string source;
  // jwks_uri is the URL keys come from (configured or discovered); empty for
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

// KeyFetch says whether a JwksSource call may fetch keys (or wait for a
// fetch in flight) when it has to.
enum class KeyFetch { kAllowed, kNotNow };

// JwksSource holds the keys of one issuer. Thread-safe.
//
// Keys are fetched on first use and after jwks_ttl. Concurrent callers share
// one fetch in flight. A failed fetch is retried at most once per
// refresh_cooldown; meanwhile, and while another caller's fetch is in flight,
// keys past their TTL stay usable until stale_keys_max after it. An unknown
// kid causes at most one fetch per refresh_cooldown. Fetches hold no lock
// that another JwksSource takes.
class JwksSource {
 public:
  // New checks the options: parses static_jwks, or checks jwks_uri / issuer
  // against the scheme rule. `fetcher` may be null only with static_jwks.
  // `fetcher` and `clock` are not owned and must outlive this; null `clock`
  // means the system clock. Returns kInvalidArgument naming the label and
  // the field.
  static absl::StatusOr<std::unique_ptr<JwksSource>> New(JwksSourceOptions options,
                                                         HttpFetcher* fetcher, const Clock* clock);

  // Keys returns the keys to verify with: fresh keys at once; otherwise a
  // fetch (or the wait for one in flight), falling back to stale keys within
  // stale_keys_max. Returns kUnavailable, naming the label and the last
  // fetch error, when no usable keys can be had.
  //
  // With KeyFetch::kNotNow it never fetches or waits: where it would, it
  // returns kAborted and changes nothing, so a caller on a thread that must
  // not block (an event loop) can call again with kAllowed from one that
  // may; where such a call would be refused anyway (max_fetch_waiters
  // already wait), it returns that kUnavailable at once.
  absl::StatusOr<std::shared_ptr<const JwkSet>> Keys(KeyFetch fetch = KeyFetch::kAllowed);

  // KeysAfterUnknownKid is called when a token's kid is not in `seen` (what
  // Keys() returned). Returns newer keys when another caller already
  // refreshed; otherwise fetches (once per refresh_cooldown, sharing a fetch
  // in flight) and returns the result. Returns kNotFound when the cooldown
  // forbids a fetch (or the source is static), and kUnavailable when the
  // fetch failed. kNotNow: as for Keys.
  absl::StatusOr<std::shared_ptr<const JwkSet>> KeysAfterUnknownKid(
      const std::shared_ptr<const JwkSet>& seen, KeyFetch fetch = KeyFetch::kAllowed);

  // State describes the keys now. Never blocks on a fetch.
  JwksSourceState State() const;

  const JwksSourceOptions& options() const { return options_; }

 private:
  JwksSource(JwksSourceOptions options, HttpFetcher* fetcher, const Clock* clock)
      : options_(std::move(options)), fetcher_(fetcher), clock_(clock) {}

  // FetchLocked runs one fetch, or waits for the one in flight, and returns
  // its outcome. Releases mu_ while fetching.
  absl::Status FetchLocked() ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  // FetchKeys does the network part without any lock held.
  absl::StatusOr<std::shared_ptr<const JwkSet>> FetchKeys(std::string* jwks_uri);
  absl::StatusOr<std::string> Discover();
  absl::StatusOr<std::string> GetJson(absl::string_view what, absl::string_view url);
  absl::Status Unavailable(absl::string_view why) const ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  // NotNow is the answer of a KeyFetch::kNotNow call that would fetch or
  // wait: Busy() when max_fetch_waiters already wait, else kAborted.
  absl::Status NotNow() const ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);

  const JwksSourceOptions options_;
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
  // options_.max_fetch_waiters wait, later ones get kUnavailable at once.
  int waiters_ ABSL_GUARDED_BY(mu_) = 0;
  // Busy is that kUnavailable answer; WaitersFull says when it is due.
  absl::Status Busy() const;
  bool WaitersFull() const ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_) {
    return !idle_ && waiters_ >= options_.max_fetch_waiters;
  }
  uint64_t fetches_ ABSL_GUARDED_BY(mu_) = 0;
  absl::Status last_status_ ABSL_GUARDED_BY(mu_);
};

}  // namespace writ

#endif  // WRIT_NET_JWKS_SOURCE_H_
