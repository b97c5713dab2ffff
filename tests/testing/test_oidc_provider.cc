#include "tests/testing/test_oidc_provider.h"

#include <httplib.h>
#include <openssl/rand.h>

#include <chrono>
#include <map>
#include <optional>
#include <utility>

#include "absl/strings/escaping.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "rapidjson/document.h"
#include "rapidjson/stringbuffer.h"
#include "rapidjson/writer.h"
#include "writ/base/base64url.h"
#include "writ/base/clock.h"
#include "writ/base/status_macros.h"
#include "writ/crypto/keys.h"
#include "writ/jose/jwk.h"

namespace writ::test {
namespace {

std::string RandomHex(size_t bytes) {
  std::string raw(bytes, '\0');
  RAND_bytes(reinterpret_cast<unsigned char*>(raw.data()), static_cast<int>(raw.size()));
  return absl::BytesToHexString(raw);
}

// kPoolSize keys of each kind are made once per process and shared by the
// providers (under their own kids), so that starting a provider costs no RSA
// key generation. Slot kPoolSize is kept for MintWithUnknownKid.
constexpr size_t kPoolSize = 4;
constexpr size_t kStrangerSlot = kPoolSize;

absl::StatusOr<SslPtr<EVP_PKEY>> PooledKey(KeySpec spec, size_t slot) {
  static absl::Mutex mu(absl::kConstInit);
  static auto* const pool = new std::map<std::pair<KeySpec, size_t>, EVP_PKEY*>();
  absl::MutexLock lock(&mu);
  EVP_PKEY*& key = (*pool)[{spec, slot}];
  if (key == nullptr) {
    ASSIGN_OR_RETURN(SslPtr<EVP_PKEY> fresh, GenerateKey(spec));
    key = fresh.release();
  }
  EVP_PKEY_up_ref(key);
  return SslPtr<EVP_PKEY>(key);
}

absl::StatusOr<std::shared_ptr<const Signer>> NewSigner(KeySpec spec, JwsAlgorithm alg,
                                                        absl::string_view kid,
                                                        std::optional<size_t> slot) {
  SslPtr<EVP_PKEY> key;
  if (slot.has_value()) {
    ASSIGN_OR_RETURN(key, PooledKey(spec, *slot));
  } else {
    ASSIGN_OR_RETURN(key, GenerateKey(spec));
  }
  ASSIGN_OR_RETURN(std::unique_ptr<PrivateKeySigner> signer,
                   PrivateKeySigner::New(std::move(key), alg, kid));
  return std::shared_ptr<const Signer>(std::move(signer));
}

std::string JsonString(absl::string_view s) {
  rapidjson::StringBuffer buffer;
  rapidjson::Writer<rapidjson::StringBuffer> writer(buffer);
  writer.String(s.data(), static_cast<rapidjson::SizeType>(s.size()));
  return buffer.GetString();
}

// SignWithKid signs `payload` under a header naming `kid`, which may differ
// from the signer's own.
absl::StatusOr<std::string> SignWithKid(const Signer& signer, absl::string_view kid,
                                        absl::string_view payload) {
  const std::string header = absl::StrCat(R"({"alg":")", JwsAlgorithmName(signer.algorithm()),
                                          R"(","kid":)", JsonString(kid), R"(,"typ":"JWT"})");
  const std::string input = absl::StrCat(Base64UrlEncode(header), ".", Base64UrlEncode(payload));
  ASSIGN_OR_RETURN(std::string signature, signer.Sign(input));
  return absl::StrCat(input, ".", Base64UrlEncode(signature));
}

}  // namespace

TestOidcProvider::TestOidcProvider(TestOidcProviderOptions options)
    : options_(std::move(options)), server_(std::make_unique<httplib::Server>()) {}

absl::StatusOr<std::shared_ptr<const TestOidcProvider::Keys>> TestOidcProvider::NewKeys() {
  std::optional<size_t> slot;
  if (!options_.fresh_keys) slot = next_slot_++ % kPoolSize;
  auto keys = std::make_shared<Keys>();
  ASSIGN_OR_RETURN(keys->rs256,
                   NewSigner(KeySpec::kRsa2048, JwsAlgorithm::kRs256, "rs-" + RandomHex(8), slot));
  ASSIGN_OR_RETURN(keys->es256,
                   NewSigner(KeySpec::kEcP256, JwsAlgorithm::kEs256, "es-" + RandomHex(8), slot));
  ASSIGN_OR_RETURN(JwkSet set,
                   JwkSet::FromKeys({keys->rs256->public_jwk(), keys->es256->public_jwk()}));
  keys->jwks_json = set.ToJson();
  return std::shared_ptr<const Keys>(std::move(keys));
}

