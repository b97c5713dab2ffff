// PoolBlocker: a test helper that fills a WorkPool of one thread and one
// queue slot, so that its next TrySubmit is refused, without sleeping.
#ifndef WRIT_TESTS_TESTING_POOL_BLOCKER_H_
#define WRIT_TESTS_TESTING_POOL_BLOCKER_H_

#include <memory>

#include "absl/synchronization/notification.h"
#include "absl/time/time.h"
#include "issuer/src/api/work_pool.h"

namespace writ::test {

// PoolBlocker must be destroyed before its pool (declare it after the pool):
// the pool's destructor waits for the task Unblock releases.
class PoolBlocker {
 public:
  explicit PoolBlocker(issuer::WorkPool* pool) : pool_(pool) {}
  PoolBlocker(const PoolBlocker&) = delete;
  PoolBlocker& operator=(const PoolBlocker&) = delete;
  ~PoolBlocker() { Unblock(); }

  // Block occupies the pool's thread with a task that waits for Unblock, then
  // its one queue slot with another. False when the pool refused either.
  bool Block() {
    if (!pool_->TrySubmit([this] {
          started_.Notify();
          release_.WaitForNotification();
        })) {
      return false;
    }
    started_.WaitForNotification();
    filler_queued_ = pool_->TrySubmit([this] { drained_.Notify(); });
    return filler_queued_;
  }
  // Unblock lets the blocking task finish, and waits until the task that
  // filled the queue has run: the pool is empty again.
  void Unblock() {
    if (!release_.HasBeenNotified()) release_.Notify();
    if (filler_queued_) drained_.WaitForNotification();
  }

  // IsFree is true when a task submitted now runs within `timeout`: the pool's
  // thread is not held by anything.
  static bool IsFree(issuer::WorkPool* pool, absl::Duration timeout = absl::Seconds(10)) {
    auto ran = std::make_shared<absl::Notification>();
    if (!pool->TrySubmit([ran] { ran->Notify(); })) return false;
    return ran->WaitForNotificationWithTimeout(timeout);
  }

 private:
  issuer::WorkPool* pool_;
  absl::Notification started_;
  absl::Notification release_;
  bool filler_queued_ = false;
  absl::Notification drained_;
};

}  // namespace writ::test

#endif  // WRIT_TESTS_TESTING_POOL_BLOCKER_H_
