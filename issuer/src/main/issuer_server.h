// IssuerServer: writ-issuer wired together from an IssuerConfig. Used by
// main.cc and, in-process on port 0, by the integration tests and benchmarks.
#ifndef WRIT_ISSUER_MAIN_ISSUER_SERVER_H_
#define WRIT_ISSUER_MAIN_ISSUER_SERVER_H_

#include <memory>
#include <ostream>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "issuer/src/config/issuer_config.h"
#include "issuer/src/exchange/certificate_exchange.h"
#include "issuer/src/exchange/token_exchange.h"
#include "issuer/src/keys/key_manager.h"
#include "issuer/src/ledger/ledger.h"
#include "writ/base/clock.h"

namespace writ::issuer {

class IssuerServer {
 public:
  // Start opens the data directory (keys, ledger), loads and self-tests the
  // policies, builds the attestor and serves HTTP and gRPC. A background
  // thread then calls KeyManager::RotateDue every keys.check_interval (none
  // when it is zero); a failure there is reported on stderr and retried at
  // the next check. Anything wrong
  // fails here with a message naming what (nothing half-started is left
  // running). `clock` null means the system clock.
  static absl::StatusOr<std::unique_ptr<IssuerServer>> Start(IssuerConfig config,
                                                             const Clock* clock = nullptr);
  ~IssuerServer();

  // Describe writes what the server listens on, where its data is, and which
  // issuers and policies are loaded. No secrets.
  void Describe(std::ostream& out) const;

  // ReloadPolicies loads the policy directory again. An invalid set, or one
  // whose self-tests fail, is refused with the errors; the set in force stays.
  absl::Status ReloadPolicies();

  // Readiness lists what is not ready (empty: ready): the ledger cannot
  // record. Trusted issuers' key states do not count (see IssuerKeyStates).
  std::vector<std::string> Readiness() const;

  // IssuerKeyStates describes each trusted issuer's keys, one line each (for
  // /readyz's body and operators). No key material.
  std::vector<std::string> IssuerKeyStates() const;

  // Stop stops the key schedule, stops accepting, finishes requests in
  // flight and closes the ledger.
  void Stop();

  int http_port() const;
  int grpc_port() const;
  const std::string& issuer_url() const;
  // ledger is for tests and tools; owned by the server.
  Ledger* ledger() const;
  // exchange is the pipeline the transports call, for in-process benchmarks
  // (bench/issuer_load --transport inproc); owned by the server.
  const TokenExchange* exchange() const;
  // certificates is the certificate pipeline; owned by the server.
  const CertificateExchange* certificates() const;
  // keys is the key manager, for tests and tools; owned by the server.
  KeyManager* keys() const;
  // key_schedule_ticks counts the scheduled rotation checks done (tests).
  int key_schedule_ticks() const;

  struct Parts;

 private:
  explicit IssuerServer(std::unique_ptr<Parts> parts);
  std::unique_ptr<Parts> parts_;
};

}  // namespace writ::issuer

#endif  // WRIT_ISSUER_MAIN_ISSUER_SERVER_H_
