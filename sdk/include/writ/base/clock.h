// Clock: the one source of "now" in Writ. Production code takes a `const
// Clock&` (or pointer) and never reads the wall clock itself, so tests can
// drive time with FakeClock and never sleep.
#ifndef WRIT_BASE_CLOCK_H_
#define WRIT_BASE_CLOCK_H_

#include "absl/base/thread_annotations.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/clock.h"
#include "absl/time/time.h"

namespace writ {

// Clock is the interface. Implementations are thread-safe.
class Clock {
 public:
  virtual ~Clock() = default;
  // Now returns the current time.
  virtual absl::Time Now() const = 0;

  // Real returns the process-wide system clock. Never null; lives forever.
  static const Clock& Real();
};

// SystemClock reads the wall clock.
class SystemClock final : public Clock {
 public:
  absl::Time Now() const override { return absl::Now(); }
};

// FakeClock is a settable clock for tests. Thread-safe.
class FakeClock final : public Clock {
 public:
  explicit FakeClock(absl::Time now) : now_(now) {}
  absl::Time Now() const override {
    absl::MutexLock lock(&mu_);
    return now_;
  }
  // Set moves the clock to `now` (which may be in the past).
  void Set(absl::Time now) {
    absl::MutexLock lock(&mu_);
    now_ = now;
  }
  // Advance moves the clock forward by `d`.
  void Advance(absl::Duration d) {
    absl::MutexLock lock(&mu_);
    now_ += d;
  }

 private:
  mutable absl::Mutex mu_;
  absl::Time now_ ABSL_GUARDED_BY(mu_);
};

}  // namespace writ

#endif  // WRIT_BASE_CLOCK_H_
