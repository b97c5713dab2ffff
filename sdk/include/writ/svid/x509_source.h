// X509Source: an X.509-SVID that stays current. The private key is generated
// in this process and is never sent anywhere nor written to disk: the source
// sends a CSR to the issuer, checks the answer, and renews the SVID in the
// background before it expires. (With gRPC credentials the key also sits in
// an in-memory file of this process: see grpc_credentials.h.)
//
//   // The Writ client supplies an SvidIssuer that attests and calls Writ.
//   absl::StatusOr<std::unique_ptr<writ::X509Source>> source =
//       writ::X509Source::New(issuer);
//   if (!source.ok()) return source.status();
//   writ::X509Svid svid = (*source)->Current();  // spiffe_id, chain, bundle
//
// For rotating gRPC mTLS, hand the source to SvidChannelCredentials or
// SvidServerCredentials (writ/svid/grpc_credentials.h).
#ifndef WRIT_SVID_X509_SOURCE_H_
#define WRIT_SVID_X509_SOURCE_H_

#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <string>
#include <thread>
#include <vector>

#include "absl/base/thread_annotations.h"
#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/time.h"
#include "writ/base/clock.h"
#include "writ/crypto/keys.h"
#include "writ/crypto/ssl_ptr.h"

namespace writ {

namespace svid_internal {
class SourceAccess;
class SvidFiles;
}  // namespace svid_internal

// SvidResponse is what the issuer answered for one CSR (Writ's
// POST /v1/x509-svid, or gRPC MintX509Svid).
struct SvidResponse {
  // The SPIFFE ID the issuer granted, e.g. "spiffe://acme.example/ns/web".
  std::string spiffe_id;
  // PEM certificates, leaf first, then any intermediates.
  std::string certificate_chain_pem;
  // PEM of every CA certificate the trust domain publishes now.
  std::string bundle_pem;
};

// SvidIssuer sends one PEM CSR to the issuer and returns its answer, or the
// status that explains why there is none. The Writ client provides one that
// attests and calls Writ; tests pass a local CA. Must be thread-safe.
using SvidIssuer = std::function<absl::StatusOr<SvidResponse>(absl::string_view csr_pem)>;

// X509Svid is an immutable snapshot of one SVID (without its private key).
struct X509Svid {
  std::string spiffe_id;
  std::string certificate_chain_pem;  // leaf first
  std::string bundle_pem;
  absl::Time not_before;  // of the leaf
  absl::Time not_after;   // of the leaf
};

// X509SourceOptions tunes an X509Source.
struct X509SourceOptions {
  // Kind of the key generated in the process. P-256 is what every gRPC TLS
  // peer accepts; Ed25519 and RSA work with OpenSSL peers, but not all others.
  // Default: KeySpec::kEcP256
  KeySpec key_spec = KeySpec::kEcP256;
  // Fraction of the leaf's lifetime after which a new SVID is fetched; in
  // (0, 1]. Default: 0.5
  double renew_at = 0.5;
  // Generate a fresh key for every renewal; false keeps the first key for
  // the life of the source. Default: true
  bool fresh_key_per_renewal = true;
  // After a failed renewal the source retries with exponential backoff, from
  // retry_initial_backoff doubling up to retry_max_backoff, each delay scaled
  // by a random factor in [0.5, 1] (jitter). Meanwhile the current SVID is
  // still served. Both must be > 0 and max >= initial.
  // Default: 1 s
  absl::Duration retry_initial_backoff = absl::Seconds(1);
  // Default: 30 s
  absl::Duration retry_max_backoff = absl::Seconds(30);
  // Source of "now" for renewal times and for checking the issuer's answer.
  // Not owned; must outlive the source. Default: null (Clock::Real())
  const Clock* clock = nullptr;
};

// X509Source holds the current X.509-SVID and its private key, and keeps
// both rotated. All methods are thread-safe.
class X509Source {
 public:
  // New generates a key, sends a CSR for it (empty subject, no SANs: the
  // issuer grants the ID) and checks the answer: the chain parses, the leaf's
  // public key is ours, the leaf is not a CA, it has exactly one URI SAN,
  // which is a valid SPIFFE ID equal to `spiffe_id`, and it verifies against
  // `bundle_pem` now (writ/x509/verify.h). Then it starts a background thread
  // that renews at `renew_at` of the leaf's lifetime.
  //
  // Returns the issuer's status unchanged when the issuer fails,
  // kInvalidArgument naming the defect when its answer does not pass the
  // checks or `options` are out of range, kInternal if key generation fails.
  static absl::StatusOr<std::unique_ptr<X509Source>> New(SvidIssuer issuer,
                                                         X509SourceOptions options = {});

  // Stops the renewal thread (promptly, unless it is inside an issuer call,
  // which it finishes first). Credentials made from this source stop working
  // once it is gone (their handshakes fail): keep the source alive while
  // they are in use.
  ~X509Source();

