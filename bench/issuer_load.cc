// issuer_load: end-to-end token-exchange throughput and latency of
// writ-issuer, next to the crypto-only bound measured in the same run on the
// same cores. Load generator, issuer and test OIDC provider share the process
// (and the machine's cores).
//
//   issuer_load [--transport grpc|http|inproc|both|all] [--clients N] [--seconds S]
//               [--pool N] [--rate R] [--http-threads N] [--io-threads N] [--per-channel N]
//               [--crypto-seconds S] [--dir PARENT] [--credential jwt|x509-svid|ssh]
//               [--load event|threads] [--load-threads K] [--grpc-client raw|grpcpp]
//               [--keep-data] [--commit-delay-us US] [--background-write-limit BYTES_PER_S]
//               [--slow-log FILE] [--slow-ms MS]
//
// --credential x509-svid or ssh measures certificate issuance instead of
// token exchange, in process only (--transport inproc): attestation, policy,
// CSR proof-of-possession check (X.509) or public key parse (SSH), signing
// with the active CA key, and the durable ledger record. Its crypto bound is
// RS256 verify of the token + ECDSA P-256 verify of the CSR + P-256 sign of a
// certificate (X.509), or RS256 verify + Ed25519 sign (SSH).
//
// Set-up: a TestOidcProvider (RS256) and an IssuerServer on port 0 with the
// durable ledger (RocksDB, sync writes) in a fresh directory under PARENT
// (default /tmp; removed at exit unless --keep-data, which prints where it is:
// the ledger's RocksDB LOG there has every flush and compaction, with times,
// sizes and CPU) and one policy allowing the bench's tokens.
// A pool of distinct tokens (distinct sub, jti, repository, run_id) is minted
// before any timing.
// --slow-log FILE lists each open-loop request slower than --slow-ms (default
// 5) with the Unix time it was answered, so ledger_log_summary.py --slow can
// lay them against the ledger's flushes and compactions (--keep-data).
//
// Phases, per transport:
//   peak       closed loop: N clients each send the next request as soon as
//              the last one is answered, for S seconds (after a 1 s warm-up).
//   open loop  a fixed arrival schedule at R req/s (default: half the peak
//              just measured); latency counts from the scheduled send time,
//              so a stalled server is charged for the requests it delayed
//              (no coordinated omission).
// Load models (--load): `event` (default) keeps N requests outstanding from K
// load threads (event_load.h: epoll and raw keep-alive sockets for HTTP; for
// gRPC, hand-written HTTP/2 on epoll, or the gRPC++ callback API with
// --grpc-client grpcpp), so the generator costs little of the CPU it shares
// with the issuer; `threads` runs one blocking client per OS thread
// (load_clients.h: libcurl, sync gRPC stubs). inproc always uses threads.
// Crypto bound: RS256 parse+verify of a pool token + ES256 sign of an
// access-token payload, with writ's JOSE, on 1 and 2 threads.
#include <stdlib.h>
#include <sys/resource.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <functional>
#include <map>
#include <memory>
#include <string>
#include <thread>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/clock.h"
#include "bench/event_load.h"
#include "bench/inproc_clients.h"
#include "bench/load_clients.h"
#include "bench/slow_log.h"
#include "issuer/src/config/issuer_config.h"
#include "issuer/src/exchange/certificate_exchange.h"
#include "issuer/src/main/allocator.h"
#include "issuer/src/main/issuer_server.h"
#include "issuer/src/mint/ssh_cert_minter.h"
#include "tests/testing/test_oidc_provider.h"
#include "writ/crypto/keys.h"
#include "writ/jose/jwk.h"
#include "writ/jose/jws.h"
#include "writ/jose/jws_verifier.h"
#include "writ/jose/signer.h"
#include "writ/x509/certificate_request.h"

