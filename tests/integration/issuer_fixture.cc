#include "tests/integration/issuer_fixture.h"

#include <curl/curl.h>
#include <stdlib.h>

#include <algorithm>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <memory>

#include "absl/strings/ascii.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/strip.h"
#include "rapidjson/document.h"
#include "rapidjson/stringbuffer.h"
#include "rapidjson/writer.h"
#include "tests/testing/status_test_util.h"
#include "writ/crypto/digest.h"
#include "writ/jose/jwk.h"

namespace writ::integration {
namespace {

struct CurlDeleter {
  void operator()(CURL* c) const { curl_easy_cleanup(c); }
};
struct SlistDeleter {
  void operator()(curl_slist* l) const { curl_slist_free_all(l); }
};

size_t AppendBody(char* data, size_t size, size_t n, void* user) {
  static_cast<std::string*>(user)->append(data, size * n);
  return size * n;
}

size_t AppendHeader(char* data, size_t size, size_t n, void* user) {
  absl::string_view line(data, size * n);
  size_t colon = line.find(':');
  if (colon != absl::string_view::npos) {
    auto* headers = static_cast<std::map<std::string, std::string>*>(user);
    (*headers)[absl::AsciiStrToLower(line.substr(0, colon))] =
        std::string(absl::StripAsciiWhitespace(line.substr(colon + 1)));
  }
  return size * n;
}

bool ParseObject(absl::string_view json, rapidjson::Document* doc) {
  doc->Parse(json.data(), json.size());
  return !doc->HasParseError() && doc->IsObject();
}

}  // namespace

HttpResult HttpRequest(absl::string_view method, const std::string& url,
                       absl::string_view content_type, absl::string_view body,
                       const std::vector<std::string>& extra_headers) {
  HttpResult out;
  std::unique_ptr<CURL, CurlDeleter> curl(curl_easy_init());
  if (!curl) {
    out.error = "curl_easy_init failed";
    return out;
  }
  CURL* c = curl.get();
  std::unique_ptr<curl_slist, SlistDeleter> headers;
  std::string method_str(method);
  curl_easy_setopt(c, CURLOPT_URL, url.c_str());
  curl_easy_setopt(c, CURLOPT_NOPROXY, "*");
  curl_easy_setopt(c, CURLOPT_TIMEOUT_MS, 5000L);
  curl_easy_setopt(c, CURLOPT_NOSIGNAL, 1L);
  curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, AppendBody);
  curl_easy_setopt(c, CURLOPT_WRITEDATA, &out.body);
  curl_easy_setopt(c, CURLOPT_HEADERFUNCTION, AppendHeader);
  curl_easy_setopt(c, CURLOPT_HEADERDATA, &out.headers);
  if (method == "POST") {
    curl_easy_setopt(c, CURLOPT_POST, 1L);
    curl_easy_setopt(c, CURLOPT_POSTFIELDS, body.data());
    curl_easy_setopt(c, CURLOPT_POSTFIELDSIZE_LARGE, static_cast<curl_off_t>(body.size()));
    // Always name the type (curl would default to a form) and never wait
    // for "100 Continue".
    std::string type = content_type.empty() ? std::string("Content-Type:")
                                            : absl::StrCat("Content-Type: ", content_type);
    headers.reset(curl_slist_append(nullptr, type.c_str()));
    headers.reset(curl_slist_append(headers.release(), "Expect:"));
  } else if (method != "GET") {
    curl_easy_setopt(c, CURLOPT_CUSTOMREQUEST, method_str.c_str());
  }
  for (const std::string& h : extra_headers) {
    headers.reset(curl_slist_append(headers.release(), h.c_str()));
  }
  if (headers) curl_easy_setopt(c, CURLOPT_HTTPHEADER, headers.get());
  CURLcode rc = curl_easy_perform(c);
  if (rc != CURLE_OK) {
    out.error = curl_easy_strerror(rc);
    // A server may answer (413) and close before reading the whole body;
    // what it answered still counts.
  }
  curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, &out.status);
  return out;
}

std::string FormEncode(const std::vector<std::pair<std::string, std::string>>& fields) {
  std::unique_ptr<CURL, CurlDeleter> curl(curl_easy_init());
  std::string out;
  for (const auto& [name, value] : fields) {
    if (!out.empty()) out += '&';
    char* n = curl_easy_escape(curl.get(), name.data(), static_cast<int>(name.size()));
    char* v = curl_easy_escape(curl.get(), value.data(), static_cast<int>(value.size()));
    absl::StrAppend(&out, n, "=", v);
    curl_free(n);
    curl_free(v);
  }
  return out;
}

std::optional<std::string> JsonString(absl::string_view json, absl::string_view name) {
  rapidjson::Document doc;
  if (!ParseObject(json, &doc)) return std::nullopt;
  auto it =
      doc.FindMember(rapidjson::Value(name.data(), static_cast<rapidjson::SizeType>(name.size())));
  if (it == doc.MemberEnd() || !it->value.IsString()) return std::nullopt;
  return std::string(it->value.GetString(), it->value.GetStringLength());
}

