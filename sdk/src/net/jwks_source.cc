#include "writ/net/jwks_source.h"

#include <utility>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/strip.h"
#include "rapidjson/document.h"
#include "rapidjson/error/en.h"
#include "writ/base/status_macros.h"
#include "writ/net/fetch_url.h"

namespace writ {
namespace {

constexpr absl::string_view kDiscoveryPath = "/.well-known/openid-configuration";

absl::Status ConfigError(const JwksSourceOptions& config, absl::string_view field,
                         absl::string_view why) {
  return absl::InvalidArgumentError(absl::StrCat(config.label, ": ", field, ": ", why));
}

absl::StatusOr<JwkSet> ParseJwks(const JwksSourceOptions& config, absl::string_view json) {
  JwkParseOptions options;
  options.max_document_bytes = std::max<size_t>(config.max_response_bytes, json.size());
  ASSIGN_OR_RETURN(JwkSet keys, JwkSet::Parse(json, options));
  if (keys.keys().empty()) {
    return absl::InvalidArgumentError("the JWKS has no usable verification key");
  }
  return keys;
}

std::string SourceName(const JwksSourceOptions& config) {
  if (!config.static_jwks.empty()) return "static_jwks";
  if (!config.jwks_uri.empty()) return "jwks_uri";
  return "discovery";
}

}  // namespace

absl::StatusOr<std::unique_ptr<JwksSource>> JwksSource::New(JwksSourceOptions config,
                                                            HttpFetcher* fetcher,
                                                            const Clock* clock) {
  if (clock == nullptr) clock = &Clock::Real();
  if (config.jwks_ttl <= absl::ZeroDuration()) {
    return ConfigError(config, "jwks_ttl", "must be positive");
  }
  if (config.refresh_cooldown < absl::ZeroDuration()) {
    return ConfigError(config, "refresh_cooldown", "must not be negative");
  }
  if (config.stale_keys_max < absl::ZeroDuration()) {
    return ConfigError(config, "stale_keys_max", "must not be negative");
  }
  if (config.connect_timeout <= absl::ZeroDuration()) {
    return ConfigError(config, "connect_timeout", "must be positive");
  }
  if (config.fetch_timeout <= absl::ZeroDuration()) {
    return ConfigError(config, "fetch_timeout", "must be positive");
  }
  if (config.max_response_bytes == 0) {
    return ConfigError(config, "max_response_bytes", "must be positive");
  }
  if (config.max_fetch_waiters < 0) {
    return ConfigError(config, "max_fetch_waiters", "must not be negative");
  }
  std::unique_ptr<JwksSource> keys(new JwksSource(config, fetcher, clock));
  if (!config.static_jwks.empty()) {
    absl::StatusOr<JwkSet> parsed = ParseJwks(config, config.static_jwks);
    if (!parsed.ok()) return ConfigError(config, "static_jwks", parsed.status().message());
    absl::MutexLock lock(&keys->mu_);
    keys->keys_ = std::make_shared<const JwkSet>(*std::move(parsed));
    return keys;
  }
  if (fetcher == nullptr) {
    return ConfigError(config, "static_jwks", "is empty and no HTTP fetcher was given");
  }
  if (!config.jwks_uri.empty()) {
    absl::Status url = ParseFetchUrl(config.jwks_uri).status();
    if (!url.ok()) return ConfigError(config, "jwks_uri", url.message());
    absl::MutexLock lock(&keys->mu_);
    keys->jwks_uri_ = config.jwks_uri;
  } else {
    absl::Status url = ParseFetchUrl(config.issuer).status();
    if (!url.ok()) return ConfigError(config, "issuer", url.message());
  }
  return keys;
}

absl::Status JwksSource::Unavailable(absl::string_view why) const {
  return absl::UnavailableError(
      absl::StrCat("keys of ", options_.label, " are unavailable: ", why));
}

absl::Status JwksSource::Busy() const {
  return absl::UnavailableError(
      absl::StrCat("the keys of ", options_.label, " are being fetched; try again"));
}

absl::Status JwksSource::NotNow() const {
  // A caller that may wait would be refused anyway: say so now, not later on
  // the thread it would move to.
  if (WaitersFull()) return Busy();
  return absl::AbortedError(absl::StrCat("the keys of ", options_.label, " must be fetched first"));
}

absl::StatusOr<std::shared_ptr<const JwkSet>> JwksSource::Keys(KeyFetch fetch) {
  absl::MutexLock lock(&mu_);
  if (!options_.static_jwks.empty()) return keys_;
  absl::Time now = clock_->Now();
  if (keys_ != nullptr && now < fetched_at_ + options_.jwks_ttl) return keys_;
  const auto usable_stale = [&]() ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_) {
    return keys_ != nullptr && now < fetched_at_ + options_.jwks_ttl + options_.stale_keys_max;
  };
  // Another caller is refreshing: stale keys serve meanwhile rather than
  // making this caller wait for a slow issuer.
  if (!idle_ && usable_stale()) return keys_;
  // A failed fetch is not retried before refresh_cooldown, so a dead issuer
  // costs one timeout per cooldown, not one per request.
  if (idle_ && !last_status_.ok() && now < last_attempt_ + options_.refresh_cooldown) {
    if (usable_stale()) return keys_;
    return Unavailable(last_status_.message());
  }
  if (fetch == KeyFetch::kNotNow) return NotNow();
  const absl::Status fetched = FetchLocked();
  now = clock_->Now();
  if (keys_ != nullptr && now < fetched_at_ + options_.jwks_ttl) return keys_;
  if (usable_stale()) return keys_;
  if (!fetched.ok()) return Unavailable(fetched.message());
  return Unavailable(absl::StrCat("keys fetched at ", absl::FormatTime(fetched_at_),
                                  " are already past jwks_ttl"));
}

