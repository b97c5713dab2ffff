// jose_bench: what Writ's JOSE layer costs next to the raw OpenSSL operation
// it wraps, measured in the same run on the same core.
//
//   build/bench/jose_bench [SECONDS_PER_CASE]     default 1.0
//
// Cases (single thread):
//   RS256 parse+verify  JwtValidator::Verify of a GitHub-Actions-shaped token
//                       vs. EVP_DigestVerifyInit_ex + EVP_DigestVerify
//   ES256 sign          SignCompactJws of an access-token payload
//                       vs. EVP_DigestSignInit_ex + EVP_DigestSign
//   JWKS parse          JwkSet::Parse of a 2-key RSA JWKS (GitHub's shape)
//                       vs. EVP_PKEY_fromdata of the same two keys
#include <openssl/core_names.h>

#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <functional>
#include <string>
#include <thread>

#include "absl/strings/str_cat.h"
#include "bench/bench_util.h"
#include "writ/base/base64url.h"
#include "writ/base/clock.h"
#include "writ/crypto/keys.h"
#include "writ/jose/jwt_validator.h"
#include "writ/jose/signer.h"

namespace writ {
namespace {

using writ::bench::Check;
using writ::bench::Rate;

void Report(const char* name, double writ_rate, const char* raw_name, double raw_rate) {
  std::printf("%-22s %10.0f/s  %7.2f us   | raw %-30s %10.0f/s  %7.2f us | ratio %.2f\n", name,
              writ_rate, 1e6 / writ_rate, raw_name, raw_rate, 1e6 / raw_rate, writ_rate / raw_rate);
}

std::string GithubClaims(absl::Time now) {
  const int64_t t = absl::ToUnixSeconds(now);
  return absl::StrCat(
      R"({"jti":"example-id","sub":"repo:acme/payments:environment:production",)",
      R"("aud":"https://writ.acme.example","ref":"refs/heads/main","sha":"d6e8a0c4b5a7f3e2c1d0b9a8f7e6d5c4b3a2f1e0",)",
      R"("repository":"acme/payments","repository_owner":"acme","repository_owner_id":"1234567",)",
      R"("run_id":"6789012345","run_number":"42","run_attempt":"1","repository_visibility":"private",)",
      R"("repository_id":"7654321","actor_id":"112233","actor":"octocat","workflow":"deploy",)",
      R"("head_ref":"","base_ref":"","event_name":"push","ref_type":"branch","environment":"production",)",
      R"("job_workflow_ref":"acme/payments/.github/workflows/deploy.yml@refs/heads/main",)",
      R"("workflow_ref":"acme/payments/.github/workflows/deploy.yml@refs/heads/main",)",
      R"("workflow_sha":"d6e8a0c4b5a7f3e2c1d0b9a8f7e6d5c4b3a2f1e0","runner_environment":"github-hosted",)",
      R"("iss":"https://token.actions.githubusercontent.com","nbf":)", t - 10, R"(,"exp":)",
      t + 300, R"(,"iat":)", t - 10, "}");
}

}  // namespace
}  // namespace writ