absl::StatusOr<std::unique_ptr<TestOidcProvider>> TestOidcProvider::Start(
    TestOidcProviderOptions options) {
  std::unique_ptr<TestOidcProvider> idp(new TestOidcProvider(std::move(options)));
  // Providers of one process start at different pool slots.
  static std::atomic<size_t> first_slot{0};
  idp->next_slot_ = first_slot.fetch_add(1);
  ASSIGN_OR_RETURN(std::shared_ptr<const Keys> keys, idp->NewKeys());
  {
    absl::MutexLock lock(&idp->mu_);
    idp->keys_ = std::move(keys);
  }

  TestOidcProvider* self = idp.get();
  httplib::Server& server = *idp->server_;
  server.set_keep_alive_max_count(1);
  server.set_pre_routing_handler([self](const httplib::Request& req, httplib::Response& res) {
    if (req.path == "/.well-known/openid-configuration") ++self->discovery_requests_;
    if (req.path == "/jwks") ++self->jwks_requests_;
    if (!self->down_.load()) return httplib::Server::HandlerResponse::Unhandled;
    res.status = 503;
    res.set_content(R"({"error":"temporarily_unavailable"})", "application/json");
    return httplib::Server::HandlerResponse::Handled;
  });
  server.Get("/.well-known/openid-configuration",
             [self](const httplib::Request&, httplib::Response& res) {
               res.set_content(self->DiscoveryJson(), "application/json");
             });
  server.Get("/jwks", [self](const httplib::Request&, httplib::Response& res) {
    res.set_content(self->jwks_json(), "application/json");
  });
  if (!idp->options_.mint_bearer.empty()) idp->ServeMintEndpoints();
  // bind_to_any_port also listens, so requests queue until the thread accepts.
  if (idp->options_.port != 0) {
    idp->port_ = server.bind_to_port("127.0.0.1", idp->options_.port) ? idp->options_.port : -1;
  } else {
    idp->port_ = server.bind_to_any_port("127.0.0.1");
  }
  if (idp->port_ <= 0) return absl::InternalError("test OIDC provider: cannot bind 127.0.0.1");
  idp->issuer_ = absl::StrCat("http://127.0.0.1:", idp->port_);
  idp->thread_ = std::thread([self] { self->server_->listen_after_bind(); });
  // httplib's stop() does nothing until the server runs, so a Stop() right
  // after Start() would leave the thread in accept() forever: wait for it.
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(10);
  while (!server.is_running()) {
    if (std::chrono::steady_clock::now() > deadline) {
      return absl::InternalError("test OIDC provider: server thread did not start");
    }
    std::this_thread::yield();
  }
  return idp;
}

void TestOidcProvider::ServeMintEndpoints() {
  TestOidcProvider* self = this;
  // Authorized compares the bearer; the runner's header says "bearer".
  auto authorized = [self](const httplib::Request& req, httplib::Response& res) {
    const std::string header = req.get_header_value("Authorization");
    if (absl::EqualsIgnoreCase(header, absl::StrCat("bearer ", self->options_.mint_bearer))) {
      return true;
    }
    res.status = 401;
    res.set_content(R"({"message":"bad credentials"})", "application/json");
    return false;
  };
  server_->Get("/github/token", [self, authorized](const httplib::Request& req,
                                                   httplib::Response& res) {
    if (!authorized(req, res)) return;
    rapidjson::Document claims;
    claims.Parse(self->options_.runner_claims_json.c_str());
    if (claims.HasParseError() || !claims.IsObject()) claims.SetObject();
    const std::string audience = req.get_param_value("audience");
    if (!audience.empty()) {
      claims.RemoveMember("aud");
      claims.AddMember("aud", rapidjson::Value(audience.c_str(), claims.GetAllocator()),
                       claims.GetAllocator());
    }
    rapidjson::StringBuffer buf;
    rapidjson::Writer<rapidjson::StringBuffer> w(buf);
    claims.Accept(w);
    absl::StatusOr<std::string> token = self->Mint(Clock::Real().Now(), buf.GetString());
    if (!token.ok()) {
      res.status = 500;
      return;
    }
    res.set_content(absl::StrCat(R"({"count":1,"value":")", *token, R"("})"), "application/json");
  });
  server_->Post("/mint", [self, authorized](const httplib::Request& req, httplib::Response& res) {
    if (!authorized(req, res)) return;
    absl::StatusOr<std::string> token = self->Mint(Clock::Real().Now(), req.body);
    if (!token.ok()) {
      res.status = 400;
      res.set_content(std::string(token.status().message()), "text/plain");
      return;
    }
    res.set_content(*token, "text/plain");
  });
}

TestOidcProvider::~TestOidcProvider() { Stop(); }

void TestOidcProvider::Stop() {
  {
    absl::MutexLock lock(&mu_);
    if (stopped_) return;
    stopped_ = true;
  }
  server_->stop();
  if (thread_.joinable()) thread_.join();
}

std::string TestOidcProvider::discovery_url() const {
  return absl::StrCat(issuer_, "/.well-known/openid-configuration");
}

