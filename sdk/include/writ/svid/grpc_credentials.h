// Rotating SPIFFE mTLS for gRPC: channel and server credentials that always
// present an X509Source's current SVID and trust its current bundle, without
// rebuilding channels or restarting servers.
//
//   // Server: accept only the frontend of the same trust domain.
//   auto source = writ::X509Source::New(issuer);             // check .ok()
//   auto creds = writ::SvidServerCredentials(
//       **source, {.allowed_ids = {"spiffe://acme.example/frontend"}});
//   grpc::ServerBuilder builder;
//   builder.AddListeningPort("0.0.0.0:8443", *creds);
//   // In a handler: writ::PeerSpiffeId(*context->auth_context())
//
//   // Client: talk to the backend, whatever its address.
//   auto creds = writ::SvidChannelCredentials(
//       **source, {.allowed_ids = {"spiffe://acme.example/backend"}});
//   auto channel = grpc::CreateChannel("backend.internal:8443", *creds);
//
// How it works: gRPC 1.51 has no public C++ hook for a custom certificate
// provider, so the source writes its key and chain, and its bundle, into two
// anonymous in-memory files (memfd; never on disk) that gRPC's
// FileWatcherCertificateProvider re-reads every second. A memfd can be
// opened through /proc/<pid>/fd/ by a process allowed to ptrace-read this
// one (the same user, unless Yama forbids it; ptrace_scope=1 does not): a
// service that shares its user with untrusted processes should call
// prctl(PR_SET_DUMPABLE, 0) at start, which closes that path (the process
// itself still reads its own files). A rotation therefore
// reaches new handshakes within about one second; established connections
// keep the certificates they were made with. The peer's chain is verified by
// gRPC against the bundle, then its SPIFFE ID against the policy below.
// Host names are not checked: SVIDs carry SPIFFE IDs, not DNS names.
//
// Lifetime: the X509Source must outlive every credential, channel and server
// made from it. Once it is destroyed, its files no longer hold the key and
// new handshakes fail (closed, not open). Each source that made credentials
// keeps two descriptors open for the life of the process, so that gRPC never
// reads an unrelated file that reuses their numbers.
//
// gRPC logs "No match found for server name" on the server for each
// handshake whose SNI names a host: SVIDs have no DNS names. It is harmless.
#ifndef WRIT_SVID_GRPC_CREDENTIALS_H_
#define WRIT_SVID_GRPC_CREDENTIALS_H_

#include <memory>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "grpcpp/security/auth_context.h"
#include "grpcpp/security/credentials.h"
#include "grpcpp/security/server_credentials.h"
#include "writ/svid/x509_source.h"

namespace writ {

// SpiffePeerPolicy says which peers a credential accepts. The peer's leaf
// must have exactly one URI SAN, a SPIFFE ID that passes both fields.
struct SpiffePeerPolicy {
  // Trust domain the peer's SPIFFE ID must be in, e.g. "acme.example".
  // Default: "" (the trust domain of the source's own SVID)
  std::string trust_domain;
  // SPIFFE IDs accepted, exactly; each must be in `trust_domain`. Empty
  // accepts any ID in the trust domain. Default: empty
  std::vector<std::string> allowed_ids;
};

// SvidChannelCredentials returns client credentials that present `source`'s
// current SVID, verify the server's chain against the current bundle and
// accept the server only if its SPIFFE ID passes `policy`. `source` must
// outlive the credentials and every channel made from them.
//
// Returns kInvalidArgument if `policy` has a malformed trust domain, or an
// allowed ID that is malformed or outside the trust domain;
// kFailedPrecondition if /proc is not mounted (the files need it); kInternal
// if a system call fails.
absl::StatusOr<std::shared_ptr<grpc::ChannelCredentials>> SvidChannelCredentials(
    X509Source& source, SpiffePeerPolicy policy = {});

// SvidServerCredentials returns server credentials that present `source`'s
// current SVID, require every client to present a certificate that verifies
// against the current bundle, and accept the client only if its SPIFFE ID
// passes `policy`. Errors and lifetime as SvidChannelCredentials.
absl::StatusOr<std::shared_ptr<grpc::ServerCredentials>> SvidServerCredentials(
    X509Source& source, SpiffePeerPolicy policy = {});

// PeerSpiffeId returns the SPIFFE ID of the peer of a call, from its auth
// context (ServerContext::auth_context() on a server, or
// ClientContext::auth_context() after a call on a client): the one URI SAN of
// the peer's TLS leaf certificate. It does not verify anything itself: with
// the credentials above the peer was verified during the handshake.
// kUnauthenticated if the call has no TLS peer certificate, or the
// certificate is not an X.509-SVID (not exactly one URI SAN, or not a valid
// SPIFFE ID).
absl::StatusOr<std::string> PeerSpiffeId(const grpc::AuthContext& ctx);

}  // namespace writ

#endif  // WRIT_SVID_GRPC_CREDENTIALS_H_
