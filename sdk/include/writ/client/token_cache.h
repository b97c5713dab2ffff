// TokenCache: Writ tokens per (audience, scopes, lifetime, actor), cached and
// refreshed before they expire, so a workload can call Get before every
// request to a relying party and reach Writ only about once per token
// lifetime per key.
//
//   ASSIGN_OR_RETURN(std::unique_ptr<Client> client, Client::New(std::move(client_options)));
//   ASSIGN_OR_RETURN(std::unique_ptr<TokenCache> cache, TokenCache::New(client.get()));
//   TokenRequest request;
//   request.audience = "https://deploy.acme.example";
//   request.scopes = {"deploy:write"};
//   ASSIGN_OR_RETURN(Token token, cache->Get(request));  // cached, or fetched
//   ... send "Authorization: Bearer " + token.access_token ...
//   if (http_status == 401) cache->Invalidate(request);
//
// Keys: two requests share a cached token exactly when TokenRequest::Key()
// is equal: same audience, same scopes in any order (a scope named twice
// counts twice), same lifetime (unset differs from any set value) and same
// actor token.
//
// Refresh: a token is refreshed at `refresh_at` of its lifetime, moved by a
// random +-`jitter` so that many workloads started together do not all reach
// Writ at once, and never later than `min_remaining` before it expires. With
// background_refresh, one thread per cache does this while callers keep
// getting the old token; a failed refresh is retried after 1 s, doubling to
// 30 s, and the old token is served while it has min_remaining left. A key
// no Get asked for since its token was fetched is not refreshed (see
// drop_idle_keys).
//
// Thread-safety: every method may be called from any thread at once, except
// that no call may overlap the destructor. The TokenFetch is called from
// Get's callers and from the refresher thread, for different keys at once;
// it must be thread-safe (Client is). One fetch per key is in flight at a
// time: concurrent Gets for a key without a usable token wait for it and all
// get its result, token or error.
#ifndef WRIT_CLIENT_TOKEN_CACHE_H_
#define WRIT_CLIENT_TOKEN_CACHE_H_

#include <cstddef>
#include <cstdint>
#include <functional>
#include <list>
#include <memory>
#include <optional>
#include <string>
#include <thread>

#include "absl/base/thread_annotations.h"
#include "absl/container/flat_hash_map.h"
#include "absl/random/random.h"
#include "absl/status/statusor.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/time.h"
#include "writ/base/clock.h"
#include "writ/client/client.h"
#include "writ/client/token.h"

namespace writ {

// TokenFetch gets one fresh token for a request, e.g. Client::ExchangeToken.
// Its error is handed to Get's callers unchanged, so it should carry the
// issuer's reason. Must be thread-safe.
using TokenFetch = std::function<absl::StatusOr<Token>(const TokenRequest&)>;

// TokenCacheOptions tunes a TokenCache. TokenCache::New checks them.
struct TokenCacheOptions {
  // refresh_at is the fraction of a token's lifetime (expires_at -
  // issued_at) after which it is refreshed. In (0, 1). Default: 2/3.
  double refresh_at = 2.0 / 3.0;
  // jitter moves each token's refresh point by a uniform random amount in
  // [-jitter, +jitter) of its lifetime. In [0, min(refresh_at, 1 -
  // refresh_at)]. Default: 0.05.
  double jitter = 0.05;
  // min_remaining: a cached token with less than this left is never
  // returned; the Get fetches (or waits for the fetch in flight) instead.
  // Refresh points are never later than expires_at - min_remaining. A freshly
  // fetched token is returned whatever its lifetime, so tokens living no
  // longer than this are fetched for almost every Get (and never refreshed
  // in the background). No key is refreshed twice within 1 s. >= 0.
  // Default: 30 s.
  absl::Duration min_remaining = absl::Seconds(30);
  // background_refresh: a thread refreshes tokens at their refresh point
  // while Gets keep returning the old one. false: no thread; the first Get
  // past a token's refresh point fetches inline (waiting for it; on failure
  // it returns the old token), concurrent Gets return the old token.
  // Default: true.
  bool background_refresh = true;
  // drop_idle_keys (with background_refresh): a key no Get asked for since
  // its token was last fetched is not refreshed, and is dropped once its
  // token expires. false: keys are refreshed until Invalidate or eviction.
  // Either way the refresher drops an entry whose token expired (every
  // refresh failed). Without background_refresh, only eviction and
  // Invalidate drop entries. Default: true.
  bool drop_idle_keys = true;
  // max_entries bounds the keys held; past it, the least recently used
  // key is dropped. >= 1. Default: 1024.
  size_t max_entries = 1024;
  // clock decides expiry and refresh points; not owned, must outlive the
  // cache. Default: null (the system clock).
  const Clock* clock = nullptr;
};

// TokenCache caches tokens per TokenRequest::Key(). Thread-safe (see above).
class TokenCache {
 public:
  // New returns a cache around `fetch`; with background_refresh, starts the
  // refresher thread. Returns kInvalidArgument naming the option when an
  // option is out of range or `fetch` is empty.
  static absl::StatusOr<std::unique_ptr<TokenCache>> New(TokenFetch fetch,
                                                         TokenCacheOptions options = {});
  // New fetches with client->ExchangeToken. `client` is not owned and must
  // outlive the cache. Returns kInvalidArgument for a null client.
  static absl::StatusOr<std::unique_ptr<TokenCache>> New(Client* client,
                                                         TokenCacheOptions options = {});