int main(int argc, char** argv) {
  using namespace writ;
  const double seconds = argc > 1 ? std::atof(argv[1]) : 1.0;
  std::printf("jose_bench: 1 thread, %u cores online, %.1f s per case\n",
              std::thread::hardware_concurrency(), seconds);

  // --- RS256 parse + verify -------------------------------------------------
  FakeClock clock(absl::FromUnixSeconds(1900000000));
  auto rsa_signer = Check(PrivateKeySigner::New(Check(GenerateKey(KeySpec::kRsa2048), "keygen"),
                                                JwsAlgorithm::kRs256, "github-1"),
                          "signer");
  auto rsa_other = Check(PrivateKeySigner::New(Check(GenerateKey(KeySpec::kRsa2048), "keygen"),
                                               JwsAlgorithm::kRs256, "github-2"),
                         "signer");
  const std::string claims = GithubClaims(clock.Now());
  const std::string token = Check(SignCompactJws(*rsa_signer, "JWT", claims), "sign");
  const std::string jwks_json =
      Check(JwkSet::FromKeys({rsa_other->public_jwk(), rsa_signer->public_jwk()}), "set").ToJson();
  const JwkSet jwks = Check(JwkSet::Parse(jwks_json), "parse jwks");
  JwtValidatorOptions opts;
  opts.issuer = "https://token.actions.githubusercontent.com";
  opts.audiences = {"https://writ.acme.example"};
  const JwtValidator validator = Check(JwtValidator::New(opts, &clock), "validator");
  std::printf("token: %zu bytes, claims %zu bytes\n", token.size(), claims.size());

  const double writ_verify = Rate(seconds, [&] { return validator.Verify(token, jwks).ok(); });

  const auto* rsa_pub = jwks.Find("github-1")->key();
  const std::string signing_input = token.substr(0, token.rfind('.'));
  const std::string rsa_sig = Check(Base64UrlDecode(token.substr(token.rfind('.') + 1)), "b64");
  const double raw_verify = Rate(seconds, [&] {
    SslPtr<EVP_MD_CTX> ctx(EVP_MD_CTX_new());
    return EVP_DigestVerifyInit_ex(ctx.get(), nullptr, "SHA256", nullptr, nullptr,
                                   const_cast<EVP_PKEY*>(rsa_pub), nullptr) == 1 &&
           EVP_DigestVerify(ctx.get(), reinterpret_cast<const unsigned char*>(rsa_sig.data()),
                            rsa_sig.size(),
                            reinterpret_cast<const unsigned char*>(signing_input.data()),
                            signing_input.size()) == 1;
  });
  Report("RS256 parse+verify", writ_verify, "EVP_DigestVerify (RSA-2048)", raw_verify);

  // --- ES256 sign -----------------------------------------------------------
  auto ec_key = Check(GenerateKey(KeySpec::kEcP256), "keygen");
  const std::string ec_pem = Check(PrivateKeyToPem(ec_key.get()), "pem");
  auto ec_signer = Check(PrivateKeySigner::New(std::move(ec_key), JwsAlgorithm::kEs256), "signer");
  const std::string at_claims =
      R"({"iss":"http://127.0.0.1:8080","sub":"spiffe://acme.example/ci/acme/payments/production",)"
      R"("aud":"https://deploy.acme.example","exp":1900000300,"iat":1900000000,"nbf":1900000000,)"
      R"("jti":"3f1c2a9e-6b7d-4e8f-9a0b-1c2d3e4f5a6b","client_id":"ci","scope":"deploy:write",)"
      R"("repository":"acme/payments","ref":"refs/heads/main","run_id":"6789012345"})";
  const double writ_sign =
      Rate(seconds, [&] { return SignCompactJws(*ec_signer, "at+jwt", at_claims).ok(); });
  const auto* ec_priv = ec_signer->private_key();
  const std::string at_input = Base64UrlEncode(at_claims);
  const double raw_sign = Rate(seconds, [&] {
    SslPtr<EVP_MD_CTX> ctx(EVP_MD_CTX_new());
    unsigned char sig[80];
    size_t len = sizeof(sig);
    return EVP_DigestSignInit_ex(ctx.get(), nullptr, "SHA256", nullptr, nullptr,
                                 const_cast<EVP_PKEY*>(ec_priv), nullptr) == 1 &&
           EVP_DigestSign(ctx.get(), sig, &len,
                          reinterpret_cast<const unsigned char*>(at_input.data()),
                          at_input.size()) == 1;
  });
  Report("ES256 sign", writ_sign, "EVP_DigestSign (P-256)", raw_sign);

  // --- JWKS parse -----------------------------------------------------------
  const double writ_jwks = Rate(seconds, [&] { return JwkSet::Parse(jwks_json).ok(); });
  BIGNUM* n1 = nullptr;
  BIGNUM* n2 = nullptr;
  BIGNUM* e = nullptr;
  EVP_PKEY_get_bn_param(jwks.keys()[0].key(), OSSL_PKEY_PARAM_RSA_N, &n1);
  EVP_PKEY_get_bn_param(jwks.keys()[1].key(), OSSL_PKEY_PARAM_RSA_N, &n2);
  EVP_PKEY_get_bn_param(jwks.keys()[0].key(), OSSL_PKEY_PARAM_RSA_E, &e);
  const double raw_jwks = Rate(seconds, [&] {
    for (BIGNUM* n : {n1, n2}) {
      SslPtr<OSSL_PARAM_BLD> bld(OSSL_PARAM_BLD_new());
      OSSL_PARAM_BLD_push_BN(bld.get(), OSSL_PKEY_PARAM_RSA_N, n);
      OSSL_PARAM_BLD_push_BN(bld.get(), OSSL_PKEY_PARAM_RSA_E, e);
      SslPtr<OSSL_PARAM> params(OSSL_PARAM_BLD_to_param(bld.get()));
      SslPtr<EVP_PKEY_CTX> ctx(EVP_PKEY_CTX_new_from_name(nullptr, "RSA", nullptr));
      EVP_PKEY* pkey = nullptr;
      if (EVP_PKEY_fromdata_init(ctx.get()) != 1 ||
          EVP_PKEY_fromdata(ctx.get(), &pkey, EVP_PKEY_PUBLIC_KEY, params.get()) != 1) {
        return false;
      }
      EVP_PKEY_free(pkey);
    }
    return true;
  });
  Report("JWKS parse (2 RSA)", writ_jwks, "EVP_PKEY_fromdata x2", raw_jwks);
  BN_free(n1);
  BN_free(n2);
  BN_free(e);
  return 0;
}
