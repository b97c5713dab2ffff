// PeerSvidVerifier: how a relying party on a plain TLS stack checks the
// X.509-SVID a peer presented, against the trust bundle Writ publishes. It
// returns the peer's SPIFFE ID, which the caller then authorizes (or lists in
// allowed_ids to have it checked here).
//
//   PeerSvidVerifierOptions options;
//   options.issuer_url = "https://writ.acme.example";  // GET {issuer_url}/v1/bundle.pem
//   options.trust_domain = "acme.example";
//   options.allowed_ids = {"spiffe://acme.example/ci/acme/app"};
//   ASSIGN_OR_RETURN(std::unique_ptr<PeerSvidVerifier> verifier,
//                    PeerSvidVerifier::New(std::move(options)));
//   // Per connection, with the chain the TLS stack received (leaf first):
//   ASSIGN_OR_RETURN(std::string spiffe_id, verifier->Verify(peer_chain_pem));
//
// Let the TLS stack itself prove the peer holds the leaf's private key (the
// handshake); this class checks only what the certificates say.
//
// Bundle: fetched on first use and again after bundle_refresh. A chain that
// does not verify causes one re-fetch (at most one per refetch_cooldown) and
// a second try, so a CA rotation is picked up at once. While Writ cannot be
// reached, the last bundle stays in use for bundle_stale_max.
#ifndef WRIT_VERIFY_SVID_VERIFIER_H_
#define WRIT_VERIFY_SVID_VERIFIER_H_

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "absl/time/time.h"
#include "absl/types/span.h"
#include "writ/base/clock.h"
#include "writ/crypto/ssl_ptr.h"
#include "writ/net/http_fetcher.h"

namespace writ {
namespace verify_internal {
class BundleSource;
}  // namespace verify_internal

// PeerSvidVerifierOptions configures a PeerSvidVerifier. Exactly one of
// issuer_url and bundle_pem is set.
struct PeerSvidVerifierOptions {
  // issuer_url is Writ's issuer URL; the bundle is fetched from
  // issuer_url + "/v1/bundle.pem". https://, or http:// only on a loopback
  // host. Default: empty.
  std::string issuer_url;
  // bundle_pem is a static bundle: the trust domain's CA certificates (PEM).
  // Nothing is fetched. Default: empty.
  std::string bundle_pem;
  // trust_domain is the SPIFFE trust domain the peer must belong to, e.g.
  // "acme.example" (lowercase [a-z0-9._-]). Required.
  std::string trust_domain;
  // allowed_ids are the SPIFFE IDs accepted; each must be in trust_domain.
  // Default: empty (any ID in trust_domain).
  std::vector<std::string> allowed_ids;
  // bundle_refresh: how long a fetched bundle is used before it is fetched
  // again. Default: 5 min.
  absl::Duration bundle_refresh = absl::Minutes(5);
  // refetch_cooldown: the least time between two fetches caused by chains
  // that do not verify, or by failed fetches. Default: 30 s.
  absl::Duration refetch_cooldown = absl::Seconds(30);
  // bundle_stale_max: how long the last bundle stays in use past
  // bundle_refresh while it cannot be fetched. Default: 1 h.
  absl::Duration bundle_stale_max = absl::Hours(1);
  // fetch_timeout bounds one bundle fetch (connect: at most 2 s of it).
  // Default: 5 s.
  absl::Duration fetch_timeout = absl::Seconds(5);
  // ca_pem, when set, is the only trust anchor for https to Writ; used only
  // by the fetcher the verifier makes itself. Default: empty (the system
  // trust store).
  std::string ca_pem;
  // fetcher makes the bundle requests; not owned, must outlive the verifier.
  // Default: null (a CurlFetcher owned by the verifier).
  HttpFetcher* fetcher = nullptr;
  // clock is the time certificates must be valid at, and drives refreshes;
  // not owned, must outlive the verifier. Default: null (the system clock).
  const Clock* clock = nullptr;
};

// PeerSvidVerifierState describes the bundle held now. No key material.
struct PeerSvidVerifierState {
  // root_count is the number of CA certificates held (0 before a fetch).
  size_t root_count = 0;
  // last_fetch is when the bundle was last fetched; InfinitePast if never
  // (or static).
  absl::Time last_fetch = absl::InfinitePast();
  // fetches counts fetch attempts, successful or not.
  uint64_t fetches = 0;
  // last_error is the last failed fetch's message; empty after a success.
  std::string last_error;
};

// PeerSvidVerifier checks X.509-SVIDs of one trust domain. Thread-safe.
class PeerSvidVerifier {
 public:
  // New checks the options (and parses bundle_pem); nothing is fetched yet.
  // Returns kInvalidArgument naming the field that is wrong.
  static absl::StatusOr<std::unique_ptr<PeerSvidVerifier>> New(PeerSvidVerifierOptions options);
  ~PeerSvidVerifier();

  // Verify checks a peer's certificate chain, leaf first, then any
  // intermediates (PEM; at most 16 certificates), and returns the leaf's
  // SPIFFE ID. The checks, those needing no bundle first (so a peer that can
  // never pass causes no fetch):
  //   - the leaf is no CA (basicConstraints cA false) and its keyUsage has
  //     digitalSignature but neither keyCertSign nor cRLSign (X509-SVID 4.3);
  //   - it has exactly one URI SAN: a valid SPIFFE ID in trust_domain with a
  //     path, and in allowed_ids when that is set;
  //   - it is valid at the clock's now (notBefore <= now < notAfter);
  //   - it chains, through the intermediates given, to a certificate of the
  //     bundle, every certificate valid at now. When it does not, the bundle
  //     is re-fetched once (see the file comment) and the chain tried again.
  // Extended key usage is not checked: the TLS stack knows which side the
  // peer is on.
  //
  // Returns kUnauthenticated naming the failed check (a malformed chain
  // included), and kUnavailable when no bundle can be had.
  absl::StatusOr<std::string> Verify(absl::string_view chain_pem) const;
  // Verify takes the chain as DER certificates, leaf first (what TLS stacks
  // hand out), then as above.
  absl::StatusOr<std::string> Verify(absl::Span<const std::string> chain_der) const;

  // State describes the bundle held now. Never blocks on a fetch.
  PeerSvidVerifierState State() const;

  const PeerSvidVerifierOptions& options() const { return options_; }

 private:
  PeerSvidVerifier(PeerSvidVerifierOptions options, std::unique_ptr<HttpFetcher> owned_fetcher,
                   std::unique_ptr<verify_internal::BundleSource> bundle, const Clock* clock);

  absl::StatusOr<std::string> VerifyChain(const std::vector<SslPtr<X509>>& chain) const;
  absl::StatusOr<std::string> CheckLeaf(const X509* leaf) const;

  const PeerSvidVerifierOptions options_;
  const std::unique_ptr<HttpFetcher> owned_fetcher_;
  const std::unique_ptr<verify_internal::BundleSource> bundle_;
  const Clock* const clock_;
};

}  // namespace writ

#endif  // WRIT_VERIFY_SVID_VERIFIER_H_
