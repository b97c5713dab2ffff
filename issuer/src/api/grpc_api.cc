#include "issuer/src/api/grpc_api.h"

#include <grpcpp/grpcpp.h>

#include <algorithm>
#include <fstream>
#include <sstream>
#include <thread>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/strip.h"
#include "issuer/src/api/grpc_services.h"
#include "issuer/src/api/work_pool.h"
#include "writ/v1/writ.grpc.pb.h"

namespace writ::issuer {
namespace grpc_internal {

grpc::Status ToGrpc(const absl::Status& s) {
  return grpc::Status(static_cast<grpc::StatusCode>(s.code()), std::string(s.message()));
}

grpc::Status Fail(grpc::ServerContextBase* ctx, const absl::Status& s, absl::string_view oauth) {
  if (!oauth.empty()) ctx->AddTrailingMetadata("writ-oauth-error", std::string(oauth));
  return ToGrpc(s);
}

grpc::Status OperatorOnly(grpc::ServerContext* ctx, absl::string_view what) {
  if (IsLoopbackPeer(ctx->peer())) return grpc::Status::OK;
  return grpc::Status(grpc::StatusCode::PERMISSION_DENIED,
                      absl::StrCat(what, " is served to loopback clients only"));
}

bool SubmitForCall(WorkPool* pool, grpc::CallbackServerContext* ctx,
                   grpc::ServerUnaryReactor* reactor, const std::atomic<bool>* stopping,
                   WorkPool::Task work) {
  return pool->TrySubmit([ctx, reactor, stopping, work = std::move(work)]() mutable {
    const char* why;
    if (stopping->load()) {
      why = "the issuer is shutting down; retry in a moment";
    } else if (ctx->IsCancelled()) {
      why = "the call was cancelled before the issuer got to it";
    } else {
      return std::move(work)();
    }
    reactor->Finish(Fail(ctx, absl::UnavailableError(why), "temporarily_unavailable"));
  });
}

}  // namespace grpc_internal

namespace {

using grpc_internal::Fail;
using grpc_internal::OperatorOnly;
using grpc_internal::ToGrpc;

// TokenServiceImpl answers ExchangeToken with the callback API, on gRPC's
// callback thread while the attesting issuers' keys are at hand (no
// hand-off); an exchange that must fetch keys first moves to `pool_`, so a
// slow issuer never holds a gRPC thread. The decision goes to the ledger and
// the call is finished on the ledger's thread once the record is durable, so
// no thread waits out an fsync per call. An exchange still queued on the
// pool when `stopping_` is set, or whose call is cancelled, is answered
// without attesting (SubmitForCall).
class TokenServiceImpl final : public v1::TokenService::CallbackService {
 public:
  TokenServiceImpl(const TokenExchange* exchange, WorkPool* pool, const std::atomic<bool>* stopping)
      : exchange_(exchange), pool_(pool), stopping_(stopping) {}

  grpc::ServerUnaryReactor* ExchangeToken(grpc::CallbackServerContext* ctx,
                                          const v1::ExchangeTokenRequest* in,
                                          v1::ExchangeTokenResponse* out) override {
    grpc::ServerUnaryReactor* reactor = ctx->DefaultReactor();
    ExchangeRequest req;
    req.subject_token = in->subject_token();
    req.subject_token_type = in->subject_token_type();
    if (!in->audience().empty()) req.audiences.push_back(in->audience());
    req.scopes.assign(in->scopes().begin(), in->scopes().end());
    if (in->requested_lifetime_seconds() < 0) {
      reactor->Finish(
          Fail(ctx, absl::InvalidArgumentError("requested_lifetime_seconds must not be negative"),
               "invalid_request"));
      return reactor;
    }
    if (in->requested_lifetime_seconds() > 0) {
      req.lifetime =
          absl::Seconds(std::min<int64_t>(in->requested_lifetime_seconds(), 366 * 86400));
    }
    req.actor_token = in->actor_token();
    req.actor_token_type = in->actor_token_type();
    exchange_->ExchangeNonBlocking(
        req, {"grpc", PeerAddress(ctx->peer())},
        [ctx, out, reactor](ExchangeResult r) { reactor->Finish(Answer(ctx, std::move(r), out)); },
        [this, ctx, reactor](WorkPool::Task task) {
          // An abandoned call is answered there; `task`, with the exchange's
          // `done`, is then dropped unrun.
          return grpc_internal::SubmitForCall(pool_, ctx, reactor, stopping_, std::move(task));
        });
    return reactor;
  }

