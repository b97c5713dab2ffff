// ReplayCache: remembers (issuer, jti) pairs so that a one-time token is
// accepted once within its lifetime.
#ifndef WRIT_ISSUER_ATTEST_REPLAY_CACHE_H_
#define WRIT_ISSUER_ATTEST_REPLAY_CACHE_H_

#include <cstddef>
#include <memory>
#include <string>

#include "absl/base/thread_annotations.h"
#include "absl/container/flat_hash_map.h"
#include "absl/status/status.h"
#include "absl/strings/string_view.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/time.h"
#include "writ/base/clock.h"

namespace writ::issuer {

// ReplayCacheOptions bounds the cache.
struct ReplayCacheOptions {
  // max_entries is how many (issuer, jti) pairs are remembered at most, over
  // all shards. Default: 1,000,000 (about 100 MB at worst).
  size_t max_entries = 1000000;
  // shards splits the cache (and its locks) by hash. Default: 16.
  size_t shards = 16;
};

// ReplayCache is a bounded, sharded set of (issuer, jti) pairs, each kept
// until its own forget time. Entries are keyed by SHA-256, so memory per
// entry does not depend on the jti's length. When a shard is full of entries
// that have not expired, new pairs are refused rather than old ones
// forgotten: forgetting would let a replay through. Thread-safe.
class ReplayCache {
 public:
  // `clock` is not owned and must outlive the cache; null means the system
  // clock.
  explicit ReplayCache(const Clock* clock, ReplayCacheOptions options = {});

  // CheckAndRemember records (`issuer`, `jti`) until `forget_after`. Returns
  // OK the first time; kUnauthenticated when the pair is already remembered
  // and not yet forgotten (a replay); kUnavailable when the cache is full.
  // Forget drops (`issuer`, `jti`), so the same token may be used again:
  // for an exchange that failed through no fault of the caller.
  void Forget(absl::string_view issuer, absl::string_view jti);

  absl::Status CheckAndRemember(absl::string_view issuer, absl::string_view jti,
                                absl::Time forget_after);

  // size returns how many pairs are remembered now (expired ones included
  // until they are purged).
  size_t size() const;

 private:
  struct Shard {
    mutable absl::Mutex mu;
    absl::flat_hash_map<std::string, absl::Time> entries ABSL_GUARDED_BY(mu);
    // earliest is a lower bound of every entry's forget time: no purge can
    // free anything before it.
    absl::Time earliest ABSL_GUARDED_BY(mu) = absl::InfiniteFuture();
  };
  // Purge drops the entries forgotten at `now` and recomputes `earliest`.
  static void Purge(Shard& shard, absl::Time now) ABSL_EXCLUSIVE_LOCKS_REQUIRED(shard.mu);
  Shard& ShardFor(const std::string& key) const;

  const Clock* const clock_;
  const size_t per_shard_;
  std::unique_ptr<Shard[]> shards_;
  const size_t shard_count_;
};

}  // namespace writ::issuer

#endif  // WRIT_ISSUER_ATTEST_REPLAY_CACHE_H_