namespace writ::bench {
namespace {

using SteadyClock = std::chrono::steady_clock;

constexpr char kAudience[] = "https://api.bench.example";
constexpr char kScope[] = "deploy:write";

constexpr char kPolicy[] = R"(rules:
  - name: bench-jobs
    description: issuer_load's tokens
    issuer: bench
    subject_pattern: "bench:job-[0-9]+"
    claims:
      ref: refs/heads/main
    grant:
      subject: "spiffe://bench.example/ci/{repository}"
      credentials: [jwt, x509-svid, ssh]
      ssh: {principals: [deploy]}
      audiences: ["https://api.bench.example"]
      scopes: ["deploy:read", "deploy:write"]
      default_scopes: ["deploy:read"]
      include_claims: [repository, run_id]
tests:
  - name: a bench job may deploy
    identity:
      issuer: bench
      subject: "bench:job-1"
      claims: {repository: acme/app-1, ref: refs/heads/main, run_id: "1"}
    request: {audience: "https://api.bench.example", scopes: [deploy:write]}
    expect: {decision: allow, rule: bench-jobs}
)";

struct Flags {
  std::string transport = "both";
  int clients = 8;
  double seconds = 10;
  int pool = 20000;
  double rate = 0;  // 0: half of the measured peak
  int http_threads = 0;
  int io_threads = 0;
  double commit_delay_us = -1;          // -1: the issuer's default
  int64_t background_write_limit = -1;  // -1: the issuer's default
  int per_channel = 4;
  double crypto_seconds = 2;
  std::string dir = "/tmp";
  std::string credential = "jwt";
  std::string load = "event";  // event | threads
  int load_threads = 1;
  std::string grpc_client = "raw";  // raw | grpcpp: the event load's gRPC client
  bool keep_data = false;
  std::string slow_log;  // empty: none
  double slow_ms = 5;
};

std::string g_data_dir;  // removed by Die and at exit

struct CloseFile {
  void operator()(std::FILE* f) const { std::fclose(f); }
};

[[noreturn]] void Die(const std::string& what) {
  std::fprintf(stderr, "issuer_load: %s\n", what.c_str());
  if (!g_data_dir.empty()) std::filesystem::remove_all(g_data_dir);
  std::exit(1);
}

template <typename T>
T Check(absl::StatusOr<T> v, const char* what) {
  if (!v.ok()) Die(absl::StrCat(what, ": ", v.status().message()));
  return *std::move(v);
}

Flags ParseFlags(int argc, char** argv) {
  Flags f;
  bool slow_ms_given = false;
  for (int i = 1; i < argc; ++i) {
    std::string a = argv[i];
    auto value = [&]() -> std::string {
      if (i + 1 >= argc) Die(absl::StrCat(a, " needs a value"));
      return argv[++i];
    };
    if (a == "--transport") {
      f.transport = value();
    } else if (a == "--clients") {
      f.clients = std::atoi(value().c_str());
    } else if (a == "--seconds") {
      f.seconds = std::atof(value().c_str());
    } else if (a == "--pool") {
      f.pool = std::atoi(value().c_str());
    } else if (a == "--rate") {
      f.rate = std::atof(value().c_str());
    } else if (a == "--http-threads") {
      f.http_threads = std::atoi(value().c_str());
    } else if (a == "--io-threads") {
      f.io_threads = std::atoi(value().c_str());
    } else if (a == "--commit-delay-us") {
      f.commit_delay_us = std::atof(value().c_str());
    } else if (a == "--background-write-limit") {
      f.background_write_limit = std::atoll(value().c_str());
    } else if (a == "--per-channel") {
      f.per_channel = std::atoi(value().c_str());
    } else if (a == "--crypto-seconds") {
      f.crypto_seconds = std::atof(value().c_str());
    } else if (a == "--dir") {
      f.dir = value();
    } else if (a == "--credential") {
      f.credential = value();
    } else if (a == "--load") {
      f.load = value();
    } else if (a == "--load-threads") {
      f.load_threads = std::atoi(value().c_str());
    } else if (a == "--grpc-client") {
      f.grpc_client = value();
    } else if (a == "--keep-data") {
      f.keep_data = true;
    } else if (a == "--slow-log") {
      f.slow_log = value();
    } else if (a == "--slow-ms") {
      slow_ms_given = true;
      f.slow_ms = std::atof(value().c_str());
      if (!(f.slow_ms > 0)) Die("--slow-ms must be a number of milliseconds above 0");
    } else {
      Die(absl::StrCat(
          "unknown flag ", a,
          " (flags: --transport grpc|http|both --clients N --seconds S --pool N "
          "--rate R --http-threads N --io-threads N --per-channel N --crypto-seconds S --dir D "
          "--credential jwt|x509-svid|ssh --load event|threads --load-threads K "
          "--grpc-client raw|grpcpp --keep-data --slow-log FILE --slow-ms MS)"));
    }
  }
  if (slow_ms_given && f.slow_log.empty()) Die("--slow-ms needs --slow-log FILE");
  if (!f.slow_log.empty() && !f.keep_data) {
    std::fprintf(stderr,
                 "issuer_load: --slow-log without --keep-data: the ledger's LOG, which "
                 "ledger_log_summary.py --slow reads with it, is removed at exit\n");
  }
  if (f.transport != "grpc" && f.transport != "http" && f.transport != "inproc" &&
      f.transport != "both" && f.transport != "all") {
    Die("--transport must be grpc, http, inproc, both (grpc+http) or all");
  }
  if (f.credential != "jwt" && f.credential != "x509-svid" && f.credential != "ssh") {
    Die("--credential must be jwt, x509-svid or ssh");
  }
  if (f.credential != "jwt" && f.transport != "inproc") {
    Die("--credential x509-svid and ssh are measured in process only: add --transport inproc");
  }
  if (f.load != "event" && f.load != "threads") Die("--load must be event or threads");
  if (f.grpc_client != "raw" && f.grpc_client != "grpcpp") {
    Die("--grpc-client must be raw or grpcpp");
  }
  if (f.clients < 1 || f.pool < 1 || f.load_threads < 1 || f.seconds <= 0 || f.per_channel < 1) {
    Die("bad flag value");
  }
  return f;
}

// MintPool mints `n` distinct RS256 tokens on `threads` threads.
std::vector<std::string> MintPool(const test::TestOidcProvider& idp, int n, int threads) {
  std::vector<std::string> pool(n);
  const absl::Time now = absl::Now();
  std::vector<std::thread> workers;
  for (int t = 0; t < threads; ++t) {
    workers.emplace_back([&, t] {
      for (int i = t; i < n; i += threads) {
        std::string claims =
            absl::StrCat(R"({"sub":"bench:job-)", i, R"(","repository":"acme/app-)", i % 97,
                         R"(","ref":"refs/heads/main","run_id":")", i, R"(","jti":"bench-)", i, "-",
                         absl::ToUnixNanos(now), R"("})");
        pool[i] = Check(idp.Mint(now, claims), "mint");
      }
    });
  }
  for (auto& w : workers) w.join();
  return pool;
}

