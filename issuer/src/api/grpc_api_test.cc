// GrpcApi::Stop with work still queued on its pool: certificate issuance and
// a token exchange waiting to fetch keys are answered without being attested,
// issued or recorded, and Stop returns once every call is finished.
#include "issuer/src/api/grpc_api.h"

#include <grpcpp/grpcpp.h>

#include <atomic>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <memory>
#include <thread>

#include "absl/strings/str_cat.h"
#include "absl/synchronization/notification.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "issuer/src/api/work_pool.h"
#include "issuer/src/exchange/certificate_exchange_fixture.h"
#include "tests/testing/pool_blocker.h"
#include "writ/v1/writ.grpc.pb.h"

namespace writ::issuer {

// GrpcApiTestPeer reaches what GrpcApi keeps private.
class GrpcApiTestPeer {
 public:
  static WorkPool* pool(GrpcApi& api) { return api.pool_.get(); }
};

namespace {

using ::testing::AnyOf;
using ::testing::IsEmpty;

// KeysMustBeFetchedAttestor acts as if every issuer's keys must be fetched
// first: kAborted when asked not to fetch. Attestations that may fetch are
// counted (and fail).
class KeysMustBeFetchedAttestor final : public Attestor {
 public:
  absl::StatusOr<AttestedIdentity> Attest(absl::string_view, KeyFetch fetch) override {
    if (fetch == KeyFetch::kNotNow) return absl::AbortedError("keys must be fetched first");
    fetching_calls_.fetch_add(1);
    return absl::UnauthenticatedError("token issuer \"x\" is not trusted");
  }
  int fetching_calls() const { return fetching_calls_.load(); }

 private:
  std::atomic<int> fetching_calls_{0};
};

class GrpcApiStopTest : public CertificateExchangeTest {
 protected:
  void SetUp() override {
    // No minter: no token exchange here gets as far as minting.
    tokens_ = std::make_unique<TokenExchange>(&token_attestor_, &policy_, /*minter=*/nullptr,
                                              ledger_.get(), &clock_);
    LimitsConfig limits;
    limits.http_threads = 1;  // one pool thread, which the test holds
    GrpcServices services;
    services.tokens = tokens_.get();
    services.policy = &policy_;
    services.ledger = ledger_.get();
    services.certificates = exchange_.get();
    services.keys = &keys_;
    auto api = GrpcApi::Start(ListenerConfig{}, limits, services);  // plain, 127.0.0.1, port 0
    ASSERT_TRUE(api.ok()) << api.status();
    api_ = *std::move(api);
    blocker_ = std::make_unique<test::PoolBlocker>(GrpcApiTestPeer::pool(*api_));
    auto channel = grpc::CreateChannel(absl::StrCat("127.0.0.1:", api_->port()),
                                       grpc::InsecureChannelCredentials());
    certificates_ = v1::CertificateService::NewStub(channel);
    token_stub_ = v1::TokenService::NewStub(channel);
  }

  static void SetDeadline(grpc::ClientContext* ctx) {
    ctx->set_deadline(std::chrono::system_clock::now() + std::chrono::seconds(10));
  }

  KeysMustBeFetchedAttestor token_attestor_;
  std::unique_ptr<TokenExchange> tokens_;
  std::unique_ptr<GrpcApi> api_;
  // Destroyed before api_ (and its pool): releases the pool's thread.
  std::unique_ptr<test::PoolBlocker> blocker_;
  std::unique_ptr<v1::CertificateService::Stub> certificates_;
  std::unique_ptr<v1::TokenService::Stub> token_stub_;
};

TEST_F(GrpcApiStopTest, WorkQueuedWhenStopBeginsIsAnsweredWithoutAttestingAndStopReturns) {
  ASSERT_TRUE(blocker_->HoldThread());
  grpc::Status svid, token;
  bool queued = false;
  absl::Notification stopped;
  {
    std::jthread svid_client([&] {
      grpc::ClientContext ctx;
      SetDeadline(&ctx);
      v1::MintX509SvidRequest req;
      req.set_subject_token("good");
      req.set_csr(Csr());
      v1::X509SvidResponse out;
      svid = certificates_->MintX509Svid(&ctx, req, &out);
    });
    std::jthread token_client([&] {
      grpc::ClientContext ctx;
      SetDeadline(&ctx);
      v1::ExchangeTokenRequest req;
      req.set_subject_token("keys-not-at-hand");
      v1::ExchangeTokenResponse out;
      token = token_stub_->ExchangeToken(&ctx, req, &out);
    });
    // Both wait for the pool's thread: the issuance as it arrived, the token
    // exchange once it learned that keys must be fetched.
    queued = GrpcApiTestPeer::pool(*api_)->WaitForQueuedForTesting(2, kWaitTimeout);

    // No grace: Stop cancels both calls at once, then waits for them to be
    // finished, which only their queued work can do.
    std::jthread stopper([&] {
      api_->Stop(absl::ZeroDuration());
      stopped.Notify();
    });
    svid_client.join();  // the cancellation reached the client: Stop has begun
    token_client.join();
    EXPECT_TRUE(blocker_->Unblock());
    if (!stopped.WaitForNotificationWithTimeout(kWaitTimeout)) {
      // Waiting on would hang the test, and the stopper cannot be left
      // running past the fixture: fail loudly.
      std::fprintf(stderr, "GrpcApi::Stop did not return once the pool was free\n");
      std::abort();
    }
  }
  ASSERT_TRUE(queued);
  EXPECT_THAT(svid.error_code(), AnyOf(grpc::StatusCode::CANCELLED, grpc::StatusCode::UNAVAILABLE));
  EXPECT_THAT(token.error_code(),
              AnyOf(grpc::StatusCode::CANCELLED, grpc::StatusCode::UNAVAILABLE));
  EXPECT_EQ(attestor_.Calls(), 0);
  EXPECT_EQ(token_attestor_.fetching_calls(), 0);
  EXPECT_THAT(Records(), IsEmpty());
}

}  // namespace
}  // namespace writ::issuer
