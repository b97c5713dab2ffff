// PolicyStore holds the policy set in force and replaces it on Reload, but
// only with a set that loads and whose self-tests (`tests:`) all pass.
#ifndef WRIT_ISSUER_POLICY_POLICY_STORE_H_
#define WRIT_ISSUER_POLICY_POLICY_STORE_H_

#include <memory>
#include <string>

#include "absl/base/thread_annotations.h"
#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "absl/synchronization/mutex.h"
#include "issuer/src/policy/policy_engine.h"

namespace writ::issuer {

// PolicyStore is thread-safe: Current() may run concurrently with Reload().
class PolicyStore {
 public:
  // Open loads `dir` (see PolicyEngine::LoadDirectory). Returns the load
  // error, or kFailedPrecondition naming the failing self-tests.
  static absl::StatusOr<std::unique_ptr<PolicyStore>> Open(absl::string_view dir,
                                                           PolicyEngineOptions options);

  // Current returns the set in force; the caller's reference keeps it alive
  // across a concurrent Reload. Cheap (a locked shared_ptr copy).
  std::shared_ptr<const PolicyEngine> Current() const ABSL_LOCKS_EXCLUDED(mu_);

  // Reload loads the directory again and swaps the new set in when it loads
  // and its self-tests pass. Otherwise returns the errors (kInvalidArgument,
  // kNotFound, ... from loading; kFailedPrecondition for failed self-tests)
  // and keeps the set in force. Reloads are serialized.
  absl::Status Reload() ABSL_LOCKS_EXCLUDED(reload_mu_, mu_);

 private:
  PolicyStore(std::string dir, PolicyEngineOptions options,
              std::shared_ptr<const PolicyEngine> engine);
  static absl::StatusOr<std::shared_ptr<const PolicyEngine>> LoadChecked(
      absl::string_view dir, const PolicyEngineOptions& options);

  const std::string dir_;
  const PolicyEngineOptions options_;
  absl::Mutex reload_mu_;
  mutable absl::Mutex mu_;
  std::shared_ptr<const PolicyEngine> engine_ ABSL_GUARDED_BY(mu_);
};

}  // namespace writ::issuer

#endif  // WRIT_ISSUER_POLICY_POLICY_STORE_H_
