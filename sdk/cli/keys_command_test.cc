// writ keys list | rotate, run in-process against a fake KeyService on
// loopback (the real one is covered by tests/integration/issuer_cert_test).

#include <grpcpp/grpcpp.h>

#include <memory>
#include <sstream>
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/synchronization/mutex.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "sdk/cli/command.h"
#include "sdk/cli/commands.h"
#include "writ/v1/writ.grpc.pb.h"

namespace writ::cli {
namespace {

using ::testing::HasSubstr;
using ::testing::IsEmpty;
using ::testing::Not;

class FakeKeyService final : public v1::KeyService::Service {
 public:
  grpc::Status ListKeys(grpc::ServerContext*, const v1::ListKeysRequest*,
                        v1::ListKeysResponse* out) override {
    if (!error.ok()) return error;
    *out->mutable_keys() = keys;
    return grpc::Status::OK;
  }
  grpc::Status RotateKey(grpc::ServerContext*, const v1::RotateKeyRequest* in,
                         v1::RotateKeyResponse* out) override {
    absl::MutexLock lock(&mu);
    last_purpose = in->purpose();
    last_force = in->force();
    if (!error.ok()) return error;
    *out->mutable_keys() = keys;
    return grpc::Status::OK;
  }
  absl::Mutex mu;
  grpc::Status error = grpc::Status::OK;
  google::protobuf::RepeatedPtrField<v1::KeyInfo> keys;
  std::string last_purpose;
  bool last_force = false;
};

struct RunResult {
  int code;
  std::string out;
  std::string err;
};

class KeysCommandTest : public ::testing::Test {
 protected:
  void SetUp() override {
    v1::KeyInfo* active = service_.keys.Add();
    active->set_purpose("x509-ca");
    active->set_id("5f0c2a9e");
    active->set_state("active");
    active->set_algorithm("EC P-256");
    active->set_created_at_unix(1'700'000'000);
    active->set_activated_at_unix(1'700'003'600);
    active->set_has_certificate(true);
    active->set_not_after_unix(1'702'592'000);
    v1::KeyInfo* prepared = service_.keys.Add();
    prepared->set_purpose("x509-ca");
    prepared->set_id("77aa01bb");
    prepared->set_state("prepared");
    prepared->set_algorithm("EC P-256");
    prepared->set_has_certificate(false);
    prepared->set_csr_path("/var/lib/writ/keys/x509-ca-77aa01bb.csr");
    grpc::ServerBuilder builder;
    builder.AddListeningPort("127.0.0.1:0", grpc::InsecureServerCredentials(), &port_);
    builder.RegisterService(&service_);
    server_ = builder.BuildAndStart();
    ASSERT_NE(server_, nullptr);
    target_ = absl::StrCat("127.0.0.1:", port_);
  }
  void TearDown() override { server_->Shutdown(); }

  RunResult Run(std::vector<std::string> args) {
    std::istringstream in;
    std::ostringstream out, err;
    CommandEnv env{&in, &out, &err};
    env.getenv = [](const std::string&) { return std::optional<std::string>(); };
    const int code = RunWrit(args, env);
    return {code, out.str(), err.str()};
  }

  FakeKeyService service_;
  std::unique_ptr<grpc::Server> server_;
  int port_ = 0;
  std::string target_;
};

TEST_F(KeysCommandTest, ListPrintsAnAlignedTableWithoutKeyMaterial) {
  RunResult r = Run({"keys", "list", "--grpc", target_});
  ASSERT_EQ(r.code, kExitOk) << r.err;
  std::vector<std::string> lines;
  std::istringstream s(r.out);
  for (std::string line; std::getline(s, line);) lines.push_back(line);
  ASSERT_EQ(lines.size(), 3u) << r.out;
  EXPECT_THAT(lines[0], HasSubstr("PURPOSE  STATE     ID"));
  EXPECT_THAT(lines[1], HasSubstr("x509-ca  active    5f0c2a9e"));
  EXPECT_THAT(lines[1], HasSubstr("2023-11-14T22:13:20Z  2023-11-14T23:13:20Z"));
  EXPECT_THAT(lines[1], HasSubstr("certificate until 2023-12-14T22:13:20Z"));
  EXPECT_THAT(lines[2], HasSubstr("waiting for its certificate (CSR: /var/lib/writ/keys/"));
  // Columns line up: STATE starts at the same offset on every line.
  EXPECT_EQ(lines[0].find("STATE"), lines[1].find("active"));
  EXPECT_EQ(lines[0].find("STATE"), lines[2].find("prepared"));
}

TEST_F(KeysCommandTest, RotateSendsThePurposeAndForce) {
  RunResult r = Run({"keys", "rotate", "x509-ca", "--force", "--grpc", target_});
  ASSERT_EQ(r.code, kExitOk) << r.err;
  EXPECT_EQ(service_.last_purpose, "x509-ca");
  EXPECT_TRUE(service_.last_force);
  EXPECT_THAT(r.out, HasSubstr("rotated x509-ca\nPURPOSE"));
  r = Run({"keys", "rotate", "--grpc", target_, "jwt"});
  ASSERT_EQ(r.code, kExitOk) << r.err;
  EXPECT_EQ(service_.last_purpose, "jwt");
  EXPECT_FALSE(service_.last_force);
}

TEST_F(KeysCommandTest, RefusedRotationIsOneLineAndExitOne) {
  service_.error = grpc::Status(grpc::StatusCode::FAILED_PRECONDITION,
                                "the prepared x509-ca key has been published for 10m; wait 50m "
                                "or use --force");
  RunResult r = Run({"keys", "rotate", "x509-ca", "--grpc", target_});
  EXPECT_EQ(r.code, kExitFailure);
  EXPECT_EQ(r.err,
            "writ: the issuer refused: the prepared x509-ca key has been published for 10m; wait "
            "50m or use --force\n");
  EXPECT_THAT(r.out, IsEmpty());
  service_.error = grpc::Status(grpc::StatusCode::PERMISSION_DENIED,
                                "key management is served to loopback clients only");
  r = Run({"keys", "list", "--grpc", target_});
  EXPECT_EQ(r.code, kExitRefused);
  EXPECT_THAT(r.err, HasSubstr("loopback clients only"));
}

TEST_F(KeysCommandTest, UnreachableIssuerNamesTheTarget) {
  server_->Shutdown();
  RunResult r = Run({"keys", "list", "--grpc", target_});
  EXPECT_EQ(r.code, kExitUnavailable);
  EXPECT_THAT(r.err, HasSubstr(absl::StrCat("cannot reach the issuer's gRPC at ", target_)));
  EXPECT_EQ(std::count(r.err.begin(), r.err.end(), '\n'), 1);
}

TEST_F(KeysCommandTest, UsageErrorsExitTwo) {
  for (const std::vector<std::string>& args : std::vector<std::vector<std::string>>{
           {"keys", "rotate"},
           {"keys", "rotate", "rsa"},
           {"keys", "rotate", "jwt", "extra"},
           {"keys", "list", "--bogus"},
           {"keys", "list", "--grpc", "http://127.0.0.1:8081"},
           {"keys", "frobnicate"},
       }) {
    RunResult r = Run(args);
    EXPECT_EQ(r.code, kExitUsage) << args.back() << ": " << r.err;
    EXPECT_THAT(r.err, Not(IsEmpty()));
  }
  EXPECT_THAT(Run({"keys", "rotate", "rsa"}).err, HasSubstr("jwt, x509-ca or ssh-ca"));
}

TEST_F(KeysCommandTest, HelpDescribesTheCommands) {
  RunResult top = Run({"keys", "--help"});
  EXPECT_EQ(top.code, kExitOk);
  EXPECT_THAT(top.out, HasSubstr("rotate"));
  RunResult rotate = Run({"keys", "rotate", "--help"});
  EXPECT_EQ(rotate.code, kExitOk);
  EXPECT_THAT(rotate.out, HasSubstr("--force"));
  EXPECT_THAT(rotate.out, HasSubstr("--grpc HOST:PORT"));
  EXPECT_THAT(Run({"--help"}).out, HasSubstr("keys"));
}

}  // namespace
}  // namespace writ::cli