// CryptoRate is exchanges/s of the crypto alone: parse + RS256 verify of a
// pool token, ES256 sign of an access-token-sized payload.
// CertificateCrypto is the extra crypto of one certificate: verify the
// CSR's signature (X.509 only) and sign a certificate-sized message with the
// CA key (P-256 for X.509, Ed25519 for SSH). Null for JWTs.
using CertificateCrypto = std::function<bool(long n)>;

double CryptoRate(int threads, double seconds, const std::vector<std::string>& pool,
                  const JwkSet& jwks, const Signer& signer,
                  const CertificateCrypto& certificate_crypto = nullptr) {
  std::atomic<long> total{0};
  std::atomic<bool> failed{false};
  const auto deadline = SteadyClock::now() + std::chrono::duration<double>(seconds);
  std::vector<std::thread> workers;
  const auto start = SteadyClock::now();
  for (int t = 0; t < threads; ++t) {
    workers.emplace_back([&, t] {
      long n = 0;
      size_t idx = t * 7919;
      while (SteadyClock::now() < deadline) {
        for (int k = 0; k < 10; ++k, ++n) {
          const std::string& token = pool[idx++ % pool.size()];
          auto jws = ParseCompactJws(token);
          if (!jws.ok() || !VerifyJws(*jws, jwks).ok()) failed = true;
          if (certificate_crypto) {
            if (!certificate_crypto(n)) failed = true;
            continue;
          }
          std::string payload = absl::StrCat(
              R"({"iss":"http://127.0.0.1:8080","sub":"spiffe://bench.example/ci/acme/app-1",)",
              R"("aud":"https://api.bench.example","exp":1900000300,"iat":1900000000,)",
              R"("nbf":1900000000,"jti":"3f1c2a9e-6b7d-4e8f-9a0b-)", n,
              R"(","client_id":"bench:bench:job-1","scope":"deploy:write",)",
              R"("repository":"acme/app-1","run_id":"1"})");
          if (!SignCompactJws(signer, "at+jwt", payload).ok()) failed = true;
        }
      }
      total += n;
    });
  }
  for (auto& w : workers) w.join();
  if (failed) Die("crypto bound: a verify or sign failed");
  return total / std::chrono::duration<double>(SteadyClock::now() - start).count();
}