std::optional<int64_t> JsonInt(absl::string_view json, absl::string_view name) {
  rapidjson::Document doc;
  if (!ParseObject(json, &doc)) return std::nullopt;
  auto it =
      doc.FindMember(rapidjson::Value(name.data(), static_cast<rapidjson::SizeType>(name.size())));
  if (it == doc.MemberEnd() || !it->value.IsInt64()) return std::nullopt;
  return it->value.GetInt64();
}

bool JsonHas(absl::string_view json, absl::string_view name) {
  rapidjson::Document doc;
  if (!ParseObject(json, &doc)) return false;
  return doc.HasMember(
      rapidjson::Value(name.data(), static_cast<rapidjson::SizeType>(name.size())));
}

std::string Sha256HexOf(absl::string_view data) { return Sha256Hex(data); }

void IssuerFixture::SetUp() {
  std::string tmpl = ::testing::TempDir() + "writ-integ-XXXXXX";
  ASSERT_NE(::mkdtemp(tmpl.data()), nullptr);
  root_ = tmpl;
  data_dir_ = root_ + "/data";
  policy_dir_ = root_ + "/policies";
  std::filesystem::create_directories(policy_dir_);

  test::TestOidcProviderOptions ci;
  ci.subject = kCiSubject;
  ASSERT_OK_AND_ASSIGN(ci_idp_, test::TestOidcProvider::Start(ci));
  test::TestOidcProviderOptions agents;
  agents.subject = kAgentSubject;
  ASSERT_OK_AND_ASSIGN(agents_idp_, test::TestOidcProvider::Start(agents));
}

void IssuerFixture::TearDown() {
  if (server_) server_->Stop();
  server_.reset();
  if (ci_idp_) ci_idp_->Stop();
  if (agents_idp_) agents_idp_->Stop();
  std::error_code ec;
  if (!root_.empty()) std::filesystem::remove_all(root_, ec);
}

void IssuerFixture::WritePolicy(absl::string_view name, absl::string_view yaml) {
  std::ofstream out(policy_dir_ + "/" + std::string(name), std::ios::trunc);
  out << yaml;
  out.close();
  ASSERT_TRUE(out.good()) << "cannot write policy " << name;
}

absl::Time IssuerFixture::now() const { return clock_ != nullptr ? clock_->Now() : absl::Now(); }

void IssuerFixture::StartServer(FixtureOptions options) {
  clock_ = options.clock;
  if (options.write_default_policy) {
    ASSERT_NO_FATAL_FAILURE(WritePolicy("10-ci.yaml", kCiPolicy));
  }
  issuer::IssuerConfig config;
  config.source = "integration test";
  config.http.port = 0;
  config.grpc.port = 0;
  config.data_dir = data_dir_;
  config.policy_dir = policy_dir_;
  config.limits.http_threads = 4;
  issuer::TrustedIssuerConfig ci{.name = "ci", .issuer = ci_idp_->issuer(), .audiences = {"writ"}};
  ci.one_time_jti = options.one_time_jti;
  ci.refresh_cooldown = options.refresh_cooldown;
  ci.connect_timeout = absl::Seconds(1);
  ci.fetch_timeout = absl::Seconds(2);
  issuer::TrustedIssuerConfig agents{
      .name = "agents", .issuer = agents_idp_->issuer(), .audiences = {"writ"}};
  agents.refresh_cooldown = options.refresh_cooldown;
  agents.connect_timeout = absl::Seconds(1);
  agents.fetch_timeout = absl::Seconds(2);
  config.trusted_issuers = {ci, agents};
  for (const issuer::TrustedIssuerConfig& extra : options.extra_issuers) {
    config.trusted_issuers.push_back(extra);
  }
  config.x509.trust_domain = kTrustDomain;
  config.x509.facts_extension_oid = kFactsOid;
  if (options.grpc_tls) {
    const std::string key = root_ + "/grpc-tls.key", cert = root_ + "/grpc-tls.crt";
    const std::string cmd = absl::StrCat(
        "openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -days 1 -subj "
        "/CN=writ-test -addext subjectAltName=IP:127.0.0.1 -keyout ",
        key, " -out ", cert, " 2>/dev/null");
    ASSERT_EQ(std::system(cmd.c_str()), 0) << "openssl cannot make the gRPC TLS certificate";
    std::ifstream in(cert);
    grpc_tls_cert_pem_.assign(std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>());
    config.grpc.tls_cert_file = cert;
    config.grpc.tls_key_file = key;
  }
  ASSERT_OK_AND_ASSIGN(server_, issuer::IssuerServer::Start(std::move(config), options.clock));
}

