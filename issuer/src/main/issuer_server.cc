#include "issuer/src/main/issuer_server.h"

#include <sys/stat.h>

#include <cerrno>
#include <cstring>
#include <iostream>
#include <thread>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "issuer/src/api/grpc_api.h"
#include "issuer/src/api/http_api.h"
#include "issuer/src/attest/oidc_attestor.h"
#include "issuer/src/exchange/certificate_exchange.h"
#include "issuer/src/exchange/token_exchange.h"
#include "issuer/src/keys/file_key_manager.h"
#include "issuer/src/ledger/rocksdb_ledger.h"
#include "issuer/src/mint/jwt_minter.h"
#include "issuer/src/policy/policy_store.h"
#include "writ/base/status_macros.h"
#include "writ/net/curl_fetcher.h"

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

// KeySchedule calls KeyManager::RotateDue every `interval` on its own thread
// until stopped. A failure is reported on stderr (the status only: key
// managers never put key material in messages) and retried at the next tick.
class KeySchedule {
 public:
  KeySchedule(KeyManager* keys, absl::Duration interval) : keys_(keys), interval_(interval) {
    thread_ = std::thread([this] { Run(); });
  }
  ~KeySchedule() { Stop(); }

  void Stop() {
    {
      absl::MutexLock lock(&mu_);
      stop_ = true;
    }
    if (thread_.joinable()) thread_.join();
  }

  // ticks counts the checks done so far.
  int ticks() const {
    absl::MutexLock lock(&mu_);
    return ticks_;
  }

 private:
  void Run() {
    absl::MutexLock lock(&mu_);
    while (!stop_) {
      // Wake early when stopped; otherwise look once per interval.
      mu_.AwaitWithTimeout(absl::Condition(&stop_), interval_);
      if (stop_) break;
      mu_.Unlock();
      absl::StatusOr<std::vector<KeyPurpose>> rotated = keys_->RotateDue();
      mu_.Lock();
      ++ticks_;
      if (!rotated.ok()) {
        std::cerr << "writ-issuer: scheduled key rotation failed (retrying in "
                  << absl::FormatDuration(interval_) << "): " << rotated.status() << "\n";
      } else {
        for (KeyPurpose p : *rotated) {
          std::cerr << "writ-issuer: rotated the " << KeyPurposeName(p) << " key on schedule\n";
        }
      }
    }
  }

