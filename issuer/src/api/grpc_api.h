// GrpcApi: the writ.v1 gRPC services (proto/writ/v1/writ.proto). Like the
// HTTP surface it only translates: absl status codes map 1:1 onto gRPC codes,
// and the RFC 6749 error code rides in "writ-oauth-error" trailing metadata.
#ifndef WRIT_ISSUER_API_GRPC_API_H_
#define WRIT_ISSUER_API_GRPC_API_H_

#include <atomic>
#include <memory>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "issuer/src/config/issuer_config.h"
#include "issuer/src/exchange/certificate_exchange.h"
#include "issuer/src/exchange/token_exchange.h"
#include "issuer/src/keys/key_manager.h"

namespace grpc {
class Server;
class Service;
}  // namespace grpc

namespace writ::issuer {

class WorkPool;

// GrpcServices are what the gRPC services call. Not owned; every pointer
// must outlive the GrpcApi.
struct GrpcServices {
  // TokenService. Required.
  const TokenExchange* tokens = nullptr;
  // PolicyService. Required.
  const PolicySource* policy = nullptr;
  // LedgerService. Required.
  const Ledger* ledger = nullptr;
  // CertificateService's minting and renewal. Default: null (not served).
  const CertificateExchange* certificates = nullptr;
  // KeyService and CertificateService.GetTrustBundle. Default: null (not
  // served).
  KeyManager* keys = nullptr;
  // Explain's "now" when a request names no time. Default: null (the system
  // clock).
  const Clock* clock = nullptr;
};

class GrpcApi {
 public:
  // Start serves TokenService, PolicyService, LedgerService and, when given,
  // CertificateService and KeyService on `listener` (port 0: any free port;
  // TLS when it has a certificate). PolicyService, LedgerService and
  // KeyService answer loopback peers only (PERMISSION_DENIED otherwise).
  // With TLS, a client certificate is requested but not verified by the TLS
  // layer (the handshake still proves its key): RenewX509Svid verifies it
  // against the trust bundle in force at the call, so a CA rotation needs no
  // restart. TokenService and CertificateService are on gRPC's callback API:
  // what may block (issuance whose attestation may fetch keys) runs on a pool
  // of limits.http_threads workers (4096 queued at most, then UNAVAILABLE),
  // and calls are finished once the ledger has the record, so neither holds
  // a gRPC thread. Returns kUnavailable when the port cannot be bound,
  // kInvalidArgument for unreadable TLS files or missing services.
  static absl::StatusOr<std::unique_ptr<GrpcApi>> Start(const ListenerConfig& listener,
                                                        const LimitsConfig& limits,
                                                        const GrpcServices& services);
  ~GrpcApi();

  int port() const { return port_; }
  // Stop stops accepting and waits up to `grace` for calls in flight, then
  // cancels the rest and waits until every call is finished. Work still
  // queued on the pool (certificate issuance, token exchanges waiting to
  // fetch keys) is answered UNAVAILABLE ("temporarily_unavailable") without
  // being attested, issued or recorded; work already running finishes.
  void Stop(absl::Duration grace = absl::Seconds(10));

 private:
  friend class GrpcApiTestPeer;  // tests: the pool

  GrpcApi() = default;
  // stopping_: set by Stop before the server shuts down; queued pool work
  // reads it (grpc_internal::SubmitForCall).
  std::atomic<bool> stopping_{false};
  // pool_: where TokenService and CertificateService run what may block.
  // After Stop() no call is left to submit to it or be answered by it.
  std::unique_ptr<WorkPool> pool_;
  std::unique_ptr<grpc::Service> token_service_, policy_service_, ledger_service_,
      certificate_service_, key_service_;
  std::unique_ptr<grpc::Server> server_;
  int port_ = 0;
};

// IsLoopbackPeer is true for a gRPC peer string of a loopback address
// ("ipv4:127.0.0.1:5000", "ipv6:[::1]:5000", "unix:...").
bool IsLoopbackPeer(absl::string_view peer);

// PeerAddress returns the IP of a gRPC peer string, without the port.
std::string PeerAddress(absl::string_view peer);

}  // namespace writ::issuer

#endif  // WRIT_ISSUER_API_GRPC_API_H_
