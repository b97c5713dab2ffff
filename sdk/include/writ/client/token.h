// The vocabulary of asking Writ for a token: what is asked (TokenRequest) and
// what comes back (Token). Used by Client (one exchange) and TokenCache
// (cached, refreshed in the background).
#ifndef WRIT_CLIENT_TOKEN_H_
#define WRIT_CLIENT_TOKEN_H_

#include <optional>
#include <string>
#include <vector>

#include "absl/time/time.h"

namespace writ {

// TokenRequest says which Writ token to get.
struct TokenRequest {
  // audience is the relying party the token is for ("https://deploy.acme.example").
  // Default: empty (the policy's default audience).
  std::string audience;
  // scopes asked for; the policy may grant fewer, never more. Default: none.
  std::vector<std::string> scopes;
  // lifetime asked for; the policy caps it. Default: unset (the policy's default).
  std::optional<absl::Duration> lifetime;
  // actor_token is the delegating party's token (RFC 8693 actor_token): the
  // issued token's "act" claim names it. Default: empty (no delegation).
  std::string actor_token;

  // Key is the cache key: audience, sorted scopes, lifetime and a digest of
  // the actor token. Two requests with the same Key get the same token.
  std::string Key() const;
};

// Token is an issued Writ token.
struct Token {
  // access_token is the signed JWT. Never log it.
  std::string access_token;
  // token_type is "Bearer" (RFC 8693 issued_token_type is an access token).
  std::string token_type;
  // scopes are the scopes granted (may be fewer than asked).
  std::vector<std::string> scopes;
  // issued_at is when the client received it; expires_at is issued_at +
  // expires_in.
  absl::Time issued_at;
  absl::Time expires_at;
};

}  // namespace writ

#endif  // WRIT_CLIENT_TOKEN_H_