absl::StatusOr<std::shared_ptr<const JwkSet>> JwksSource::KeysAfterUnknownKid(
    const std::shared_ptr<const JwkSet>& seen, KeyFetch fetch) {
  absl::MutexLock lock(&mu_);
  if (!options_.static_jwks.empty()) {
    return absl::NotFoundError("the issuer's keys are static (static_jwks)");
  }
  if (keys_ != nullptr && keys_ != seen) return keys_;  // Someone refreshed already.
  if (!idle_) {
    if (fetch == KeyFetch::kNotNow) return NotNow();
    // Share the fetch in flight instead of starting another.
    const absl::Status fetched = FetchLocked();
    if (!fetched.ok()) return Unavailable(fetched.message());
    return keys_;
  }
  const absl::Time now = clock_->Now();
  if (now < last_kid_refresh_ + options_.refresh_cooldown) {
    return absl::NotFoundError(absl::StrCat("keys were refreshed less than ",
                                            absl::FormatDuration(options_.refresh_cooldown),
                                            " ago (refresh_cooldown)"));
  }
  if (fetch == KeyFetch::kNotNow) return NotNow();
  last_kid_refresh_ = now;
  const absl::Status fetched = FetchLocked();
  if (!fetched.ok()) return Unavailable(fetched.message());
  return keys_;
}

absl::Status JwksSource::FetchLocked() {
  if (!idle_) {
    // Waiting callers hold server threads that other issuers' requests need:
    // past a few, answer "try again" at once instead of queueing behind a
    // slow issuer.
    if (WaitersFull()) return Busy();
    ++waiters_;
    mu_.Await(absl::Condition(&idle_));
    --waiters_;
    return last_status_;
  }
  idle_ = false;
  ++fetches_;
  const absl::Time started = clock_->Now();
  last_attempt_ = started;
  const bool discover = options_.jwks_uri.empty() &&
                        (jwks_uri_.empty() || started >= discovered_at_ + options_.jwks_ttl);
  std::string uri = discover ? std::string() : jwks_uri_;

  // The network part runs without mu_: State() and the other issuers never
  // wait for it; callers of this issuer that must have keys wait on idle_.
  mu_.Unlock();
  absl::StatusOr<std::shared_ptr<const JwkSet>> fetched = FetchKeys(&uri);
  mu_.Lock();

  idle_ = true;
  if (fetched.ok()) {
    keys_ = *std::move(fetched);
    fetched_at_ = clock_->Now();
    jwks_uri_ = uri;
    if (discover) discovered_at_ = started;
    last_status_ = absl::OkStatus();
  } else {
    last_status_ = fetched.status();
    // The JWKS URL may have moved: discover again on the next attempt.
    if (options_.jwks_uri.empty()) discovered_at_ = absl::InfinitePast();
  }
  return last_status_;
}

