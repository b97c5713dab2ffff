#include "issuer/src/main/issuer_server.h"

#include <sys/stat.h>

#include <cerrno>
#include <cstring>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "issuer/src/api/grpc_api.h"
#include "issuer/src/api/http_api.h"
#include "issuer/src/attest/curl_fetcher.h"
#include "issuer/src/attest/oidc_attestor.h"
#include "issuer/src/exchange/token_exchange.h"
#include "issuer/src/keys/file_key_manager.h"
#include "issuer/src/ledger/rocksdb_ledger.h"
#include "issuer/src/mint/jwt_minter.h"
#include "issuer/src/policy/policy_store.h"
#include "writ/base/status_macros.h"

namespace writ::issuer {
namespace {

// StorePolicySource decides with the set in force at each call, so a SIGHUP
// reload takes effect for the next request and never mid-request.
class StorePolicySource final : public PolicySource {
 public:
  explicit StorePolicySource(const PolicyStore* store) : store_(store) {}
  Decision Decide(const AttestedIdentity& id, const PolicyRequest& req) const override {
    return store_->Current()->Decide(id, req);
  }
  Explanation Explain(const AttestedIdentity& id, const PolicyRequest& req) const override {
    return store_->Current()->Explain(id, req);
  }

 private:
  const PolicyStore* store_;
};

absl::Status EnsureDir(const std::string& dir) {
  if (::mkdir(dir.c_str(), 0700) != 0 && errno != EEXIST) {
    return absl::FailedPreconditionError(
        absl::StrCat("cannot create data directory ", dir, ": ", std::strerror(errno)));
  }
  return absl::OkStatus();
}

std::string ListenerUrl(const ListenerConfig& l, int port) {
  std::string host = absl::StrContains(l.host, ':') ? absl::StrCat("[", l.host, "]") : l.host;
  return absl::StrCat(l.tls_cert_file.empty() ? "http" : "https", "://", host, ":", port);
}

}  // namespace

struct IssuerServer::Parts {
  IssuerConfig config;
  const Clock* clock = nullptr;
  std::string issuer_url;
  std::unique_ptr<FileKeyManager> keys;
  std::unique_ptr<RocksDbLedger> ledger;
  std::unique_ptr<PolicyStore> policies;
  std::unique_ptr<StorePolicySource> policy_source;
  std::unique_ptr<CurlFetcher> fetcher;
  std::unique_ptr<OidcAttestor> attestor;
  std::unique_ptr<JwtMinter> minter;
  std::unique_ptr<TokenExchange> exchange;
  std::unique_ptr<HttpApi> http;
  std::unique_ptr<GrpcApi> grpc;
  bool stopped = false;
};

absl::StatusOr<std::unique_ptr<IssuerServer>> IssuerServer::Start(IssuerConfig config,
                                                                  const Clock* clock) {
  auto p = std::make_unique<Parts>();
  p->clock = clock != nullptr ? clock : &Clock::Real();
  p->config = std::move(config);
  const IssuerConfig& c = p->config;

  RETURN_IF_ERROR(EnsureDir(c.data_dir));
  ASSIGN_OR_RETURN(p->keys, FileKeyManager::Open(c.data_dir + "/keys"));
  ASSIGN_OR_RETURN(p->ledger, RocksDbLedger::Open(c.data_dir + "/ledger"));

  PolicyEngineOptions popts;
  popts.default_lifetime = c.tokens.default_lifetime;
  popts.max_lifetime = c.tokens.max_lifetime;
  popts.max_delegation_depth = c.tokens.max_delegation_depth;
  for (const TrustedIssuerConfig& t : c.trusted_issuers) popts.known_issuers.push_back(t.name);
  ASSIGN_OR_RETURN(p->policies, PolicyStore::Open(c.policy_dir, popts));
  p->policy_source = std::make_unique<StorePolicySource>(p->policies.get());

  p->fetcher = std::make_unique<CurlFetcher>();
  ASSIGN_OR_RETURN(p->attestor, OidcAttestor::New(c.trusted_issuers, p->fetcher.get(), p->clock));

  ASSIGN_OR_RETURN(p->http, HttpApi::Bind(c.http, c.limits));
  p->issuer_url = c.issuer_url.empty() ? ListenerUrl(c.http, p->http->port()) : c.issuer_url;
  p->minter = std::make_unique<JwtMinter>(p->issuer_url, p->keys.get(), p->clock);
  TokenExchangeOptions xopts;
  xopts.max_lifetime = c.tokens.max_lifetime;
  xopts.max_delegation_depth = c.tokens.max_delegation_depth;
  p->exchange = std::make_unique<TokenExchange>(p->attestor.get(), p->policy_source.get(),
                                                p->minter.get(), p->ledger.get(), p->clock, xopts);
  if (c.grpc.enabled) {
    ASSIGN_OR_RETURN(p->grpc, GrpcApi::Start(c.grpc, c.limits, p->exchange.get(),
                                             p->policy_source.get(), p->ledger.get(), p->clock));
  }
  auto server = std::unique_ptr<IssuerServer>(new IssuerServer(std::move(p)));
  IssuerServer* self = server.get();
  server->parts_->http->Serve(
      server->parts_->issuer_url, server->parts_->exchange.get(), server->parts_->keys.get(),
      [self] { return self->Readiness(); }, [self] { return self->IssuerKeyStates(); });
  server->parts_->attestor->StartWarmUp();
  return server;
}

IssuerServer::IssuerServer(std::unique_ptr<Parts> parts) : parts_(std::move(parts)) {}

IssuerServer::~IssuerServer() { Stop(); }

void IssuerServer::Stop() {
  if (parts_->stopped) return;
  parts_->stopped = true;
  // Stop accepting on both transports and let requests in flight finish;
  // only then close the ledger they record into.
  if (parts_->http) parts_->http->Stop();
  if (parts_->grpc) parts_->grpc->Stop();
  if (parts_->ledger) parts_->ledger->Close().IgnoreError();
}

absl::Status IssuerServer::ReloadPolicies() { return parts_->policies->Reload(); }

std::vector<std::string> IssuerServer::Readiness() const {
  // Ready means this server can decide and record: the signing key, the
  // policies and the ledger. A trusted issuer whose keys cannot be fetched
  // only fails its own requests (isolation), so it does not make the whole
  // server unready: see IssuerKeyStates.
  std::vector<std::string> problems;
  if (!parts_->ledger->Healthy()) problems.push_back("ledger cannot record");
  return problems;
}

std::vector<std::string> IssuerServer::IssuerKeyStates() const {
  std::vector<std::string> lines;
  for (const IssuerKeyState& s : parts_->attestor->KeyStates()) {
    lines.push_back(absl::StrCat(s.name, ": ", s.ready ? "keys ready" : "no keys", " (",
                                 s.key_count, " keys",
                                 s.last_error.empty() ? "" : "; last error: ", s.last_error, ")"));
  }
  return lines;
}

void IssuerServer::Describe(std::ostream& out) const {
  const Parts& p = *parts_;
  out << "writ-issuer: configuration: " << p.config.source << "\n";
  out << "  issuer:     " << p.issuer_url << "\n";
  out << "  HTTP:       " << ListenerUrl(p.config.http, p.http->port())
      << "  (discovery: /.well-known/openid-configuration, token: POST /oauth2/token)\n";
  if (p.grpc) {
    out << "  gRPC:       " << p.config.grpc.host << ":" << p.grpc->port()
        << (p.config.grpc.tls_cert_file.empty() ? " (plaintext, loopback)" : " (TLS)") << "\n";
  }
  out << "  data:       " << p.config.data_dir << " (keys: " << p.keys->jwt_key_path()
      << (p.keys->created() ? ", created now" : "") << "; ledger: " << p.config.data_dir
      << "/ledger)\n";
  out << "  JWT key:    ES256 kid " << p.keys->JwtSigner()->kid() << "\n";
  out << "  issuers:   ";
  if (p.config.trusted_issuers.empty()) out << " none (every exchange will be refused)";
  out << "\n";
  for (const TrustedIssuerConfig& t : p.config.trusted_issuers) {
    out << "    " << t.name << ": " << t.issuer
        << " (audiences: " << absl::StrJoin(t.audiences, ", ") << ")\n";
  }
  std::shared_ptr<const PolicyEngine> engine = p.policies->Current();
  out << "  policies:   " << p.config.policy_dir << ": " << engine->rule_count() << " rules in "
      << engine->file_names().size() << " files (" << absl::StrJoin(engine->file_names(), ", ")
      << "), " << engine->test_cases().size() << " self-tests passed\n";
}

int IssuerServer::http_port() const { return parts_->http->port(); }
int IssuerServer::grpc_port() const { return parts_->grpc ? parts_->grpc->port() : 0; }
const std::string& IssuerServer::issuer_url() const { return parts_->issuer_url; }
Ledger* IssuerServer::ledger() const { return parts_->ledger.get(); }
const TokenExchange* IssuerServer::exchange() const { return parts_->exchange.get(); }

}  // namespace writ::issuer
