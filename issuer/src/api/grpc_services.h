// Internals of GrpcApi shared by its .cc files: status translation, the
// operator check, the certificate and key services, and reading the mTLS
// peer's certificates. Not part of the API.
#ifndef WRIT_ISSUER_API_GRPC_SERVICES_H_
#define WRIT_ISSUER_API_GRPC_SERVICES_H_

#include <grpcpp/grpcpp.h>

#include <atomic>
#include <memory>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "issuer/src/api/work_pool.h"
#include "issuer/src/exchange/certificate_exchange.h"
#include "issuer/src/keys/key_manager.h"

namespace writ::issuer::grpc_internal {

// ToGrpc maps an absl status 1:1 onto a gRPC status.
grpc::Status ToGrpc(const absl::Status& s);

// Fail is ToGrpc with the RFC 6749 error code in "writ-oauth-error" trailing
// metadata (when `oauth` is not empty).
grpc::Status Fail(grpc::ServerContextBase* ctx, const absl::Status& s, absl::string_view oauth);

// OperatorOnly is OK for loopback peers and PERMISSION_DENIED naming `what`
// for anyone else.
grpc::Status OperatorOnly(grpc::ServerContext* ctx, absl::string_view what);

// SubmitForCall queues `work` for the call `ctx` on `pool`; false (the call
// untouched, `work` dropped) when the pool is full. When a pool thread gets
// to it, a call that was abandoned meanwhile (the server is stopping:
// `stopping`, which GrpcApi::Stop sets before shutting the server down; or
// the call is cancelled: the client went away, its deadline passed, or
// shutdown's grace ran out) is finished with UNAVAILABLE,
// "temporarily_unavailable" and no request id (nothing is recorded), and
// `work` is dropped unrun: issuing would spend a one-time token and record
// a credential nobody receives. Thread-safe.
bool SubmitForCall(WorkPool* pool, grpc::CallbackServerContext* ctx,
                   grpc::ServerUnaryReactor* reactor, const std::atomic<bool>* stopping,
                   WorkPool::Task work);

// PeerChainDer reads the call's TLS client certificate chain into a renewal
// request (peer_chain_der, leaf first, DER; or peer_certificate_error when
// gRPC's PEM of the leaf does not parse, which RenewSvid refuses and
// records). kUnauthenticated when the call is not over TLS or the client
// presented no certificate (not recorded: there is nothing to identify).
// Works for sync and callback calls alike.
absl::StatusOr<SvidRenewalRequest> PeerChainDer(const grpc::ServerContextBase& ctx);

// PeerChainFromProperties is PeerChainDer on the auth context's values: the
// transport security type, the leaf's PEM and the chain's PEM (empty when
// absent). Both fields of the result stay empty/OK when there is no TLS or no
// leaf. Chain certificates that do not parse are left out: renewal never
// trusts them (CertificateExchange::RenewSvid).
SvidRenewalRequest PeerChainFromProperties(absl::string_view security_type,
                                           absl::string_view leaf_pem, absl::string_view chain_pem);

// NewCertificateService serves writ.v1.CertificateService with `exchange`
// and `keys` (either may be null: its RPCs then answer UNIMPLEMENTED /
// UNAVAILABLE) on the callback API. Issuance runs on `pool` (required; a
// full pool is UNAVAILABLE, "temporarily_unavailable", with nothing
// recorded), and each call is finished once the ledger has its record.
// Issuance still queued when `stopping` (required) is set, or whose call is
// cancelled, is answered UNAVAILABLE without attesting or recording (see
// SubmitForCall). `pool` and `stopping` must outlive the server's calls.
std::unique_ptr<grpc::Service> NewCertificateService(const CertificateExchange* exchange,
                                                     const KeyManager* keys, WorkPool* pool,
                                                     const std::atomic<bool>* stopping);

// NewKeyService serves writ.v1.KeyService (operator-only) with `keys`.
std::unique_ptr<grpc::Service> NewKeyService(KeyManager* keys);

}  // namespace writ::issuer::grpc_internal

#endif  // WRIT_ISSUER_API_GRPC_SERVICES_H_
