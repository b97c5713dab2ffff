// writ.v1.CertificateService (callback API, issuance on a WorkPool) and
// writ.v1.KeyService: translation only.

#include <algorithm>
#include <atomic>
#include <memory>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "absl/strings/str_cat.h"
#include "issuer/src/api/grpc_api.h"
#include "issuer/src/api/grpc_services.h"
#include "issuer/src/api/http_certificates.h"
#include "writ/v1/writ.grpc.pb.h"
#include "writ/x509/certificate.h"

namespace writ::issuer::grpc_internal {
namespace {

absl::StatusOr<std::optional<absl::Duration>> Lifetime(int64_t seconds) {
  if (seconds < 0) {
    return absl::InvalidArgumentError("requested_lifetime_seconds must not be negative");
  }
  if (seconds == 0) return std::optional<absl::Duration>();
  return std::optional<absl::Duration>(absl::Seconds(std::min<int64_t>(seconds, 366 * 86400)));
}

int64_t UnixOrZero(absl::Time t) {
  if (t == absl::InfinitePast() || t == absl::InfiniteFuture()) return 0;
  return absl::ToUnixSeconds(t);
}

void ToProto(const KeyInfo& k, v1::KeyInfo* out) {
  out->set_purpose(KeyPurposeName(k.purpose));
  out->set_id(k.id);
  out->set_state(KeyStateName(k.state));
  out->set_algorithm(k.algorithm);
  out->set_created_at_unix(UnixOrZero(k.created_at));
  out->set_activated_at_unix(UnixOrZero(k.activated_at));
  out->set_retired_at_unix(UnixOrZero(k.retired_at));
  out->set_publish_until_unix(UnixOrZero(k.publish_until));
  out->set_not_after_unix(UnixOrZero(k.not_after));
  out->set_has_certificate(k.has_certificate);
  out->set_path(k.path);
  out->set_csr_path(k.csr_path);
}

void ToProto(const CertificateResult& r, v1::X509SvidResponse* out) {
  out->set_spiffe_id(r.svid->spiffe_id);
  out->set_x509_svid_pem(absl::StrCat(r.svid->certificate_pem, r.chain_pem));
  out->set_bundle_pem(r.bundle_pem);
  out->set_serial(r.svid->serial_hex);
  out->set_expires_at_unix(absl::ToUnixSeconds(r.svid->not_after));
  out->set_rule(r.rule);
}

void ToProto(const CertificateResult& r, v1::SshCertificateResponse* out) {
  out->set_certificate(r.ssh->certificate);
  for (const std::string& p : r.principals) out->add_principals(p);
  out->set_serial(r.ssh->serial);
  out->set_expires_at_unix(absl::ToUnixSeconds(r.ssh->valid_before));
  out->set_key_id(r.ssh_key_id);
  out->set_rule(r.rule);
}

// CertificateServiceImpl serves CertificateService with the callback API.
// Issuance may block (attestation may fetch the attesting issuer's keys), so
// it runs on `pool_`, never on gRPC's callback thread; the pool thread is free
// again once the decision is handed to the ledger, and the call is finished
// from the ledger's thread once the record is durable. A full pool is
// UNAVAILABLE ("temporarily_unavailable") at once, nothing decided or
// recorded; so is issuance that reaches a pool thread once `stopping_` is
// set or its call is cancelled. GetTrustBundle only reads a snapshot, and
// answers inline.
class CertificateServiceImpl final : public v1::CertificateService::CallbackService {
 public:
  CertificateServiceImpl(const CertificateExchange* exchange, const KeyManager* keys,
                         WorkPool* pool, const std::atomic<bool>* stopping)
      : exchange_(exchange), keys_(keys), pool_(pool), stopping_(stopping) {}

  grpc::ServerUnaryReactor* MintX509Svid(grpc::CallbackServerContext* ctx,
                                         const v1::MintX509SvidRequest* in,
                                         v1::X509SvidResponse* out) override {
    if (exchange_ == nullptr) return Finish(ctx, Unimplemented());
    SvidExchangeRequest req;
    req.subject_token = in->subject_token();
    req.csr = in->csr();
    auto lifetime = Lifetime(in->requested_lifetime_seconds());
    if (!lifetime.ok()) return Finish(ctx, Fail(ctx, lifetime.status(), "invalid_request"));
    req.lifetime = *lifetime;
    return Issue(ctx, out,
                 [exchange = exchange_, req = std::move(req)](const RequestContext& context,
                                                              CertificateDone done) {
                   exchange->IssueSvidAsync(req, context, std::move(done));
                 });
  }