  // The destructor stops the refresher thread. A refresh in flight cannot
  // be cancelled: it waits for that one fetch (bounded by the client's
  // timeout) and starts no other.
  ~TokenCache();
  TokenCache(const TokenCache&) = delete;
  TokenCache& operator=(const TokenCache&) = delete;

  // Get returns a cached token for `request` with at least min_remaining
  // left; otherwise fetches one (or waits for the fetch in flight for the
  // same key) and returns its result: the token, or the fetch's status
  // unchanged (a failure is not cached: the next Get fetches again).
  absl::StatusOr<Token> Get(const TokenRequest& request);

  // Invalidate forgets the cached token for `request`'s key, e.g. after a
  // relying party answered 401: the next Get fetches a new one. A fetch in
  // flight for the key goes on, and its token is kept.
  void Invalidate(const TokenRequest& request);

  // Stats counts what the cache did. Holds no token.
  struct Stats {
    uint64_t hits = 0;                  // Gets answered from the cache.
    uint64_t waits = 0;                 // Gets that waited for another's fetch.
    uint64_t fetches = 0;               // Calls of the TokenFetch (all causes).
    uint64_t background_refreshes = 0;  // Successful refreshes by the thread.
    uint64_t failures = 0;              // Fetches that returned an error.
    size_t entries = 0;                 // Keys held now.
  };
  Stats stats() const;

  // For tests driving a FakeClock (the refresher sleeps in real time):
  // WakeRefresherForTesting makes the refresher look at the clock now and
  // returns at once; RunDueRefreshesForTesting also waits until it has done
  // every refresh due at clock->Now(). Both do nothing without
  // background_refresh.
  void WakeRefresherForTesting();
  void RunDueRefreshesForTesting();

 private:
  struct Flight;
  struct Entry;
  using EntryList = std::list<Entry>;

  TokenCache(TokenFetch fetch, TokenCacheOptions options);

  void RefresherLoop();
  // TouchLocked finds or adds the entry for `key` and marks it most
  // recently used, dropping the least recently used past max_entries.
  Entry& TouchLocked(const std::string& key, const TokenRequest& request)
      ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  // FetchLocked runs one fetch for `entry` without mu_ held, and stores its
  // outcome if the entry is still there.
  absl::StatusOr<Token> FetchLocked(Entry& entry, bool background)
      ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  absl::Time RefreshPointLocked(const Token& token, absl::Time now)
      ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  void EraseLocked(EntryList::iterator it) ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);

  const TokenFetch fetch_;
  const TokenCacheOptions options_;
  const Clock* const clock_;

  mutable absl::Mutex mu_;
  // lru_ holds the entries, most recently used first; index_ finds them.
  EntryList lru_ ABSL_GUARDED_BY(mu_);
  absl::flat_hash_map<std::string, EntryList::iterator> index_ ABSL_GUARDED_BY(mu_);
  absl::BitGen bitgen_ ABSL_GUARDED_BY(mu_);
  Stats stats_ ABSL_GUARDED_BY(mu_);
  bool stopping_ ABSL_GUARDED_BY(mu_) = false;
  // passes_ counts the refresher's scans that found nothing due.
  uint64_t passes_ ABSL_GUARDED_BY(mu_) = 0;
  absl::CondVar refresher_cv_;  // wakes the refresher
  absl::CondVar passes_cv_;     // signalled when passes_ grows
  std::thread refresher_;
};

}  // namespace writ

#endif  // WRIT_CLIENT_TOKEN_CACHE_H_
