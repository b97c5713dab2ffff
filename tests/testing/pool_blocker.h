// PoolBlocker: a test helper that occupies a WorkPool, so that a test can see
// what happens to work that finds the pool busy, without sleeping. Every wait
// is bounded (kPoolWaitTimeout), so a regression fails the test instead of
// hanging it.
#ifndef WRIT_TESTS_TESTING_POOL_BLOCKER_H_
#define WRIT_TESTS_TESTING_POOL_BLOCKER_H_

#include <memory>

#include "absl/synchronization/notification.h"
#include "absl/time/time.h"
#include "issuer/src/api/work_pool.h"

namespace writ::test {

// kPoolWaitTimeout bounds PoolBlocker's waits. Generous: it is reached only
// when something is broken, and sanitizer builds on a busy machine are slow.
inline constexpr absl::Duration kPoolWaitTimeout = absl::Seconds(10);

// PoolBlocker must be destroyed before its pool (declare it after the pool):
// the pool's destructor waits for the task Unblock releases. Not thread-safe:
// one test thread drives it.
class PoolBlocker {
 public:
  explicit PoolBlocker(issuer::WorkPool* pool) : pool_(pool) {}
  PoolBlocker(const PoolBlocker&) = delete;
  PoolBlocker& operator=(const PoolBlocker&) = delete;
  ~PoolBlocker() { (void)Unblock(); }

  // Block fills a pool of one thread and one queue slot, so that its next
  // TrySubmit is refused: HoldThread, then a task that takes the queue slot.
  // False when the pool refused either, or the holding task did not start.
  [[nodiscard]] bool Block() {
    if (!HoldThread()) return false;
    filler_queued_ = pool_->TrySubmit([state = state_] { state->drained.Notify(); });
    return filler_queued_;
  }
  // HoldThread occupies the pool's one thread with a task that waits for
  // Unblock, and returns once it runs; what is submitted next waits in the
  // queue. False when the pool refused the task or it did not start.
  [[nodiscard]] bool HoldThread() {
    if (!pool_->TrySubmit([state = state_] {
          state->started.Notify();
          state->release.WaitForNotification();
        })) {
      return false;
    }
    return state_->started.WaitForNotificationWithTimeout(kPoolWaitTimeout);
  }
  // Unblock lets the holding task finish and, after Block, waits until the
  // task that filled the queue has run: the pool is empty again, unless work
  // queued behind the holding task is still running. False when the filler
  // did not run in time.
  [[nodiscard]] bool Unblock() {
    if (!state_->release.HasBeenNotified()) state_->release.Notify();
    if (!filler_queued_) return true;
    return state_->drained.WaitForNotificationWithTimeout(kPoolWaitTimeout);
  }

  // IsFree is true when a task submitted now runs within kPoolWaitTimeout:
  // the pool's thread is not held by anything.
  [[nodiscard]] static bool IsFree(issuer::WorkPool* pool) {
    auto ran = std::make_shared<absl::Notification>();
    if (!pool->TrySubmit([ran] { ran->Notify(); })) return false;
    return ran->WaitForNotificationWithTimeout(kPoolWaitTimeout);
  }

 private:
  // State is shared with the tasks, which may outlive a failed test's
  // PoolBlocker in the pool's queue.
  struct State {
    absl::Notification started;
    absl::Notification release;
    absl::Notification drained;
  };

  issuer::WorkPool* pool_;
  std::shared_ptr<State> state_ = std::make_shared<State>();
  bool filler_queued_ = false;
};

}  // namespace writ::test

#endif  // WRIT_TESTS_TESTING_POOL_BLOCKER_H_