  X509Source(const X509Source&) = delete;
  X509Source& operator=(const X509Source&) = delete;

  // Current returns the current SVID. When renewals keep failing this stays
  // the last good SVID even after its not_after: check it if that matters.
  X509Svid Current() const;

  // NextRenewal returns when the background thread next asks the issuer for
  // an SVID: renew_at of the leaf's lifetime, or the retry time after a
  // failed renewal.
  absl::Time NextRenewal() const;

  // LastRenewalStatus returns OK if the last attempt to fetch an SVID
  // (background or RotateNow) succeeded, else its error.
  absl::Status LastRenewalStatus() const;

  // RotateNow fetches a new SVID now (with a new key unless
  // fresh_key_per_renewal is false) and returns once it is current, e.g.
  // after the trust domain's CA rotated. On failure returns the error (as
  // New) and keeps the current SVID and the renewal schedule. gRPC
  // credentials made from this source pick up the new SVID and bundle within
  // about one second (their file-watcher interval).
  absl::Status RotateNow();

  // Watch calls `fn` once at once with the current SVID, then with each new
  // one, in order, on the thread that fetched it. Returns an id for Unwatch.
  // `fn` must not call Watch or RotateNow, nor destroy the source (it may
  // call Current and Unwatch).
  int Watch(std::function<void(const X509Svid&)> fn);

  // Unwatch stops calls to the watcher `id`. When it returns, that watcher is
  // not running (unless Unwatch is called from within it) and will not be
  // called again. Unknown ids are ignored.
  void Unwatch(int id);

 private:
  friend class svid_internal::SourceAccess;  // the gRPC credentials' plumbing
  friend class X509SourceTestPeer;           // drives the renewal thread in tests

  using Watcher = std::shared_ptr<std::function<void(const X509Svid&)>>;
  using WatcherList = std::vector<std::pair<int, Watcher>>;

  X509Source(SvidIssuer issuer, X509SourceOptions options, const Clock* clock);

  // Fetches and installs a new SVID; the caller holds renew_mu_.
  absl::Status RenewLocked() ABSL_EXCLUSIVE_LOCKS_REQUIRED(renew_mu_);
  // One attempt of the renewal thread, if still due.
  void RenewInBackground() ABSL_LOCKS_EXCLUDED(renew_mu_, mu_);
  void Run() ABSL_LOCKS_EXCLUDED(mu_);  // the renewal thread
  void Notify(const WatcherList& watchers, const X509Svid& svid)
      ABSL_EXCLUSIVE_LOCKS_REQUIRED(renew_mu_) ABSL_LOCKS_EXCLUDED(mu_);
  absl::Duration Backoff(int failures);
  // Test hook: wakes the renewal thread and waits until it has looked at the
  // clock (and renewed, if due) once more.
  void WakeAndWaitForPass() ABSL_LOCKS_EXCLUDED(mu_);
  // For the credentials: the memfd files and provider, made on first use.
  absl::StatusOr<svid_internal::SvidFiles*> Files() ABSL_LOCKS_EXCLUDED(renew_mu_);

  const SvidIssuer issuer_;
  const X509SourceOptions options_;
  const Clock* const clock_;

  // Serialises fetches (background and RotateNow) and watcher calls.
  // Lock order: renew_mu_ before mu_.
  absl::Mutex renew_mu_;
  SslPtr<EVP_PKEY> key_ ABSL_GUARDED_BY(renew_mu_);
  std::string trust_domain_ ABSL_GUARDED_BY(renew_mu_);
  std::unique_ptr<svid_internal::SvidFiles> files_ ABSL_GUARDED_BY(renew_mu_);

  mutable absl::Mutex mu_;
  absl::CondVar cv_;
  std::shared_ptr<const X509Svid> svid_ ABSL_GUARDED_BY(mu_);
  absl::Time next_renewal_ ABSL_GUARDED_BY(mu_);
  absl::Status last_status_ ABSL_GUARDED_BY(mu_);
  int failures_ ABSL_GUARDED_BY(mu_) = 0;
  bool stop_ ABSL_GUARDED_BY(mu_) = false;
  uint64_t wake_seq_ ABSL_GUARDED_BY(mu_) = 0;    // bumped to wake the thread
  uint64_t served_seq_ ABSL_GUARDED_BY(mu_) = 0;  // last wake the thread acted on
  std::map<int, Watcher> watchers_ ABSL_GUARDED_BY(mu_);
  int next_watch_id_ ABSL_GUARDED_BY(mu_) = 1;
  bool notifying_ ABSL_GUARDED_BY(mu_) = false;
  std::thread::id notifying_thread_ ABSL_GUARDED_BY(mu_);

  std::thread thread_;
};

}  // namespace writ

#endif  // WRIT_SVID_X509_SOURCE_H_
