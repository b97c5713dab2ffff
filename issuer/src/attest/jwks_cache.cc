#include "issuer/src/attest/jwks_cache.h"

#include <utility>

#include "absl/strings/str_cat.h"
#include "writ/base/status_macros.h"

namespace writ::issuer {

JwksSourceOptions KeySourceOptions(const TrustedIssuerConfig& config) {
  JwksSourceOptions o;
  o.label = absl::StrCat("trusted issuer \"", config.name, "\"");
  o.issuer = config.issuer;
  o.jwks_uri = config.jwks_uri;
  o.static_jwks = config.static_jwks;
  o.jwks_ttl = config.jwks_ttl;
  o.refresh_cooldown = config.refresh_cooldown;
  o.stale_keys_max = config.stale_keys_max;
  o.connect_timeout = config.connect_timeout;
  o.fetch_timeout = config.fetch_timeout;
  o.max_response_bytes = config.max_response_bytes;
  // Callers that wait for this issuer's fetch hold work-pool threads that
  // other issuers' exchanges need (an exchange moves to the pool to wait):
  // beyond the fetcher and two waiters, "try again" at once.
  o.max_fetch_waiters = kMaxFetchWaitersPerIssuer;
  return o;
}

absl::StatusOr<std::unique_ptr<JwksCache>> JwksCache::New(
    const std::vector<TrustedIssuerConfig>& configs, HttpFetcher* fetcher, const Clock* clock) {
  std::unique_ptr<JwksCache> cache(new JwksCache());
  for (const TrustedIssuerConfig& config : configs) {
    ASSIGN_OR_RETURN(std::unique_ptr<IssuerKeys> keys,
                     JwksSource::New(KeySourceOptions(config), fetcher, clock));
    if (!cache->by_name_.emplace(config.name, keys.get()).second) {
      return absl::InvalidArgumentError(absl::StrCat(
          "trusted issuer \"", config.name, "\": name: is used by another trusted issuer"));
    }
    cache->issuers_.push_back(Entry{config.name, config.issuer, std::move(keys)});
  }
  return cache;
}

JwksCache::~JwksCache() {
  for (std::thread& t : warmers_) t.join();
}

IssuerKeys* JwksCache::Find(absl::string_view name) const {
  auto it = by_name_.find(name);
  return it == by_name_.end() ? nullptr : it->second;
}

std::vector<IssuerKeyState> JwksCache::States() const {
  std::vector<IssuerKeyState> states;
  states.reserve(issuers_.size());
  for (const Entry& e : issuers_) {
    IssuerKeyState state;
    static_cast<JwksSourceState&>(state) = e.keys->State();
    state.name = e.name;
    state.issuer = e.issuer;
    states.push_back(std::move(state));
  }
  return states;
}

void JwksCache::StartWarmUp() {
  if (!warmers_.empty()) return;
  for (const Entry& e : issuers_) {
    if (!e.keys->options().static_jwks.empty()) continue;
    IssuerKeys* k = e.keys.get();
    warmers_.emplace_back([k] { (void)k->Keys(); });
  }
}

}  // namespace writ::issuer
