// libFuzzer target: compact JWS parsing, claims parsing and verification of
// whatever parses, against a fixed key set.
#include <cstddef>
#include <cstdint>
#include <cstdlib>

#include "writ/crypto/keys.h"
#include "writ/jose/claims.h"
#include "writ/jose/jws.h"
#include "writ/jose/jws_verifier.h"
#include "writ/jose/signer.h"

namespace {

const writ::JwkSet& Keys() {
  static const writ::JwkSet* const keys = [] {
    std::vector<writ::PublicJwk> jwks;
    const std::pair<writ::KeySpec, writ::JwsAlgorithm> kinds[] = {
        {writ::KeySpec::kEcP256, writ::JwsAlgorithm::kEs256},
        {writ::KeySpec::kEd25519, writ::JwsAlgorithm::kEdDsa},
        {writ::KeySpec::kRsa2048, writ::JwsAlgorithm::kRs256}};
    for (const auto& [spec, alg] : kinds) {
      auto key = writ::GenerateKey(spec);
      if (!key.ok()) abort();
      auto jwk = writ::PublicJwk::FromKey(key->get(), alg, writ::JwsAlgorithmName(alg));
      if (!jwk.ok()) abort();
      jwks.push_back(*jwk);
    }
    auto set = writ::JwkSet::FromKeys(std::move(jwks));
    if (!set.ok()) abort();
    return new writ::JwkSet(*std::move(set));
  }();
  return *keys;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const absl::string_view token(reinterpret_cast<const char*>(data), size);
  auto jws = writ::ParseCompactJws(token);
  if (!jws.ok()) return 0;
  // A parsed token is internally consistent.
  if (jws->signing_input().size() >= token.size()) abort();
  (void)writ::JwtClaims::Parse(jws->payload());
  // Random input must never verify.
  if (writ::VerifyJws(*jws, Keys()).ok()) abort();
  return 0;
}