absl::StatusOr<std::string> JwksSource::GetJson(absl::string_view what, absl::string_view url) {
  FetchLimits limits;
  limits.connect_timeout = options_.connect_timeout;
  limits.total_timeout = options_.fetch_timeout;
  limits.max_bytes = options_.max_response_bytes;
  absl::StatusOr<HttpResponse> response = fetcher_->Get(url, limits);
  if (!response.ok()) {
    return absl::UnavailableError(
        absl::StrCat("fetching the ", what, " failed: ", response.status().message()));
  }
  if (response->status != 200) {
    return absl::UnavailableError(
        absl::StrCat("fetching the ", what, " from ", url, " got HTTP ", response->status));
  }
  return std::move(response->body);
}

absl::StatusOr<std::string> JwksSource::Discover() {
  const std::string url = absl::StrCat(absl::StripSuffix(options_.issuer, "/"), kDiscoveryPath);
  ASSIGN_OR_RETURN(std::string body, GetJson("discovery document", url));
  rapidjson::Document doc;
  doc.Parse(body.data(), body.size());
  if (doc.HasParseError() || !doc.IsObject()) {
    return absl::UnavailableError(
        absl::StrCat("the discovery document from ", url, " is not a JSON object"));
  }
  const rapidjson::Value& root = doc;  // const iterators: clang -Wambiguous-reversed-operator
  const auto issuer = root.FindMember("issuer");
  if (issuer == root.MemberEnd() || !issuer->value.IsString()) {
    return absl::UnavailableError(
        absl::StrCat("the discovery document from ", url, " has no \"issuer\" string"));
  }
  const absl::string_view named(issuer->value.GetString(), issuer->value.GetStringLength());
  if (named != options_.issuer) {
    return absl::UnavailableError(absl::StrCat("the discovery document from ", url,
                                               " names issuer \"", named.substr(0, 200),
                                               "\", not the configured \"", options_.issuer, "\""));
  }
  const auto jwks_uri = root.FindMember("jwks_uri");
  if (jwks_uri == root.MemberEnd() || !jwks_uri->value.IsString()) {
    return absl::UnavailableError(
        absl::StrCat("the discovery document from ", url, " has no \"jwks_uri\" string"));
  }
  std::string uri(jwks_uri->value.GetString(), jwks_uri->value.GetStringLength());
  absl::StatusOr<FetchUrl> keys_at = ParseFetchUrl(uri);
  if (!keys_at.ok()) {
    return absl::UnavailableError(
        absl::StrCat("the discovery document from ", url,
                     " has an unacceptable jwks_uri: ", keys_at.status().message()));
  }
  // A remote issuer's document must not point this process at its own
  // loopback services (the answer, a status or a connect error, would show).
  absl::StatusOr<FetchUrl> issuer_at = ParseFetchUrl(options_.issuer);
  if (IsLoopbackHost(keys_at->host) && (!issuer_at.ok() || !IsLoopbackHost(issuer_at->host))) {
    return absl::UnavailableError(absl::StrCat("the discovery document from ", url,
                                               " has a jwks_uri on a loopback host, and the "
                                               "issuer is not on one: refused"));
  }
  return uri;
}

absl::StatusOr<std::shared_ptr<const JwkSet>> JwksSource::FetchKeys(std::string* jwks_uri) {
  if (jwks_uri->empty()) {
    ASSIGN_OR_RETURN(*jwks_uri, Discover());
  }
  ASSIGN_OR_RETURN(std::string body, GetJson("JWKS", *jwks_uri));
  absl::StatusOr<JwkSet> keys = ParseJwks(options_, body);
  if (!keys.ok()) {
    return absl::UnavailableError(
        absl::StrCat("the JWKS from ", *jwks_uri, " is invalid: ", keys.status().message()));
  }
  return std::make_shared<const JwkSet>(*std::move(keys));
}

JwksSourceState JwksSource::State() const {
  absl::MutexLock lock(&mu_);
  JwksSourceState state;
  state.source = SourceName(options_);
  state.jwks_uri = jwks_uri_;
  state.key_count = keys_ != nullptr ? keys_->keys().size() : 0;
  state.last_fetch = fetched_at_;
  state.fetches = fetches_;
  state.last_error = std::string(last_status_.message());
  if (!options_.static_jwks.empty()) {
    state.ready = true;
  } else {
    state.ready = keys_ != nullptr &&
                  clock_->Now() < fetched_at_ + options_.jwks_ttl + options_.stale_keys_max;
  }
  return state;
}

}  // namespace writ