 private:
  static grpc::Status Answer(grpc::CallbackServerContext* ctx, ExchangeResult r,
                             v1::ExchangeTokenResponse* out) {
    // No id when the pool refused the exchange: no record would have it.
    if (!r.request_id.empty()) ctx->AddTrailingMetadata("writ-request-id", r.request_id);
    if (!r.status.ok()) return Fail(ctx, r.status, r.oauth_error);
    out->set_access_token(std::move(r.minted.token));
    out->set_issued_token_type(kTokenTypeAccessToken);
    out->set_token_type("Bearer");
    out->set_expires_in(absl::ToInt64Seconds(r.minted.expires_at - r.minted.issued_at));
    for (const auto& s : r.scopes) out->add_scopes(s);
    out->set_audience(r.audience);
    out->set_subject(r.subject);
    out->set_jti(r.minted.jti);
    out->set_rule(r.rule);
    return grpc::Status::OK;
  }

  const TokenExchange* exchange_;
  WorkPool* pool_;
  const std::atomic<bool>* stopping_;
};

absl::StatusOr<AttestedIdentity> ToIdentity(const v1::Identity& in, absl::string_view what) {
  AttestedIdentity id;
  id.issuer_name = in.issuer();
  id.subject = in.subject();
  if (id.issuer_name.empty()) {
    return absl::InvalidArgumentError(absl::StrCat(what, ".issuer is required"));
  }
  if (!in.claims_json().empty()) {
    auto claims = JwtClaims::Parse(in.claims_json());
    if (!claims.ok()) {
      return absl::InvalidArgumentError(
          absl::StrCat(what, ".claims_json: ", claims.status().message()));
    }
    id.claims = *std::move(claims);
  }
  if (id.subject.empty()) id.subject = id.claims.subject();
  return id;
}

class PolicyServiceImpl final : public v1::PolicyService::Service {
 public:
  PolicyServiceImpl(const PolicySource* policy, const Clock* clock)
      : policy_(policy), clock_(clock) {}
  grpc::Status Explain(grpc::ServerContext* ctx, const v1::ExplainRequest* in,
                       v1::ExplainResponse* out) override {
    if (grpc::Status s = OperatorOnly(ctx, "policy explanation"); !s.ok()) return s;
    auto id = ToIdentity(in->identity(), "identity");
    if (!id.ok()) return ToGrpc(id.status());
    PolicyRequest req;
    req.audience = in->audience();
    req.scopes.assign(in->scopes().begin(), in->scopes().end());
    if (in->requested_lifetime_seconds() > 0) {
      req.lifetime = absl::Seconds(in->requested_lifetime_seconds());
    }
    req.client_address = in->client_address();
    req.now = in->time_unix() > 0 ? absl::FromUnixSeconds(in->time_unix()) : clock_->Now();
    for (const auto& a : in->actors()) {
      auto actor = ToIdentity(a, "actors[]");
      if (!actor.ok()) return ToGrpc(actor.status());
      req.actors.push_back(*std::move(actor));
    }
    Explanation ex = policy_->Explain(*id, req);
    const Decision& d = ex.decision;
    out->set_allowed(d.allowed);
    out->set_rule(d.rule);
    if (!d.allowed) out->set_error(DenyCodeName(d.deny_code));
    for (const auto& r : d.reasons) out->add_reasons(r);
    if (d.grant.has_value()) {
      out->set_subject(d.grant->subject);
      out->set_audience(d.grant->audience);
      for (const auto& s : d.grant->scopes) out->add_scopes(s);
      out->set_lifetime_seconds(absl::ToInt64Seconds(d.grant->lifetime));
    }
    for (const RuleTrace& t : ex.rules) {
      v1::RuleTrace* rt = out->add_rules();
      rt->set_rule(t.rule);
      rt->set_policy_file(t.policy_file);
      rt->set_matched(t.matched);
      for (const auto& w : t.why_not) rt->add_why_not(w);
    }
    return grpc::Status::OK;
  }

