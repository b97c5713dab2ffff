#include "issuer/src/exchange/token_exchange.h"

#include <openssl/rand.h>

#include <algorithm>
#include <memory>
#include <optional>
#include <utility>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/synchronization/notification.h"
#include "writ/base/base64url.h"

namespace writ::issuer {
namespace {

bool IsJwtTokenType(absl::string_view type) {
  return type.empty() || type == kTokenTypeJwt || type == kTokenTypeIdToken;
}

// AttestationFailure maps an Attestor error onto the answer: the issuer's
// keys being unreachable is our outage (503), anything else is the caller's
// bad grant.
std::pair<absl::Status, const char*> AttestationFailure(const absl::Status& s,
                                                        absl::string_view which) {
  std::string message = absl::StrCat(which, ": ", s.message());
  if (s.code() == absl::StatusCode::kUnavailable || s.code() == absl::StatusCode::kAborted) {
    return {absl::UnavailableError(message), "temporarily_unavailable"};
  }
  return {absl::UnauthenticatedError(message), "invalid_grant"};
}

// ReadActChain returns the "act" chain of `claims`, outermost (current) actor
// first, as far as kMaxActDepth levels; a deeper chain is reported by one
// extra entry so the depth cap still refuses it.
std::vector<ActorRef> ReadActChain(const JwtClaims& claims) {
  std::vector<ActorRef> chain;
  auto add = [&chain](std::optional<absl::string_view> sub, std::optional<absl::string_view> iss) {
    if (!sub.has_value()) return false;
    chain.push_back({std::string(*sub), std::string(iss.value_or(""))});
    return true;
  };
  if (!add(claims.GetStringAt({"act", "sub"}), claims.GetStringAt({"act", "iss"}))) return chain;
  if (!add(claims.GetStringAt({"act", "act", "sub"}), claims.GetStringAt({"act", "act", "iss"}))) {
    return chain;
  }
  if (!add(claims.GetStringAt({"act", "act", "act", "sub"}),
           claims.GetStringAt({"act", "act", "act", "iss"}))) {
    return chain;
  }
  if (!add(claims.GetStringAt({"act", "act", "act", "act", "sub"}),
           claims.GetStringAt({"act", "act", "act", "act", "iss"}))) {
    return chain;
  }
  if (claims.GetStringAt({"act", "act", "act", "act", "act", "sub"}).has_value()) {
    chain.push_back({"(deeper actors)", ""});
  }
  return chain;
}

// Answer is what an exchange answers once its record is durable: the result
// so far, the status it ends with, and the identities to release (see
// Attestor::Forget) when it then fails through our fault.
struct Answer {
  ExchangeResult out;
  absl::Status status;
  const char* oauth_error = "";
  Attestor* attestor = nullptr;
  std::optional<AttestedIdentity> subject;
  std::optional<AttestedIdentity> actor;
};

// Conclude turns `answer` into the result, given what the ledger said: no
// record, no answer but 503, and no token.
ExchangeResult Conclude(Answer answer, const absl::Status& recorded) {
  ExchangeResult& out = answer.out;
  if (recorded.ok()) {
    out.status = std::move(answer.status);
    out.oauth_error = out.status.ok() ? "" : answer.oauth_error;
  } else {
    out.minted = MintedToken{};
    out.status = absl::UnavailableError(absl::StrCat(
        "the decision could not be recorded, so no credential is issued: ", recorded.message()));
    out.oauth_error = "temporarily_unavailable";
  }
  const absl::StatusCode code = out.status.code();
  if (code == absl::StatusCode::kUnavailable || code == absl::StatusCode::kInternal) {
    if (answer.subject.has_value()) answer.attestor->Forget(*answer.subject);
    if (answer.actor.has_value()) answer.attestor->Forget(*answer.actor);
  }
  return std::move(out);
}

}  // namespace

std::string NewRequestId() {
  unsigned char bytes[12];
  if (RAND_bytes(bytes, sizeof(bytes)) != 1) return "unknown";
  return Base64UrlEncode(absl::string_view(reinterpret_cast<const char*>(bytes), sizeof(bytes)));
}

ExchangeResult TokenExchange::Exchange(const ExchangeRequest& req,
                                       const RequestContext& ctx) const {
  std::optional<ExchangeResult> result;
  absl::Notification answered;
  ExchangeAsync(req, ctx, [&](ExchangeResult r) {
    result = std::move(r);
    answered.Notify();
  });
  answered.WaitForNotification();
  return *std::move(result);
}

void TokenExchange::ExchangeAsync(const ExchangeRequest& req, const RequestContext& ctx,
                                  ExchangeDone done) const {
  Run(req, ctx, std::move(done), KeyFetch::kAllowed, nullptr);
}

void TokenExchange::ExchangeNonBlocking(const ExchangeRequest& req, const RequestContext& ctx,
                                        ExchangeDone done, Offload offload) const {
  Run(req, ctx, std::move(done), KeyFetch::kNotNow, &offload);
}

void TokenExchange::Defer(const ExchangeRequest& req, const RequestContext& ctx, ExchangeDone done,
                          Offload offload) const {
  // If `offload` refuses the task, the task (and `done` in it) is dropped:
  // answer through a second handle.
  auto shared = std::make_shared<ExchangeDone>(std::move(done));
  if (offload([this, req, ctx, shared] { ExchangeAsync(req, ctx, std::move(*shared)); })) return;
  // No request id: nothing is recorded, so an id would name no record.
  ExchangeResult out;
  out.status = absl::UnavailableError("the issuer is busy; retry in a moment");
  out.oauth_error = "temporarily_unavailable";
  std::move (*shared)(std::move(out));
}

void TokenExchange::Run(const ExchangeRequest& req, const RequestContext& ctx, ExchangeDone done,
                        KeyFetch fetch, const Offload* offload) const {
  ExchangeResult out;
  out.request_id = NewRequestId();
  auto reject = [&](absl::Status status, const char* oauth_error) {
    out.status = std::move(status);
    out.oauth_error = oauth_error;
    std::move(done)(std::move(out));
  };

  // Malformed requests are answered without a ledger entry: nothing was
  // decided about anyone.
  if (req.subject_token.empty()) {
    return reject(absl::InvalidArgumentError("subject_token is required"), "invalid_request");
  }
  if (!IsJwtTokenType(req.subject_token_type)) {
    return reject(absl::InvalidArgumentError(absl::StrCat(
                      "subject_token_type \"", req.subject_token_type, "\" is not supported; use ",
                      kTokenTypeIdToken, " or ", kTokenTypeJwt)),
                  "invalid_request");
  }
  if (!req.requested_token_type.empty() && req.requested_token_type != kTokenTypeAccessToken &&
      req.requested_token_type != kTokenTypeJwt) {
    return reject(absl::InvalidArgumentError(
                      absl::StrCat("requested_token_type \"", req.requested_token_type,
                                   "\" is not supported; Writ issues ", kTokenTypeAccessToken)),
                  "invalid_request");
  }
  if (req.actor_token.empty() != req.actor_token_type.empty()) {
    return reject(
        absl::InvalidArgumentError("actor_token and actor_token_type must be given together"),
        "invalid_request");
  }
  if (!req.actor_token.empty() && !IsJwtTokenType(req.actor_token_type)) {
    return reject(absl::InvalidArgumentError(absl::StrCat(
                      "actor_token_type \"", req.actor_token_type, "\" is not supported")),
                  "invalid_request");
  }
  if (req.audiences.size() > 1) {
    return reject(absl::InvalidArgumentError(
                      "Writ mints one audience per token; ask for each audience separately"),
                  "invalid_target");
  }
  if (req.lifetime.has_value() && *req.lifetime <= absl::ZeroDuration()) {
    return reject(absl::InvalidArgumentError("requested lifetime must be positive"),
                  "invalid_request");
  }

  // A ledger that cannot record means no answer but 503: say so before the
  // attestation spends a one-time token.
  if (!ledger_->Healthy()) {
    return reject(absl::UnavailableError("the ledger cannot record decisions; no credential is "
                                         "issued until it can"),
                  "temporarily_unavailable");
  }

  LedgerRecord rec;
  rec.time = clock_->Now();
  rec.request_id = out.request_id;
  rec.transport = ctx.transport;
  rec.client_address = ctx.client_address;
  rec.requested_audience = req.audiences.empty() ? "" : req.audiences[0];
  rec.requested_scopes = req.scopes;
  rec.requested_lifetime = req.lifetime.value_or(absl::ZeroDuration());
  rec.credential_kind = "jwt";
  rec.decision = "deny";

  // What was attested so far (the subject; the actor, which is always
  // preq.actors.front()) is released again if the exchange then fails through
  // our fault (see Attestor::Forget); it is moved into the answer only when
  // the exchange finishes.
  PolicyRequest preq;
  absl::StatusOr<AttestedIdentity> identity;
  bool actor_attested = false;
  // Every answer from here on is recorded first, and `done` runs once the
  // ledger has it: no record, no answer but 503.
  auto finish = [&](absl::Status status, const char* oauth_error) {
    if (!status.ok()) {
      rec.error = oauth_error;
      if (rec.reasons.empty()) rec.reasons.push_back(std::string(status.message()));
    }
    Answer answer{std::move(out), std::move(status), oauth_error, attestor_};
    if (identity.ok()) answer.subject = *std::move(identity);
    if (actor_attested) answer.actor = std::move(preq.actors.front());
    ledger_->AppendAsync(
        rec, [answer = std::move(answer), done = std::move(done)](absl::Status recorded) mutable {
          std::move(done)(Conclude(std::move(answer), recorded));
        });
  };

  identity = attestor_->Attest(req.subject_token, fetch);
  if (identity.status().code() == absl::StatusCode::kAborted && offload != nullptr) {
    return Defer(req, ctx, std::move(done), *offload);  // keys must be fetched first
  }
  if (!identity.ok()) {
    auto [status, code] = AttestationFailure(identity.status(), "subject_token");
    return finish(status, code);
  }
  rec.attested_issuer = identity->issuer;
  rec.attested_subject = identity->subject;
  rec.attested_issuer_name = identity->issuer_name;

  preq.audience = rec.requested_audience;
  preq.scopes = req.scopes;
  preq.lifetime = req.lifetime;
  preq.client_address = ctx.client_address;
  preq.now = rec.time;
  if (!req.actor_token.empty()) {
    if (options_.max_delegation_depth < 1) {
      return finish(absl::PermissionDeniedError("delegation is disabled on this issuer"),
                    "access_denied");
    }
    absl::StatusOr<AttestedIdentity> actor = attestor_->Attest(req.actor_token, fetch);
    if (actor.status().code() == absl::StatusCode::kAborted && offload != nullptr) {
      attestor_->Forget(*identity);  // attested again there
      return Defer(req, ctx, std::move(done), *offload);
    }
    if (!actor.ok()) {
      auto [status, code] = AttestationFailure(actor.status(), "actor_token");
      return finish(status, code);
    }
    rec.actors.push_back(actor->subject);
    preq.actors.push_back(*std::move(actor));
    actor_attested = true;
  }
  // Prior actors (RFC 8693 4.1): a subject token that was itself delegated
  // carries its "act" chain; the new token keeps it, nested under the new
  // actor, and the whole chain counts against the depth cap.
  for (ActorRef& prior : ReadActChain(identity->claims)) {
    AttestedIdentity a;
    a.subject = std::move(prior.subject);
    a.issuer = std::move(prior.issuer);
    rec.actors.push_back(a.subject);
    preq.actors.push_back(std::move(a));
  }
  if (preq.actors.size() > static_cast<size_t>(std::max(0, options_.max_delegation_depth))) {
    return finish(absl::PermissionDeniedError(absl::StrCat(
                      "the delegation chain has ", preq.actors.size(),
                      " actors; this issuer allows at most ", options_.max_delegation_depth)),
                  "access_denied");
  }

  Decision decision = policy_->Decide(*identity, preq);
  rec.rule = decision.rule;
  rec.policy_file = decision.policy_file;
  rec.claims = decision.used_claims;
  if (!decision.allowed || !decision.grant.has_value()) {
    rec.reasons = decision.reasons;
    std::string summary = decision.reasons.empty() ? "no policy rule allows this request"
                                                   : absl::StrJoin(decision.reasons, "; ");
    return finish(absl::PermissionDeniedError(summary), DenyCodeName(decision.deny_code));
  }

  const Grant& grant = *decision.grant;
  MintRequest mreq;
  mreq.subject = grant.subject;
  mreq.audience = grant.audience;
  mreq.scopes = grant.scopes;
  mreq.lifetime = std::min(grant.lifetime, options_.max_lifetime);
  mreq.client_id = absl::StrCat(identity->issuer_name, ":", identity->subject);
  mreq.attested_issuer = identity->issuer;
  mreq.attested_subject = identity->subject;
  mreq.facts = grant.facts;
  mreq.rule = decision.rule;
  for (const AttestedIdentity& a : preq.actors) mreq.actors.push_back({a.subject, a.issuer});

  absl::StatusOr<MintedToken> minted = minter_->Mint(mreq);
  if (!minted.ok()) {
    return finish(absl::InternalError(absl::StrCat("minting failed: ", minted.status().message())),
                  "server_error");
  }
  rec.decision = "allow";
  rec.granted_subject = grant.subject;
  rec.granted_audience = grant.audience;
  rec.granted_scopes = grant.scopes;
  rec.granted_lifetime = mreq.lifetime;
  rec.jti = minted->jti;
  rec.credential_sha256 = minted->sha256_hex;
  rec.expires_at = minted->expires_at;
  rec.signing_key = minted->kid;
  out.minted = *std::move(minted);
  out.subject = grant.subject;
  out.audience = grant.audience;
  out.scopes = grant.scopes;
  out.rule = decision.rule;
  return finish(absl::OkStatus(), "");
}

}  // namespace writ::issuer
