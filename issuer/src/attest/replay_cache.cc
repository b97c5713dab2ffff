#include "issuer/src/attest/replay_cache.h"

#include <algorithm>
#include <cstring>

#include "absl/strings/str_cat.h"
#include "writ/crypto/digest.h"

namespace writ::issuer {

ReplayCache::ReplayCache(const Clock* clock, ReplayCacheOptions options)
    : clock_(clock != nullptr ? clock : &Clock::Real()),
      per_shard_(std::max<size_t>(1, options.max_entries / std::max<size_t>(1, options.shards))),
      shards_(new Shard[std::max<size_t>(1, options.shards)]),
      shard_count_(std::max<size_t>(1, options.shards)) {}

void ReplayCache::Purge(Shard& shard, absl::Time now) {
  absl::Time earliest = absl::InfiniteFuture();
  absl::erase_if(shard.entries, [&](const auto& entry) {
    if (entry.second <= now) return true;
    earliest = std::min(earliest, entry.second);
    return false;
  });
  shard.earliest = earliest;
}

namespace {
// The length prefix keeps ("a", "bc") and ("ab", "c") apart.
std::string ReplayKey(absl::string_view issuer, absl::string_view jti) {
  return Sha256(absl::StrCat(issuer.size(), ":", issuer, jti));
}
}  // namespace

ReplayCache::Shard& ReplayCache::ShardFor(const std::string& key) const {
  uint64_t pick;
  std::memcpy(&pick, key.data(), sizeof(pick));
  return shards_[pick % shard_count_];
}

void ReplayCache::Forget(absl::string_view issuer, absl::string_view jti) {
  const std::string key = ReplayKey(issuer, jti);
  Shard& shard = ShardFor(key);
  absl::MutexLock lock(&shard.mu);
  shard.entries.erase(key);
}

absl::Status ReplayCache::CheckAndRemember(absl::string_view issuer, absl::string_view jti,
                                           absl::Time forget_after) {
  const std::string key = ReplayKey(issuer, jti);
  Shard& shard = ShardFor(key);
  const absl::Time now = clock_->Now();

  absl::MutexLock lock(&shard.mu);
  auto it = shard.entries.find(key);
  if (it != shard.entries.end()) {
    if (it->second > now) {
      return absl::UnauthenticatedError(
          absl::StrCat("token \"jti\" was already used (one_time_jti is on for this issuer)"));
    }
    it->second = forget_after;  // The old entry had expired: this is a new use.
    shard.earliest = std::min(shard.earliest, forget_after);
    return absl::OkStatus();
  }
  if (forget_after <= now) return absl::OkStatus();  // Nothing left to protect.
  if (shard.entries.size() >= per_shard_ && now >= shard.earliest) Purge(shard, now);
  if (shard.entries.size() >= per_shard_) {
    return absl::UnavailableError(
        "the replay cache is full of unexpired token IDs; try again later");
  }
  shard.entries.emplace(key, forget_after);
  shard.earliest = std::min(shard.earliest, forget_after);
  return absl::OkStatus();
}

size_t ReplayCache::size() const {
  size_t total = 0;
  for (size_t i = 0; i < shard_count_; ++i) {
    absl::MutexLock lock(&shards_[i].mu);
    total += shards_[i].entries.size();
  }
  return total;
}

}  // namespace writ::issuer
