// sdk_bench: the SDK's hot paths, each for a fixed time on 1 and N threads,
// next to the crypto it cannot avoid (its bound), measured in the same run on
// the same threads.
//
//   build/bench/sdk_bench [--seconds S] [--threads N[,N...]] [--cases LIST]
//
//   --seconds   timed length of each row (after a warm-up of a tenth of it,
//               at most 0.5 s)                                   default 3
//   --threads   thread counts, comma-separated        default 1 and nproc
//   --cases     comma-separated subset of token,cache,svid,rotate  default all
//
// Cases (every operation's result is checked; a failure aborts the run):
//   token   TokenVerifier::Verify of an ES256 Writ access token (typ at+jwt,
//           scope, act, attest), keys static (static_jwks) or fetched once
//           and cached (jwks_uri, an in-process fetcher, warmed first)
//           vs. one ES256 verify of the same token (PublicJwk::Verify)
//   cache   TokenCache::Get hits (a fake TokenFetch; every timed Get is a
//           hit), 1 and 64 distinct keys; TokenRequest::Key alone for scale
//   svid    PeerSvidVerifier::Verify of a P-256 X.509-SVID chain (PEM and
//           DER; leaf under the root, and leaf + intermediate) against a
//           static bundle vs. VerifyCertificate of the parsed chain; parsing
//           the chain alone for scale
//   rotate  X509Source::RotateNow (key gen + CSR + an in-process CA that
//           parses, checks and signs + the source's checks), one source per
//           thread vs. the crypto it needs: P-256 key gen + 2 signs + 2
//           verifies
//
// Each row prints ops/s (all threads together) and the p50/p99 latency of
// one operation; rows with a bound print the ratio ops/s / bound ops/s at
// the same thread count.
#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/x509.h>

#include <algorithm>
#include <array>
#include <atomic>
#include <chrono>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <functional>
#include <memory>
#include <string>
#include <thread>
#include <vector>

#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "absl/types/span.h"
#include "bench/bench_util.h"
#include "writ/base/clock.h"
#include "writ/client/token_cache.h"
#include "writ/crypto/keys.h"
#include "writ/jose/jwt_validator.h"
#include "writ/jose/signer.h"
#include "writ/svid/x509_source.h"
#include "writ/verify/svid_verifier.h"
#include "writ/verify/token_verifier.h"
#include "writ/x509/certificate.h"
#include "writ/x509/certificate_request.h"
#include "writ/x509/verify.h"

namespace writ {
namespace {

using bench::Check;
using SteadyClock = std::chrono::steady_clock;

// ---- Measurement -----------------------------------------------------------

// Histogram counts latencies in nanoseconds in log-linear buckets: 32 per
// power of two, so a percentile is within ~3% of the true value.
class Histogram {
 public:
  void Add(int64_t ns) { ++counts_[Index(ns < 0 ? 0 : static_cast<uint64_t>(ns))]; }
  void Merge(const Histogram& other) {
    for (size_t i = 0; i < counts_.size(); ++i) counts_[i] += other.counts_[i];
  }
  // PercentileUs returns the latency under which `p` percent of the samples
  // fall (the middle of its bucket), in microseconds.
  double PercentileUs(double p) const {
    uint64_t total = 0;
    for (uint64_t c : counts_) total += c;
    if (total == 0) return 0;
    const uint64_t rank = std::max<uint64_t>(1, static_cast<uint64_t>(p / 100.0 * total));
    uint64_t seen = 0;
    for (size_t i = 0; i < counts_.size(); ++i) {
      seen += counts_[i];
      if (seen >= rank) return Middle(i) / 1000.0;
    }
    return Middle(counts_.size() - 1) / 1000.0;
  }