// ProcessCpuSeconds is user + system CPU time of the whole process (load
// generator, issuer and provider alike).
// RawSign signs `data` with `key` (digest `md`, null for Ed25519).
bool RawSign(EVP_PKEY* key, const char* md, const std::string& data) {
  SslPtr<EVP_MD_CTX> ctx(EVP_MD_CTX_new());
  unsigned char sig[256];
  size_t len = sizeof(sig);
  return ctx != nullptr &&
         EVP_DigestSignInit_ex(ctx.get(), nullptr, md, nullptr, nullptr, key, nullptr) == 1 &&
         EVP_DigestSign(ctx.get(), sig, &len, reinterpret_cast<const unsigned char*>(data.data()),
                        data.size()) == 1;
}

double ProcessCpuSeconds() {
  rusage u{};
  getrusage(RUSAGE_SELF, &u);
  return u.ru_utime.tv_sec + u.ru_stime.tv_sec + (u.ru_utime.tv_usec + u.ru_stime.tv_usec) / 1e6;
}

struct PhaseResult {
  LoadTally tally;                     // every request, errors included
  SteadyClock::time_point start, end;  // end: the deadline, or the last answer after it
  double seconds = 0;
  double cpu_cores = 0;  // process CPU time / wall time: cores kept busy
  long total() const { return static_cast<long>(tally.latency_ns.size()); }
  double throughput() const { return tally.ok / seconds; }
};

// Finish makes the result of a phase that ran from `start` until its
// deadline (or its last answer after it), taking `cpu_before` seconds of
// process CPU before it.
PhaseResult Finish(LoadTally tally, SteadyClock::time_point start, SteadyClock::time_point deadline,
                   double cpu_before) {
  const SteadyClock::time_point now = SteadyClock::now();
  PhaseResult r;
  r.cpu_cores =
      (ProcessCpuSeconds() - cpu_before) / std::chrono::duration<double>(now - start).count();
  // Closed loop: the last answers arrive a little after the deadline.
  r.start = start;
  r.end = std::max(now, deadline);
  r.seconds = std::chrono::duration<double>(r.end - start).count();
  r.tally = std::move(tally);
  return r;
}

