#include "writ/client/token_cache.h"

#include <algorithm>
#include <memory>
#include <utility>

#include "absl/status/status.h"
#include "absl/strings/str_cat.h"

namespace writ {
namespace {

constexpr absl::Duration kFirstBackoff = absl::Seconds(1);
constexpr absl::Duration kMaxBackoff = absl::Seconds(30);
// The refresher wakes at least this often (real time) to re-read the clock,
// so a wall clock that jumps (suspend, NTP step) delays a refresh by at most
// this much.
constexpr absl::Duration kMaxSleep = absl::Minutes(1);

}  // namespace

// Flight is one fetch in flight; every Get waiting for it shares the result.
// Held by shared_ptr so waiters can read the result after the entry is gone.
struct TokenCache::Flight {
  bool done = false;
  absl::StatusOr<Token> result = absl::UnknownError("fetch in flight");
};

// Entry is one key. It holds a token, a fetch in flight, or both.
struct TokenCache::Entry {
  std::string key;
  // request is the first request seen for the key (equal keys ask the same),
  // re-sent by background refreshes.
  TokenRequest request;
  std::optional<Token> token;
  // refresh_at is when the token is next refreshed (after a failure: retried).
  absl::Time refresh_at = absl::InfiniteFuture();
  absl::Duration backoff = kFirstBackoff;
  // used says a Get asked for the key since its token was last fetched.
  bool used = false;
  std::shared_ptr<Flight> flight;
};

absl::StatusOr<std::unique_ptr<TokenCache>> TokenCache::New(TokenFetch fetch,
                                                            TokenCacheOptions options) {
  if (!fetch) return absl::InvalidArgumentError("token cache: fetch is empty");
  // Written so that NaN fails every check.
  if (!(options.refresh_at > 0 && options.refresh_at < 1)) {
    return absl::InvalidArgumentError(
        absl::StrCat("token cache: refresh_at must be in (0, 1), got ", options.refresh_at));
  }
  if (!(options.jitter >= 0 && options.jitter <= options.refresh_at &&
        options.jitter <= 1 - options.refresh_at)) {
    return absl::InvalidArgumentError(absl::StrCat(
        "token cache: jitter must be in [0, min(refresh_at, 1 - refresh_at)] so the refresh point "
        "stays within the lifetime, got ",
        options.jitter, " with refresh_at ", options.refresh_at));
  }
  if (options.min_remaining < absl::ZeroDuration() ||
      options.min_remaining == absl::InfiniteDuration()) {
    return absl::InvalidArgumentError(
        absl::StrCat("token cache: min_remaining must be >= 0 and finite, got ",
                     absl::FormatDuration(options.min_remaining)));
  }
  if (options.max_entries < 1) {
    return absl::InvalidArgumentError("token cache: max_entries must be at least 1");
  }
  std::unique_ptr<TokenCache> cache(new TokenCache(std::move(fetch), std::move(options)));
  if (cache->options_.background_refresh) {
    cache->refresher_ = std::thread([cache = cache.get()] { cache->RefresherLoop(); });
  }
  return cache;
}

absl::StatusOr<std::unique_ptr<TokenCache>> TokenCache::New(Client* client,
                                                            TokenCacheOptions options) {
  if (client == nullptr) return absl::InvalidArgumentError("token cache: client is null");
  return New([client](const TokenRequest& request) { return client->ExchangeToken(request); },
             std::move(options));
}

TokenCache::TokenCache(TokenFetch fetch, TokenCacheOptions options)
    : fetch_(std::move(fetch)),
      options_(std::move(options)),
      clock_(options_.clock != nullptr ? options_.clock : &Clock::Real()) {}

TokenCache::~TokenCache() {
  {
    absl::MutexLock lock(&mu_);
    stopping_ = true;
    refresher_cv_.Signal();
    passes_cv_.SignalAll();
  }
  if (refresher_.joinable()) refresher_.join();
}

absl::StatusOr<Token> TokenCache::Get(const TokenRequest& request) {
  const std::string key = request.Key();  // Hashing the actor token needs no lock.
  absl::MutexLock lock(&mu_);
  const absl::Time now = clock_->Now();
  Entry& entry = TouchLocked(key, request);
  entry.used = true;
  if (entry.token.has_value() && entry.token->expires_at - now >= options_.min_remaining) {
    if (options_.background_refresh || now < entry.refresh_at || entry.flight != nullptr) {
      ++stats_.hits;
      return *entry.token;
    }
    // Refresh inline; concurrent Gets see the flight and keep the old token.
    Token old = *entry.token;
    absl::StatusOr<Token> fresh = FetchLocked(entry, /*background=*/false);
    if (fresh.ok()) return fresh;
    return old;  // Still valid; the failure is counted and retried after a backoff.
  }
  if (entry.flight != nullptr) {
    // Share the fetch in flight (a Get's or the refresher's) and its outcome.
    std::shared_ptr<Flight> flight = entry.flight;
    ++stats_.waits;
    mu_.Await(absl::Condition(&flight->done));
    return flight->result;
  }
  return FetchLocked(entry, /*background=*/false);
}

void TokenCache::Invalidate(const TokenRequest& request) {
  const std::string key = request.Key();
  absl::MutexLock lock(&mu_);
  auto it = index_.find(key);
  if (it == index_.end()) return;
  Entry& entry = *it->second;
  if (entry.flight == nullptr) {
    EraseLocked(it->second);
    return;
  }
  // The fetch in flight was asked for after the token now rejected, so its
  // token is kept; Gets meanwhile wait for it instead of starting another.
  entry.token.reset();
  entry.refresh_at = absl::InfiniteFuture();
}

TokenCache::Stats TokenCache::stats() const {
  absl::MutexLock lock(&mu_);
  Stats stats = stats_;
  stats.entries = index_.size();
  return stats;
}

void TokenCache::WakeRefresherForTesting() {
  absl::MutexLock lock(&mu_);
  refresher_cv_.Signal();
}

void TokenCache::RunDueRefreshesForTesting() {
  absl::MutexLock lock(&mu_);
  if (!refresher_.joinable()) return;
  // The refresher counts a pass only when a scan finds nothing due, and every
  // scan reads the clock afresh: the next pass counted saw this clock time.
  const uint64_t target = passes_ + 1;
  refresher_cv_.Signal();
  while (passes_ < target && !stopping_) passes_cv_.Wait(&mu_);
}

TokenCache::Entry& TokenCache::TouchLocked(const std::string& key, const TokenRequest& request) {
  auto it = index_.find(key);
  if (it != index_.end()) {
    lru_.splice(lru_.begin(), lru_, it->second);
    return *it->second;
  }
  lru_.emplace_front();
  Entry& entry = lru_.front();
  entry.key = key;
  entry.request = request;
  index_.emplace(key, lru_.begin());
  // A fetch in flight for the dropped entry still completes for its
  // waiters; its token is not stored.
  if (index_.size() > options_.max_entries) EraseLocked(std::prev(lru_.end()));
  return entry;
}

void TokenCache::EraseLocked(EntryList::iterator it) {
  index_.erase(it->key);
  lru_.erase(it);
}

absl::StatusOr<Token> TokenCache::FetchLocked(Entry& entry, bool background) {
  auto flight = std::make_shared<Flight>();
  entry.flight = flight;
  const std::string key = entry.key;
  // Copied: the entry may be dropped (eviction) while mu_ is not held.
  const TokenRequest request = entry.request;
  ++stats_.fetches;

  mu_.Unlock();
  absl::StatusOr<Token> result = fetch_(request);
  mu_.Lock();

  flight->result = result;
  flight->done = true;
  if (!result.ok()) ++stats_.failures;
  auto it = index_.find(key);
  if (it == index_.end() || it->second->flight != flight) return result;  // Dropped meanwhile.
  Entry& stored = *it->second;
  stored.flight = nullptr;
  const absl::Time now = clock_->Now();
  if (result.ok()) {
    stored.token = *result;
    stored.refresh_at = RefreshPointLocked(*result, now);
    stored.backoff = kFirstBackoff;
    stored.used = false;
    if (background) ++stats_.background_refreshes;
    refresher_cv_.Signal();  // The new refresh point may come before the refresher's wake-up.
  } else if (!stored.token.has_value()) {
    EraseLocked(it->second);  // Nothing to serve; failures are not cached.
  } else {
    stored.refresh_at = now + stored.backoff;
    stored.backoff = std::min(stored.backoff * 2, kMaxBackoff);
  }
  return result;
}

absl::Time TokenCache::RefreshPointLocked(const Token& token, absl::Time now) {
  // A fetch that left issued_at unset is taken as issued now.
  const absl::Time issued =
      token.issued_at == absl::InfinitePast() || token.issued_at == absl::InfiniteFuture()
          ? now
          : token.issued_at;
  const absl::Duration lifetime = token.expires_at - issued;
  if (lifetime == absl::InfiniteDuration()) return absl::InfiniteFuture();
  // A token never served from the cache (under min_remaining from the
  // start) is not refreshed either: refreshing it would fetch in a loop.
  if (lifetime <= options_.min_remaining) return absl::InfiniteFuture();
  double fraction = options_.refresh_at;
  if (options_.jitter > 0) fraction += absl::Uniform(bitgen_, -options_.jitter, options_.jitter);
  const absl::Time point =
      std::min(issued + lifetime * fraction, token.expires_at - options_.min_remaining);
  // Never due at once: at most one refresh per key per kFirstBackoff.
  return std::max(point, issued + kFirstBackoff);
}

void TokenCache::RefresherLoop() {
  absl::MutexLock lock(&mu_);
  while (!stopping_) {
    const absl::Time now = clock_->Now();
    absl::Time next = absl::InfiniteFuture();
    Entry* due = nullptr;
    for (auto it = lru_.begin(); it != lru_.end() && due == nullptr;) {
      Entry& entry = *it;
      auto current = it++;
      if (entry.flight != nullptr || !entry.token.has_value()) continue;
      if (now >= entry.token->expires_at) {
        EraseLocked(current);
        continue;
      }
      if (options_.drop_idle_keys && !entry.used) {
        next = std::min(next, entry.token->expires_at);  // Dropped then.
      } else if (now >= entry.refresh_at) {
        due = &entry;
      } else {
        next = std::min(next, entry.refresh_at);
      }
    }
    if (due != nullptr) {
      // One at a time: this thread only refreshes ahead of need. A Get whose
      // token runs out meanwhile fetches it itself.
      FetchLocked(*due, /*background=*/true).status().IgnoreError();
      continue;
    }
    ++passes_;
    passes_cv_.SignalAll();
    refresher_cv_.WaitWithTimeout(&mu_, std::min(next - now, kMaxSleep));
  }
}

}  // namespace writ
