#include "writ/svid/grpc_credentials.h"

#include <utility>

#include "absl/container/flat_hash_set.h"
#include "absl/strings/str_cat.h"
#include "grpc/grpc_security_constants.h"
#include "grpcpp/security/tls_certificate_verifier.h"
#include "grpcpp/security/tls_credentials_options.h"
#include "sdk/src/svid/memfd_pem.h"
#include "sdk/src/svid/spiffe_leaf.h"
#include "writ/base/status_macros.h"
#include "writ/x509/certificate.h"

namespace writ {
namespace svid_internal {

// SourceAccess is the one way into an X509Source's key material: the files
// gRPC reads it from.
class SourceAccess {
 public:
  static absl::StatusOr<SvidFiles*> Files(X509Source& source) { return source.Files(); }
};

}  // namespace svid_internal

namespace {

using ::grpc::experimental::ExternalCertificateVerifier;
using ::grpc::experimental::TlsCustomVerificationCheckRequest;

struct CheckedPolicy {
  std::string trust_domain;
  absl::flat_hash_set<std::string> allowed_ids;
};

absl::StatusOr<CheckedPolicy> CheckPolicy(const X509Source& source, SpiffePeerPolicy policy) {
  CheckedPolicy out;
  if (policy.trust_domain.empty()) {
    ASSIGN_OR_RETURN(out.trust_domain,
                     svid_internal::SpiffeTrustDomain(source.Current().spiffe_id));
  } else if (absl::Status td = svid_internal::CheckTrustDomain(policy.trust_domain); !td.ok()) {
    return absl::InvalidArgumentError(
        absl::StrCat("SpiffePeerPolicy.trust_domain: ", td.message()));
  } else {
    out.trust_domain = std::move(policy.trust_domain);
  }
  for (std::string& id : policy.allowed_ids) {
    absl::StatusOr<std::string> td = svid_internal::SpiffeTrustDomain(id);
    if (!td.ok()) {
      return absl::InvalidArgumentError(
          absl::StrCat("SpiffePeerPolicy.allowed_ids: ", td.status().message()));
    }
    if (*td != out.trust_domain) {
      return absl::InvalidArgumentError(absl::StrCat("SpiffePeerPolicy.allowed_ids: \"", id,
                                                     "\" is outside the trust domain \"",
                                                     out.trust_domain, "\""));
    }
    out.allowed_ids.insert(std::move(id));
  }
  return out;
}

// SpiffeVerifier runs after gRPC has verified the peer's chain against the
// bundle: it accepts the peer only if its leaf is an X.509-SVID whose ID the
// policy allows.
class SpiffeVerifier final : public ExternalCertificateVerifier {
 public:
  explicit SpiffeVerifier(CheckedPolicy policy) : policy_(std::move(policy)) {}

  bool Verify(TlsCustomVerificationCheckRequest* request,
              std::function<void(grpc::Status)> /*callback*/, grpc::Status* sync_status) override {
    const absl::Status status = Check(request->peer_cert());
    *sync_status = status.ok() ? grpc::Status::OK
                               : grpc::Status(grpc::StatusCode::UNAUTHENTICATED,
                                              std::string(status.message()));
    return true;  // decided synchronously
  }

  void Cancel(TlsCustomVerificationCheckRequest* /*request*/) override {}  // nothing pending

 private:
  absl::Status Check(grpc::string_ref peer_pem) const {
    if (peer_pem.empty()) return absl::UnauthenticatedError("the peer presented no certificate");
    absl::StatusOr<SslPtr<X509>> leaf =
        ParseCertificatePem(absl::string_view(peer_pem.data(), peer_pem.size()));
    if (!leaf.ok()) {
      return absl::UnauthenticatedError(
          absl::StrCat("peer certificate: ", leaf.status().message()));
    }
    if (X509_check_ca(leaf->get()) != 0) {
      return absl::UnauthenticatedError("the peer's leaf certificate is a CA certificate");
    }
    absl::StatusOr<std::string> id = svid_internal::LeafSpiffeId(leaf->get());
    if (!id.ok()) {
      return absl::UnauthenticatedError(
          absl::StrCat("peer certificate is not an X.509-SVID: ", id.status().message()));
    }
    absl::StatusOr<std::string> trust_domain = svid_internal::SpiffeTrustDomain(*id);
    if (!trust_domain.ok() || *trust_domain != policy_.trust_domain) {
      return absl::UnauthenticatedError(absl::StrCat("peer SPIFFE ID \"", *id,
                                                     "\" is not in the trust domain \"",
                                                     policy_.trust_domain, "\""));
    }
    if (!policy_.allowed_ids.empty() && !policy_.allowed_ids.contains(*id)) {
      return absl::UnauthenticatedError(
          absl::StrCat("peer SPIFFE ID \"", *id, "\" is not one of the allowed IDs"));
    }
    return absl::OkStatus();
  }