// RunPhase drives the clients for `seconds`. rate <= 0: closed loop; else
// open loop at `rate` req/s, client i sending requests i, i+C, i+2C, ... of
// the global schedule, latency measured from each request's scheduled time.
PhaseResult RunPhase(std::vector<std::unique_ptr<ExchangeClient>>& clients,
                     const std::vector<std::string>& pool, std::atomic<size_t>& next_token,
                     double seconds, double rate) {
  const int c = static_cast<int>(clients.size());
  std::vector<LoadTally> per(c);
  const double cpu_before = ProcessCpuSeconds();
  const auto start = SteadyClock::now() + std::chrono::milliseconds(5);
  const SteadyClock::time_point deadline =
      start +
      std::chrono::duration_cast<SteadyClock::duration>(std::chrono::duration<double>(seconds));
  std::vector<std::thread> threads;
  for (int i = 0; i < c; ++i) {
    threads.emplace_back([&, i] {
      LoadTally& me = per[i];
      me.Reserve(static_cast<size_t>((rate > 0 ? rate / c : 5000.0) * seconds * 1.2 + 16));
      std::string error;
      std::this_thread::sleep_until(start);
      SteadyClock::time_point last_answer = start;
      for (long k = 0;; ++k) {
        SteadyClock::time_point sent;
        if (rate > 0) {
          sent = start + std::chrono::duration_cast<SteadyClock::duration>(
                             std::chrono::duration<double>((k * c + i) / rate));
          if (sent >= deadline) break;
          std::this_thread::sleep_until(sent);
          // A request due while this client's last one was still out waited
          // for its connection; otherwise any lateness is the thread's wake-up.
          const QueuedArrival waited{sent, sent};
          me.Started(sent, SteadyClock::now(), last_answer > sent ? &waited : nullptr);
        } else {
          sent = SteadyClock::now();
          if (sent >= deadline) break;
        }
        const std::string& token = pool[next_token.fetch_add(1) % pool.size()];
        const bool ok = clients[i]->Exchange(token, &error);
        last_answer = SteadyClock::now();
        me.Record(ok, error, sent, last_answer);
      }
    });
  }
  for (auto& t : threads) t.join();
  LoadTally all;
  for (LoadTally& t : per) all.Merge(std::move(t));
  return Finish(std::move(all), start, deadline, cpu_before);
}

// RunEventPhase runs one phase of `load` (closed loop when rate <= 0).
PhaseResult RunEventPhase(EventLoad& load, const std::vector<std::string>& pool,
                          std::atomic<size_t>& next_token, double seconds, double rate) {
  const double cpu_before = ProcessCpuSeconds();
  LoadPhase phase;
  phase.start = SteadyClock::now() + std::chrono::milliseconds(5);
  phase.deadline = phase.start + std::chrono::duration_cast<SteadyClock::duration>(
                                     std::chrono::duration<double>(seconds));
  phase.rate = rate;
  return Finish(load.RunPhase(phase, pool, next_token), phase.start, phase.deadline, cpu_before);
}

double PercentileMs(const std::vector<int64_t>& sorted, double p) {
  if (sorted.empty()) return 0;
  size_t rank = static_cast<size_t>(p / 100.0 * sorted.size());
  return sorted[std::min(rank, sorted.size() - 1)] / 1e6;
}

// SpreadMs formats p50, p99, p99.9 and max of `ns` (any order) in ms.
std::string SpreadMs(std::vector<int64_t> ns) {
  std::sort(ns.begin(), ns.end());
  return absl::StrFormat("p50 %6.2f  p99 %6.2f  p99.9 %6.2f  max %6.2f", PercentileMs(ns, 50),
                         PercentileMs(ns, 99), PercentileMs(ns, 99.9), PercentileMs(ns, 100));
}

void PrintPhase(const char* transport, const char* phase, const PhaseResult& r) {
  std::string errors;
  long n_errors = 0;
  for (const auto& [k, v] : r.tally.errors) {
    absl::StrAppend(&errors, errors.empty() ? " (" : ", ", k, ": ", v);
    n_errors += v;
  }
  if (!errors.empty()) errors += ")";
  std::printf(
      "  %-4s %-22s requests %7ld  errors %ld%s  cpu %.2f cores = %.0f us/request\n"
      "       %-22s throughput %8.0f/s   latency ms %s\n",
      transport, phase, r.total(), n_errors, errors.c_str(), r.cpu_cores,
      r.total() > 0 ? 1e6 * r.cpu_cores * r.seconds / r.total() : 0.0, "", r.throughput(),
      SpreadMs(r.tally.latency_ns).c_str());
  std::fflush(stdout);
}

