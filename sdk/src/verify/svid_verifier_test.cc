#include "writ/verify/svid_verifier.h"

#include <atomic>
#include <memory>
#include <string>
#include <thread>
#include <vector>

#include "absl/strings/str_cat.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "sdk/src/verify/verify_test_server.h"
#include "tests/testing/status_test_util.h"
#include "writ/crypto/keys.h"
#include "writ/x509/certificate.h"

namespace writ {
namespace {

using ::testing::HasSubstr;

constexpr char kTrustDomain[] = "acme.example";
constexpr char kId[] = "spiffe://acme.example/ci/acme/app";
const absl::Time kStart = absl::FromUnixSeconds(1767225600);  // 2026-01-01T00:00:00Z

struct Ca {
  SslPtr<EVP_PKEY> key;
  SslPtr<X509> cert;
  std::string pem;
};

// NewCa makes a CA valid for a year around kStart; self-signed, or issued
// by `parent` (an intermediate).
Ca NewCa(absl::string_view name, const Ca* parent = nullptr) {
  Ca ca;
  ca.key = *GenerateKey(KeySpec::kEcP256);
  CertificateTemplate t;
  t.subject_common_name = std::string(name);
  t.not_before = kStart - absl::Hours(24);
  t.not_after = kStart + absl::Hours(24 * 365);
  t.serial = *RandomSerial();
  t.is_ca = true;
  t.key_usage.key_cert_sign = true;
  t.key_usage.crl_sign = true;
  auto cert = IssueCertificate(t, ca.key.get(), parent ? parent->cert.get() : nullptr,
                               parent ? parent->key.get() : ca.key.get());
  EXPECT_TRUE(cert.ok()) << cert.status();
  ca.cert = *std::move(cert);
  ca.pem = *CertificateToPem(ca.cert.get());
  return ca;
}

// LeafSpec shapes an SVID as Writ's SvidMinter writes it.
struct LeafSpec {
  std::vector<std::string> uris = {kId};
  absl::Time not_before = kStart - absl::Minutes(5);
  absl::Time not_after = kStart + absl::Hours(1);
  bool is_ca = false;
};

SslPtr<X509> NewLeaf(const Ca& ca, const LeafSpec& spec = {}) {
  auto key = GenerateKey(KeySpec::kEcP256);
  CertificateTemplate t;
  t.uri_sans = spec.uris;
  t.not_before = spec.not_before;
  t.not_after = spec.not_after;
  t.serial = *RandomSerial();
  t.is_ca = spec.is_ca;
  t.key_usage.digital_signature = true;
  t.key_usage.key_cert_sign = spec.is_ca;
  t.extended_key_usage.client_auth = true;
  t.extended_key_usage.server_auth = true;
  // An empty subject needs a SAN; give the odd ones a name.
  if (spec.is_ca || spec.uris.empty()) t.subject_common_name = "looks like a leaf";
  auto cert = IssueCertificate(t, key->get(), ca.cert.get(), ca.key.get());
  EXPECT_TRUE(cert.ok()) << cert.status();
  return *std::move(cert);
}

std::string Pem(const X509* cert) { return *CertificateToPem(cert); }
std::string Der(const X509* cert) { return *CertificateToDer(cert); }

class PeerSvidVerifierTest : public ::testing::Test {
 protected:
  PeerSvidVerifierTest() : ca_(NewCa("Writ CA 1")) { server_.SetBundlePem(ca_.pem); }

  PeerSvidVerifierOptions Options() {
    PeerSvidVerifierOptions options;
    options.issuer_url = server_.issuer();
    options.trust_domain = kTrustDomain;
    options.clock = &clock_;
    return options;
  }
  std::unique_ptr<PeerSvidVerifier> NewVerifier(PeerSvidVerifierOptions options) {
    auto verifier = PeerSvidVerifier::New(std::move(options));
    EXPECT_TRUE(verifier.ok()) << verifier.status();
    return verifier.ok() ? *std::move(verifier) : nullptr;
  }
  std::unique_ptr<PeerSvidVerifier> NewVerifier() { return NewVerifier(Options()); }