 private:
  const PolicySource* policy_;
  const Clock* clock_;
};

void ToProto(const LedgerRecord& r, v1::LedgerRecord* out) {
  out->set_time_unix_micros(absl::ToUnixMicros(r.time));
  out->set_request_id(r.request_id);
  out->set_transport(r.transport);
  out->set_client_address(r.client_address);
  out->set_attested_issuer(r.attested_issuer);
  out->set_attested_subject(r.attested_subject);
  for (const auto& a : r.actors) out->add_actors(a);
  for (const auto& [k, v] : r.claims) {
    v1::Claim* c = out->add_claims();
    c->set_name(k);
    c->set_value(v);
  }
  out->set_requested_audience(r.requested_audience);
  for (const auto& s : r.requested_scopes) out->add_requested_scopes(s);
  out->set_requested_lifetime_seconds(absl::ToInt64Seconds(r.requested_lifetime));
  out->set_granted_subject(r.granted_subject);
  out->set_granted_audience(r.granted_audience);
  for (const auto& s : r.granted_scopes) out->add_granted_scopes(s);
  out->set_granted_lifetime_seconds(absl::ToInt64Seconds(r.granted_lifetime));
  out->set_decision(r.decision);
  out->set_error(r.error);
  for (const auto& s : r.reasons) out->add_reasons(s);
  out->set_rule(r.rule);
  out->set_policy_file(r.policy_file);
  out->set_credential_kind(r.credential_kind);
  out->set_jti(r.jti);
  out->set_credential_sha256(r.credential_sha256);
  if (r.expires_at != absl::InfinitePast())
    out->set_expires_at_unix(absl::ToUnixSeconds(r.expires_at));
  for (const auto& p : r.principals) out->add_principals(p);
  for (const auto& a : r.source_addresses) out->add_source_addresses(a);
  out->set_renewed_from(r.renewed_from);
  out->set_signing_key(r.signing_key);
  out->set_attested_issuer_name(r.attested_issuer_name);
}

class LedgerServiceImpl final : public v1::LedgerService::Service {
 public:
  explicit LedgerServiceImpl(const Ledger* ledger) : ledger_(ledger) {}
  grpc::Status GetByJti(grpc::ServerContext* ctx, const v1::GetByJtiRequest* in,
                        v1::LedgerRecord* out) override {
    if (grpc::Status s = OperatorOnly(ctx, "the ledger"); !s.ok()) return s;
    if (in->jti().empty()) return ToGrpc(absl::InvalidArgumentError("jti is required"));
    auto rec = ledger_->FindByJti(in->jti());
    if (!rec.ok()) return ToGrpc(rec.status());
    ToProto(*rec, out);
    return grpc::Status::OK;
  }
  grpc::Status List(grpc::ServerContext* ctx, const v1::ListRecordsRequest* in,
                    v1::ListRecordsResponse* out) override {
    if (grpc::Status s = OperatorOnly(ctx, "the ledger"); !s.ok()) return s;
    if (!in->decision().empty() && in->decision() != "allow" && in->decision() != "deny") {
      return ToGrpc(absl::InvalidArgumentError("decision must be \"allow\" or \"deny\""));
    }
    LedgerQuery q;
    q.subject = in->subject();
    q.decision = in->decision();
    if (in->since_unix_micros() > 0) q.since = absl::FromUnixMicros(in->since_unix_micros());
    if (in->until_unix_micros() > 0) q.until = absl::FromUnixMicros(in->until_unix_micros());
    q.limit = in->limit() == 0 ? 100 : std::min<uint32_t>(in->limit(), 1000);
    auto records = ledger_->Query(q);
    if (!records.ok()) return ToGrpc(records.status());
    for (const LedgerRecord& r : *records) ToProto(r, out->add_records());
    return grpc::Status::OK;
  }

 private:
  const Ledger* ledger_;
};

absl::StatusOr<std::string> ReadFile(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) return absl::InvalidArgumentError(absl::StrCat("cannot read ", path));
  std::ostringstream s;
  s << in.rdbuf();
  return s.str();
}

}  // namespace

bool IsLoopbackPeer(absl::string_view peer) {
  // Exactly 127.0.0.1 / ::1, not all of 127/8: a service mesh sidecar (Istio
  // forwards inbound traffic from 127.0.0.6) would otherwise make every
  // remote caller look local.
  if (absl::StartsWith(peer, "unix:")) return true;
  std::string address = PeerAddress(peer);
  return address == "127.0.0.1" || address == "::1";
}

std::string PeerAddress(absl::string_view peer) {
  if (absl::ConsumePrefix(&peer, "ipv4:")) return std::string(peer.substr(0, peer.rfind(':')));
  if (absl::ConsumePrefix(&peer, "ipv6:")) {
    absl::ConsumePrefix(&peer, "[");
    absl::ConsumePrefix(&peer, "%5B");
    size_t end = peer.find(']');
    if (end == absl::string_view::npos) end = peer.find("%5D");
    absl::string_view address = peer.substr(0, end);
    // An IPv4 client of a dual-stack socket: report it as IPv4.
    if (absl::ConsumePrefix(&address, "::ffff:") && address.find(':') == absl::string_view::npos) {
      return std::string(address);
    }
    return std::string(address);
  }
  return "";
}