// PrintStartLag prints how late an open-loop phase's requests were handed to
// a connection, and how much of that was the load generator's own delay
// before it noticed them due, the rest being a wait for a free connection
// (bench/README.md). Requests that timed out in the queue never started and
// are not in it.
void PrintStartLag(const PhaseResult& r) {
  if (r.tally.start_lag_ns.empty()) return;
  std::printf(
      "       %-22s started late ms %s  (%zu of %ld started)\n"
      "       %-22s   of it the load generator's %s  (%ld waited for a free connection)\n",
      "", SpreadMs(r.tally.start_lag_ns).c_str(), r.tally.start_lag_ns.size(), r.total(), "",
      SpreadMs(r.tally.generator_lag_ns).c_str(), r.tally.queued_starts);
  std::fflush(stdout);
}

void WriteFile(const std::string& path, const std::string& content) {
  std::ofstream out(path);
  out << content;
  if (!out) Die(absl::StrCat("cannot write ", path));
}

int Run(const Flags& flags) {
  // Opened first, so that a path that cannot be written fails before the set-up.
  std::unique_ptr<std::FILE, CloseFile> slow_log;
  if (!flags.slow_log.empty()) {
    slow_log.reset(std::fopen(flags.slow_log.c_str(), "w"));
    if (!slow_log) Die(absl::StrCat("cannot open --slow-log ", flags.slow_log));
  }
  const unsigned cores = std::thread::hardware_concurrency();
  std::printf(
      "issuer_load: %u cores (hardware_concurrency); load generator, issuer and OIDC\n"
      "provider share them in one process. %d clients, %.0f s per phase, pool %d tokens.\n",
      cores, flags.clients, flags.seconds, flags.pool);
  const std::string model =
      flags.load == "threads"
          ? "threads (a blocking client per OS thread: libcurl, sync gRPC stubs)"
          : absl::StrCat(
                "event (", std::min(flags.load_threads, flags.clients),
                " load thread(s): epoll HTTP/1.1, ",
                flags.grpc_client == "raw" ? "gRPC raw HTTP/2 on epoll" : "gRPC++ callback API",
                ")");
  std::printf("load model: %s; inproc uses a thread per client. malloc: %s.\n", model.c_str(),
              std::string(issuer::AllocatorName()).c_str());

  // --- set-up ----------------------------------------------------------------
  std::string tmpl = flags.dir + "/writ-issuer-load-XXXXXX";
  if (::mkdtemp(tmpl.data()) == nullptr) Die(absl::StrCat("mkdtemp under ", flags.dir, " failed"));
  g_data_dir = tmpl;
  std::filesystem::create_directories(g_data_dir + "/policies");
  WriteFile(g_data_dir + "/policies/bench.yaml", kPolicy);

  test::TestOidcProviderOptions idp_opts;
  idp_opts.lifetime = absl::Hours(2);
  auto idp = Check(test::TestOidcProvider::Start(idp_opts), "start the OIDC provider");

  issuer::IssuerConfig config;
  config.source = "issuer_load";
  config.http.port = 0;
  config.grpc.port = 0;
  config.data_dir = g_data_dir + "/data";
  config.policy_dir = g_data_dir + "/policies";
  config.limits.http_threads = flags.http_threads;
  config.limits.http_io_threads = flags.io_threads;
  if (flags.commit_delay_us >= 0)
    config.ledger.commit_delay = absl::Microseconds(flags.commit_delay_us);
  if (flags.background_write_limit >= 0) {
    config.ledger.background_write_bytes_per_sec = flags.background_write_limit;
  }
  config.x509.trust_domain = "bench.example";
  config.trusted_issuers.push_back(
      {.name = "bench", .issuer = idp->issuer(), .audiences = {"writ"}});
  absl::SetMutexDeadlockDetectionMode(absl::OnDeadlockCycle::kIgnore);  // as writ-issuer does
  auto server = Check(issuer::IssuerServer::Start(config), "start the issuer");
  for (int i = 0; i < 500 && !server->Readiness().empty(); ++i) {
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
  if (!server->Readiness().empty()) Die(absl::StrCat("issuer not ready: ", server->Readiness()[0]));
  const int http_threads =
      flags.http_threads > 0 ? flags.http_threads : std::max(8, 2 * static_cast<int>(cores));
  const int io_threads =
      flags.io_threads > 0 ? flags.io_threads : std::clamp(static_cast<int>(cores), 1, 8);
  std::printf(
      "issuer: HTTP :%d (%d I/O threads), gRPC :%d (%d pool workers each), ledger sync=on in "
      "%s, commit_delay %s, background writes <= %lld B/s\n",
      server->http_port(), io_threads, server->grpc_port(), http_threads, config.data_dir.c_str(),
      absl::FormatDuration(config.ledger.commit_delay).c_str(),
      static_cast<long long>(config.ledger.background_write_bytes_per_sec));

  const auto mint_start = SteadyClock::now();
  const std::vector<std::string> pool = MintPool(*idp, flags.pool, std::max(1u, cores));
  std::printf("minted %d distinct RS256 tokens (%zu bytes each) in %.1f s\n\n", flags.pool,
              pool[0].size(),
              std::chrono::duration<double>(SteadyClock::now() - mint_start).count());

  // --- crypto-only bound -----------------------------------------------------
  const JwkSet jwks = Check(JwkSet::Parse(idp->jwks_json()), "parse the provider's JWKS");
  auto signer = Check(
      PrivateKeySigner::New(Check(GenerateKey(KeySpec::kEcP256), "keygen"), JwsAlgorithm::kEs256),
      "signer");
  // Certificates: a pool of workload keys (CSRs / SSH public key lines) and
  // the crypto each certificate needs beyond the token's verification.
  std::vector<std::string> csrs, ssh_keys;
  CertificateCrypto certificate_crypto;
  SslPtr<EVP_PKEY> ca_key = Check(
      GenerateKey(flags.credential == "ssh" ? KeySpec::kEd25519 : KeySpec::kEcP256), "CA key");
  const std::string tbs(420, 'c');  // about an SVID's (or SSH certificate's) signed part
  if (flags.credential == "x509-svid") {
    for (int i = 0; i < 64; ++i) {
      SslPtr<EVP_PKEY> k = Check(GenerateKey(KeySpec::kEcP256), "workload key");
      csrs.push_back(Check(CertificateRequest::CreatePem(k.get(), {}), "CSR"));
    }
    certificate_crypto = [&](long n) {
      auto csr = CertificateRequest::ParsePem(csrs[n % csrs.size()]);
      return csr.ok() && csr->VerifySignature().ok() && RawSign(ca_key.get(), "SHA256", tbs);
    };
  } else if (flags.credential == "ssh") {
    for (int i = 0; i < 64; ++i) {
      SslPtr<EVP_PKEY> k = Check(GenerateKey(KeySpec::kEd25519), "workload key");
      ssh_keys.push_back(Check(issuer::OpenSshPublicKeyLine(k.get(), "bench"), "SSH key"));
    }
    certificate_crypto = [&](long) { return RawSign(ca_key.get(), nullptr, tbs); };
  }
  const double crypto1 =
      CryptoRate(1, flags.crypto_seconds, pool, jwks, *signer, certificate_crypto);
  const double crypto2 =
      CryptoRate(2, flags.crypto_seconds, pool, jwks, *signer, certificate_crypto);
  const char* bound_name =
      flags.credential == "x509-svid" ? "RS256 parse+verify + CSR P-256 verify + P-256 sign"
      : flags.credential == "ssh"     ? "RS256 parse+verify + Ed25519 sign"
                                      : "RS256 parse+verify + ES256 sign, writ JOSE";
  std::printf(
      "crypto bound (%s):\n"
      "  1 thread %8.0f/s (%.1f us each)   2 threads %8.0f/s\n\n",
      bound_name, crypto1, 1e6 / crypto1, crypto2);

  // --- exchanges -------------------------------------------------------------
  const ExchangeRequestShape shape{kAudience, kScope};
  std::atomic<size_t> next_token{0};
  std::vector<std::pair<std::string, double>> peaks;
  for (const char* transport : {"grpc", "http", "inproc"}) {
    const bool wanted = flags.transport == transport || flags.transport == "all" ||
                        (flags.transport == "both" && std::strcmp(transport, "inproc") != 0);
    if (!wanted) continue;
    std::vector<std::unique_ptr<ExchangeClient>> clients;
    std::unique_ptr<EventLoad> event_load;
    if (flags.load == "event" && std::strcmp(transport, "inproc") != 0) {
      EventLoadOptions options;
      options.clients = flags.clients;
      options.threads = flags.load_threads;
      options.per_channel = flags.per_channel;
      options.shape = shape;
      if (std::strcmp(transport, "grpc") == 0) {
        options.port = server->grpc_port();
        event_load = flags.grpc_client == "raw"
                         ? Check(NewRawGrpcEventLoad(options), "raw gRPC event load")
                         : Check(NewGrpcEventLoad(options), "gRPC++ event load");
      } else {
        options.port = server->http_port();
        event_load = Check(NewHttpEventLoad(options), "HTTP event load");
      }
    } else if (std::strcmp(transport, "grpc") == 0) {
      clients = MakeGrpcClients(server->grpc_port(), flags.clients, flags.per_channel, shape);
    } else if (std::strcmp(transport, "http") == 0) {
      clients = MakeHttpClients(server->http_port(), flags.clients, shape);
    } else {
      for (int i = 0; i < flags.clients; ++i) {
        if (flags.credential == "x509-svid") {
          clients.push_back(NewInprocSvidClient(server->certificates(), &csrs, i));
        } else if (flags.credential == "ssh") {
          clients.push_back(NewInprocSshClient(server->certificates(), &ssh_keys, i));
        } else {
          clients.push_back(NewInprocTokenClient(server->exchange(), shape));
        }
      }
    }
    auto run_phase = [&](double seconds, double rate) {
      return event_load ? RunEventPhase(*event_load, pool, next_token, seconds, rate)
                        : RunPhase(clients, pool, next_token, seconds, rate);
    };
    PhaseResult warm = run_phase(1.0, 0);
    if (warm.tally.ok == 0) {
      PrintPhase(transport, "warm-up (failed)", warm);
      Die("no exchange succeeded in the warm-up");
    }
    PhaseResult peak = run_phase(flags.seconds, 0);
    PrintPhase(transport, "peak (closed loop)", peak);
    const double rate = flags.rate > 0 ? flags.rate : peak.throughput() / 2;
    PhaseResult open = run_phase(flags.seconds, rate);
    std::string label = absl::StrCat("open loop ", static_cast<long>(rate), "/s");
    PrintPhase(transport, label.c_str(), open);
    PrintStartLag(open);
    if (slow_log) {
      const SlowPhase phase{transport,
                            absl::StrCat("open-loop-", static_cast<long>(rate)),
                            open.start,
                            open.end,
                            open.total(),
                            flags.slow_ms,
                            SlowRequests(open.tally, static_cast<int64_t>(flags.slow_ms * 1e6))};
      if (!AppendSlowPhase(slow_log.get(), phase, UnixMinusLoadClockMicros())) {
        Die(absl::StrCat("cannot write --slow-log ", flags.slow_log));
      }
    }
    peaks.emplace_back(transport, peak.throughput());
  }

  std::printf("\n%s throughput / crypto bound (2 threads, %.0f/s):\n", flags.credential.c_str(),
              crypto2);
  for (const auto& [transport, tput] : peaks) {
    std::printf("  %-4s %8.0f/s = %5.1f%%\n", transport.c_str(), tput, 100 * tput / crypto2);
  }
  server->Stop();
  idp->Stop();
  if (flags.keep_data) {
    std::printf("data kept in %s (ledger LOG: %s/data/ledger/LOG)\n", g_data_dir.c_str(),
                g_data_dir.c_str());
  } else {
    std::filesystem::remove_all(g_data_dir);
  }
  return 0;
}

}  // namespace
}  // namespace writ::bench

int main(int argc, char** argv) { return writ::bench::Run(writ::bench::ParseFlags(argc, argv)); }