  grpc::ServerUnaryReactor* RenewX509Svid(grpc::CallbackServerContext* ctx,
                                          const v1::RenewX509SvidRequest* in,
                                          v1::X509SvidResponse* out) override {
    if (exchange_ == nullptr) return Finish(ctx, Unimplemented());
    absl::StatusOr<SvidRenewalRequest> peer = PeerChainDer(*ctx);
    if (!peer.ok()) return Finish(ctx, Fail(ctx, peer.status(), "invalid_grant"));
    SvidRenewalRequest req = *std::move(peer);
    req.csr = in->csr();
    auto lifetime = Lifetime(in->requested_lifetime_seconds());
    if (!lifetime.ok()) return Finish(ctx, Fail(ctx, lifetime.status(), "invalid_request"));
    req.lifetime = *lifetime;
    return Issue(ctx, out,
                 [exchange = exchange_, req = std::move(req)](const RequestContext& context,
                                                              CertificateDone done) {
                   exchange->RenewSvidAsync(req, context, std::move(done));
                 });
  }

  grpc::ServerUnaryReactor* MintSshCertificate(grpc::CallbackServerContext* ctx,
                                               const v1::MintSshCertificateRequest* in,
                                               v1::SshCertificateResponse* out) override {
    if (exchange_ == nullptr) return Finish(ctx, Unimplemented());
    SshExchangeRequest req;
    req.subject_token = in->subject_token();
    req.public_key = in->public_key();
    req.principals.assign(in->principals().begin(), in->principals().end());
    auto lifetime = Lifetime(in->requested_lifetime_seconds());
    if (!lifetime.ok()) return Finish(ctx, Fail(ctx, lifetime.status(), "invalid_request"));
    req.lifetime = *lifetime;
    return Issue(ctx, out,
                 [exchange = exchange_, req = std::move(req)](const RequestContext& context,
                                                              CertificateDone done) {
                   exchange->IssueSshAsync(req, context, std::move(done));
                 });
  }

  grpc::ServerUnaryReactor* GetTrustBundle(grpc::CallbackServerContext* ctx,
                                           const v1::GetTrustBundleRequest*,
                                           v1::TrustBundleResponse* out) override {
    std::shared_ptr<const TrustBundle> bundle = keys_ != nullptr ? keys_->Bundle() : nullptr;
    if (bundle == nullptr) {
      return Finish(ctx, ToGrpc(absl::UnavailableError("no trust bundle is published")));
    }
    out->set_sequence(bundle->sequence);
    out->set_trust_domain(bundle->trust_domain);
    out->set_spiffe_bundle_json(SpiffeBundleJson(*bundle, kBundleRefreshHint));
    out->set_x509_bundle_pem(X509BundlePem(*bundle));
    out->set_ssh_ca_keys(SshCaKeysFile(*bundle));
    return Finish(ctx, grpc::Status::OK);
  }

 private:
  using CertificateDone = CertificateExchange::CertificateDone;

  static grpc::Status Unimplemented() {
    return grpc::Status(grpc::StatusCode::UNIMPLEMENTED,
                        "certificate issuance is not configured on this issuer");
  }

  // Finish finishes the call with `status` now.
  static grpc::ServerUnaryReactor* Finish(grpc::CallbackServerContext* ctx,
                                          const grpc::Status& status) {
    grpc::ServerUnaryReactor* reactor = ctx->DefaultReactor();
    reactor->Finish(status);
    return reactor;
  }

  // Issue runs `start` (an Async method of the exchange, bound to its request)
  // on the pool and finishes the call with what it answers: `out` filled on
  // success, the status and "writ-oauth-error" otherwise, "writ-request-id"
  // naming the record. A full pool is UNAVAILABLE with no request id: there
  // is no record to name (as HTTP's 503); so is a call abandoned before its
  // turn on the pool (SubmitForCall).
  template <typename Response, typename Start>
  grpc::ServerUnaryReactor* Issue(grpc::CallbackServerContext* ctx, Response* out, Start start) {
    grpc::ServerUnaryReactor* reactor = ctx->DefaultReactor();
    auto done = [ctx, reactor, out](CertificateResult r) {
      ctx->AddTrailingMetadata("writ-request-id", r.request_id);
      if (!r.status.ok()) return reactor->Finish(Fail(ctx, r.status, r.oauth_error));
      ToProto(r, out);
      reactor->Finish(grpc::Status::OK);
    };
    RequestContext context{"grpc", PeerAddress(ctx->peer())};
    if (SubmitForCall(pool_, ctx, reactor, stopping_,
                      [start = std::move(start), context = std::move(context),
                       done = std::move(done)]() mutable {
                        std::move(start)(context, CertificateDone(std::move(done)));
                      })) {
      return reactor;
    }
    reactor->Finish(Fail(ctx, absl::UnavailableError("the issuer is busy; retry in a moment"),
                         "temporarily_unavailable"));
    return reactor;
  }