 private:
  static constexpr int kSubBits = 5;
  static constexpr uint64_t kSub = 1u << kSubBits;
  static size_t Index(uint64_t ns) {
    if (ns < kSub) return ns;
    const int e = 63 - __builtin_clzll(ns);  // >= kSubBits
    return (e - kSubBits + 1) * kSub + ((ns >> (e - kSubBits)) & (kSub - 1));
  }
  static double Middle(size_t index) {
    if (index < kSub) return index;
    const int e = static_cast<int>(index / kSub) + kSubBits - 1;
    const double low = static_cast<double>((kSub + index % kSub) << (e - kSubBits));
    return low + static_cast<double>(uint64_t{1} << (e - kSubBits)) / 2;
  }
  std::array<uint64_t, 64 * kSub> counts_{};
};

struct Result {
  int threads = 0;
  double per_second = 0;
  double p50_us = 0;
  double p99_us = 0;
};

// Measure runs `op(thread_index)` on `threads` threads at once: a warm-up,
// then `seconds` timed. Latency is the time between consecutive clock reads
// around each call. An `op` returning false aborts the program: a failed
// operation must never be counted.
Result Measure(const char* name, int threads, double seconds, const std::function<bool(int)>& op) {
  const auto warmup = std::chrono::duration<double>(std::min(0.5, seconds / 10));
  const auto start = SteadyClock::now() + std::chrono::milliseconds(20) +
                     std::chrono::duration_cast<SteadyClock::duration>(warmup);
  const auto deadline = start + std::chrono::duration_cast<SteadyClock::duration>(
                                    std::chrono::duration<double>(seconds));
  std::vector<Histogram> histograms(threads);
  std::vector<uint64_t> counts(threads);
  std::vector<std::thread> workers;
  for (int t = 0; t < threads; ++t) {
    workers.emplace_back([&, t] {
      auto fail = [&] {
        std::fprintf(stderr, "sdk_bench: %s failed on thread %d\n", name, t);
        std::abort();
      };
      while (SteadyClock::now() < start) {
        if (!op(t)) fail();
      }
      Histogram& h = histograms[t];
      uint64_t n = 0;
      auto before = SteadyClock::now();
      while (before < deadline) {
        if (!op(t)) fail();
        const auto after = SteadyClock::now();
        h.Add(std::chrono::duration_cast<std::chrono::nanoseconds>(after - before).count());
        ++n;
        before = after;
      }
      counts[t] = n;
    });
  }
  for (std::thread& w : workers) w.join();
  Histogram all;
  uint64_t n = 0;
  for (int t = 0; t < threads; ++t) {
    all.Merge(histograms[t]);
    n += counts[t];
  }
  return Result{threads, n / seconds, all.PercentileUs(50), all.PercentileUs(99)};
}

void PrintHeader() {
  std::printf("%-52s %3s %10s %9s %9s   %s\n", "case", "thr", "ops/s", "p50 us", "p99 us",
              "vs bound");
}

void Print(const std::string& name, const Result& r, const Result* bound = nullptr) {
  std::printf("%-52s %3d %10.0f %9.2f %9.2f", name.c_str(), r.threads, r.per_second, r.p50_us,
              r.p99_us);
  if (bound != nullptr) std::printf("   %5.1f%%", 100 * r.per_second / bound->per_second);
  std::printf("\n");
  std::fflush(stdout);
}

std::string LoadAverage() {
  std::ifstream in("/proc/loadavg");
  std::string one, five, fifteen;
  in >> one >> five >> fifteen;
  return absl::StrCat(one, " ", five, " ", fifteen);
}

struct Flags {
  double seconds = 3;
  std::vector<int> threads;
  std::vector<std::string> cases = {"token", "cache", "svid", "rotate"};
};

[[noreturn]] void Die(const std::string& why) {
  std::fprintf(stderr, "sdk_bench: %s\n", why.c_str());
  std::exit(1);
}

[[noreturn]] void Usage(const std::string& why) {
  std::fprintf(stderr,
               "sdk_bench: %s\nusage: sdk_bench [--seconds S] [--threads N[,N...]] "
               "[--cases token,cache,svid,rotate]\n",
               why.c_str());
  std::exit(2);
}

Flags ParseFlags(int argc, char** argv) {
  Flags f;
  for (int i = 1; i < argc; ++i) {
    const std::string a = argv[i];
    if (a == "--help" || a == "-h") Usage("the SDK's hot paths next to their crypto bounds");
    if (i + 1 >= argc) Usage(absl::StrCat(a, " needs a value"));
    const std::string v = argv[++i];
    if (a == "--seconds") {
      if (!absl::SimpleAtod(v, &f.seconds) || !(f.seconds > 0)) Usage("bad --seconds");
    } else if (a == "--threads") {
      for (absl::string_view s : absl::StrSplit(v, ',')) {
        int n = 0;
        if (!absl::SimpleAtoi(s, &n) || n < 1 || n > 1024) Usage("bad --threads");
        f.threads.push_back(n);
      }
    } else if (a == "--cases") {
      f.cases = absl::StrSplit(v, ',', absl::SkipEmpty());
      for (const std::string& c : f.cases) {
        if (c != "token" && c != "cache" && c != "svid" && c != "rotate") {
          Usage(absl::StrCat("unknown case ", c));
        }
      }
    } else {
      Usage(absl::StrCat("unknown flag ", a));
    }
  }
  if (f.threads.empty()) {
    const int cores = std::max(1u, std::thread::hardware_concurrency());
    f.threads = {1};
    if (cores > 1) f.threads.push_back(cores);
  }
  return f;
}

// ---- token: TokenVerifier::Verify ------------------------------------------

constexpr char kIssuer[] = "https://writ.acme.example";
constexpr char kAudience[] = "https://deploy.acme.example";
constexpr char kSubject[] = "spiffe://acme.example/ci/acme/payments/production";
constexpr char kActor[] = "spiffe://acme.example/agents/release-bot";

// WritClaims is an access token's payload as Writ's JwtMinter writes it for a
// delegated request, valid for an hour from `now`.
std::string WritClaims(absl::Time now) {
  const int64_t t = absl::ToUnixSeconds(now);
  return absl::StrCat(
      R"({"iss":")", kIssuer, R"(","sub":")", kSubject, R"(","aud":")", kAudience, R"(","exp":)",
      t + 3600, R"(,"iat":)", t, R"(,"nbf":)", t,
      R"(,"jti":"3f1c2a9e-6b7d-4e8f-9a0b-1c2d3e4f5a6b","client_id":"repo:acme/payments",)",
      R"("scope":"deploy:read deploy:write",)", R"("act":{"sub":")", kActor, R"("},)",
      R"("attest":{"iss":"https://token.actions.githubusercontent.com",)",
      R"("sub":"repo:acme/payments:environment:production",)",
      R"("claims":{"repository":"acme/payments","ref":"refs/heads/main",)",
      R"("run_id":"6789012345","environment":"production"}}})");
}

// JwksFetcher serves one JWKS document to every request, in process.
class JwksFetcher final : public HttpFetcher {
 public:
  explicit JwksFetcher(std::string jwks) : jwks_(std::move(jwks)) {}
  absl::StatusOr<HttpResponse> Fetch(const HttpRequest&, const FetchLimits&) override {
    fetches_.fetch_add(1);
    return HttpResponse{200, jwks_};
  }
  int fetches() const { return fetches_.load(); }

