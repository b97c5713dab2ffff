#include "issuer/src/policy/policy_store.h"

#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "issuer/src/policy/policy_tests.h"

namespace writ::issuer {

PolicyStore::PolicyStore(std::string dir, PolicyEngineOptions options,
                         std::shared_ptr<const PolicyEngine> engine)
    : dir_(std::move(dir)), options_(std::move(options)), engine_(std::move(engine)) {}

absl::StatusOr<std::shared_ptr<const PolicyEngine>> PolicyStore::LoadChecked(
    absl::string_view dir, const PolicyEngineOptions& options) {
  absl::StatusOr<std::shared_ptr<const PolicyEngine>> engine =
      PolicyEngine::LoadDirectory(dir, options);
  if (!engine.ok()) return engine.status();
  PolicyTestReport report = RunPolicyTests(**engine);
  if (!report.ok()) {
    std::vector<std::string> lines;
    for (const PolicyTestResult& r : report.results) {
      if (!r.passed) {
        lines.push_back(absl::StrCat(r.file, ":", r.line, ": test \"", r.name, "\": ", r.message));
      }
    }
    return absl::FailedPreconditionError(absl::StrCat(
        "policy self-tests failed (", report.Summary(), "):\n", absl::StrJoin(lines, "\n")));
  }
  return engine;
}

absl::StatusOr<std::unique_ptr<PolicyStore>> PolicyStore::Open(absl::string_view dir,
                                                               PolicyEngineOptions options) {
  absl::StatusOr<std::shared_ptr<const PolicyEngine>> engine = LoadChecked(dir, options);
  if (!engine.ok()) return engine.status();
  return std::unique_ptr<PolicyStore>(
      new PolicyStore(std::string(dir), std::move(options), std::move(*engine)));
}

std::shared_ptr<const PolicyEngine> PolicyStore::Current() const {
  absl::MutexLock lock(&mu_);
  return engine_;
}

absl::Status PolicyStore::Reload() {
  absl::MutexLock reload_lock(&reload_mu_);
  absl::StatusOr<std::shared_ptr<const PolicyEngine>> engine = LoadChecked(dir_, options_);
  if (!engine.ok()) return engine.status();
  std::shared_ptr<const PolicyEngine> old;
  {
    absl::MutexLock lock(&mu_);
    old = std::exchange(engine_, std::move(*engine));
  }
  return absl::OkStatus();  // `old` is released outside the lock
}

}  // namespace writ::issuer
