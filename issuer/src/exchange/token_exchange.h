// TokenExchange: the issuance pipeline. Attest, decide, mint, record; the one
// place that strings the stages together. Transports (api/) call only this.
#ifndef WRIT_ISSUER_EXCHANGE_TOKEN_EXCHANGE_H_
#define WRIT_ISSUER_EXCHANGE_TOKEN_EXCHANGE_H_

#include <optional>
#include <string>
#include <vector>

#include "absl/functional/any_invocable.h"
#include "absl/functional/function_ref.h"
#include "absl/status/status.h"
#include "absl/time/time.h"
#include "issuer/src/attest/attestor.h"
#include "issuer/src/exchange/policy_source.h"
#include "issuer/src/ledger/ledger.h"
#include "issuer/src/mint/jwt_minter.h"
#include "writ/base/clock.h"

namespace writ::issuer {

// Token type URIs (RFC 8693 section 3).
inline constexpr char kTokenTypeJwt[] = "urn:ietf:params:oauth:token-type:jwt";
inline constexpr char kTokenTypeIdToken[] = "urn:ietf:params:oauth:token-type:id_token";
inline constexpr char kTokenTypeAccessToken[] = "urn:ietf:params:oauth:token-type:access_token";
inline constexpr char kGrantTypeTokenExchange[] = "urn:ietf:params:oauth:grant-type:token-exchange";

// ExchangeRequest is an RFC 8693 request, already decoded by a transport.
struct ExchangeRequest {
  std::string subject_token;       // secret: never log it
  std::string subject_token_type;  // empty: jwt
  // audiences holds every "audience" and "resource" value; Writ mints one
  // audience per token, so more than one is invalid_target.
  std::vector<std::string> audiences;
  std::vector<std::string> scopes;
  std::optional<absl::Duration> lifetime;
  std::string requested_token_type;  // empty: access_token
  std::string actor_token;           // secret
  std::string actor_token_type;
};

// RequestContext is what the transport knows about the caller.
struct RequestContext {
  std::string transport;       // "http" or "grpc"
  std::string client_address;  // IP, no port
};

// ExchangeResult is a minted token, or the error to answer with.
struct ExchangeResult {
  // status: OK, or kInvalidArgument (malformed), kUnauthenticated (bad
  // attestation), kPermissionDenied (policy), kUnavailable (ledger or issuer
  // keys), kInternal.
  absl::Status status;
  // oauth_error is the RFC 6749 5.2 / RFC 8693 2.2.2 code for a failure:
  // invalid_request, invalid_grant, access_denied, invalid_scope,
  // invalid_target, temporarily_unavailable, server_error.
  std::string oauth_error;
  // request_id is the id of the request (and of its ledger record, when it
  // has one). Empty when ExchangeNonBlocking's offload refused the exchange:
  // it was never taken on.
  std::string request_id;
  // Set on success.
  MintedToken minted;
  std::string subject;
  std::string audience;
  std::vector<std::string> scopes;
  std::string rule;
};

struct TokenExchangeOptions {
  // Global cap on any lifetime. Default: 1 h.
  absl::Duration max_lifetime = absl::Hours(1);
  // Longest delegation chain. Default: 4.
  int max_delegation_depth = 4;
};

// TokenExchange runs one exchange end to end. Every request that gets past
// decoding is recorded in the ledger, allowed or denied, before the answer;
// when the ledger cannot record, the answer is kUnavailable and no token
// leaves. Thread-safe; the stages must outlive it.
class TokenExchange {
 public:
  TokenExchange(Attestor* attestor, const PolicySource* policy, const JwtMinter* minter,
                Ledger* ledger, const Clock* clock, TokenExchangeOptions options = {})
      : attestor_(attestor),
        policy_(policy),
        minter_(minter),
        ledger_(ledger),
        clock_(clock),
        options_(options) {}

  ExchangeResult Exchange(const ExchangeRequest& request, const RequestContext& context) const;

  using ExchangeDone = absl::AnyInvocable<void(ExchangeResult) &&>;

  // ExchangeAsync is Exchange without the wait for the ledger: attestation,
  // policy and minting run on the calling thread (attestation may block on a
  // fetch of the attesting issuer's keys), then the record is handed to the
  // ledger and ExchangeAsync returns. `done` gets the result once the ledger
  // has recorded it, on the ledger's thread; or on the calling thread, before
  // ExchangeAsync returns, for a request answered without a record or a
  // ledger that answers inline. `done` must not block.
  void ExchangeAsync(const ExchangeRequest& request, const RequestContext& context,
                     ExchangeDone done) const;

  // Offload runs a task on a thread that may block (a WorkPool), or returns
  // false when it cannot take one now.
  using Offload = absl::FunctionRef<bool(absl::AnyInvocable<void() &&>)>;

  // ExchangeNonBlocking is ExchangeAsync for a thread that must not block (an
  // event loop, gRPC's callback threads). It runs on the calling thread while
  // the attesting issuers' keys are at hand, which is almost always, and so
  // costs no hand-off. When keys must be fetched first it hands the exchange
  // to `offload` (nothing is recorded or remembered yet), where it runs as
  // ExchangeAsync. If `offload` refuses, `done` gets kUnavailable
  // ("temporarily_unavailable") at once, without a record or a request id.
  void ExchangeNonBlocking(const ExchangeRequest& request, const RequestContext& context,
                           ExchangeDone done, Offload offload) const;

 private:
  // Run is ExchangeAsync (`offload` null, fetch kAllowed) or
  // ExchangeNonBlocking (fetch kNotNow).
  void Run(const ExchangeRequest& req, const RequestContext& ctx, ExchangeDone done, KeyFetch fetch,
           const Offload* offload) const;
  // Defer runs the exchange on `offload`, or answers 503 when it refuses.
  void Defer(const ExchangeRequest& req, const RequestContext& ctx, ExchangeDone done,
             Offload offload) const;

  Attestor* attestor_;
  const PolicySource* policy_;
  const JwtMinter* minter_;
  Ledger* ledger_;
  const Clock* clock_;
  TokenExchangeOptions options_;
};

// NewRequestId returns 96 random bits, base64url.
std::string NewRequestId();

}  // namespace writ::issuer

#endif  // WRIT_ISSUER_EXCHANGE_TOKEN_EXCHANGE_H_