  const CheckedPolicy policy_;
};

// Prepared is everything that can fail, done before any gRPC options object
// exists: gRPC 1.51's TlsCredentialsOptions frees its C options only when
// credentials are made from them, so an options object dropped on an error
// path would leak.
struct Prepared {
  CheckedPolicy policy;
  svid_internal::SvidFiles* files;
};

absl::StatusOr<Prepared> Prepare(X509Source& source, SpiffePeerPolicy policy) {
  ASSIGN_OR_RETURN(CheckedPolicy checked, CheckPolicy(source, std::move(policy)));
  ASSIGN_OR_RETURN(svid_internal::SvidFiles * files, svid_internal::SourceAccess::Files(source));
  return Prepared{std::move(checked), files};
}

// Configure sets what client and server credentials share.
void Configure(Prepared prepared, grpc::experimental::TlsCredentialsOptions& options) {
  options.set_certificate_provider(prepared.files->provider());
  options.watch_root_certs();
  options.watch_identity_key_cert_pairs();
  options.set_check_call_host(false);
  options.set_certificate_verifier(
      ExternalCertificateVerifier::Create<SpiffeVerifier>(std::move(prepared.policy)));
}

}  // namespace

absl::StatusOr<std::shared_ptr<grpc::ChannelCredentials>> SvidChannelCredentials(
    X509Source& source, SpiffePeerPolicy policy) {
  ASSIGN_OR_RETURN(Prepared prepared, Prepare(source, std::move(policy)));
  grpc::experimental::TlsChannelCredentialsOptions options;
  Configure(std::move(prepared), options);
  options.set_verify_server_certs(true);
  std::shared_ptr<grpc::ChannelCredentials> creds = grpc::experimental::TlsCredentials(options);
  if (creds == nullptr) return absl::InternalError("gRPC refused the TLS channel options");
  return creds;
}

absl::StatusOr<std::shared_ptr<grpc::ServerCredentials>> SvidServerCredentials(
    X509Source& source, SpiffePeerPolicy policy) {
  ASSIGN_OR_RETURN(Prepared prepared, Prepare(source, std::move(policy)));
  grpc::experimental::TlsServerCredentialsOptions options(prepared.files->provider());
  Configure(std::move(prepared), options);
  options.set_cert_request_type(GRPC_SSL_REQUEST_AND_REQUIRE_CLIENT_CERTIFICATE_AND_VERIFY);
  std::shared_ptr<grpc::ServerCredentials> creds =
      grpc::experimental::TlsServerCredentials(options);
  if (creds == nullptr) return absl::InternalError("gRPC refused the TLS server options");
  return creds;
}

absl::StatusOr<std::string> PeerSpiffeId(const grpc::AuthContext& ctx) {
  const std::vector<grpc::string_ref> type =
      ctx.FindPropertyValues(GRPC_TRANSPORT_SECURITY_TYPE_PROPERTY_NAME);
  // "ssl" from SslCredentials, "tls" from the TLS credentials used above.
  if (type.size() != 1 || (type.front() != GRPC_SSL_TRANSPORT_SECURITY_TYPE &&
                           type.front() != GRPC_TLS_TRANSPORT_SECURITY_TYPE)) {
    return absl::UnauthenticatedError("the call is not over TLS");
  }
  const std::vector<grpc::string_ref> pems =
      ctx.FindPropertyValues(GRPC_X509_PEM_CERT_PROPERTY_NAME);
  if (pems.size() != 1) return absl::UnauthenticatedError("the peer presented no certificate");
  absl::StatusOr<SslPtr<X509>> leaf =
      ParseCertificatePem(absl::string_view(pems.front().data(), pems.front().size()));
  if (!leaf.ok()) {
    return absl::UnauthenticatedError(absl::StrCat("peer certificate: ", leaf.status().message()));
  }
  absl::StatusOr<std::string> id = svid_internal::LeafSpiffeId(leaf->get());
  if (!id.ok()) {
    return absl::UnauthenticatedError(
        absl::StrCat("peer certificate is not an X.509-SVID: ", id.status().message()));
  }
  return id;
}

}  // namespace writ
