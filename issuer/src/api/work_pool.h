// WorkPool: a fixed set of threads running queued tasks in order.
//
// The gRPC token service takes each call off gRPC's callback threads and
// runs it here, because attestation may block on a fetch of an attesting
// issuer's keys (bounded by its timeouts); a blocked gRPC thread would stall
// every other call. A task that finishes its call asynchronously (the ledger
// answers later) frees its thread at once.
//
//   WorkPool pool(8, 4096);
//   if (!pool.TrySubmit([] { ... })) { /* full: answer RESOURCE_EXHAUSTED */ }
//
// Thread-safe. The destructor runs every task already queued, then joins.
#ifndef WRIT_ISSUER_API_WORK_POOL_H_
#define WRIT_ISSUER_API_WORK_POOL_H_

#include <cstddef>
#include <deque>
#include <thread>
#include <vector>

#include "absl/base/thread_annotations.h"
#include "absl/functional/any_invocable.h"
#include "absl/synchronization/mutex.h"

namespace writ::issuer {

class WorkPool {
 public:
  using Task = absl::AnyInvocable<void() &&>;

  // Starts `threads` (at least 1) threads; at most `max_queued` (at least 1)
  // tasks wait for one.
  WorkPool(int threads, size_t max_queued);
  WorkPool(const WorkPool&) = delete;
  WorkPool& operator=(const WorkPool&) = delete;
  ~WorkPool();

  // TrySubmit queues `task`, or returns false (and drops it) when max_queued
  // tasks are already waiting or the pool is shutting down.
  bool TrySubmit(Task task);

  // DropQueued discards the tasks still waiting (not the ones running) and
  // returns how many: for a transport that has stopped and whose answers
  // would go nowhere. Never for a task that must run to release something.
  size_t DropQueued();

 private:
  void Run();
  bool HasWorkOrStopping() const ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_) {
    return !queue_.empty() || stopping_;
  }

  const size_t max_queued_;
  absl::Mutex mu_;
  std::deque<Task> queue_ ABSL_GUARDED_BY(mu_);
  bool stopping_ ABSL_GUARDED_BY(mu_) = false;
  std::vector<std::thread> threads_;
};

}  // namespace writ::issuer

#endif  // WRIT_ISSUER_API_WORK_POOL_H_
