// WorkPool: a fixed set of threads running queued tasks in order.
//
// The token services run an exchange on their own thread (an HTTP event
// loop, a gRPC callback thread) while the attesting issuer's keys are at
// hand, and move it here when keys must be fetched, which may block for the
// fetch's timeouts; a blocked event loop or gRPC thread would stall every
// other request. Certificate issuance (HTTP and gRPC) runs here too, since
// its attestation may fetch. A task that finishes its request asynchronously
// (the ledger answers later) frees its thread at once.
//
//   WorkPool pool(8, 4096);
//   if (!pool.TrySubmit([] { ... })) { /* full: answer "busy, retry" */ }
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
#include "absl/time/time.h"

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

  // WaitForQueuedForTesting waits up to `timeout` until at least `n` tasks
  // wait for a thread, and returns whether they do: for tests that must know
  // a task is queued (not yet running) before they act.
  bool WaitForQueuedForTesting(size_t n, absl::Duration timeout);

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
