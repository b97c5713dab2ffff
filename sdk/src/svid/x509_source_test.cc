#include "writ/svid/x509_source.h"

#include <atomic>
#include <cmath>
#include <vector>

#include "absl/synchronization/mutex.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "sdk/src/svid/svid_test_util.h"
#include "tests/testing/status_test_util.h"
#include "writ/crypto/keys.h"
#include "writ/x509/certificate.h"
#include "writ/x509/certificate_request.h"
#include "writ/x509/verify.h"

namespace writ {

// X509SourceTestPeer drives the renewal thread deterministically.
class X509SourceTestPeer {
 public:
  // RunPass wakes the thread and returns once it has read the (fake) clock
  // and renewed, if renewal was due.
  static void RunPass(X509Source& source) { source.WakeAndWaitForPass(); }
};

namespace {

using test::LeafKeyPem;
using test::LeafOf;
using test::TestCa;
using ::testing::ElementsAre;
using ::testing::HasSubstr;
using ::testing::IsEmpty;

constexpr char kId[] = "spiffe://acme.example/ns/prod/sa/web";
const absl::Time kT0 = absl::FromUnixSeconds(1767225600);  // 2026-01-01T00:00:00Z

class X509SourceTest : public ::testing::Test {
 protected:
  void SetUp() override {
    ASSERT_OK_AND_ASSIGN(ca_, TestCa::New(&clock_));
    options_.clock = &clock_;
  }

  std::unique_ptr<X509Source> MustNew(X509SourceOptions options) {
    absl::StatusOr<std::unique_ptr<X509Source>> source =
        X509Source::New(ca_->Issuer(kId), std::move(options));
    EXPECT_TRUE(source.ok()) << source.status();
    return source.ok() ? *std::move(source) : nullptr;
  }
  std::unique_ptr<X509Source> MustNew() { return MustNew(options_); }

  // NewWith returns what New says when the issuer answers with `answer`,
  // which gets the CSR's public key.
  absl::Status NewWith(std::function<absl::StatusOr<SvidResponse>(const EVP_PKEY*)> answer) {
    SvidIssuer issuer = [answer](absl::string_view csr_pem) -> absl::StatusOr<SvidResponse> {
      absl::StatusOr<CertificateRequest> csr = CertificateRequest::ParsePem(csr_pem);
      if (!csr.ok()) return csr.status();
      return answer(csr->public_key());
    };
    return X509Source::New(issuer, options_).status();
  }

  // Answer is a well-formed answer for `key` from ca_, with the leaf naming
  // `uri_sans`.
  absl::StatusOr<SvidResponse> Answer(const EVP_PKEY* key, std::vector<std::string> uri_sans,
                                      bool is_ca = false) {
    SvidResponse response;
    response.spiffe_id = kId;
    absl::StatusOr<std::string> leaf = ca_->IssueLeafPem(key, uri_sans, is_ca);
    if (!leaf.ok()) return leaf.status();
    response.certificate_chain_pem = *leaf;
    response.bundle_pem = ca_->BundlePem();
    return response;
  }