  const CertificateExchange* exchange_;
  const KeyManager* keys_;
  WorkPool* pool_;
  const std::atomic<bool>* stopping_;
};

class KeyServiceImpl final : public v1::KeyService::Service {
 public:
  explicit KeyServiceImpl(KeyManager* keys) : keys_(keys) {}

  grpc::Status ListKeys(grpc::ServerContext* ctx, const v1::ListKeysRequest*,
                        v1::ListKeysResponse* out) override {
    if (grpc::Status s = OperatorOnly(ctx, "key management"); !s.ok()) return s;
    for (const KeyInfo& k : keys_->List()) ToProto(k, out->add_keys());
    return grpc::Status::OK;
  }

  grpc::Status RotateKey(grpc::ServerContext* ctx, const v1::RotateKeyRequest* in,
                         v1::RotateKeyResponse* out) override {
    if (grpc::Status s = OperatorOnly(ctx, "key management"); !s.ok()) return s;
    absl::StatusOr<KeyPurpose> purpose = ParseKeyPurpose(in->purpose());
    if (!purpose.ok()) return ToGrpc(purpose.status());
    RotateOptions options;
    options.force = in->force();
    absl::StatusOr<std::vector<KeyInfo>> ring = keys_->Rotate(*purpose, options);
    if (!ring.ok()) return ToGrpc(ring.status());
    for (const KeyInfo& k : *ring) ToProto(k, out->add_keys());
    return grpc::Status::OK;
  }

 private:
  KeyManager* keys_;
};

}  // namespace

SvidRenewalRequest PeerChainFromProperties(absl::string_view security_type,
                                           absl::string_view leaf_pem,
                                           absl::string_view chain_pem) {
  SvidRenewalRequest req;
  if (security_type != GRPC_SSL_TRANSPORT_SECURITY_TYPE &&
      security_type != GRPC_TLS_TRANSPORT_SECURITY_TYPE) {
    return req;
  }
  if (leaf_pem.empty()) return req;
  absl::StatusOr<SslPtr<X509>> leaf = ParseCertificatePem(leaf_pem);
  absl::StatusOr<std::string> leaf_der =
      leaf.ok() ? CertificateToDer(leaf->get()) : absl::StatusOr<std::string>(leaf.status());
  if (!leaf_der.ok()) {
    req.peer_certificate_error = leaf_der.status();
    return req;
  }
  req.peer_chain_der = {*leaf_der};
  // With OpenSSL the server's chain property leaves the leaf out; with
  // BoringSSL it has it first. Either way the leaf is listed once. Renewal
  // never trusts these, so a chain that does not parse is left out.
  if (chain_pem.empty()) return req;
  absl::StatusOr<std::vector<SslPtr<X509>>> certs = ParseCertificateChainPem(chain_pem);
  if (!certs.ok()) return req;
  for (const SslPtr<X509>& c : *certs) {
    absl::StatusOr<std::string> der = CertificateToDer(c.get());
    if (der.ok() && *der != *leaf_der) req.peer_chain_der.push_back(*std::move(der));
  }
  return req;
}

absl::StatusOr<SvidRenewalRequest> PeerChainDer(const grpc::ServerContextBase& ctx) {
  std::shared_ptr<const grpc::AuthContext> auth = ctx.auth_context();
  auto property = [&auth](const char* name) {
    std::string value;
    if (auth == nullptr) return value;
    std::vector<grpc::string_ref> values = auth->FindPropertyValues(name);
    if (!values.empty()) value.assign(values.front().data(), values.front().size());
    return value;
  };
  const std::string security = property(GRPC_TRANSPORT_SECURITY_TYPE_PROPERTY_NAME);
  SvidRenewalRequest req =
      PeerChainFromProperties(security, property(GRPC_X509_PEM_CERT_PROPERTY_NAME),
                              property(GRPC_X509_PEM_CERT_CHAIN_PROPERTY_NAME));
  if (!req.peer_chain_der.empty() || !req.peer_certificate_error.ok()) return req;
  if (security != GRPC_SSL_TRANSPORT_SECURITY_TYPE &&
      security != GRPC_TLS_TRANSPORT_SECURITY_TYPE) {
    return absl::UnauthenticatedError(
        "renewal needs a TLS connection presenting the current SVID as the client "
        "certificate; this listener or connection has no TLS");
  }
  return absl::UnauthenticatedError(
      "renewal needs the current SVID presented as the TLS client certificate; the client "
      "presented none");
}

std::unique_ptr<grpc::Service> NewCertificateService(const CertificateExchange* exchange,
                                                     const KeyManager* keys, WorkPool* pool,
                                                     const std::atomic<bool>* stopping) {
  return std::make_unique<CertificateServiceImpl>(exchange, keys, pool, stopping);
}

std::unique_ptr<grpc::Service> NewKeyService(KeyManager* keys) {
  return std::make_unique<KeyServiceImpl>(keys);
}

}  // namespace writ::issuer::grpc_internal
