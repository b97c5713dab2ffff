// End-to-end tests of certificate issuance: X.509-SVIDs over HTTP and gRPC,
// every refusal, the bundle endpoints, and CA rotation through KeyService
// while issuing. (Renewal over mTLS: issuer_renewal_test.cc; SSH:
// issuer_ssh_test.cc.)
#include <atomic>
#include <chrono>
#include <set>
#include <sstream>
#include <thread>

#include "absl/strings/match.h"
#include "absl/strings/str_join.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "rapidjson/document.h"
#include "sdk/cli/command.h"
#include "sdk/cli/commands.h"
#include "tests/integration/cert_fixture.h"
#include "tests/testing/status_test_util.h"

namespace writ::integration {
namespace {

using ::testing::ElementsAre;
using ::testing::HasSubstr;
using ::testing::IsEmpty;

class IssuerCertTest : public IssuerCertFixture {};

TEST_F(IssuerCertTest, SvidOverHttpVerifiesWithOpensslAndIsRecordedBySerial) {
  ASSERT_NO_FATAL_FAILURE(StartCertServer());
  Workload w = NewWorkload();
  HttpResult r = PostSvid(MintCi(), w.csr_pem, "application/x-pem-file", "?lifetime=20m");
  ASSERT_EQ(r.status, 200) << r.body;
  EXPECT_EQ(r.headers["cache-control"], "no-store");
  const std::string svid = JsonString(r.body, "x509_svid").value_or("");
  const std::string bundle = JsonString(r.body, "bundle").value_or("");
  const std::string serial = JsonString(r.body, "serial").value_or("");
  EXPECT_EQ(JsonString(r.body, "spiffe_id"), kGrantedSubject);
  EXPECT_EQ(JsonString(r.body, "rule"), "ci-svid");
  EXPECT_OK(OpensslVerify(svid, bundle));
  // The independent SPIFFE check, and the rule's include_claims as facts.
  std::string facts;
  EXPECT_OK(SvidCheck(svid, bundle, kGrantedSubject, &facts));
  EXPECT_THAT(facts, HasSubstr(R"([["repository", "acme/app"], ["ref", "refs/heads/main"]])"));
  EXPECT_THAT(UriSans(svid), ElementsAre(kGrantedSubject));
  // The bundle in the answer is what /v1/bundle.pem publishes.
  EXPECT_EQ(HttpGet(url("/v1/bundle.pem")).body, bundle);
  // The SVID is for the CSR's key, and lives what was asked.
  auto leaf = ParseCertificatePem(svid);
  ASSERT_OK(leaf);
  EXPECT_EQ(EVP_PKEY_eq(X509_get0_pubkey(leaf->get()), w.key.get()), 1);
  const int64_t expires_at = JsonInt(r.body, "expires_at").value_or(0);
  EXPECT_NEAR(expires_at - absl::ToUnixSeconds(absl::Now()), 20 * 60, 5);

  issuer::LedgerRecord rec = RecordOfSerial(serial);
  EXPECT_EQ(rec.request_id, r.headers["x-request-id"]);
  EXPECT_EQ(rec.decision, "allow");
  EXPECT_EQ(rec.credential_kind, "x509-svid");
  EXPECT_EQ(rec.granted_subject, kGrantedSubject);
  EXPECT_EQ(rec.attested_subject, kCiSubject);
  EXPECT_EQ(rec.attested_issuer_name, "ci");
  EXPECT_EQ(rec.signing_key, server_->keys()->ActiveX509Ca()->id);
  EXPECT_EQ(rec.credential_sha256, Sha256HexOf(*CertificateToDer(leaf->get())));
  EXPECT_EQ(absl::ToUnixSeconds(rec.expires_at), expires_at);
  EXPECT_EQ(rec.transport, "http");
  EXPECT_EQ(rec.rule, "ci-svid");

  // LedgerService shows the new fields.
  v1::GetByJtiRequest get;
  get.set_jti(serial);
  v1::LedgerRecord proto;
  GrpcCall call =
      CallGrpc([&](grpc::ClientContext* c) { return ledger_stub_->GetByJti(c, get, &proto); });
  ASSERT_TRUE(call.status.ok()) << call.status.error_message();
  EXPECT_EQ(proto.signing_key(), rec.signing_key);
  EXPECT_EQ(proto.attested_issuer_name(), "ci");
  EXPECT_EQ(proto.credential_kind(), "x509-svid");
}

TEST_F(IssuerCertTest, DerCsrAndTextPlainAreAccepted) {
  ASSERT_NO_FATAL_FAILURE(StartCertServer());
  EXPECT_EQ(PostSvid(MintCi(), NewWorkload().csr_der, "application/pkcs10").status, 200);
  EXPECT_EQ(PostSvid(MintCi(), NewWorkload(KeySpec::kEd25519).csr_pem, "text/plain").status, 200);
}

TEST_F(IssuerCertTest, CsrRefusalsAreRecordedDenials) {
  ASSERT_NO_FATAL_FAILURE(StartCertServer());
  // Bad signature: no proof of possession.
  std::string tampered = NewWorkload().csr_der;
  tampered.back() ^= 0x01;
  issuer::LedgerRecord bad_sig =
      ExpectDenialRecorded(PostSvid(MintCi(), tampered, "application/pkcs10"), "invalid_request");
  EXPECT_THAT(bad_sig.reasons, ElementsAre(HasSubstr("proof of possession")));
  EXPECT_EQ(bad_sig.credential_kind, "x509-svid");

  // Weak RSA (1024 bits), built by hand: the SDK refuses to make one.
  SslPtr<EVP_PKEY> weak(EVP_PKEY_Q_keygen(nullptr, nullptr, "RSA", size_t{1024}));
  ASSERT_NE(weak, nullptr);
  SslPtr<X509_REQ> req(X509_REQ_new());
  ASSERT_EQ(X509_REQ_set_version(req.get(), X509_REQ_VERSION_1), 1);
  ASSERT_EQ(X509_REQ_set_pubkey(req.get(), weak.get()), 1);
  ASSERT_GT(X509_REQ_sign(req.get(), weak.get(), EVP_sha256()), 0);
  std::string der(i2d_X509_REQ(req.get(), nullptr), '\0');
  unsigned char* p = reinterpret_cast<unsigned char*>(der.data());
  ASSERT_GT(i2d_X509_REQ(req.get(), &p), 0);
  issuer::LedgerRecord weak_rec =
      ExpectDenialRecorded(PostSvid(MintCi(), der, "application/pkcs10"), "invalid_request");
  EXPECT_THAT(weak_rec.reasons, ElementsAre(HasSubstr("RSA 1024")));

  // An extra DNS name: the CSR may ask for the granted SPIFFE ID only.
  CertificateRequestTemplate extra;
  extra.uri_sans = {kGrantedSubject};
  extra.dns_sans = {"admin.acme.example"};
  issuer::LedgerRecord dns = ExpectDenialRecorded(
      PostSvid(MintCi(), NewWorkload(KeySpec::kEcP256, extra).csr_pem), "access_denied");
  EXPECT_THAT(dns.reasons, ElementsAre(HasSubstr("admin.acme.example")));
  EXPECT_EQ(dns.attested_subject, kCiSubject);
}

TEST_F(IssuerCertTest, MissingOrNonBearerAuthorizationIs401AndNotRecorded) {
  ASSERT_NO_FATAL_FAILURE(StartCertServer());
  const std::string csr = NewWorkload().csr_pem;
  const size_t before = AllRecords().size();
  for (const std::vector<std::string>& headers : std::vector<std::vector<std::string>>{
           {},
           {"Authorization: Basic Y2k6c2VjcmV0"},
           {"Authorization: Bearer"},
           {"Authorization: Bearer a b"},
       }) {
    HttpResult r =
        HttpRequest("POST", url("/v1/x509-svid"), "application/x-pem-file", csr, headers);
    EXPECT_EQ(r.status, 401) << r.body;
    EXPECT_THAT(r.headers["www-authenticate"], HasSubstr("Bearer"));
    EXPECT_EQ(JsonString(r.body, "error"), "invalid_request");
    EXPECT_THAT(JsonString(r.body, "error_description").value_or(""), HasSubstr("Bearer"));
  }
  EXPECT_EQ(AllRecords().size(), before);
}

TEST_F(IssuerCertTest, BadTokensAreInvalidGrantAndRecorded) {
  ASSERT_NO_FATAL_FAILURE(StartCertServer());
  const std::string csr = NewWorkload().csr_pem;
  ASSERT_OK_AND_ASSIGN(std::string unknown_kid,
                       ci_idp_->MintWithUnknownKid(absl::Now(), kCiClaims));
  issuer::LedgerRecord rec = ExpectDenialRecorded(PostSvid(unknown_kid, csr), "invalid_grant");
  EXPECT_TRUE(rec.attested_subject.empty());
  ExpectDenialRecorded(PostSvid("not.a.token", csr), "invalid_grant");
  ASSERT_OK_AND_ASSIGN(std::string expired, ci_idp_->Mint(absl::Now() - absl::Hours(1), kCiClaims));
  ExpectDenialRecorded(PostSvid(expired, csr), "invalid_grant");
}

TEST_F(IssuerCertTest, RuleNotGrantingX509SvidIsRefusedAndRecorded) {
  ASSERT_NO_FATAL_FAILURE(StartCertServer());
  HttpResult r = PostSvid(MintCi(kJwtOnlyClaims), NewWorkload().csr_pem);
  issuer::LedgerRecord rec = ExpectDenialRecorded(r, "invalid_target");
  EXPECT_EQ(rec.rule, "jwt-only");
  EXPECT_THAT(absl::StrJoin(rec.reasons, " "), HasSubstr("x509-svid"));
  // The same workload still gets its JWT.
  EXPECT_EQ(Exchange(MintCi(kJwtOnlyClaims), kDeployAudience).status, 200);
}

TEST_F(IssuerCertTest, MalformedRequestsGetOAuthErrors) {
  ASSERT_NO_FATAL_FAILURE(StartCertServer());
  const std::string token = MintCi();
  const std::string csr = NewWorkload().csr_pem;
  HttpResult type = PostSvid(token, csr, "application/json");
  EXPECT_EQ(type.status, 400);
  EXPECT_THAT(JsonString(type.body, "error_description").value_or(""),
              HasSubstr("application/pkcs10"));
  for (const char* query :
       {"?lifetime=soon", "?lifetime=500ms", "?lifetime=1m&lifetime=2m", "?audience=x"}) {
    HttpResult r = PostSvid(token, csr, "application/x-pem-file", query);
    EXPECT_EQ(r.status, 400) << query;
    EXPECT_EQ(JsonString(r.body, "error"), "invalid_request") << query;
  }
  HttpResult empty = PostSvid(token, "");
  EXPECT_EQ(empty.status, 400);
  EXPECT_THAT(empty.body, HasSubstr("CSR"));
  HttpResult huge = PostSvid(token, std::string(70 * 1024, 'A'));
  EXPECT_EQ(huge.status, 413);
  EXPECT_EQ(JsonString(huge.body, "error"), "invalid_request");
  HttpResult get = HttpGet(url("/v1/x509-svid"));
  EXPECT_EQ(get.status, 405);
  EXPECT_EQ(get.headers["allow"], "POST");
}

TEST_F(IssuerCertTest, SvidOverGrpc) {
  ASSERT_NO_FATAL_FAILURE(StartCertServer());
  Workload w = NewWorkload();
  v1::MintX509SvidRequest req;
  req.set_subject_token(MintCi());
  req.set_csr(w.csr_pem);
  v1::X509SvidResponse resp;
  GrpcCall call =
      CallGrpc([&](grpc::ClientContext* c) { return certs_->MintX509Svid(c, req, &resp); });
  ASSERT_TRUE(call.status.ok()) << call.status.error_message();
  EXPECT_EQ(resp.spiffe_id(), kGrantedSubject);
  EXPECT_OK(OpensslVerify(resp.x509_svid_pem(), resp.bundle_pem()));
  EXPECT_OK(SvidCheck(resp.x509_svid_pem(), resp.bundle_pem(), kGrantedSubject));
  issuer::LedgerRecord rec = RecordOfSerial(resp.serial());
  EXPECT_EQ(rec.request_id, call.request_id);
  EXPECT_EQ(rec.transport, "grpc");
  EXPECT_EQ(absl::ToUnixSeconds(rec.expires_at), resp.expires_at_unix());

  // Refusals carry their status code and OAuth error.
  req.set_subject_token("forged");
  call = CallGrpc([&](grpc::ClientContext* c) { return certs_->MintX509Svid(c, req, &resp); });
  EXPECT_EQ(call.status.error_code(), grpc::StatusCode::UNAUTHENTICATED);
  EXPECT_EQ(call.oauth_error, "invalid_grant");
  EXPECT_EQ(RecordOf(call.request_id).error, "invalid_grant");
  req.set_subject_token(MintCi(kJwtOnlyClaims));
  call = CallGrpc([&](grpc::ClientContext* c) { return certs_->MintX509Svid(c, req, &resp); });
  EXPECT_EQ(call.status.error_code(), grpc::StatusCode::PERMISSION_DENIED);
  EXPECT_EQ(call.oauth_error, "invalid_target");
  req.set_subject_token(MintCi());
  req.set_csr("garbage");
  call = CallGrpc([&](grpc::ClientContext* c) { return certs_->MintX509Svid(c, req, &resp); });
  EXPECT_EQ(call.status.error_code(), grpc::StatusCode::INVALID_ARGUMENT);
  EXPECT_EQ(call.oauth_error, "invalid_request");
}

TEST_F(IssuerCertTest, BundleEndpointsPublishEveryAuthorityAndTheDiscoveryNamesThem) {
  ASSERT_NO_FATAL_FAILURE(StartCertServer());
  std::shared_ptr<const issuer::TrustBundle> bundle = server_->keys()->Bundle();
  ASSERT_NE(bundle, nullptr);

  HttpResult json = HttpGet(url("/v1/bundle"));
  ASSERT_EQ(json.status, 200);
  EXPECT_EQ(json.headers["cache-control"], "public, max-age=60");
  EXPECT_THAT(json.headers["content-type"], HasSubstr("application/json"));
  rapidjson::Document doc;
  doc.Parse(json.body.c_str());
  ASSERT_TRUE(doc.IsObject()) << json.body;
  EXPECT_EQ(doc["spiffe_sequence"].GetUint64(), bundle->sequence);
  EXPECT_EQ(doc["spiffe_refresh_hint"].GetInt64(), 300);
  size_t x509 = 0, jwt = 0;
  for (const auto& key : doc["keys"].GetArray()) {
    const std::string use = key["use"].GetString();
    x509 += use == "x509-svid";
    jwt += use == "jwt-svid";
  }
  EXPECT_EQ(x509, bundle->x509_authorities_der.size());
  EXPECT_EQ(jwt, bundle->jwt_keys.size());
  EXPECT_GE(x509, 2u);  // the active CA and the prepared next one

  HttpResult pem = HttpGet(url("/v1/bundle.pem"));
  ASSERT_EQ(pem.status, 200);
  ASSERT_OK_AND_ASSIGN(auto certs, ParseCertificateChainPem(pem.body));
  ASSERT_EQ(certs.size(), bundle->x509_authorities_der.size());
  for (size_t i = 0; i < certs.size(); ++i) {
    EXPECT_EQ(*CertificateToDer(certs[i].get()), bundle->x509_authorities_der[i]);
  }

  HttpResult ssh = HttpGet(url("/v1/ssh/ca-keys"));
  ASSERT_EQ(ssh.status, 200);
  EXPECT_THAT(ssh.headers["content-type"], HasSubstr("text/plain"));
  EXPECT_THAT(ssh.body, HasSubstr(server_->keys()->ActiveSshCa()->public_key_line));
  EXPECT_EQ(std::count(ssh.body.begin(), ssh.body.end(), '\n'), bundle->ssh_ca_keys.size());

  v1::TrustBundleResponse grpc_bundle;
  GrpcCall call = CallGrpc([&](grpc::ClientContext* c) {
    return certs_->GetTrustBundle(c, v1::GetTrustBundleRequest(), &grpc_bundle);
  });
  ASSERT_TRUE(call.status.ok()) << call.status.error_message();
  EXPECT_EQ(grpc_bundle.x509_bundle_pem(), pem.body);
  EXPECT_EQ(grpc_bundle.ssh_ca_keys(), ssh.body);
  EXPECT_EQ(grpc_bundle.trust_domain(), kTrustDomain);

  HttpResult discovery = HttpGet(url("/.well-known/openid-configuration"));
  EXPECT_EQ(JsonString(discovery.body, "spiffe_bundle_endpoint"), url("/v1/bundle"));
  EXPECT_EQ(JsonString(discovery.body, "x509_svid_endpoint"), url("/v1/x509-svid"));
  EXPECT_EQ(JsonString(discovery.body, "ssh_certificate_endpoint"), url("/v1/ssh-certificate"));
  EXPECT_EQ(JsonString(discovery.body, "ssh_ca_keys_endpoint"), url("/v1/ssh/ca-keys"));
}

TEST_F(IssuerCertTest, KeyServiceListsAndRotatesAndEverySvidVerifiesAgainstTheNextBundle) {
  ASSERT_NO_FATAL_FAILURE(StartCertServer());
  v1::ListKeysResponse list;
  GrpcCall call = CallGrpc(
      [&](grpc::ClientContext* c) { return keys_->ListKeys(c, v1::ListKeysRequest(), &list); });
  ASSERT_TRUE(call.status.ok()) << call.status.error_message();
  int active_ca = 0;
  for (const v1::KeyInfo& k : list.keys()) {
    active_ca += k.purpose() == "x509-ca" && k.state() == "active";
    EXPECT_THAT(k.path(), HasSubstr(data_dir_));
  }
  EXPECT_EQ(active_ca, 1);

  // Without --force a freshly prepared key may not become active yet.
  v1::RotateKeyRequest rotate;
  rotate.set_purpose("x509-ca");
  v1::RotateKeyResponse rotated;
  call = CallGrpc([&](grpc::ClientContext* c) { return keys_->RotateKey(c, rotate, &rotated); });
  EXPECT_EQ(call.status.error_code(), grpc::StatusCode::FAILED_PRECONDITION);
  rotate.set_purpose("rsa");
  call = CallGrpc([&](grpc::ClientContext* c) { return keys_->RotateKey(c, rotate, &rotated); });
  EXPECT_EQ(call.status.error_code(), grpc::StatusCode::INVALID_ARGUMENT);

  // Rotate while issuing: every SVID verifies against the bundle fetched
  // right after it, and is recorded with the CA that signed it.
  std::atomic<bool> stop{false};
  std::atomic<int> rotations{0};
  std::thread rotator([&] {
    auto stub = v1::KeyService::NewStub(Channel());
    v1::RotateKeyRequest req;
    req.set_purpose("x509-ca");
    req.set_force(true);
    while (!stop.load() && rotations.load() < 6) {
      v1::RotateKeyResponse resp;
      GrpcCall c =
          CallGrpc([&](grpc::ClientContext* ctx) { return stub->RotateKey(ctx, req, &resp); });
      if (c.status.ok()) ++rotations;
      std::this_thread::sleep_for(std::chrono::milliseconds(20));
    }
  });
  std::set<std::string> signing_keys;
  for (int i = 0; i < 12; ++i) {
    HttpResult r = PostSvid(MintCi(), NewWorkload().csr_pem);
    ASSERT_EQ(r.status, 200) << r.body;
    HttpResult bundle = HttpGet(url("/v1/bundle.pem"));
    ASSERT_EQ(bundle.status, 200);
    const std::string svid = JsonString(r.body, "x509_svid").value_or("");
    absl::Status verified = VerifyInProcess(svid, bundle.body, absl::Now());
    EXPECT_TRUE(verified.ok()) << "SVID " << i << ": " << verified;
    signing_keys.insert(RecordOfSerial(JsonString(r.body, "serial").value_or("")).signing_key);
    if (i == 11) EXPECT_OK(OpensslVerify(svid, bundle.body));
  }
  stop = true;
  rotator.join();
  EXPECT_GT(rotations.load(), 0);
  // After the rotations the issuer signs with the new CA.
  HttpResult last = PostSvid(MintCi(), NewWorkload().csr_pem);
  ASSERT_EQ(last.status, 200);
  EXPECT_EQ(RecordOfSerial(JsonString(last.body, "serial").value_or("")).signing_key,
            server_->keys()->ActiveX509Ca()->id);
  EXPECT_FALSE(signing_keys.empty());
}

TEST_F(IssuerCertTest, WritKeysListsAndRotatesTheIssuersKeys) {
  ASSERT_NO_FATAL_FAILURE(StartCertServer());
  auto run = [this](std::vector<std::string> args, std::string* out, std::string* err) {
    std::istringstream in;
    std::ostringstream o, e;
    cli::CommandEnv env{&in, &o, &e};
    args.push_back("--grpc");
    args.push_back(grpc_target());
    const int code = cli::RunWrit(args, env);
    *out = o.str();
    *err = e.str();
    return code;
  };
  std::string out, err;
  ASSERT_EQ(run({"keys", "list"}, &out, &err), cli::kExitOk) << err;
  EXPECT_THAT(out, HasSubstr(server_->keys()->ActiveX509Ca()->id));
  EXPECT_THAT(out, HasSubstr(server_->keys()->ActiveSshCa()->id));
  EXPECT_THAT(out, HasSubstr("prepared"));
  EXPECT_EQ(out.find("PRIVATE"), std::string::npos);

  const std::string old_ssh = server_->keys()->ActiveSshCa()->id;
  EXPECT_EQ(run({"keys", "rotate", "ssh-ca"}, &out, &err), cli::kExitFailure);
  EXPECT_THAT(err, HasSubstr("writ: the issuer refused: "));
  EXPECT_EQ(server_->keys()->ActiveSshCa()->id, old_ssh);
  ASSERT_EQ(run({"keys", "rotate", "ssh-ca", "--force"}, &out, &err), cli::kExitOk) << err;
  EXPECT_NE(server_->keys()->ActiveSshCa()->id, old_ssh);
  EXPECT_THAT(out, HasSubstr("rotated ssh-ca"));
  EXPECT_THAT(out, HasSubstr(old_ssh));  // retired, still listed
  // The published CA keys now hold the new key as well as the retired one.
  HttpResult ca_keys = HttpGet(url("/v1/ssh/ca-keys"));
  EXPECT_THAT(ca_keys.body, HasSubstr(server_->keys()->ActiveSshCa()->public_key_line));
}

}  // namespace
}  // namespace writ::integration