  FakeClock clock_{kT0};
  std::unique_ptr<TestCa> ca_;
  X509SourceOptions options_;
};

TEST_F(X509SourceTest, NewFetchesAndChecksTheFirstSvid) {
  std::string seen_csr;
  SvidIssuer issuer = [&](absl::string_view csr) -> absl::StatusOr<SvidResponse> {
    seen_csr = std::string(csr);
    return ca_->Issue(csr, kId);
  };
  ASSERT_OK_AND_ASSIGN(std::unique_ptr<X509Source> source, X509Source::New(issuer, options_));
  const X509Svid svid = source->Current();
  EXPECT_EQ(svid.spiffe_id, kId);
  EXPECT_EQ(svid.bundle_pem, ca_->BundlePem());
  EXPECT_EQ(svid.not_before, kT0);
  EXPECT_EQ(svid.not_after, kT0 + absl::Hours(1));
  EXPECT_EQ(source->NextRenewal(), kT0 + absl::Minutes(30));
  EXPECT_OK(source->LastRenewalStatus());

  // The CSR proves possession of a P-256 key and asks for nothing: the
  // issuer grants the ID.
  ASSERT_OK_AND_ASSIGN(CertificateRequest csr, CertificateRequest::ParsePem(seen_csr));
  EXPECT_OK(csr.VerifySignature());
  EXPECT_EQ(KeyDescription(csr.public_key()), "EC P-256");
  EXPECT_THAT(csr.uri_sans(), IsEmpty());
  EXPECT_EQ(csr.subject(), "");
  EXPECT_EQ(LeafKeyPem(svid.certificate_chain_pem), PublicKeyToPem(csr.public_key()).value());
}

TEST_F(X509SourceTest, KeySpecChoosesTheKind) {
  options_.key_spec = KeySpec::kEd25519;
  std::unique_ptr<X509Source> source = MustNew();
  ASSERT_NE(source, nullptr);
  SslPtr<X509> leaf = LeafOf(source->Current().certificate_chain_pem);
  ASSERT_NE(leaf, nullptr);
  EXPECT_EQ(KeyDescription(X509_get0_pubkey(leaf.get())), "Ed25519");
}

TEST_F(X509SourceTest, NewPassesTheIssuerErrorThrough) {
  const absl::Status denied = absl::PermissionDeniedError("policy web-prod: no rule matched");
  absl::Status status =
      NewWith([&](const EVP_PKEY*) -> absl::StatusOr<SvidResponse> { return denied; });
  EXPECT_EQ(status, denied);
}

TEST_F(X509SourceTest, RefusesLeafForAnotherKey) {
  absl::Status status = NewWith([&](const EVP_PKEY*) -> absl::StatusOr<SvidResponse> {
    absl::StatusOr<SslPtr<EVP_PKEY>> other = GenerateKey(KeySpec::kEcP256);
    if (!other.ok()) return other.status();
    return Answer(other->get(), {kId});
  });
  EXPECT_EQ(status.code(), absl::StatusCode::kInvalidArgument);
  EXPECT_THAT(status.message(), HasSubstr("public key is not the key this process generated"));
}

TEST_F(X509SourceTest, RefusesLeafWithoutUriSan) {
  absl::Status status = NewWith([&](const EVP_PKEY* key) { return Answer(key, {}); });
  EXPECT_EQ(status.code(), absl::StatusCode::kInvalidArgument);
  EXPECT_THAT(status.message(), HasSubstr("0 URI SANs"));
}

TEST_F(X509SourceTest, RefusesLeafWithTwoUriSans) {
  absl::Status status = NewWith([&](const EVP_PKEY* key) {
    return Answer(key, {kId, "spiffe://acme.example/ns/prod/sa/other"});
  });
  EXPECT_EQ(status.code(), absl::StatusCode::kInvalidArgument);
  EXPECT_THAT(status.message(), HasSubstr("2 URI SANs"));
}

TEST_F(X509SourceTest, RefusesLeafWhoseUriIsNotSpiffe) {
  absl::Status status = NewWith(
      [&](const EVP_PKEY* key) { return Answer(key, {"https://acme.example/ns/prod/sa/web"}); });
  EXPECT_EQ(status.code(), absl::StatusCode::kInvalidArgument);
  EXPECT_THAT(status.message(), HasSubstr("invalid SPIFFE ID"));
}

TEST_F(X509SourceTest, RefusesLeafNamingAnotherId) {
  absl::Status status = NewWith([&](const EVP_PKEY* key) -> absl::StatusOr<SvidResponse> {
    absl::StatusOr<SvidResponse> answer = Answer(key, {"spiffe://acme.example/ns/prod/sa/db"});
    return answer;
  });
  EXPECT_EQ(status.code(), absl::StatusCode::kInvalidArgument);
  EXPECT_THAT(status.message(), HasSubstr("names \"spiffe://acme.example/ns/prod/sa/db\""));
}

TEST_F(X509SourceTest, RefusesMalformedSpiffeIdInTheAnswer) {
  absl::Status status = NewWith([&](const EVP_PKEY* key) -> absl::StatusOr<SvidResponse> {
    absl::StatusOr<SvidResponse> answer = Answer(key, {kId});
    if (answer.ok()) answer->spiffe_id = "spiffe://ACME.example/web";
    return answer;
  });
  EXPECT_EQ(status.code(), absl::StatusCode::kInvalidArgument);
  EXPECT_THAT(status.message(), HasSubstr("spiffe_id"));
}

TEST_F(X509SourceTest, RefusesChainThatDoesNotVerifyAgainstTheBundle) {
  ASSERT_OK_AND_ASSIGN(std::unique_ptr<TestCa> other_ca, TestCa::New(&clock_));
  absl::Status status = NewWith([&](const EVP_PKEY* key) -> absl::StatusOr<SvidResponse> {
    absl::StatusOr<SvidResponse> answer = Answer(key, {kId});
    if (answer.ok()) answer->bundle_pem = other_ca->BundlePem();
    return answer;
  });
  EXPECT_EQ(status.code(), absl::StatusCode::kInvalidArgument);
  EXPECT_THAT(status.message(), HasSubstr("does not verify against the bundle"));
}

TEST_F(X509SourceTest, RefusesExpiredLeaf) {
  ca_->set_backdate(absl::Hours(2));
  ca_->set_lifetime(-absl::Hours(1));
  absl::Status status = NewWith([&](const EVP_PKEY* key) { return Answer(key, {kId}); });
  EXPECT_EQ(status.code(), absl::StatusCode::kInvalidArgument);
  EXPECT_THAT(status.message(), HasSubstr("expired"));
}

TEST_F(X509SourceTest, RefusesLeafThatIsACa) {
  absl::Status status = NewWith([&](const EVP_PKEY* key) { return Answer(key, {kId}, true); });
  EXPECT_EQ(status.code(), absl::StatusCode::kInvalidArgument);
  EXPECT_THAT(status.message(), HasSubstr("is a CA certificate"));
}

TEST_F(X509SourceTest, RefusesMalformedChainOrBundle) {
  absl::Status status = NewWith([&](const EVP_PKEY* key) -> absl::StatusOr<SvidResponse> {
    absl::StatusOr<SvidResponse> answer = Answer(key, {kId});
    if (answer.ok()) answer->certificate_chain_pem = "not PEM";
    return answer;
  });
  EXPECT_EQ(status.code(), absl::StatusCode::kInvalidArgument);
  EXPECT_THAT(status.message(), HasSubstr("certificate_chain_pem"));
  status = NewWith([&](const EVP_PKEY* key) -> absl::StatusOr<SvidResponse> {
    absl::StatusOr<SvidResponse> answer = Answer(key, {kId});
    if (answer.ok()) answer->bundle_pem = "";
    return answer;
  });
  EXPECT_EQ(status.code(), absl::StatusCode::kInvalidArgument);
  EXPECT_THAT(status.message(), HasSubstr("bundle_pem"));
}

TEST_F(X509SourceTest, RefusesBadOptions) {
  for (double renew_at : {0.0, -0.5, 1.5, std::nan("")}) {
    X509SourceOptions options = options_;
    options.renew_at = renew_at;
    EXPECT_EQ(X509Source::New(ca_->Issuer(kId), options).status().code(),
              absl::StatusCode::kInvalidArgument)
        << renew_at;
  }
  X509SourceOptions options = options_;
  options.retry_initial_backoff = absl::ZeroDuration();
  EXPECT_EQ(X509Source::New(ca_->Issuer(kId), options).status().code(),
            absl::StatusCode::kInvalidArgument);
  options = options_;
  options.retry_max_backoff = absl::Milliseconds(500);
  EXPECT_EQ(X509Source::New(ca_->Issuer(kId), options).status().code(),
            absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(X509Source::New(nullptr, options_).status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(ca_->calls(), 0);
}

TEST_F(X509SourceTest, RenewsAtRenewAtOfTheLifetime) {
  options_.renew_at = 0.8;
  std::unique_ptr<X509Source> source = MustNew();
  ASSERT_NE(source, nullptr);
  const X509Svid first = source->Current();
  EXPECT_EQ(source->NextRenewal(), kT0 + absl::Minutes(48));

  clock_.Set(kT0 + absl::Minutes(48) - absl::Nanoseconds(1));
  X509SourceTestPeer::RunPass(*source);
  EXPECT_EQ(ca_->calls(), 1);
  EXPECT_EQ(source->Current().certificate_chain_pem, first.certificate_chain_pem);

  clock_.Set(kT0 + absl::Minutes(48));
  X509SourceTestPeer::RunPass(*source);
  EXPECT_EQ(ca_->calls(), 2);
  const X509Svid second = source->Current();
  EXPECT_EQ(second.not_before, kT0 + absl::Minutes(48));
  EXPECT_EQ(source->NextRenewal(), kT0 + absl::Minutes(96));
  // A fresh key per renewal by default.
  EXPECT_NE(LeafKeyPem(second.certificate_chain_pem), LeafKeyPem(first.certificate_chain_pem));
}

TEST_F(X509SourceTest, KeepsTheKeyWhenFreshKeysAreOff) {
  options_.fresh_key_per_renewal = false;
  std::unique_ptr<X509Source> source = MustNew();
  ASSERT_NE(source, nullptr);
  const std::string key = LeafKeyPem(source->Current().certificate_chain_pem);
  ASSERT_OK(source->RotateNow());
  clock_.Set(source->NextRenewal());
  X509SourceTestPeer::RunPass(*source);
  EXPECT_EQ(ca_->calls(), 3);
  EXPECT_EQ(LeafKeyPem(source->Current().certificate_chain_pem), key);
}

TEST_F(X509SourceTest, FailedRenewalKeepsTheSvidAndRetriesWithBackoff) {
  std::unique_ptr<X509Source> source = MustNew();
  ASSERT_NE(source, nullptr);
  const X509Svid first = source->Current();
  ca_->FailWith(absl::UnavailableError("issuer down"));

  int calls = 1;
  absl::Duration base = absl::Seconds(1);
  clock_.Set(source->NextRenewal());
  for (int failure = 1; failure <= 8; ++failure) {
    SCOPED_TRACE(failure);
    X509SourceTestPeer::RunPass(*source);
    EXPECT_EQ(ca_->calls(), ++calls);
    EXPECT_EQ(source->Current().certificate_chain_pem, first.certificate_chain_pem);
    EXPECT_EQ(source->LastRenewalStatus(), absl::UnavailableError("issuer down"));
    // 1, 2, 4, 8, 16, then 30 s at most, each with jitter in [0.5, 1].
    const absl::Duration delay = source->NextRenewal() - clock_.Now();
    EXPECT_GE(delay, base / 2);
    EXPECT_LE(delay, base);
    base = std::min(base * 2, absl::Seconds(30));

    // Not retried before the backoff is over.
    clock_.Advance(delay - absl::Nanoseconds(1));
    X509SourceTestPeer::RunPass(*source);
    EXPECT_EQ(ca_->calls(), calls);
    clock_.Advance(absl::Nanoseconds(1));
  }

  // Past its expiry the old SVID is still what the source has.
  clock_.Set(first.not_after + absl::Seconds(1));
  X509SourceTestPeer::RunPass(*source);
  EXPECT_EQ(source->Current().certificate_chain_pem, first.certificate_chain_pem);

  ca_->FailWith(absl::OkStatus());
  clock_.Set(source->NextRenewal());
  X509SourceTestPeer::RunPass(*source);
  EXPECT_OK(source->LastRenewalStatus());
  const X509Svid renewed = source->Current();
  EXPECT_NE(renewed.certificate_chain_pem, first.certificate_chain_pem);
  EXPECT_EQ(source->NextRenewal(), renewed.not_before + absl::Minutes(30));
  // The backoff starts over after a success.
  ca_->FailWith(absl::UnavailableError("down again"));
  clock_.Set(source->NextRenewal());
  X509SourceTestPeer::RunPass(*source);
  EXPECT_LE(source->NextRenewal() - clock_.Now(), absl::Seconds(1));
}

TEST_F(X509SourceTest, RotateNowFetchesANewSvidWithANewKey) {
  std::unique_ptr<X509Source> source = MustNew();
  ASSERT_NE(source, nullptr);
  const X509Svid first = source->Current();
  clock_.Advance(absl::Minutes(5));
  ASSERT_OK(source->RotateNow());
  const X509Svid second = source->Current();
  EXPECT_EQ(second.not_before, kT0 + absl::Minutes(5));
  EXPECT_NE(LeafKeyPem(second.certificate_chain_pem), LeafKeyPem(first.certificate_chain_pem));
  EXPECT_EQ(source->NextRenewal(), kT0 + absl::Minutes(35));
  EXPECT_EQ(ca_->calls(), 2);
}

TEST_F(X509SourceTest, RotateNowAfterTheCaRotatedCarriesTheNewBundle) {
  std::unique_ptr<X509Source> source = MustNew();
  ASSERT_NE(source, nullptr);
  ASSERT_OK_AND_ASSIGN(const int next_ca, ca_->AddAuthority());
  ca_->SignWith(next_ca);
  ASSERT_OK(source->RotateNow());
  const X509Svid svid = source->Current();
  EXPECT_EQ(svid.bundle_pem, ca_->BundlePem());
  SslPtr<X509> leaf = LeafOf(svid.certificate_chain_pem);
  ASSERT_OK_AND_ASSIGN(SslPtr<X509> new_root, ParseCertificatePem(ca_->AuthorityPem(next_ca)));
  EXPECT_OK(VerifyCertificate(leaf.get(), {new_root.get()}, clock_.Now()));
}

TEST_F(X509SourceTest, FailedRotateNowKeepsTheSvidAndTheSchedule) {
  std::unique_ptr<X509Source> source = MustNew();
  ASSERT_NE(source, nullptr);
  const X509Svid first = source->Current();
  const absl::Time next = source->NextRenewal();
  ca_->FailWith(absl::UnavailableError("issuer down"));
  EXPECT_EQ(source->RotateNow(), absl::UnavailableError("issuer down"));
  EXPECT_EQ(source->Current().certificate_chain_pem, first.certificate_chain_pem);
  EXPECT_EQ(source->NextRenewal(), next);
  EXPECT_EQ(source->LastRenewalStatus(), absl::UnavailableError("issuer down"));
}

TEST_F(X509SourceTest, RenewalChecksTheAnswerToo) {
  // 0: good; 1: a leaf for another key; 2: an ID in another trust domain.
  std::atomic<int> mode{0};
  SvidIssuer issuer = [&](absl::string_view csr_pem) -> absl::StatusOr<SvidResponse> {
    if (mode == 0) return ca_->Issue(csr_pem, kId);
    if (mode == 2) return ca_->Issue(csr_pem, "spiffe://other.example/ns/prod/sa/web");
    absl::StatusOr<SslPtr<EVP_PKEY>> other = GenerateKey(KeySpec::kEcP256);
    if (!other.ok()) return other.status();
    return Answer(other->get(), {kId});
  };
  ASSERT_OK_AND_ASSIGN(std::unique_ptr<X509Source> source, X509Source::New(issuer, options_));
  const X509Svid first = source->Current();
  mode = 1;
  absl::Status status = source->RotateNow();
  EXPECT_EQ(status.code(), absl::StatusCode::kInvalidArgument);
  EXPECT_THAT(status.message(), HasSubstr("not the key this process generated"));
  mode = 2;
  status = source->RotateNow();
  EXPECT_EQ(status.code(), absl::StatusCode::kInvalidArgument);
  EXPECT_THAT(status.message(), HasSubstr("outside this source's trust domain \"acme.example\""));
  EXPECT_EQ(source->Current().certificate_chain_pem, first.certificate_chain_pem);
  mode = 0;
  EXPECT_OK(source->RotateNow());
}

TEST_F(X509SourceTest, WatchSeesTheCurrentSvidThenEachNewOne) {
  std::unique_ptr<X509Source> source = MustNew();
  ASSERT_NE(source, nullptr);
  absl::Mutex mu;
  std::vector<std::string> first_seen, second_seen;
  const int first = source->Watch([&](const X509Svid& svid) {
    absl::MutexLock lock(&mu);
    first_seen.push_back(svid.certificate_chain_pem);
  });
  const std::string svid0 = source->Current().certificate_chain_pem;
  {
    absl::MutexLock lock(&mu);
    EXPECT_THAT(first_seen, ElementsAre(svid0));
  }
  ASSERT_OK(source->RotateNow());
  const std::string svid1 = source->Current().certificate_chain_pem;
  const int second = source->Watch([&](const X509Svid& svid) {
    absl::MutexLock lock(&mu);
    second_seen.push_back(svid.certificate_chain_pem);
  });
  EXPECT_NE(first, second);

  // A renewal by the background thread notifies too.
  clock_.Set(source->NextRenewal());
  X509SourceTestPeer::RunPass(*source);
  const std::string svid2 = source->Current().certificate_chain_pem;

  source->Unwatch(first);
  source->Unwatch(12345);  // unknown: ignored
  ASSERT_OK(source->RotateNow());
  const std::string svid3 = source->Current().certificate_chain_pem;
  absl::MutexLock lock(&mu);
  EXPECT_THAT(first_seen, ElementsAre(svid0, svid1, svid2));
  EXPECT_THAT(second_seen, ElementsAre(svid1, svid2, svid3));
}

TEST_F(X509SourceTest, WatcherMayUnwatchItself) {
  std::unique_ptr<X509Source> source = MustNew();
  ASSERT_NE(source, nullptr);
  int calls = 0;
  int id = 0;
  id = source->Watch([&](const X509Svid& svid) {
    ++calls;
    EXPECT_EQ(source->Current().certificate_chain_pem, svid.certificate_chain_pem);
    if (calls == 2) source->Unwatch(id);
  });
  ASSERT_OK(source->RotateNow());
  ASSERT_OK(source->RotateNow());
  EXPECT_EQ(calls, 2);
}

TEST(X509SourceLifetimeTest, DestructorStopsTheThreadPromptly) {
  ASSERT_OK_AND_ASSIGN(std::unique_ptr<TestCa> ca, TestCa::New(&Clock::Real()));
  ca->set_backdate(absl::Minutes(1));
  ASSERT_OK_AND_ASSIGN(std::unique_ptr<X509Source> source, X509Source::New(ca->Issuer(kId)));
  const absl::Time start = absl::Now();
  source.reset();
  EXPECT_LT(absl::Now() - start, absl::Seconds(1));
}

}  // namespace
}  // namespace writ
