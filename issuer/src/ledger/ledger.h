// Ledger: the durable record of every issuance decision.
#ifndef WRIT_ISSUER_LEDGER_LEDGER_H_
#define WRIT_ISSUER_LEDGER_LEDGER_H_

#include <cstddef>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "absl/functional/any_invocable.h"
#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "absl/time/time.h"

namespace writ::issuer {

// LedgerRecord is one decision. Never holds a token or a key: minted
// credentials are recorded by their SHA-256.
struct LedgerRecord {
  absl::Time time;
  // request_id is unique per request (assigned by the issuer).
  std::string request_id;
  // transport: "http" or "grpc".
  std::string transport;
  std::string client_address;
  // The attested identity; empty when attestation failed before it was known.
  std::string attested_issuer;
  std::string attested_subject;
  // attested_issuer_name: the trusted issuer's name in the configuration
  // ("github"), which policy rules refer to. Kept so an SVID renewal can ask
  // the policy again for the identity its original attestation proved.
  // Empty in records written before it existed.
  std::string attested_issuer_name;
  // actors: the delegation chain's subjects, innermost first.
  std::vector<std::string> actors;
  // claims the decision used, (name, value); for an allowed certificate also
  // the facts the rule copied into it (a renewal rebuilds the identity from
  // these).
  std::vector<std::pair<std::string, std::string>> claims;
  // What was asked.
  std::string requested_audience;
  std::vector<std::string> requested_scopes;
  absl::Duration requested_lifetime = absl::ZeroDuration();  // zero: not asked
  // What was granted (empty when denied).
  std::string granted_subject;
  std::string granted_audience;
  std::vector<std::string> granted_scopes;
  absl::Duration granted_lifetime = absl::ZeroDuration();
  // decision: "allow" or "deny".
  std::string decision;
  // error: the RFC 6749 error code of a denial ("invalid_grant",
  // "access_denied", "invalid_scope", "invalid_target", "invalid_request").
  std::string error;
  std::vector<std::string> reasons;
  // rule and policy_file that decided (empty when none).
  std::string rule;
  std::string policy_file;
  // credential_kind: "jwt", "x509-svid" or "ssh" (what was asked for).
  std::string credential_kind;
  // jti: the credential's id, unique and indexed (FindByJti): a JWT's "jti";
  // an X.509-SVID's serial (lowercase hex); an SSH certificate's serial
  // (decimal). For a certificate, granted_subject is its SPIFFE ID (X.509)
  // or the rule's granted subject (SSH; the certificate's key id,
  // "writ:<request_id>", when the rule grants none), and credential_sha256
  // its SHA-256 fingerprint (of the DER certificate, of the SSH certificate
  // blob).
  std::string jti;
  std::string credential_sha256;
  absl::Time expires_at = absl::InfinitePast();
  // principals of an SSH certificate, and the source addresses it is pinned
  // to (empty: none).
  std::vector<std::string> principals;
  std::vector<std::string> source_addresses;
  // renewed_from: for an X.509-SVID renewed over mTLS, the serial (hex) of
  // the SVID presented instead of an attestation; else empty.
  std::string renewed_from;
  // signing_key: the id of the key that signed the credential (JWT kid, CA
  // key id), so a key compromise maps to the credentials it signed.
  std::string signing_key;
};

// LedgerQuery selects records. Every set field must match.
struct LedgerQuery {
  // attested_subject or granted_subject equal to this. Default: any.
  std::string subject;
  // decision: "allow" or "deny". Default: any.
  std::string decision;
  // [since, until). Defaults: all time.
  absl::Time since = absl::InfinitePast();
  absl::Time until = absl::InfiniteFuture();
  // At most this many records, newest first. Default: 100.
  size_t limit = 100;
};

// Ledger stores records durably. Implementations are thread-safe.
class Ledger {
 public:
  virtual ~Ledger() = default;
  // Append stores `record` durably (on stable storage when it returns OK).
  // Returns kUnavailable when it cannot; the caller must then not hand out
  // any credential.
  virtual absl::Status Append(const LedgerRecord& record) = 0;

  // AppendDone receives what Append would have returned.
  using AppendDone = absl::AnyInvocable<void(absl::Status) &&>;

  // AppendAsync stores `record` as Append does, without waiting: `done` runs
  // once the record is durable (OK) or cannot be (the error Append would
  // return). `done` may run on the calling thread before AppendAsync returns,
  // or on a thread of the ledger's; it must not block, and must not wait on
  // another Append. The default runs Append inline.
  virtual void AppendAsync(const LedgerRecord& record, AppendDone done) {
    std::move(done)(Append(record));
  }
  // FindByJti returns the record of the credential with `jti`, or kNotFound.
  virtual absl::StatusOr<LedgerRecord> FindByJti(absl::string_view jti) const = 0;
  // Query returns matching records, newest first.
  virtual absl::StatusOr<std::vector<LedgerRecord>> Query(const LedgerQuery& query) const = 0;
  // Healthy is false once a write has failed or the store is closed.
  virtual bool Healthy() const = 0;
};

}  // namespace writ::issuer

#endif  // WRIT_ISSUER_LEDGER_LEDGER_H_
