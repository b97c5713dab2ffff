// TestOidcProvider: a real OIDC provider on loopback for tests and
// benchmarks. Serves discovery and a JWKS over HTTP from 127.0.0.1 on an
// ephemeral port and mints tokens signed by its own keys.
//
//   ASSERT_OK_AND_ASSIGN(auto idp, TestOidcProvider::Start());
//   TrustedIssuerConfig config{.name = "test", .issuer = idp->issuer(), .audiences = {"writ"}};
//   ASSERT_OK_AND_ASSIGN(std::string token, idp->Mint(clock.Now(), R"({"sub":"job-1"})"));
#ifndef WRIT_TESTS_TESTING_TEST_OIDC_PROVIDER_H_
#define WRIT_TESTS_TESTING_TEST_OIDC_PROVIDER_H_

#include <atomic>
#include <memory>
#include <string>
#include <thread>

#include "absl/base/thread_annotations.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/time.h"
#include "writ/jose/algorithm.h"
#include "writ/jose/signer.h"

namespace httplib {
class Server;
}

namespace writ::test {

// TestOidcProviderOptions shapes the default claims of minted tokens.
struct TestOidcProviderOptions {
  // subject is the default "sub". Default: a GitHub Actions style subject.
  std::string subject = "repo:writ-dev/writ:ref:refs/heads/main";
  // audience is the default "aud". Default: "writ".
  std::string audience = "writ";
  // lifetime is exp - iat of minted tokens. Default: 5 min.
  absl::Duration lifetime = absl::Minutes(5);
  // fresh_keys generates new keys for this provider (RSA-2048 takes ~0.1 s
  // each). When false, keys come from a small process-wide pool, shared by
  // providers under different kids; RotateKey still always changes the key.
  // Default: false.
  bool fresh_keys = false;
  // mint_bearer, when set, also serves two token endpoints that require
  // "Authorization: bearer <mint_bearer>" (else 401), minting at the real
  // time, for examples and end-to-end scripts:
  //   GET  /github/token?audience=A  {"count":1,"value":"<token>"}, as GitHub
  //        Actions' runner endpoint (ACTIONS_ID_TOKEN_REQUEST_URL) answers;
  //        claims: runner_claims_json with aud = A.
  //   POST /mint                     body: a JSON claims object (as Mint's
  //        claims_json); answers the token as text/plain.
  // Default: empty (not served).
  std::string mint_bearer;
  // runner_claims_json are the claims of /github/token tokens. Default: "{}".
  std::string runner_claims_json = "{}";
  // port to bind on 127.0.0.1. Default: 0 (an ephemeral port).
  int port = 0;
};

// TestOidcProvider serves, at its issuer URL http://127.0.0.1:PORT:
//   GET /.well-known/openid-configuration  {"issuer": issuer(), "jwks_uri": jwks_uri(), ...}
//   GET /jwks                              the current public keys: one RS256
//                                          (RSA-2048) and one ES256 (P-256) key
//                                          (see TestOidcProviderOptions::fresh_keys)
// and answers 503 to everything while SetDown(true). Thread-safe.
class TestOidcProvider {
 public:
  // Start generates the keys, binds 127.0.0.1:0 and serves from its own
  // thread. Returns kInternal when the port cannot be bound.
  static absl::StatusOr<std::unique_ptr<TestOidcProvider>> Start(
      TestOidcProviderOptions options = {});
  // The destructor calls Stop.
  ~TestOidcProvider();

  // issuer is "http://127.0.0.1:PORT" (no trailing slash).
  const std::string& issuer() const { return issuer_; }
  std::string discovery_url() const;
  std::string jwks_uri() const;
  int port() const { return port_; }

  // Mint signs a token with the current key for `alg` (RS256 or ES256; other
  // algorithms are kInvalidArgument). Its claims are the defaults (iss =
  // issuer(), sub, aud, iat = nbf = `now`, exp = now + lifetime, a random
  // jti) with every member of `claims_json` (a JSON object) put over them; a
  // member whose value is null removes that claim ({"jti": null}).
  absl::StatusOr<std::string> Mint(absl::Time now, absl::string_view claims_json = "{}",
                                   JwsAlgorithm alg = JwsAlgorithm::kRs256) const;

  // MintWithUnknownKid is Mint(RS256) signed by a key that is not, and never
  // will be, in the JWKS, under `kid` (empty: a fresh random kid per call).
  absl::StatusOr<std::string> MintWithUnknownKid(absl::Time now,
                                                 absl::string_view claims_json = "{}",
                                                 absl::string_view kid = "") const;

  // Claims returns the JSON payload Mint would sign (for tests that sign
  // by hand).
  absl::StatusOr<std::string> Claims(absl::Time now, absl::string_view claims_json = "{}") const;

  // RotateKey replaces both keys with new ones under new kids; the old keys
  // leave the JWKS at once.
  absl::Status RotateKey();
  // kid returns the current kid for `alg` (RS256 or ES256).
  std::string kid(JwsAlgorithm alg = JwsAlgorithm::kRs256) const;
  // jwks_json returns the JWKS document served now.
  std::string jwks_json() const;

  // SetDown makes every request get HTTP 503 (true) or be served again.
  void SetDown(bool down) { down_.store(down); }
  // SetDiscoveryIssuer makes discovery name `issuer` instead of issuer();
  // empty restores it.
  void SetDiscoveryIssuer(absl::string_view issuer);

  // Request counters: requests for discovery and for the JWKS, answered or
  // refused (503) alike.
  int discovery_requests() const { return discovery_requests_.load(); }
  int jwks_requests() const { return jwks_requests_.load(); }

  // Stop stops serving and joins the server thread. Idempotent.
  void Stop();

 private:
  struct Keys {
    std::shared_ptr<const Signer> rs256;
    std::shared_ptr<const Signer> es256;
    std::string jwks_json;
  };
  explicit TestOidcProvider(TestOidcProviderOptions options);
  absl::StatusOr<std::shared_ptr<const Keys>> NewKeys();
  std::shared_ptr<const Keys> keys() const;
  std::string DiscoveryJson() const;
  void ServeMintEndpoints();

  const TestOidcProviderOptions options_;
  std::unique_ptr<httplib::Server> server_;
  std::thread thread_;
  int port_ = 0;
  std::string issuer_;
  std::atomic<bool> down_{false};
  std::atomic<int> discovery_requests_{0};
  std::atomic<int> jwks_requests_{0};

  // rotate_mu_ serialises RotateKey (and so next_slot_).
  absl::Mutex rotate_mu_;
  size_t next_slot_ = 0;
  mutable absl::Mutex mu_;
  std::shared_ptr<const Keys> keys_ ABSL_GUARDED_BY(mu_);
  std::string discovery_issuer_ ABSL_GUARDED_BY(mu_);
  bool stopped_ ABSL_GUARDED_BY(mu_) = false;
  // stranger_ signs MintWithUnknownKid tokens; made on first use.
  mutable std::shared_ptr<const Signer> stranger_ ABSL_GUARDED_BY(mu_);
};

}  // namespace writ::test

#endif  // WRIT_TESTS_TESTING_TEST_OIDC_PROVIDER_H_
