// ledger_bench: Append throughput and latency of RocksDbLedger, with sync on
// (every Append fsync'ed; concurrent Appends share one WAL fsync) and off,
// for 1..32 concurrent writers. Runs in a fresh temporary directory.
//
//   ledger_bench [--seconds S] [--dir PARENT]
//
// Prints one line per configuration: writers, appends/s, p50 and p99
// latency in microseconds.

#include <stdlib.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <string>
#include <thread>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"
#include "issuer/src/ledger/rocksdb_ledger.h"

namespace {

using Clock = std::chrono::steady_clock;

writ::issuer::LedgerRecord SampleRecord(int thread, int i) {
  writ::issuer::LedgerRecord r;
  // Benchmarks may read the wall clock; the ledger itself never does.
  r.time = absl::Now();
  r.request_id = absl::StrCat("req-", thread, "-", i);
  r.transport = "http";
  r.client_address = "10.1.2.3:40000";
  r.attested_issuer = "https://token.actions.githubusercontent.com";
  r.attested_subject = absl::StrCat("repo:acme/app", thread % 4, ":ref:refs/heads/main");
  r.claims = {{"repository", "acme/app"}, {"ref", "refs/heads/main"}};
  r.requested_audience = "https://api.example.com";
  r.requested_scopes = {"deploy"};
  r.granted_subject = "svc:deployer";
  r.granted_audience = "https://api.example.com";
  r.granted_scopes = {"deploy"};
  r.granted_lifetime = absl::Minutes(5);
  r.decision = "allow";
  r.rule = "deploy-main";
  r.policy_file = "/etc/writ/policy.yaml";
  r.credential_kind = "jwt";
  r.jti = absl::StrCat("jti-", thread, "-", i, "-", absl::ToUnixNanos(r.time));
  r.credential_sha256 = std::string(64, 'c');
  r.expires_at = r.time + absl::Minutes(5);
  return r;
}

struct Result {
  double per_second = 0;
  double p50_us = 0;
  double p99_us = 0;
  int errors = 0;
};

Result Run(const std::string& parent, bool sync, int writers, double seconds) {
  const std::string dir = absl::StrCat(parent, "/w", writers, sync ? "-sync" : "-nosync");
  writ::issuer::RocksDbLedgerOptions options;
  options.sync = sync;
  auto ledger = writ::issuer::RocksDbLedger::Open(dir, options);
  if (!ledger.ok()) {
    std::fprintf(stderr, "open: %s\n", ledger.status().ToString().c_str());
    std::exit(1);
  }
  std::vector<std::vector<double>> latencies(writers);
  std::atomic<int> errors{0};
  const auto deadline = Clock::now() + std::chrono::duration<double>(seconds);
  const auto start = Clock::now();
  std::vector<std::thread> threads;
  for (int t = 0; t < writers; ++t) {
    threads.emplace_back([&, t] {
      for (int i = 0; Clock::now() < deadline; ++i) {
        const auto record = SampleRecord(t, i);
        const auto before = Clock::now();
        if (!(*ledger)->Append(record).ok()) ++errors;
        latencies[t].push_back(
            std::chrono::duration<double, std::micro>(Clock::now() - before).count());
      }
    });
  }
  for (auto& th : threads) th.join();
  const double elapsed = std::chrono::duration<double>(Clock::now() - start).count();
  (void)(*ledger)->Close();
  std::vector<double> all;
  for (auto& l : latencies) all.insert(all.end(), l.begin(), l.end());
  std::sort(all.begin(), all.end());
  Result r;
  r.per_second = all.size() / elapsed;
  r.p50_us = all.empty() ? 0 : all[all.size() / 2];
  r.p99_us = all.empty() ? 0 : all[std::min(all.size() - 1, all.size() * 99 / 100)];
  r.errors = errors.load();
  return r;
}

}  // namespace

int main(int argc, char** argv) {
  double seconds = 1.5;
  std::string parent_base = std::filesystem::temp_directory_path().string();
  for (int i = 1; i + 1 < argc; i += 2) {
    if (std::strcmp(argv[i], "--seconds") == 0) {
      seconds = std::atof(argv[i + 1]);
    } else if (std::strcmp(argv[i], "--dir") == 0) {
      parent_base = argv[i + 1];
    } else {
      std::fprintf(stderr, "usage: ledger_bench [--seconds S] [--dir PARENT]\n");
      return 2;
    }
  }
  std::string parent = parent_base + "/writ_ledger_bench.XXXXXX";
  if (mkdtemp(parent.data()) == nullptr) {
    std::perror("mkdtemp");
    return 1;
  }
  std::printf("RocksDbLedger Append, %.1f s per row, dir %s, %u hardware threads\n", seconds,
              parent.c_str(), std::thread::hardware_concurrency());
  std::printf("%-6s %8s %12s %10s %10s %7s\n", "sync", "writers", "appends/s", "p50 us", "p99 us",
              "errors");
  for (bool sync : {true, false}) {
    for (int writers : {1, 2, 4, 8, 16, 32}) {
      const Result r = Run(parent, sync, writers, seconds);
      std::printf("%-6s %8d %12.0f %10.1f %10.1f %7d\n", sync ? "on" : "off", writers, r.per_second,
                  r.p50_us, r.p99_us, r.errors);
      std::fflush(stdout);
    }
  }
  std::error_code ec;
  std::filesystem::remove_all(parent, ec);
  return 0;
}