std::string MergeJson(absl::string_view base, absl::string_view extra) {
  rapidjson::Document out, more;
  if (!ParseObject(base, &out) || !ParseObject(extra, &more)) {
    ADD_FAILURE() << "not JSON objects: " << base << " / " << extra;
    return std::string(base);
  }
  for (auto& m : more.GetObject()) {
    auto it = out.FindMember(m.name);
    if (it != out.MemberEnd()) {
      it->value.CopyFrom(m.value, out.GetAllocator());
    } else {
      out.AddMember(rapidjson::Value(m.name, out.GetAllocator()),
                    rapidjson::Value(m.value, out.GetAllocator()), out.GetAllocator());
    }
  }
  rapidjson::StringBuffer buf;
  rapidjson::Writer<rapidjson::StringBuffer> w(buf);
  out.Accept(w);
  return std::string(buf.GetString(), buf.GetSize());
}

std::string IssuerFixture::MintCi(absl::string_view extra) {
  absl::StatusOr<std::string> token = ci_idp_->Mint(now(), MergeJson(kCiClaims, extra));
  EXPECT_OK(token);
  return token.ok() ? *token : "";
}

std::string IssuerFixture::MintAgent(absl::string_view extra) {
  absl::StatusOr<std::string> token = agents_idp_->Mint(now(), extra);
  EXPECT_OK(token);
  return token.ok() ? *token : "";
}

HttpResult IssuerFixture::Exchange(const std::string& subject_token, absl::string_view audience,
                                   absl::string_view scope,
                                   const std::vector<std::pair<std::string, std::string>>& extra) {
  std::vector<std::pair<std::string, std::string>> form = {
      {"grant_type", kGrantType},
      {"subject_token", subject_token},
      {"subject_token_type", kIdTokenType},
  };
  if (!audience.empty()) form.emplace_back("audience", std::string(audience));
  if (!scope.empty()) form.emplace_back("scope", std::string(scope));
  for (const auto& f : extra) form.push_back(f);
  return HttpPost(token_url(), "application/x-www-form-urlencoded", FormEncode(form));
}

HttpResult IssuerFixture::ExchangeDelegated() {
  return Exchange(MintCi(), kDeployAudience, "",
                  {{"actor_token", MintAgent()}, {"actor_token_type", kJwtTokenType}});
}

std::string IssuerFixture::grpc_target() const {
  return absl::StrCat("127.0.0.1:", server_->grpc_port());
}

std::vector<issuer::LedgerRecord> IssuerFixture::AllRecords() {
  issuer::LedgerQuery q;
  q.limit = 100000;
  absl::StatusOr<std::vector<issuer::LedgerRecord>> records = server_->ledger()->Query(q);
  EXPECT_OK(records);
  return records.ok() ? *std::move(records) : std::vector<issuer::LedgerRecord>{};
}

issuer::LedgerRecord IssuerFixture::RecordOf(absl::string_view request_id) {
  std::vector<issuer::LedgerRecord> found;
  for (issuer::LedgerRecord& r : AllRecords()) {
    if (r.request_id == request_id) found.push_back(std::move(r));
  }
  EXPECT_EQ(found.size(), 1u) << "ledger records with request_id \"" << request_id << "\"";
  return found.size() == 1 ? found[0] : issuer::LedgerRecord{};
}

issuer::LedgerRecord IssuerFixture::ExpectDenialRecorded(const HttpResult& response,
                                                         absl::string_view error) {
  EXPECT_EQ(response.status, 400) << response.body;
  EXPECT_EQ(JsonString(response.body, "error"), std::string(error)) << response.body;
  EXPECT_TRUE(JsonString(response.body, "error_description").has_value()) << response.body;
  EXPECT_FALSE(JsonHas(response.body, "access_token")) << response.body;
  std::optional<std::string> request_id = JsonString(response.body, "request_id");
  EXPECT_TRUE(request_id.has_value()) << response.body;
  if (!request_id.has_value()) return {};
  EXPECT_EQ(response.headers.count("x-request-id") ? response.headers.at("x-request-id") : "",
            *request_id);
  issuer::LedgerRecord rec = RecordOf(*request_id);
  EXPECT_EQ(rec.decision, "deny");
  EXPECT_EQ(rec.error, error);
  EXPECT_FALSE(rec.reasons.empty());
  EXPECT_EQ(rec.transport, "http");
  EXPECT_EQ(rec.client_address, "127.0.0.1");
  EXPECT_TRUE(rec.jti.empty());
  EXPECT_TRUE(rec.credential_sha256.empty());
  EXPECT_TRUE(rec.granted_subject.empty());
  return rec;
}

absl::StatusOr<VerifiedJwt> IssuerFixture::VerifyIssued(const std::string& token,
                                                        const std::string& audience) {
  HttpResult jwks = HttpGet(url("/jwks"));
  if (jwks.status != 200) {
    return absl::UnavailableError(absl::StrCat("GET /jwks: ", jwks.status, " ", jwks.error));
  }
  absl::StatusOr<JwkSet> keys = JwkSet::Parse(jwks.body);
  if (!keys.ok()) return keys.status();
  JwtValidatorOptions options;
  options.issuer = server_->issuer_url();
  options.audiences = {audience};
  options.leeway = absl::Seconds(5);
  options.expected_type = "at+jwt";
  absl::StatusOr<JwtValidator> validator = JwtValidator::New(options);
  if (!validator.ok()) return validator.status();
  return validator->Verify(token, *keys);
}

}  // namespace writ::integration
