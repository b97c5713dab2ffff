#include "writ/verify/svid_verifier.h"

#include <openssl/x509v3.h>

#include <algorithm>
#include <utility>

#include "absl/strings/escaping.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/strip.h"
#include "sdk/src/verify/bundle_source.h"
#include "writ/base/status_macros.h"
#include "writ/net/curl_fetcher.h"
#include "writ/spiffe/spiffe_id.h"
#include "writ/x509/certificate.h"
#include "writ/x509/verify.h"

namespace writ {
namespace {

using verify_internal::BundleRoots;
using verify_internal::BundleSource;
using verify_internal::BundleSourceOptions;

// kMaxChainLength bounds the certificates a peer may present.
constexpr size_t kMaxChainLength = 16;

absl::Status OptionError(absl::string_view field, absl::string_view why) {
  return absl::InvalidArgumentError(absl::StrCat("peer SVID verifier: ", field, ": ", why));
}

absl::Status Refused(absl::string_view why) {
  return absl::UnauthenticatedError(absl::StrCat("peer SVID: ", why));
}

// Quote shows a value taken from a certificate: escaped and cut short.
std::string Quote(absl::string_view value) {
  constexpr size_t kMax = 256;
  std::string out = absl::CHexEscape(value.substr(0, kMax));
  if (value.size() > kMax) absl::StrAppend(&out, "...");
  return absl::StrCat("\"", out, "\"");
}

std::string Rfc3339(absl::Time t) {
  return absl::FormatTime("%Y-%m-%dT%H:%M:%SZ", t, absl::UTCTimeZone());
}

}  // namespace

absl::StatusOr<std::unique_ptr<PeerSvidVerifier>> PeerSvidVerifier::New(
    PeerSvidVerifierOptions options) {
  const Clock* clock = options.clock != nullptr ? options.clock : &Clock::Real();
  if (options.issuer_url.empty() == options.bundle_pem.empty()) {
    return OptionError("issuer_url", "set exactly one of issuer_url and bundle_pem");
  }
  if (options.trust_domain.empty()) return OptionError("trust_domain", "must not be empty");
  absl::StatusOr<SpiffeId> domain_id =
      SpiffeId::Parse(absl::StrCat("spiffe://", options.trust_domain));
  if (!domain_id.ok() || !domain_id->path().empty()) {
    return OptionError("trust_domain",
                       absl::StrCat(Quote(options.trust_domain),
                                    " is not a trust domain name (lowercase [a-z0-9._-])"));
  }
  for (const std::string& allowed : options.allowed_ids) {
    absl::StatusOr<SpiffeId> id = SpiffeId::Parse(allowed);
    if (!id.ok()) return OptionError("allowed_ids", id.status().message());
    if (id->trust_domain() != options.trust_domain || id->path().empty()) {
      return OptionError("allowed_ids",
                         absl::StrCat(Quote(allowed), " is not a workload in trust domain \"",
                                      options.trust_domain, "\""));
    }
  }

  HttpFetcher* fetcher = nullptr;
  std::unique_ptr<HttpFetcher> owned_fetcher = CurlFetcherUnlessGiven(
      options.fetcher, {.ca_pem = options.ca_pem, .user_agent = "writ-verify"}, &fetcher);
  BundleSourceOptions source;
  if (!options.issuer_url.empty()) {
    source.url = absl::StrCat(absl::StripSuffix(options.issuer_url, "/"), "/v1/bundle.pem");
  }
  source.static_pem = options.bundle_pem;
  source.refresh = options.bundle_refresh;
  source.refetch_cooldown = options.refetch_cooldown;
  source.stale_max = options.bundle_stale_max;
  source.fetch_timeout = options.fetch_timeout;
  ASSIGN_OR_RETURN(std::unique_ptr<BundleSource> bundle,
                   BundleSource::New(std::move(source), fetcher, clock));
  return std::unique_ptr<PeerSvidVerifier>(
      new PeerSvidVerifier(std::move(options), std::move(owned_fetcher), std::move(bundle), clock));
}

PeerSvidVerifier::PeerSvidVerifier(PeerSvidVerifierOptions options,
                                   std::unique_ptr<HttpFetcher> owned_fetcher,
                                   std::unique_ptr<BundleSource> bundle, const Clock* clock)
    : options_(std::move(options)),
      owned_fetcher_(std::move(owned_fetcher)),
      bundle_(std::move(bundle)),
      clock_(clock) {}

PeerSvidVerifier::~PeerSvidVerifier() = default;

absl::StatusOr<std::string> PeerSvidVerifier::Verify(absl::string_view chain_pem) const {
  absl::StatusOr<std::vector<SslPtr<X509>>> chain = ParseCertificateChainPem(chain_pem);
  if (!chain.ok()) return Refused(absl::StrCat("malformed chain: ", chain.status().message()));
  return VerifyChain(*chain);
}

absl::StatusOr<std::string> PeerSvidVerifier::Verify(
    absl::Span<const std::string> chain_der) const {
  if (chain_der.size() > kMaxChainLength) {
    return Refused(absl::StrCat("the chain has ", chain_der.size(), " certificates; at most ",
                                kMaxChainLength, " are accepted"));
  }
  std::vector<SslPtr<X509>> chain;
  for (size_t i = 0; i < chain_der.size(); ++i) {
    absl::StatusOr<SslPtr<X509>> cert = ParseCertificateDer(chain_der[i]);
    if (!cert.ok()) {
      return Refused(absl::StrCat("malformed certificate ", i + 1, ": ", cert.status().message()));
    }
    chain.push_back(*std::move(cert));
  }
  return VerifyChain(chain);
}

absl::StatusOr<std::string> PeerSvidVerifier::CheckLeaf(const X509* leaf) const {
  // X509_check_ca counts a v1 self-signed certificate, keyCertSign without
  // basicConstraints and the Netscape CA types as CAs too.
  if (X509_check_ca(const_cast<X509*>(leaf)) != 0) {
    return Refused("the leaf certificate is a CA certificate");
  }
  const uint32_t flags = X509_get_extension_flags(const_cast<X509*>(leaf));
  if ((flags & EXFLAG_INVALID) != 0) return Refused("the leaf has malformed extensions");
  // X509-SVID section 4.3: a leaf signs (digitalSignature) and never
  // certifies (keyCertSign, cRLSign).
  const uint32_t key_usage = X509_get_key_usage(const_cast<X509*>(leaf));
  if ((flags & EXFLAG_KUSAGE) == 0 || (key_usage & KU_DIGITAL_SIGNATURE) == 0) {
    return Refused("the leaf's keyUsage lacks digitalSignature");
  }
  if ((key_usage & (KU_KEY_CERT_SIGN | KU_CRL_SIGN)) != 0) {
    return Refused("the leaf's keyUsage has keyCertSign or cRLSign");
  }
  absl::StatusOr<std::vector<std::string>> uris = CertificateUriSans(leaf);
  if (!uris.ok()) return Refused(uris.status().message());
  if (uris->size() != 1) {
    return Refused(
        absl::StrCat("the leaf has ", uris->size(), " URI SANs; an SVID has exactly one"));
  }
  const std::string& uri = uris->front();
  absl::StatusOr<SpiffeId> id = SpiffeId::Parse(uri);
  if (!id.ok()) return Refused(absl::StrCat("URI SAN ", Quote(uri), ": ", id.status().message()));
  if (id->trust_domain() != options_.trust_domain) {
    return Refused(absl::StrCat("SPIFFE ID ", Quote(uri), " is not in trust domain \"",
                                options_.trust_domain, "\""));
  }
  if (id->path().empty()) {
    return Refused(
        absl::StrCat("SPIFFE ID ", Quote(uri), " names the trust domain, not a workload"));
  }
  if (!options_.allowed_ids.empty() &&
      std::find(options_.allowed_ids.begin(), options_.allowed_ids.end(), uri) ==
          options_.allowed_ids.end()) {
    return Refused(absl::StrCat("SPIFFE ID ", Quote(uri), " is not allowed"));
  }
  // The leaf's own validity first: an expired SVID is refused without
  // re-fetching the bundle. OpenSSL's bound, notBefore <= now < notAfter.
  const absl::Time now = clock_->Now();
  absl::StatusOr<absl::Time> not_before = CertificateNotBefore(leaf);
  absl::StatusOr<absl::Time> not_after = CertificateNotAfter(leaf);
  if (!not_before.ok() || !not_after.ok()) return Refused("the leaf's validity is malformed");
  if (now < *not_before)
    return Refused(absl::StrCat("the SVID is not valid before ", Rfc3339(*not_before)));
  if (now >= *not_after) return Refused(absl::StrCat("the SVID expired at ", Rfc3339(*not_after)));
  return uri;
}

absl::StatusOr<std::string> PeerSvidVerifier::VerifyChain(
    const std::vector<SslPtr<X509>>& chain) const {
  if (chain.empty()) return Refused("no certificate was presented");
  if (chain.size() > kMaxChainLength) {
    return Refused(absl::StrCat("the chain has ", chain.size(), " certificates; at most ",
                                kMaxChainLength, " are accepted"));
  }
  // Names and the leaf's own fields first: they need no bundle, so a peer
  // that could never pass causes no fetch.
  ASSIGN_OR_RETURN(std::string id, CheckLeaf(chain.front().get()));

  std::vector<const X509*> intermediates;
  for (size_t i = 1; i < chain.size(); ++i) intermediates.push_back(chain[i].get());
  auto verify = [&](const BundleRoots& roots) {
    std::vector<const X509*> anchors;
    for (const SslPtr<X509>& root : roots.certificates) anchors.push_back(root.get());
    return VerifyCertificate(chain.front().get(), intermediates, anchors, clock_->Now());
  };
  ASSIGN_OR_RETURN(std::shared_ptr<const BundleRoots> roots, bundle_->Roots());
  const absl::Status verified = verify(*roots);
  if (verified.ok()) return id;
  if (verified.code() != absl::StatusCode::kUnauthenticated) return verified;

  // The CA may have rotated since the bundle was fetched: one re-fetch (at
  // most one per refetch_cooldown for all callers), then one retry.
  absl::StatusOr<std::shared_ptr<const BundleRoots>> refreshed = bundle_->RootsAfterFailure(roots);
  if (!refreshed.ok()) {
    if (refreshed.status().code() == absl::StatusCode::kUnavailable) return refreshed.status();
    return Refused(absl::StrCat(verified.message(),
                                " (bundle not re-fetched: ", refreshed.status().message(), ")"));
  }
  const absl::Status retried = verify(**refreshed);
  if (!retried.ok()) {
    if (retried.code() != absl::StatusCode::kUnauthenticated) return retried;
    return Refused(absl::StrCat(retried.message(), ", even after re-fetching the bundle"));
  }
  return id;
}

PeerSvidVerifierState PeerSvidVerifier::State() const { return bundle_->State(); }

}  // namespace writ
