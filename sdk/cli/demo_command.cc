// writ demo: the JOSE core end to end, in one process, with nothing to set up.
// It stands in for the issuer in the README until the issuer exists.

#include <openssl/rand.h>

#include <ostream>
#include <string>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_replace.h"
#include "absl/time/time.h"
#include "rapidjson/stringbuffer.h"
#include "rapidjson/writer.h"
#include "sdk/cli/commands.h"
#include "sdk/cli/flags.h"
#include "sdk/cli/json_util.h"
#include "writ/base/base64url.h"
#include "writ/base/clock.h"
#include "writ/base/status_macros.h"
#include "writ/crypto/keys.h"
#include "writ/jose/jwk.h"
#include "writ/jose/jwt_validator.h"
#include "writ/jose/signer.h"

namespace writ::cli {
namespace {

constexpr absl::string_view kIssuer = "http://127.0.0.1:8080";
constexpr absl::string_view kAudience = "https://deploy.example.internal";
constexpr absl::string_view kSubject = "spiffe://writ.example/ci/acme/payments/deploy";
constexpr absl::Duration kLifetime = absl::Minutes(5);

absl::StatusOr<std::string> RandomId() {
  unsigned char bytes[16];
  if (RAND_bytes(bytes, sizeof(bytes)) != 1) return absl::InternalError("RAND_bytes failed");
  return Base64UrlEncode(absl::string_view(reinterpret_cast<const char*>(bytes), sizeof(bytes)));
}

std::string AccessTokenClaims(absl::Time now, absl::string_view jti) {
  rapidjson::StringBuffer buffer;
  rapidjson::Writer<rapidjson::StringBuffer> w(buffer);
  const int64_t iat = absl::ToUnixSeconds(now);
  w.StartObject();
  w.Key("iss");
  w.String(kIssuer.data(), kIssuer.size());
  w.Key("sub");
  w.String(kSubject.data(), kSubject.size());
  w.Key("aud");
  w.String(kAudience.data(), kAudience.size());
  w.Key("exp");
  w.Int64(iat + absl::ToInt64Seconds(kLifetime));
  w.Key("iat");
  w.Int64(iat);
  w.Key("nbf");
  w.Int64(iat);
  w.Key("jti");
  w.String(jti.data(), jti.size());
  w.Key("client_id");
  w.String("writ-demo");
  w.Key("scope");
  w.String("deploy:staging");
  w.EndObject();
  return std::string(buffer.GetString(), buffer.GetSize());
}

// Expect reports one verification step and whether it went as it should.
bool Expect(std::ostream& out, const absl::StatusOr<VerifiedJwt>& result, bool want_ok) {
  if (result.ok()) {
    out << "   " << (want_ok ? "ACCEPTED" : "ACCEPTED (UNEXPECTED!)") << ": sub "
        << result->claims.subject() << ", scope "
        << result->claims.GetString("scope").value_or("(none)") << "\n";
  } else {
    out << "   " << (want_ok ? "REJECTED (UNEXPECTED!)" : "REJECTED") << ": "
        << result.status().message() << "\n";
  }
  return result.ok() == want_ok;
}

}  // namespace

absl::Status RunDemoCommand(absl::string_view name, absl::Span<const std::string> args,
                            CommandEnv& env) {
  FlagSet flags(std::string(name), "",
                "A short tour of Writ's JOSE core, self-contained (no issuer, no network, no\n"
                "files): generate an ES256 key, publish its JWK Set, sign a 5-minute access\n"
                "token, verify it, and watch a tampered token, an \"alg\":\"none\" token and an\n"
                "expired token be rejected. The private key never leaves memory.");
  RETURN_IF_ERROR(flags.Parse(args));
  if (flags.help_requested()) {
    *env.out << flags.Help();
    return absl::OkStatus();
  }
  std::ostream& out = *env.out;
  const absl::Time now = env.clock->Now();

  out << "Writ demo: the JOSE core, end to end in one process.\n\n";

  ASSIGN_OR_RETURN(SslPtr<EVP_PKEY> key, GenerateKey(KeySpec::kEcP256));
  ASSIGN_OR_RETURN(auto signer, PrivateKeySigner::New(std::move(key), JwsAlgorithm::kEs256));
  out << "1. Generated an ES256 signing key (EC P-256); its private half stays in memory.\n"
      << "   kid (RFC 7638 thumbprint): " << signer->kid() << "\n\n";

  ASSIGN_OR_RETURN(JwkSet jwks, JwkSet::FromKeys({signer->public_jwk()}));
  ASSIGN_OR_RETURN(std::string jwks_pretty, PrettyJson(jwks.ToJson()));
  out << "2. The JWK Set relying parties fetch from the issuer's jwks_uri:\n"
      << Indent(jwks_pretty, "   ") << "\n\n";

  ASSIGN_OR_RETURN(std::string jti, RandomId());
  const std::string claims = AccessTokenClaims(now, jti);
  ASSIGN_OR_RETURN(std::string token, SignCompactJws(*signer, "at+jwt", claims));
  ASSIGN_OR_RETURN(std::string claims_pretty, PrettyJson(claims));
  out << "3. Signed a " << absl::ToInt64Minutes(kLifetime)
      << "-minute access token (RFC 9068 shape, typ at+jwt):\n"
      << "   " << token << "\n"
      << "   payload:\n"
      << Indent(claims_pretty, "   ") << "\n\n";

  JwtValidatorOptions options;
  options.issuer = std::string(kIssuer);
  options.audiences = {std::string(kAudience)};
  options.expected_type = "at+jwt";
  ASSIGN_OR_RETURN(JwtValidator validator, JwtValidator::New(options, env.clock));
  bool as_expected = true;
  out << "4. Verified with JwtValidator against the JWK Set (iss " << kIssuer << ", aud "
      << kAudience << ", typ at+jwt):\n";
  as_expected &= Expect(out, validator.Verify(token, jwks), true);

  const size_t first_dot = token.find('.');
  const size_t second_dot = token.find('.', first_dot + 1);
  const std::string forged_claims =
      absl::StrReplaceAll(claims, {{"deploy:staging", "deploy:production"}});
  const std::string tampered = absl::StrCat(
      token.substr(0, first_dot), ".", Base64UrlEncode(forged_claims), token.substr(second_dot));
  out << "\n5. The same token with its payload edited (scope deploy:staging -> "
         "deploy:production),\n   original signature kept:\n";
  as_expected &= Expect(out, validator.Verify(tampered, jwks), false);

  const std::string unsecured = absl::StrCat(Base64UrlEncode(R"({"alg":"none","typ":"at+jwt"})"),
                                             ".", Base64UrlEncode(forged_claims), ".");
  out << "\n6. An unsecured token, header {\"alg\":\"none\"} and no signature (RFC 8725 "
         "section 2.1):\n";
  as_expected &= Expect(out, validator.Verify(unsecured, jwks), false);

  const std::string none_with_signature =
      absl::StrCat(Base64UrlEncode(R"({"alg":"none","typ":"at+jwt"})"), token.substr(first_dot));
  out << "\n7. The genuine payload and signature under a header rewritten to "
         "{\"alg\":\"none\"}:\n";
  as_expected &= Expect(out, validator.Verify(none_with_signature, jwks), false);

  // The clock is an input to validation: the same token, minutes later,
  // without sleeping.
  const absl::Duration delay = kLifetime + options.leeway + absl::Minutes(1);
  FakeClock later(now + delay);
  ASSIGN_OR_RETURN(JwtValidator later_validator, JwtValidator::New(options, &later));
  out << "\n8. The genuine token checked " << absl::ToInt64Minutes(delay)
      << " minutes after it was issued (a FakeClock; nobody sleeps):\n";
  as_expected &= Expect(out, later_validator.Verify(token, jwks), false);

  if (!as_expected) {
    return absl::InternalError("the demo saw a result it did not expect (see above)");
  }
  out << "\nEvery step behaved as expected.\n";
  return absl::OkStatus();
}

}  // namespace writ::cli