 private:
  const std::string jwks_;
  std::atomic<int> fetches_{0};
};

void BenchToken(const Flags& flags) {
  std::printf("\n[token] TokenVerifier::Verify, ES256 access token\n");
  auto signer = Check(PrivateKeySigner::New(Check(GenerateKey(KeySpec::kEcP256), "key"),
                                            JwsAlgorithm::kEs256, "writ-2026-11"),
                      "signer");
  auto next = Check(PrivateKeySigner::New(Check(GenerateKey(KeySpec::kEcP256), "key"),
                                          JwsAlgorithm::kEs256, "writ-2026-12"),
                    "signer");
  // Writ publishes the current and the next key.
  const std::string jwks =
      Check(JwkSet::FromKeys({signer->public_jwk(), next->public_jwk()}), "JWKS").ToJson();
  const std::string token =
      Check(SignCompactJws(*signer, "at+jwt", WritClaims(Clock::Real().Now())), "token");
  std::printf("token %zu bytes; JWKS of 2 P-256 keys\n", token.size());

  TokenVerifierOptions base;
  base.issuer_url = kIssuer;
  base.audience = kAudience;
  base.required_scopes = {"deploy:read"};
  TokenVerifierOptions static_options = base;
  static_options.static_jwks = jwks;
  auto static_verifier = Check(TokenVerifier::New(static_options), "static verifier");
  JwksFetcher fetcher(jwks);
  TokenVerifierOptions fetched_options = base;
  fetched_options.jwks_uri = std::string(kIssuer) + "/.well-known/jwks.json";
  fetched_options.fetcher = &fetcher;
  auto fetched_verifier = Check(TokenVerifier::New(fetched_options), "fetching verifier");

  const std::vector<std::string> scopes = {"deploy:write"};
  auto verify = [&](const TokenVerifier& v) {
    absl::StatusOr<VerifiedToken> t = v.Verify(token, scopes);
    return t.ok() && t->subject == kSubject && t->actor == kActor;
  };
  if (!verify(*fetched_verifier)) Die("the token does not verify");  // also warms the keys

  const ParsedJws jws = Check(ParseCompactJws(token), "parse");
  const PublicJwk& jwk = signer->public_jwk();
  for (int threads : flags.threads) {
    const Result bound = Measure("ES256 verify", threads, flags.seconds, [&](int) {
      return jwk.Verify(JwsAlgorithm::kEs256, jws.signing_input(), jws.signature()).ok();
    });
    Print("bound: ES256 verify (PublicJwk::Verify)", bound);
    Print("Verify, static_jwks",
          Measure("Verify static", threads, flags.seconds,
                  [&](int) { return verify(*static_verifier); }),
          &bound);
    Print("Verify, jwks_uri keys cached (warm)",
          Measure("Verify fetched", threads, flags.seconds,
                  [&](int) { return verify(*fetched_verifier); }),
          &bound);
  }
  if (fetcher.fetches() != 1) Die("the warm verifier fetched its keys more than once");
}

// ---- cache: TokenCache::Get hits --------------------------------------------

void BenchCache(const Flags& flags) {
  std::printf("\n[cache] TokenCache::Get, every timed Get a hit\n");
  // A token the size of Writ's (the fetch is never timed).
  const std::string access_token = std::string(780, 'a');
  std::atomic<int> fetches{0};
  TokenFetch fetch = [&](const TokenRequest& request) -> absl::StatusOr<Token> {
    fetches.fetch_add(1);
    Token token;
    token.access_token = access_token;
    token.token_type = "Bearer";
    token.scopes = request.scopes;
    token.issued_at = Clock::Real().Now();
    token.expires_at = token.issued_at + absl::Hours(1);
    return token;
  };
  auto cache = Check(TokenCache::New(fetch), "cache");
  std::vector<TokenRequest> requests(64);
  for (size_t i = 0; i < requests.size(); ++i) {
    requests[i].audience = absl::StrCat("https://service-", i, ".acme.example");
    requests[i].scopes = {"deploy:write", "deploy:read"};
    if (!cache->Get(requests[i]).ok()) Die("the first Get failed");
  }
  for (int threads : flags.threads) {
    Print("reference: TokenRequest::Key alone", Measure("Key", threads, flags.seconds, [&](int t) {
            return !requests[t % requests.size()].Key().empty();
          }));
    for (int keys : {1, 64}) {
      // Each thread walks the keys from its own offset, so threads on
      // different keys contend only on the cache's lock.
      struct alignas(64) Cursor {
        size_t next;
      };
      std::vector<Cursor> cursors(threads);
      for (int t = 0; t < threads; ++t) cursors[t].next = static_cast<size_t>(t) * 7;
      Print(absl::StrCat("Get hit, ", keys, keys == 1 ? " key" : " keys"),
            Measure("Get", threads, flags.seconds, [&](int t) {
              const TokenRequest& request = requests[cursors[t].next++ % keys];
              absl::StatusOr<Token> token = cache->Get(request);
              return token.ok() && token->access_token.size() == access_token.size();
            }));
    }
  }
  const TokenCache::Stats stats = cache->stats();
  if (fetches.load() != 64 || stats.fetches != 64) Die("a timed Get was not a hit");
  std::printf("hits %llu, fetches %llu (only the 64 untimed first Gets)\n",
              static_cast<unsigned long long>(stats.hits),
              static_cast<unsigned long long>(stats.fetches));
}

// ---- svid and rotate: a local CA ---------------------------------------------

constexpr char kTrustDomain[] = "acme.example";
constexpr char kWorkloadId[] = "spiffe://acme.example/ns/prod/sa/web";

// LocalCa answers CSRs as Writ's X.509-SVID endpoint does (parse, proof of
// possession, one P-256 signature), without a lock: it is immutable.
class LocalCa {
 public:
  explicit LocalCa(absl::Time now) : now_(now) {
    root_key_ = Check(GenerateKey(KeySpec::kEcP256), "root key");
    root_ = Issue("sdk_bench root", root_key_.get(), nullptr, root_key_.get(), true);
    inter_key_ = Check(GenerateKey(KeySpec::kEcP256), "intermediate key");
    inter_ = Issue("sdk_bench intermediate", inter_key_.get(), root_.get(), root_key_.get(), true);
    bundle_pem_ = Check(CertificateToPem(root_.get()), "bundle");
  }

