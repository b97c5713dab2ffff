// GrpcApi: the writ.v1 gRPC services (proto/writ/v1/writ.proto). Like the
// HTTP surface it only translates: absl status codes map 1:1 onto gRPC codes,
// and the RFC 6749 error code rides in "writ-oauth-error" trailing metadata.
#ifndef WRIT_ISSUER_API_GRPC_API_H_
#define WRIT_ISSUER_API_GRPC_API_H_

#include <memory>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "issuer/src/config/issuer_config.h"
#include "issuer/src/exchange/token_exchange.h"

namespace grpc {
class Server;
class Service;
}  // namespace grpc

namespace writ::issuer {

class GrpcApi {
 public:
  // Start serves TokenService, PolicyService and LedgerService on `listener`
  // (port 0: any free port; TLS when it has a certificate). PolicyService and
  // LedgerService answer loopback peers only (PERMISSION_DENIED otherwise).
  // Returns kUnavailable when the port cannot be bound, kInvalidArgument for
  // unreadable TLS files. The pointers must outlive the GrpcApi. `clock` (null:
  // the system clock) is Explain's "now" when a request names no time.
  static absl::StatusOr<std::unique_ptr<GrpcApi>> Start(
      const ListenerConfig& listener, const LimitsConfig& limits, const TokenExchange* exchange,
      const PolicySource* policy, const Ledger* ledger, const Clock* clock = nullptr);
  ~GrpcApi();

  int port() const { return port_; }
  // Stop stops accepting and waits up to `grace` for calls in flight.
  void Stop(absl::Duration grace = absl::Seconds(10));

 private:
  GrpcApi() = default;
  std::unique_ptr<grpc::Service> token_service_, policy_service_, ledger_service_;
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