  KeyManager* keys_;
  const absl::Duration interval_;
  mutable absl::Mutex mu_;
  bool stop_ ABSL_GUARDED_BY(mu_) = false;
  int ticks_ ABSL_GUARDED_BY(mu_) = 0;
  std::thread thread_;
};

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
  std::unique_ptr<CertificateExchange> certificates;
  std::unique_ptr<KeySchedule> key_schedule;
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
  ASSIGN_OR_RETURN(p->keys, FileKeyManager::Open(c.data_dir + "/keys",
                                                 FileKeyManagerOptionsFromConfig(c, p->clock)));
  RocksDbLedgerOptions lopts;
  lopts.commit_delay = c.ledger.commit_delay;
  lopts.commit_group = c.ledger.commit_group;
  lopts.background_write_bytes_per_sec = c.ledger.background_write_bytes_per_sec;
  // Moving an older ledger's index (a one-time upgrade) may take minutes.
  lopts.on_index_move = [last = uint64_t{0}](uint64_t moved) mutable {
    if (moved == 0) {
      std::cerr << "writ-issuer: upgrading the ledger: moving its index entries into their own "
                   "column family (once; readers of the ledger wait until it is done)"
                << std::endl;
    } else if (moved - last >= 1000000) {
      std::cerr << "writ-issuer: upgrading the ledger: " << moved << " index entries moved"
                << std::endl;
      last = moved;
    }
  };
  ASSIGN_OR_RETURN(p->ledger, RocksDbLedger::Open(c.data_dir + "/ledger", lopts));

  PolicyEngineOptions popts;
  popts.default_lifetime = c.tokens.default_lifetime;
  popts.max_lifetime = c.tokens.max_lifetime;
  popts.max_delegation_depth = c.tokens.max_delegation_depth;
  for (const TrustedIssuerConfig& t : c.trusted_issuers) popts.known_issuers.push_back(t.name);
  if (c.x509.enabled) popts.x509_trust_domain = c.x509.trust_domain;
  ASSIGN_OR_RETURN(p->policies, PolicyStore::Open(c.policy_dir, popts));
  p->policy_source = std::make_unique<StorePolicySource>(p->policies.get());

  CurlFetcher::Options fetch_options;
  fetch_options.user_agent = "writ-issuer";
  p->fetcher = std::make_unique<CurlFetcher>(fetch_options);
  ASSIGN_OR_RETURN(p->attestor, OidcAttestor::New(c.trusted_issuers, p->fetcher.get(), p->clock));

  ASSIGN_OR_RETURN(p->http, HttpApi::Bind(c.http, c.limits));
  p->issuer_url = c.issuer_url.empty() ? ListenerUrl(c.http, p->http->port()) : c.issuer_url;
  p->minter = std::make_unique<JwtMinter>(p->issuer_url, p->keys.get(), p->clock);
  TokenExchangeOptions xopts;
  xopts.max_lifetime = c.tokens.max_lifetime;
  xopts.max_delegation_depth = c.tokens.max_delegation_depth;
  p->exchange = std::make_unique<TokenExchange>(p->attestor.get(), p->policy_source.get(),
                                                p->minter.get(), p->ledger.get(), p->clock, xopts);
  CertificateExchangeOptions copts;
  copts.max_lifetime = c.tokens.max_lifetime;
  copts.trust_domain = c.x509.trust_domain;
  copts.facts_extension_oid = c.x509.facts_extension_oid;
  copts.x509_enabled = c.x509.enabled;
  copts.ssh_enabled = c.ssh.enabled;
  p->certificates = std::make_unique<CertificateExchange>(
      p->attestor.get(), p->policy_source.get(), p->keys.get(), p->ledger.get(), p->clock, copts);
  if (c.grpc.enabled) {
    GrpcServices services;
    services.tokens = p->exchange.get();
    services.certificates = p->certificates.get();
    services.policy = p->policy_source.get();
    services.ledger = p->ledger.get();
    services.keys = p->keys.get();
    services.clock = p->clock;
    ASSIGN_OR_RETURN(p->grpc, GrpcApi::Start(c.grpc, c.limits, services));
  }
  auto server = std::unique_ptr<IssuerServer>(new IssuerServer(std::move(p)));
  Parts& parts = *server->parts_;
  IssuerServer* self = server.get();
  parts.http->Serve(
      parts.issuer_url, parts.exchange.get(), parts.certificates.get(), parts.keys.get(),
      [self] { return self->Readiness(); }, [self] { return self->IssuerKeyStates(); });
  parts.attestor->StartWarmUp();
  if (c.keys.check_interval > absl::ZeroDuration()) {
    parts.key_schedule = std::make_unique<KeySchedule>(parts.keys.get(), c.keys.check_interval);
  }
  return server;
}

IssuerServer::IssuerServer(std::unique_ptr<Parts> parts) : parts_(std::move(parts)) {}

IssuerServer::~IssuerServer() { Stop(); }

void IssuerServer::Stop() {
  if (parts_->stopped) return;
  parts_->stopped = true;
  // Stop accepting on both transports and let requests in flight finish;
  // only then close the ledger they record into.
  if (parts_->key_schedule) parts_->key_schedule->Stop();
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
  if (p.ledger->MovedIndexEntries() > 0) {
    out << "  ledger:     moved " << p.ledger->MovedIndexEntries()
        << " index entries into the \"index\" column family (a one-time upgrade)\n";
  }
  out << "  JWT key:    ES256 kid " << p.keys->JwtSigner()->kid() << "\n";
  std::shared_ptr<const X509Authority> ca = p.keys->ActiveX509Ca();
  out << "  X.509 CA:   "
      << (!p.config.x509.enabled ? std::string("off (x509.enabled: false)")
          : ca != nullptr
              ? absl::StrCat("key ", ca->id, " (trust domain ", p.config.x509.trust_domain, ")")
              : std::string("no active CA: X.509-SVIDs are refused"))
      << "\n";
  std::shared_ptr<const SshAuthority> ssh = p.keys->ActiveSshCa();
  out << "  SSH CA:     "
      << (!p.config.ssh.enabled ? std::string("off (ssh.enabled: false)")
          : ssh != nullptr      ? absl::StrCat("key ", ssh->id)
                                : std::string("no active key: SSH certificates are refused"))
      << "\n";
  out << "  bundle:     " << p.issuer_url << "/v1/bundle (SPIFFE), /v1/bundle.pem, /v1/ssh/ca-keys"
      << (p.grpc ? ", gRPC CertificateService.GetTrustBundle" : "") << "\n";
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
const CertificateExchange* IssuerServer::certificates() const { return parts_->certificates.get(); }
KeyManager* IssuerServer::keys() const { return parts_->keys.get(); }
int IssuerServer::key_schedule_ticks() const {
  return parts_->key_schedule ? parts_->key_schedule->ticks() : 0;
}

}  // namespace writ::issuer