  // Leaf issues an SVID for `key`, signed by the root or the intermediate.
  // `spki`, when given, is `key`'s SubjectPublicKeyInfo from a CSR, copied as
  // Writ's SvidMinter does.
  SslPtr<X509> Leaf(const EVP_PKEY* key, bool by_intermediate,
                    const X509_PUBKEY* spki = nullptr) const {
    return Issue("", key, by_intermediate ? inter_.get() : root_.get(),
                 by_intermediate ? inter_key_.get() : root_key_.get(), false, spki);
  }

  absl::StatusOr<SvidResponse> Answer(absl::string_view csr_pem) const {
    absl::StatusOr<CertificateRequest> csr = CertificateRequest::ParsePem(csr_pem);
    if (!csr.ok()) return csr.status();
    if (absl::Status pop = csr->VerifySignature(); !pop.ok()) return pop;
    SvidResponse response;
    response.spiffe_id = kWorkloadId;
    const X509_PUBKEY* spki = X509_REQ_get_X509_PUBKEY(const_cast<X509_REQ*>(csr->get()));
    response.certificate_chain_pem =
        Check(CertificateToPem(Leaf(csr->public_key(), false, spki).get()), "leaf PEM");
    response.bundle_pem = bundle_pem_;
    return response;
  }

  const X509* root() const { return root_.get(); }
  const X509* intermediate() const { return inter_.get(); }
  const std::string& bundle_pem() const { return bundle_pem_; }

