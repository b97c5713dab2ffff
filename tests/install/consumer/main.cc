// writ_consumer: a program outside the Writ tree, built only against the
// installed SDK. It signs a JWT and verifies it the way a relying party does
// (from the published JWK Set JSON), checks that a tampered and an expired
// token are refused, then issues a CA and a leaf certificate, parses them back
// from PEM and verifies the chain; then verifies a Writ-shaped token with the
// SDK's TokenVerifier and caches one with TokenCache. One line per step on stdout; exit 1 with
// the reason on stderr when a step fails. sdk_install_test checks the lines.
#include <iostream>
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "absl/status/status.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/string_view.h"
#include "absl/time/time.h"
#include "writ/base/base64url.h"
#include "writ/base/clock.h"
#include "writ/base/status_macros.h"
#include "writ/client/token_cache.h"
#include "writ/crypto/keys.h"
#include "writ/jose/jwk.h"
#include "writ/jose/jwt_validator.h"
#include "writ/jose/signer.h"
#include "writ/verify/token_verifier.h"
#include "writ/x509/certificate.h"
#include "writ/x509/verify.h"

namespace {

const absl::Time kNow = absl::FromUnixSeconds(1767225600);  // 2026-01-01T00:00:00Z

// ExpectRefused is OK when `status` failed with `code`.
absl::Status ExpectRefused(absl::string_view what, const absl::Status& status,
                           absl::StatusCode code) {
  if (status.code() == code) return absl::OkStatus();
  return absl::InternalError(absl::StrCat(what, ": expected ", absl::StatusCodeToString(code),
                                          ", got ", status.ok() ? "OK" : status.ToString()));
}

absl::Status SignAndVerifyJwt() {
  ASSIGN_OR_RETURN(writ::SslPtr<EVP_PKEY> key, writ::GenerateKey(writ::KeySpec::kEcP256));
  ASSIGN_OR_RETURN(auto signer,
                   writ::PrivateKeySigner::New(std::move(key), writ::JwsAlgorithm::kEs256));
  const std::string claims = absl::StrCat(
      R"({"iss":"https://issuer.example","sub":"consumer","aud":"https://rp.example","iat":)",
      absl::ToUnixSeconds(kNow), R"(,"exp":)", absl::ToUnixSeconds(kNow + absl::Minutes(5)), "}");
  ASSIGN_OR_RETURN(std::string token, writ::SignCompactJws(*signer, "JWT", claims));

  // The relying party only has the published key set.
  const std::string jwks_json = absl::StrCat(R"({"keys":[)", signer->public_jwk().ToJson(), "]}");
  ASSIGN_OR_RETURN(writ::JwkSet jwks, writ::JwkSet::Parse(jwks_json));
  writ::FakeClock clock(kNow);
  writ::JwtValidatorOptions options;
  options.issuer = "https://issuer.example";
  options.audiences = {"https://rp.example"};
  ASSIGN_OR_RETURN(writ::JwtValidator validator, writ::JwtValidator::New(options, &clock));
  ASSIGN_OR_RETURN(writ::VerifiedJwt verified, validator.Verify(token, jwks));
  std::cout << "jwt: verified sub=" << verified.claims.subject() << " kid=" << signer->kid()
            << "\n";

  // Same header and signature, another payload.
  const size_t first_dot = token.find('.');
  const size_t second_dot = token.find('.', first_dot + 1);
  const std::string tampered =
      absl::StrCat(token.substr(0, first_dot + 1),
                   writ::Base64UrlEncode(R"({"iss":"https://issuer.example","sub":"admin",)"
                                         R"("aud":"https://rp.example","exp":4102444800})"),
                   token.substr(second_dot));
  RETURN_IF_ERROR(ExpectRefused("tampered token", validator.Verify(tampered, jwks).status(),
                                absl::StatusCode::kUnauthenticated));
  std::cout << "jwt: tampered token refused\n";

  clock.Advance(absl::Minutes(5) + writ::kMaxJwtLeeway + absl::Seconds(1));
  RETURN_IF_ERROR(ExpectRefused("expired token", validator.Verify(token, jwks).status(),
                                absl::StatusCode::kUnauthenticated));
  std::cout << "jwt: expired token refused\n";
  return absl::OkStatus();
}

absl::Status IssueAndVerifyCertificates() {
  ASSIGN_OR_RETURN(writ::SslPtr<EVP_PKEY> ca_key, writ::GenerateKey(writ::KeySpec::kEcP256));
  writ::CertificateTemplate ca;
  ca.subject_common_name = "Consumer Test CA";
  ca.not_before = kNow - absl::Hours(1);
  ca.not_after = kNow + absl::Hours(24);
  ASSIGN_OR_RETURN(ca.serial, writ::RandomSerial());
  ca.is_ca = true;
  ca.key_usage = {.digital_signature = true, .key_cert_sign = true};
  ASSIGN_OR_RETURN(writ::SslPtr<X509> ca_cert,
                   writ::IssueCertificate(ca, ca_key.get(), nullptr, ca_key.get()));

  ASSIGN_OR_RETURN(writ::SslPtr<EVP_PKEY> leaf_key, writ::GenerateKey(writ::KeySpec::kEd25519));
  writ::CertificateTemplate leaf;
  leaf.uri_sans = {"spiffe://consumer.example/app"};
  leaf.not_before = kNow;
  leaf.not_after = kNow + absl::Minutes(10);
  ASSIGN_OR_RETURN(leaf.serial, writ::RandomSerial());
  leaf.key_usage = {.digital_signature = true};
  ASSIGN_OR_RETURN(writ::SslPtr<X509> issued,
                   writ::IssueCertificate(leaf, leaf_key.get(), ca_cert.get(), ca_key.get()));

  // What a relying party does with PEM it was handed.
  ASSIGN_OR_RETURN(std::string ca_pem, writ::CertificateToPem(ca_cert.get()));
  ASSIGN_OR_RETURN(std::string leaf_pem, writ::CertificateToPem(issued.get()));
  ASSIGN_OR_RETURN(writ::SslPtr<X509> root, writ::ParseCertificatePem(ca_pem));
  ASSIGN_OR_RETURN(writ::SslPtr<X509> parsed, writ::ParseCertificatePem(leaf_pem));
  ASSIGN_OR_RETURN(std::vector<std::string> uris, writ::CertificateUriSans(parsed.get()));
  if (uris.size() != 1) return absl::InternalError("the leaf should have one URI SAN");
  std::cout << "x509: parsed issuer=" << writ::CertificateSubject(root.get())
            << " leaf uri=" << uris[0] << "\n";

  const std::vector<const X509*> roots = {root.get()};
  RETURN_IF_ERROR(writ::VerifyCertificate(parsed.get(), roots, kNow + absl::Minutes(1)));
  std::cout << "x509: chain verified\n";
  RETURN_IF_ERROR(ExpectRefused(
      "expired certificate", writ::VerifyCertificate(parsed.get(), roots, kNow + absl::Minutes(11)),
      absl::StatusCode::kUnauthenticated));
  std::cout << "x509: expired certificate refused\n";
  return absl::OkStatus();
}

// VerifyAsRelyingParty uses the workload and relying-party libraries
// (writ::verify over writ::net and libcurl, writ::client's TokenCache), so
// the package's link interface for them is exercised too.
absl::Status VerifyAsRelyingParty() {
  ASSIGN_OR_RETURN(writ::SslPtr<EVP_PKEY> key, writ::GenerateKey(writ::KeySpec::kEcP256));
  ASSIGN_OR_RETURN(auto signer,
                   writ::PrivateKeySigner::New(std::move(key), writ::JwsAlgorithm::kEs256));
  const std::string claims = absl::StrCat(
      R"({"iss":"https://writ.example","sub":"task:1","aud":"https://tools.example",)",
      R"("scope":"tickets:read","act":{"sub":"agent:bot"},"iat":)", absl::ToUnixSeconds(kNow),
      R"(,"exp":)", absl::ToUnixSeconds(kNow + absl::Minutes(1)), "}");
  ASSIGN_OR_RETURN(std::string token, writ::SignCompactJws(*signer, "at+jwt", claims));
  writ::FakeClock clock(kNow);
  writ::TokenVerifierOptions options;
  options.issuer_url = "https://writ.example";
  options.static_jwks = absl::StrCat(R"({"keys":[)", signer->public_jwk().ToJson(), "]}");
  options.audience = "https://tools.example";
  options.clock = &clock;
  ASSIGN_OR_RETURN(std::unique_ptr<writ::TokenVerifier> verifier,
                   writ::TokenVerifier::New(options));
  ASSIGN_OR_RETURN(writ::VerifiedToken verified, verifier->Verify(token, {"tickets:read"}));
  std::cout << "verify: " << verified.subject << " through " << verified.actor.value_or("-")
            << "\n";
  RETURN_IF_ERROR(ExpectRefused("missing scope",
                                verifier->Verify(token, {"tickets:delete"}).status(),
                                absl::StatusCode::kPermissionDenied));
  std::cout << "verify: missing scope refused\n";

  int fetches = 0;
  ASSIGN_OR_RETURN(std::unique_ptr<writ::TokenCache> cache,
                   writ::TokenCache::New(
                       [&](const writ::TokenRequest&) -> absl::StatusOr<writ::Token> {
                         ++fetches;
                         writ::Token t;
                         t.access_token = token;
                         t.token_type = "Bearer";
                         t.issued_at = kNow;
                         t.expires_at = kNow + absl::Minutes(5);
                         return t;
                       },
                       {.clock = &clock}));
  RETURN_IF_ERROR(cache->Get({.audience = "https://tools.example"}).status());
  RETURN_IF_ERROR(cache->Get({.audience = "https://tools.example"}).status());
  std::cout << "cache: " << fetches << " fetch for 2 gets\n";
  return absl::OkStatus();
}

}  // namespace

int main() {
  absl::Status status = SignAndVerifyJwt();
  if (status.ok()) status = IssueAndVerifyCertificates();
  if (status.ok()) status = VerifyAsRelyingParty();
  if (!status.ok()) {
    std::cerr << "writ_consumer: " << status << "\n";
    return 1;
  }
  std::cout << "writ_consumer: OK\n";
  return 0;
}