std::string TestOidcProvider::jwks_uri() const { return absl::StrCat(issuer_, "/jwks"); }

std::shared_ptr<const TestOidcProvider::Keys> TestOidcProvider::keys() const {
  absl::MutexLock lock(&mu_);
  return keys_;
}

std::string TestOidcProvider::jwks_json() const { return keys()->jwks_json; }

std::string TestOidcProvider::kid(JwsAlgorithm alg) const {
  auto k = keys();
  return alg == JwsAlgorithm::kEs256 ? k->es256->kid() : k->rs256->kid();
}

void TestOidcProvider::SetDiscoveryIssuer(absl::string_view issuer) {
  absl::MutexLock lock(&mu_);
  discovery_issuer_ = std::string(issuer);
}

std::string TestOidcProvider::DiscoveryJson() const {
  std::string named;
  {
    absl::MutexLock lock(&mu_);
    named = discovery_issuer_.empty() ? issuer_ : discovery_issuer_;
  }
  return absl::StrCat(R"({"issuer":)", JsonString(named), R"(,"jwks_uri":)", JsonString(jwks_uri()),
                      R"(,"response_types_supported":["id_token"],)"
                      R"("subject_types_supported":["public"],)"
                      R"("id_token_signing_alg_values_supported":["RS256","ES256"]})");
}

absl::Status TestOidcProvider::RotateKey() {
  absl::MutexLock rotate_lock(&rotate_mu_);
  ASSIGN_OR_RETURN(std::shared_ptr<const Keys> fresh, NewKeys());
  absl::MutexLock lock(&mu_);
  keys_ = std::move(fresh);
  return absl::OkStatus();
}

absl::StatusOr<std::string> TestOidcProvider::Claims(absl::Time now,
                                                     absl::string_view claims_json) const {
  rapidjson::Document overrides;
  overrides.Parse(claims_json.data(), claims_json.size());
  if (overrides.HasParseError() || !overrides.IsObject()) {
    return absl::InvalidArgumentError("claims_json must be a JSON object");
  }
  rapidjson::Document claims(rapidjson::kObjectType);
  auto& alloc = claims.GetAllocator();
  const int64_t iat = absl::ToUnixSeconds(now);
  const auto set_string = [&](const char* name, absl::string_view value) {
    claims.AddMember(
        rapidjson::Value(name, alloc),
        rapidjson::Value(value.data(), static_cast<rapidjson::SizeType>(value.size()), alloc),
        alloc);
  };
  set_string("iss", issuer_);
  set_string("sub", options_.subject);
  set_string("aud", options_.audience);
  claims.AddMember("iat", iat, alloc);
  claims.AddMember("nbf", iat, alloc);
  claims.AddMember("exp", iat + absl::ToInt64Seconds(options_.lifetime), alloc);
  set_string("jti", RandomHex(16));
  for (auto& member : overrides.GetObject()) {
    claims.RemoveMember(member.name);
    if (member.value.IsNull()) continue;
    claims.AddMember(rapidjson::Value(member.name, alloc), rapidjson::Value(member.value, alloc),
                     alloc);
  }
  rapidjson::StringBuffer buffer;
  rapidjson::Writer<rapidjson::StringBuffer> writer(buffer);
  claims.Accept(writer);
  return std::string(buffer.GetString(), buffer.GetSize());
}

absl::StatusOr<std::string> TestOidcProvider::Mint(absl::Time now, absl::string_view claims_json,
                                                   JwsAlgorithm alg) const {
  if (alg != JwsAlgorithm::kRs256 && alg != JwsAlgorithm::kEs256) {
    return absl::InvalidArgumentError("the test OIDC provider signs with RS256 or ES256 only");
  }
  ASSIGN_OR_RETURN(std::string payload, Claims(now, claims_json));
  auto k = keys();
  const Signer& signer = alg == JwsAlgorithm::kEs256 ? *k->es256 : *k->rs256;
  return SignCompactJws(signer, "JWT", payload);
}

absl::StatusOr<std::string> TestOidcProvider::MintWithUnknownKid(absl::Time now,
                                                                 absl::string_view claims_json,
                                                                 absl::string_view kid) const {
  ASSIGN_OR_RETURN(std::string payload, Claims(now, claims_json));
  std::shared_ptr<const Signer> stranger;
  {
    absl::MutexLock lock(&mu_);
    if (stranger_ == nullptr) {
      std::optional<size_t> slot;
      if (!options_.fresh_keys) slot = kStrangerSlot;
      ASSIGN_OR_RETURN(stranger_,
                       NewSigner(KeySpec::kRsa2048, JwsAlgorithm::kRs256, "stranger", slot));
    }
    stranger = stranger_;
  }
  const std::string chosen = kid.empty() ? "unknown-" + RandomHex(8) : std::string(kid);
  return SignWithKid(*stranger, chosen, payload);
}

}  // namespace writ::test
