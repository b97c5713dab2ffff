// JwksCache: the verification keys of every trusted issuer, one JwksSource
// (sdk: fetched, cached, refreshed, kept while the issuer is down) each.
#ifndef WRIT_ISSUER_ATTEST_JWKS_CACHE_H_
#define WRIT_ISSUER_ATTEST_JWKS_CACHE_H_

#include <memory>
#include <string>
#include <thread>
#include <vector>

#include "absl/container/flat_hash_map.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "issuer/src/attest/trusted_issuer.h"
#include "writ/base/clock.h"
#include "writ/net/http_fetcher.h"
#include "writ/net/jwks_source.h"

namespace writ::issuer {

// IssuerKeys is one trusted issuer's keys.
using IssuerKeys = JwksSource;

// IssuerKeyState describes one issuer's keys, for readiness checks and the
// startup banner. Holds no key material.
struct IssuerKeyState : JwksSourceState {
  std::string name;
  std::string issuer;
};

// kMaxFetchWaitersPerIssuer: callers that wait for one issuer's key fetch
// in flight (JwksSourceOptions::max_fetch_waiters). Small, so that a slow or
// dead issuer holds at most 1 + this many work-pool threads.
inline constexpr int kMaxFetchWaitersPerIssuer = 2;

// KeySourceOptions is the key-source part of a trusted issuer's config; the
// label is `trusted issuer "<name>"`.
JwksSourceOptions KeySourceOptions(const TrustedIssuerConfig& config);

// JwksCache holds the keys of every trusted issuer, by name. The set of
// issuers is fixed at construction, so lookups take no lock. Thread-safe.
class JwksCache {
 public:
  // New builds every issuer's JwksSource (see JwksSource::New). Names must be
  // unique. `fetcher` and `clock` are not owned and must outlive the cache.
  // Returns kInvalidArgument naming the issuer and the field.
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
  struct Entry {
    std::string name;
    std::string issuer;
    std::unique_ptr<IssuerKeys> keys;
  };
  JwksCache() = default;
  std::vector<Entry> issuers_;
  absl::flat_hash_map<std::string, IssuerKeys*> by_name_;
  std::vector<std::thread> warmers_;
};

}  // namespace writ::issuer

#endif  // WRIT_ISSUER_ATTEST_JWKS_CACHE_H_