  void ExpectRefused(const PeerSvidVerifier& verifier, absl::string_view chain_pem,
                     absl::StatusCode code, absl::string_view message_part) {
    absl::StatusOr<std::string> got = verifier.Verify(chain_pem);
    ASSERT_FALSE(got.ok()) << "verified as " << *got;
    EXPECT_EQ(got.status().code(), code) << got.status();
    EXPECT_THAT(std::string(got.status().message()), HasSubstr(std::string(message_part)));
  }

  test::StandInWrit server_;
  FakeClock clock_{kStart};
  Ca ca_;
};

TEST_F(PeerSvidVerifierTest, VerifiesAnSvidAgainstTheIssuersBundle) {
  auto verifier = NewVerifier();
  SslPtr<X509> leaf = NewLeaf(ca_);
  ASSERT_OK_AND_ASSIGN(std::string id, verifier->Verify(Pem(leaf.get())));
  EXPECT_EQ(id, kId);
  const std::vector<std::string> der = {Der(leaf.get())};
  ASSERT_OK_AND_ASSIGN(id, verifier->Verify(absl::MakeConstSpan(der)));
  EXPECT_EQ(id, kId);
  EXPECT_EQ(server_.bundle_requests(), 1);
  PeerSvidVerifierState state = verifier->State();
  EXPECT_EQ(state.root_count, 1u);
  EXPECT_EQ(state.fetches, 1u);
  EXPECT_EQ(state.last_fetch, kStart);
  EXPECT_TRUE(state.last_error.empty());
}

TEST_F(PeerSvidVerifierTest, VerifiesThroughAnIntermediateThePeerSends) {
  Ca intermediate = NewCa("Writ intermediate", &ca_);
  auto verifier = NewVerifier();
  SslPtr<X509> leaf = NewLeaf(intermediate);
  ASSERT_OK_AND_ASSIGN(std::string id, verifier->Verify(Pem(leaf.get()) + intermediate.pem));
  EXPECT_EQ(id, kId);
  const std::vector<std::string> der = {Der(leaf.get()), Der(intermediate.cert.get())};
  EXPECT_OK(verifier->Verify(absl::MakeConstSpan(der)));
  // Without the intermediate there is no path.
  ExpectRefused(*verifier, Pem(leaf.get()), absl::StatusCode::kUnauthenticated,
                "unable to get local issuer certificate");
}

TEST_F(PeerSvidVerifierTest, RejectsAnSvidOfAnotherCaAfterOneRefetch) {
  auto verifier = NewVerifier();
  ASSERT_OK(verifier->Verify(Pem(NewLeaf(ca_).get())));
  Ca other = NewCa("Other CA");
  const std::string foreign = Pem(NewLeaf(other).get());
  ExpectRefused(*verifier, foreign, absl::StatusCode::kUnauthenticated,
                "even after re-fetching the bundle");
  EXPECT_EQ(server_.bundle_requests(), 2);
  // Within refetch_cooldown: refused without another fetch.
  clock_.Advance(absl::Seconds(29));
  ExpectRefused(*verifier, foreign, absl::StatusCode::kUnauthenticated, "refetch_cooldown");
  EXPECT_EQ(server_.bundle_requests(), 2);
  clock_.Advance(absl::Seconds(1));
  ExpectRefused(*verifier, foreign, absl::StatusCode::kUnauthenticated, "even after");
  EXPECT_EQ(server_.bundle_requests(), 3);
  // A self-signed "leaf" presented with its own CA is no better.
  ExpectRefused(*verifier, foreign + other.pem, absl::StatusCode::kUnauthenticated,
                "does not verify");
}

TEST_F(PeerSvidVerifierTest, PicksUpACaRotationByRefetchingTheBundle) {
  auto verifier = NewVerifier();
  ASSERT_OK(verifier->Verify(Pem(NewLeaf(ca_).get())));
  Ca next = NewCa("Writ CA 2");
  server_.SetBundlePem(ca_.pem + next.pem);
  ASSERT_OK_AND_ASSIGN(std::string id, verifier->Verify(Pem(NewLeaf(next).get())));
  EXPECT_EQ(id, kId);
  EXPECT_EQ(server_.bundle_requests(), 2);
  EXPECT_EQ(verifier->State().root_count, 2u);
  // Both CAs' SVIDs verify from the new bundle without further fetches.
  EXPECT_OK(verifier->Verify(Pem(NewLeaf(ca_).get())));
  EXPECT_OK(verifier->Verify(Pem(NewLeaf(next).get())));
  EXPECT_EQ(server_.bundle_requests(), 2);
}

TEST_F(PeerSvidVerifierTest, ConcurrentFirstCallsShareOneFetch) {
  auto verifier = NewVerifier();
  const std::string pem = Pem(NewLeaf(ca_).get());
  std::atomic<int> verified{0};
  std::vector<std::thread> threads;
  for (int i = 0; i < 8; ++i) {
    threads.emplace_back([&] {
      if (verifier->Verify(pem).ok()) ++verified;
    });
  }
  for (std::thread& t : threads) t.join();
  EXPECT_EQ(verified.load(), 8);
  EXPECT_EQ(server_.bundle_requests(), 1);
}

TEST_F(PeerSvidVerifierTest, RefreshesTheBundleAfterBundleRefresh) {
  auto verifier = NewVerifier();
  SslPtr<X509> leaf = NewLeaf(ca_);
  ASSERT_OK(verifier->Verify(Pem(leaf.get())));
  clock_.Advance(absl::Minutes(5) - absl::Seconds(1));
  ASSERT_OK(verifier->Verify(Pem(leaf.get())));
  EXPECT_EQ(server_.bundle_requests(), 1);
  clock_.Advance(absl::Seconds(1));
  ASSERT_OK(verifier->Verify(Pem(leaf.get())));
  EXPECT_EQ(server_.bundle_requests(), 2);
  EXPECT_EQ(verifier->State().last_fetch, kStart + absl::Minutes(5));
}

TEST_F(PeerSvidVerifierTest, RejectsAnotherTrustDomainWithoutFetching) {
  auto verifier = NewVerifier();
  LeafSpec spec;
  spec.uris = {"spiffe://other.example/ci/acme/app"};
  ExpectRefused(*verifier, Pem(NewLeaf(ca_, spec).get()), absl::StatusCode::kUnauthenticated,
                "is not in trust domain \"acme.example\"");
  spec.uris = {"spiffe://acme.example.evil/ci/acme/app"};
  ExpectRefused(*verifier, Pem(NewLeaf(ca_, spec).get()), absl::StatusCode::kUnauthenticated,
                "is not in trust domain");
  EXPECT_EQ(server_.bundle_requests(), 0);
}

TEST_F(PeerSvidVerifierTest, RejectsAnIdThatIsNotAllowed) {
  PeerSvidVerifierOptions options = Options();
  options.allowed_ids = {"spiffe://acme.example/ci/acme/other", kId};
  auto verifier = NewVerifier(options);
  EXPECT_OK(verifier->Verify(Pem(NewLeaf(ca_).get())));
  LeafSpec spec;
  spec.uris = {"spiffe://acme.example/ci/acme/app2"};
  ExpectRefused(*verifier, Pem(NewLeaf(ca_, spec).get()), absl::StatusCode::kUnauthenticated,
                "\"spiffe://acme.example/ci/acme/app2\" is not allowed");
}

TEST_F(PeerSvidVerifierTest, RejectsACaCertificateAsTheLeaf) {
  auto verifier = NewVerifier();
  LeafSpec spec;
  spec.is_ca = true;
  ExpectRefused(*verifier, Pem(NewLeaf(ca_, spec).get()), absl::StatusCode::kUnauthenticated,
                "is a CA certificate");
  // The bundle's own CA presented as a peer certificate.
  ExpectRefused(*verifier, ca_.pem, absl::StatusCode::kUnauthenticated, "is a CA certificate");
}

TEST_F(PeerSvidVerifierTest, RequiresExactlyOneValidSpiffeUriSan) {
  auto verifier = NewVerifier();
  LeafSpec spec;
  spec.uris = {};
  ExpectRefused(*verifier, Pem(NewLeaf(ca_, spec).get()), absl::StatusCode::kUnauthenticated,
                "0 URI SANs");
  spec.uris = {kId, "spiffe://acme.example/ci/acme/other"};
  ExpectRefused(*verifier, Pem(NewLeaf(ca_, spec).get()), absl::StatusCode::kUnauthenticated,
                "2 URI SANs");
  for (const char* uri :
       {"https://acme.example/ci", "spiffe://ACME.example/ci", "spiffe://acme.example/ci/../x",
        "spiffe://acme.example/ci/", "spiffe://acme.example:443/ci"}) {
    spec.uris = {uri};
    ExpectRefused(*verifier, Pem(NewLeaf(ca_, spec).get()), absl::StatusCode::kUnauthenticated,
                  "URI SAN");
  }
  spec.uris = {"spiffe://acme.example"};
  ExpectRefused(*verifier, Pem(NewLeaf(ca_, spec).get()), absl::StatusCode::kUnauthenticated,
                "names the trust domain, not a workload");
  EXPECT_EQ(server_.bundle_requests(), 0);
}

TEST_F(PeerSvidVerifierTest, RejectsAnExpiredOrNotYetValidSvidWithoutRefetching) {
  PeerSvidVerifierOptions options = Options();
  options.bundle_refresh = absl::Hours(1);  // no periodic refresh in this test
  auto verifier = NewVerifier(options);
  LeafSpec spec;
  spec.not_before = kStart;
  spec.not_after = kStart + absl::Minutes(10);
  const std::string pem = Pem(NewLeaf(ca_, spec).get());
  ASSERT_OK(verifier->Verify(pem));
  // OpenSSL's bound: valid while now < notAfter.
  clock_.Set(kStart + absl::Minutes(10) - absl::Seconds(1));
  EXPECT_OK(verifier->Verify(pem));
  clock_.Set(kStart + absl::Minutes(10));
  ExpectRefused(*verifier, pem, absl::StatusCode::kUnauthenticated,
                "expired at 2026-01-01T00:10:00Z");
  clock_.Set(kStart - absl::Seconds(1));
  ExpectRefused(*verifier, pem, absl::StatusCode::kUnauthenticated,
                "not valid before 2026-01-01T00:00:00Z");
  EXPECT_EQ(server_.bundle_requests(), 1);
}

TEST_F(PeerSvidVerifierTest, BundleEndpointDownIsUnavailable) {
  server_.SetDown(true);
  auto verifier = NewVerifier();
  const std::string pem = Pem(NewLeaf(ca_).get());
  ExpectRefused(*verifier, pem, absl::StatusCode::kUnavailable, "HTTP 503");
  // Not retried before refetch_cooldown.
  ExpectRefused(*verifier, pem, absl::StatusCode::kUnavailable, "HTTP 503");
  EXPECT_EQ(server_.bundle_requests(), 1);
  EXPECT_THAT(verifier->State().last_error, HasSubstr("HTTP 503"));
  // A bundle that is not PEM CA certificates is no better.
  server_.SetDown(false);
  server_.SetBundlePem("<html>maintenance</html>");
  clock_.Advance(absl::Seconds(30));
  ExpectRefused(*verifier, pem, absl::StatusCode::kUnavailable, "is invalid");
  server_.SetBundlePem(pem);  // a leaf, not a CA
  clock_.Advance(absl::Seconds(30));
  ExpectRefused(*verifier, pem, absl::StatusCode::kUnavailable, "not a CA certificate");
  server_.SetBundlePem(ca_.pem);
  clock_.Advance(absl::Seconds(30));
  EXPECT_OK(verifier->Verify(pem));
}

TEST_F(PeerSvidVerifierTest, TheLastBundleServesWhileTheIssuerIsDown) {
  auto verifier = NewVerifier();
  const std::string pem = Pem(NewLeaf(ca_, {.not_after = kStart + absl::Hours(3)}).get());
  ASSERT_OK(verifier->Verify(pem));
  server_.SetDown(true);
  clock_.Advance(absl::Minutes(6));
  EXPECT_OK(verifier->Verify(pem));
  EXPECT_EQ(server_.bundle_requests(), 2);
  // An unknown CA during the outage: its re-fetch fails, Unavailable.
  Ca other = NewCa("Other CA");
  ExpectRefused(*verifier, Pem(NewLeaf(other).get()), absl::StatusCode::kUnavailable,
                "re-fetching the trust bundle failed");
  clock_.Set(kStart + absl::Minutes(65) - absl::Seconds(1));
  EXPECT_OK(verifier->Verify(pem));
  clock_.Set(kStart + absl::Minutes(65));  // bundle_refresh + bundle_stale_max
  ExpectRefused(*verifier, pem, absl::StatusCode::kUnavailable, "older than bundle_refresh");
}

TEST_F(PeerSvidVerifierTest, RejectsMalformedChains) {
  auto verifier = NewVerifier();
  ExpectRefused(*verifier, "", absl::StatusCode::kUnauthenticated, "malformed chain");
  ExpectRefused(*verifier, "-----BEGIN CERTIFICATE-----\nAAAA\n-----END CERTIFICATE-----\n",
                absl::StatusCode::kUnauthenticated, "malformed chain");
  EXPECT_EQ(verifier->Verify(absl::Span<const std::string>()).status().code(),
            absl::StatusCode::kUnauthenticated);
  const std::vector<std::string> garbage = {"\x30\x03\x02\x01\x01"};
  EXPECT_EQ(verifier->Verify(absl::MakeConstSpan(garbage)).status().code(),
            absl::StatusCode::kUnauthenticated);
  const std::vector<std::string> long_chain(17, Der(NewLeaf(ca_).get()));
  absl::StatusOr<std::string> got = verifier->Verify(absl::MakeConstSpan(long_chain));
  EXPECT_EQ(got.status().code(), absl::StatusCode::kUnauthenticated);
  EXPECT_THAT(std::string(got.status().message()), HasSubstr("at most 16"));
  EXPECT_EQ(server_.bundle_requests(), 0);
}

TEST_F(PeerSvidVerifierTest, AStaticBundleFetchesNothing) {
  PeerSvidVerifierOptions options = Options();
  options.issuer_url = "";
  options.bundle_pem = ca_.pem;
  auto verifier = NewVerifier(options);
  EXPECT_OK(verifier->Verify(Pem(NewLeaf(ca_).get())));
  Ca other = NewCa("Other CA");
  ExpectRefused(*verifier, Pem(NewLeaf(other).get()), absl::StatusCode::kUnauthenticated, "static");
  EXPECT_EQ(server_.bundle_requests(), 0);
}

TEST_F(PeerSvidVerifierTest, NewRefusesBadOptions) {
  auto refused = [](PeerSvidVerifierOptions options, absl::string_view part) {
    absl::StatusOr<std::unique_ptr<PeerSvidVerifier>> got = PeerSvidVerifier::New(options);
    ASSERT_FALSE(got.ok()) << part;
    EXPECT_EQ(got.status().code(), absl::StatusCode::kInvalidArgument);
    EXPECT_THAT(std::string(got.status().message()), HasSubstr(std::string(part)));
  };
  PeerSvidVerifierOptions o = Options();
  o.bundle_pem = ca_.pem;
  refused(o, "exactly one of issuer_url and bundle_pem");
  o.issuer_url = o.bundle_pem = "";
  refused(o, "exactly one of issuer_url and bundle_pem");
  o = Options();
  o.issuer_url = "http://writ.acme.example";
  refused(o, "issuer_url");
  for (const char* domain : {"", "Acme.example", "acme.example/x", "acme.example:443"}) {
    o = Options();
    o.trust_domain = domain;
    refused(o, "trust_domain");
  }
  o = Options();
  o.allowed_ids = {"spiffe://other.example/x"};
  refused(o, "allowed_ids");
  o.allowed_ids = {"spiffe://acme.example"};
  refused(o, "allowed_ids");
  o.allowed_ids = {"spiffe://acme.example/a//b"};
  refused(o, "allowed_ids");
  o = Options();
  o.issuer_url = "";
  o.bundle_pem = Pem(NewLeaf(ca_).get());
  refused(o, "not a CA certificate");
  o = Options();
  o.bundle_refresh = absl::ZeroDuration();
  refused(o, "bundle_refresh");
}

}  // namespace
}  // namespace writ
