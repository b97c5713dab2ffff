// JwtMinter: Writ's JWT access tokens (RFC 9068, "typ":"at+jwt").
#ifndef WRIT_ISSUER_MINT_JWT_MINTER_H_
#define WRIT_ISSUER_MINT_JWT_MINTER_H_

#include <string>
#include <utility>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "absl/time/time.h"
#include "issuer/src/keys/key_manager.h"
#include "writ/base/clock.h"

namespace writ::issuer {

// ActorRef names one party of a delegation chain ("act", RFC 8693 4.1).
struct ActorRef {
  std::string subject;
  std::string issuer;
};

// MintRequest is everything a minted token says. The policy decided it.
struct MintRequest {
  std::string subject;
  std::string audience;
  std::vector<std::string> scopes;
  absl::Duration lifetime;
  // client_id (RFC 9068 section 2.2): the attested workload, as
  // "<trusted issuer name>:<subject>".
  std::string client_id;
  // The attestation: issuer URL, subject, and the facts the rule copies.
  std::string attested_issuer;
  std::string attested_subject;
  std::vector<std::pair<std::string, std::string>> facts;
  // rule is the policy rule that granted the token.
  std::string rule;
  // actors is the delegation chain, current actor first: actors[0] becomes
  // the outer "act", actors[1] the "act" inside it, and so on.
  std::vector<ActorRef> actors;
};

// MintedToken is a signed token and what the ledger keeps of it.
struct MintedToken {
  std::string token;  // secret: never log it
  std::string jti;
  absl::Time issued_at;
  absl::Time expires_at;
  // sha256_hex is the SHA-256 of `token`, lowercase hex (for the ledger).
  std::string sha256_hex;
  // kid of the key that signed it (the ledger's signing_key).
  std::string kid;
};

// JwtMinter signs access tokens with the KeyManager's current JWT signer.
// Claims: iss, sub, aud (one value), exp, iat, nbf, jti (128 random bits),
// client_id, scope (space-separated), act (when delegated), and
//   "attest": {"iss": ..., "sub": ..., "claims": {facts}}, "writ_rule": rule.
// Thread-safe; `keys` and `clock` must outlive it.
class JwtMinter {
 public:
  JwtMinter(std::string issuer_url, const KeyManager* keys, const Clock* clock)
      : issuer_url_(std::move(issuer_url)), keys_(keys), clock_(clock) {}

  // Mint returns a signed token. kInvalidArgument for an empty subject or
  // audience or a lifetime under 1 s; kInternal when signing fails.
  absl::StatusOr<MintedToken> Mint(const MintRequest& request) const;

  const std::string& issuer_url() const { return issuer_url_; }

 private:
  std::string issuer_url_;
  const KeyManager* keys_;
  const Clock* clock_;
};

}  // namespace writ::issuer

#endif  // WRIT_ISSUER_MINT_JWT_MINTER_H_