 private:
  SslPtr<X509> Issue(const std::string& cn, const EVP_PKEY* subject, const X509* issuer,
                     const EVP_PKEY* issuer_key, bool ca, const X509_PUBKEY* spki = nullptr) const {
    CertificateTemplate tmpl;
    tmpl.subject_common_name = cn;
    if (!ca) tmpl.uri_sans = {kWorkloadId};
    tmpl.not_before = now_ - absl::Minutes(5);
    tmpl.not_after = now_ + (ca ? absl::Hours(24 * 365) : absl::Hours(1));
    tmpl.serial = Check(RandomSerial(), "serial");
    tmpl.is_ca = ca;
    tmpl.key_usage = {.digital_signature = true, .key_cert_sign = ca, .crl_sign = ca};
    if (!ca) tmpl.extended_key_usage = {.server_auth = true, .client_auth = true};
    tmpl.subject_public_key_info = spki;
    return Check(IssueCertificate(tmpl, subject, issuer, issuer_key), "certificate");
  }

  const absl::Time now_;
  SslPtr<EVP_PKEY> root_key_, inter_key_;
  SslPtr<X509> root_, inter_;
  std::string bundle_pem_;
};

void BenchSvid(const Flags& flags) {
  std::printf("\n[svid] PeerSvidVerifier::Verify, P-256, static bundle of 1 root\n");
  const LocalCa ca(Clock::Real().Now());
  PeerSvidVerifierOptions options;
  options.bundle_pem = ca.bundle_pem();
  options.trust_domain = kTrustDomain;
  options.allowed_ids = {kWorkloadId};
  auto verifier = Check(PeerSvidVerifier::New(options), "verifier");
  SslPtr<EVP_PKEY> key = Check(GenerateKey(KeySpec::kEcP256), "workload key");

  for (bool with_intermediate : {false, true}) {
    std::vector<SslPtr<X509>> chain;
    chain.push_back(ca.Leaf(key.get(), with_intermediate));
    if (with_intermediate) {
      X509_up_ref(const_cast<X509*>(ca.intermediate()));
      chain.emplace_back(const_cast<X509*>(ca.intermediate()));
    }
    std::string pem;
    std::vector<std::string> der;
    for (const SslPtr<X509>& cert : chain) {
      pem += Check(CertificateToPem(cert.get()), "PEM");
      der.push_back(Check(CertificateToDer(cert.get()), "DER"));
    }
    std::vector<const X509*> intermediates;
    if (with_intermediate) intermediates.push_back(chain[1].get());
    const std::vector<const X509*> roots = {ca.root()};
    const char* shape = with_intermediate ? "leaf+intermediate" : "leaf";
    std::printf("chain: %s, %zu bytes PEM\n", shape, pem.size());
    for (int threads : flags.threads) {
      const Result bound = Measure("VerifyCertificate", threads, flags.seconds, [&](int) {
        return VerifyCertificate(chain[0].get(), intermediates, roots, Clock::Real().Now()).ok();
      });
      Print(absl::StrCat("bound: VerifyCertificate (parsed), ", shape), bound);
      // What the bound leaves out: turning the peer's bytes into X509s.
      Print(absl::StrCat("reference: ParseCertificateDer, ", shape),
            Measure("parse", threads, flags.seconds, [&](int) {
              for (const std::string& d : der) {
                if (!ParseCertificateDer(d).ok()) return false;
              }
              return true;
            }));
      Print(absl::StrCat("Verify(PEM), ", shape),
            Measure("Verify PEM", threads, flags.seconds,
                    [&](int) { return verifier->Verify(pem).value_or("") == kWorkloadId; }),
            &bound);
      Print(absl::StrCat("Verify(DER), ", shape),
            Measure("Verify DER", threads, flags.seconds,
                    [&](int) {
                      return verifier->Verify(absl::MakeConstSpan(der)).value_or("") == kWorkloadId;
                    }),
            &bound);
    }
  }
}

void BenchRotate(const Flags& flags) {
  std::printf("\n[rotate] X509Source::RotateNow, P-256, in-process CA, one source per thread\n");
  const LocalCa ca(Clock::Real().Now());
  const SvidIssuer issuer = [&ca](absl::string_view csr) { return ca.Answer(csr); };

  // The bound: the crypto one rotation needs, each step timed alone.
  SslPtr<EVP_PKEY> key = Check(GenerateKey(KeySpec::kEcP256), "key");
  const std::string tbs(400, 'x');  // about a CSR's or a leaf's signed part
  std::string sig(80, '\0');
  size_t sig_len = sig.size();
  auto sign = [&](std::string* out, size_t* len) {
    SslPtr<EVP_MD_CTX> ctx(EVP_MD_CTX_new());
    *len = out->size();
    return EVP_DigestSignInit_ex(ctx.get(), nullptr, "SHA256", nullptr, nullptr, key.get(),
                                 nullptr) == 1 &&
           EVP_DigestSign(ctx.get(), reinterpret_cast<unsigned char*>(out->data()), len,
                          reinterpret_cast<const unsigned char*>(tbs.data()), tbs.size()) == 1;
  };
  if (!sign(&sig, &sig_len)) Die("sign failed");
  auto verify = [&] {
    SslPtr<EVP_MD_CTX> ctx(EVP_MD_CTX_new());
    return EVP_DigestVerifyInit_ex(ctx.get(), nullptr, "SHA256", nullptr, nullptr, key.get(),
                                   nullptr) == 1 &&
           EVP_DigestVerify(ctx.get(), reinterpret_cast<const unsigned char*>(sig.data()), sig_len,
                            reinterpret_cast<const unsigned char*>(tbs.data()), tbs.size()) == 1;
  };

  for (int threads : flags.threads) {
    const double step = std::max(0.5, flags.seconds / 3);
    const Result keygen =
        Measure("keygen", threads, step, [](int) { return GenerateKey(KeySpec::kEcP256).ok(); });
    const Result signs = Measure("sign", threads, step, [&](int) {
      std::string out(80, '\0');
      size_t len = 0;
      return sign(&out, &len);
    });
    const Result verifies = Measure("verify", threads, step, [&](int) { return verify(); });
    Result bound;
    bound.threads = threads;
    bound.per_second = 1 / (1 / keygen.per_second + 2 / signs.per_second + 2 / verifies.per_second);
    std::printf("%-52s %3d %10.0f   (keygen %.0f/s, sign %.0f/s, verify %.0f/s)\n",
                "bound: keygen + 2 sign + 2 verify", threads, bound.per_second, keygen.per_second,
                signs.per_second, verifies.per_second);

    std::vector<std::unique_ptr<X509Source>> sources;
    for (int t = 0; t < threads; ++t) {
      sources.push_back(Check(X509Source::New(issuer), "X509Source"));
    }
    Print("RotateNow",
          Measure("RotateNow", threads, flags.seconds,
                  [&](int t) { return sources[t]->RotateNow().ok(); }),
          &bound);
    if (sources[0]->Current().spiffe_id != kWorkloadId) Die("wrong SVID after rotation");
  }
}

int Main(int argc, char** argv) {
  const Flags flags = ParseFlags(argc, argv);
  std::printf("sdk_bench: %.1f s per row, %u cores online, load average %s, %s\n", flags.seconds,
              std::thread::hardware_concurrency(), LoadAverage().c_str(),
              OpenSSL_version(OPENSSL_VERSION));
  PrintHeader();
  for (const std::string& c : flags.cases) {
    if (c == "token") BenchToken(flags);
    if (c == "cache") BenchCache(flags);
    if (c == "svid") BenchSvid(flags);
    if (c == "rotate") BenchRotate(flags);
  }
  std::printf("\nload average at the end: %s\n", LoadAverage().c_str());
  return 0;
}

}  // namespace
}  // namespace writ

int main(int argc, char** argv) { return writ::Main(argc, argv); }