absl::StatusOr<std::unique_ptr<GrpcApi>> GrpcApi::Start(const ListenerConfig& listener,
                                                        const LimitsConfig& limits,
                                                        const GrpcServices& services) {
  if (services.tokens == nullptr || services.policy == nullptr || services.ledger == nullptr) {
    return absl::InvalidArgumentError("gRPC needs the token exchange, policy and ledger");
  }
  auto api = std::unique_ptr<GrpcApi>(new GrpcApi());
  std::shared_ptr<grpc::ServerCredentials> creds;
  if (!listener.tls_cert_file.empty()) {
    grpc::SslServerCredentialsOptions ssl;
    grpc::SslServerCredentialsOptions::PemKeyCertPair pair;
    auto key = ReadFile(listener.tls_key_file);
    if (!key.ok()) return key.status();
    auto cert = ReadFile(listener.tls_cert_file);
    if (!cert.ok()) return cert.status();
    pair.private_key = *std::move(key);
    pair.cert_chain = *std::move(cert);
    ssl.pem_key_cert_pairs.push_back(std::move(pair));
    // Ask for a client certificate but leave checking it to RenewX509Svid,
    // against the bundle in force at the call: the TLS layer's roots would be
    // fixed at startup and go stale with the first CA rotation. The handshake
    // still proves the client holds the certificate's key.
    ssl.client_certificate_request = GRPC_SSL_REQUEST_CLIENT_CERTIFICATE_BUT_DONT_VERIFY;
    creds = grpc::SslServerCredentials(ssl);
  } else {
    creds = grpc::InsecureServerCredentials();
  }

  api->policy_service_ = std::make_unique<PolicyServiceImpl>(
      services.policy, services.clock != nullptr ? services.clock : &Clock::Real());
  api->ledger_service_ = std::make_unique<LedgerServiceImpl>(services.ledger);
  if (services.keys != nullptr) api->key_service_ = grpc_internal::NewKeyService(services.keys);
  std::string host = listener.host.find(':') != std::string::npos
                         ? absl::StrCat("[", listener.host, "]")
                         : listener.host;
  grpc::ServerBuilder builder;
  builder.AddListeningPort(absl::StrCat(host, ":", listener.port), creds, &api->port_);
  // Sync handlers (PolicyService, LedgerService, KeyService) run on gRPC's
  // own threads: cap them.
  grpc::ResourceQuota quota("writ-grpc");
  quota.SetMaxThreads(64);
  builder.SetResourceQuota(quota);
  // As for HTTP: no SO_REUSEPORT, so a second server cannot share the port.
  builder.AddChannelArgument(GRPC_ARG_ALLOW_REUSEPORT, 0);
  builder.SetMaxReceiveMessageSize(static_cast<int>(limits.max_grpc_message_bytes));
  // The sync server ends a handler thread when more than MAX_POLLERS (default
  // 2) threads are idle, and makes a new one when none is: with more than two
  // requests in flight that is a thread created and destroyed every few
  // requests. Keep as many idle threads as HTTP has workers.
  const int pollers = limits.http_threads > 0
                          ? limits.http_threads
                          : std::max(8, 2 * static_cast<int>(std::thread::hardware_concurrency()));
  builder.SetSyncServerOption(grpc::ServerBuilder::SyncServerOption::MAX_POLLERS, pollers);
  // What may block runs on one pool, as many workers as HTTP's: token
  // exchanges that must fetch an issuer's keys first, and certificate
  // issuance (whose attestation may fetch). Both services are on the
  // callback API, so no gRPC thread waits for it, nor for the ledger.
  api->pool_ = std::make_unique<WorkPool>(pollers, /*max_queued=*/4096);
  api->token_service_ =
      std::make_unique<TokenServiceImpl>(services.tokens, api->pool_.get(), &api->stopping_);
  if (services.certificates != nullptr || services.keys != nullptr) {
    api->certificate_service_ = grpc_internal::NewCertificateService(
        services.certificates, services.keys, api->pool_.get(), &api->stopping_);
  }
  builder.RegisterService(api->token_service_.get());
  builder.RegisterService(api->policy_service_.get());
  builder.RegisterService(api->ledger_service_.get());
  if (api->certificate_service_) builder.RegisterService(api->certificate_service_.get());
  if (api->key_service_) builder.RegisterService(api->key_service_.get());
  api->server_ = builder.BuildAndStart();
  if (!api->server_ || api->port_ == 0) {
    return absl::UnavailableError(
        absl::StrCat("cannot bind gRPC on ", host, ":", listener.port, " (in use?)"));
  }
  return api;
}

void GrpcApi::Stop(absl::Duration grace) {
  if (!server_) return;
  // Work still queued on the pool would attest (spending one-time tokens),
  // mint and record for callers who are gone once the grace runs out, and
  // Shutdown waits for every call to be finished. HTTP drops such work; here
  // each queued task must still finish its call, so it answers UNAVAILABLE
  // without issuing once it sees this (SubmitForCall). Work already
  // running finishes, within the grace if it can.
  stopping_.store(true);
  server_->Shutdown(std::chrono::system_clock::now() + absl::ToChronoSeconds(grace));
  server_->Wait();
  server_.reset();
}

GrpcApi::~GrpcApi() { Stop(); }

}  // namespace writ::issuer
