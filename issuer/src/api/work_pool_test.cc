#include "issuer/src/api/work_pool.h"

#include <atomic>
#include <memory>
#include <set>
#include <thread>

#include "absl/synchronization/notification.h"
#include "gtest/gtest.h"

namespace writ::issuer {
namespace {

TEST(WorkPoolTest, RunsEveryTaskOnItsOwnThreads) {
  std::atomic<int> ran{0};
  std::atomic<bool> on_caller{false};
  const std::thread::id caller = std::this_thread::get_id();
  {
    WorkPool pool(3, 1000);
    for (int i = 0; i < 500; ++i) {
      ASSERT_TRUE(pool.TrySubmit([&] {
        if (std::this_thread::get_id() == caller) on_caller = true;
        ran.fetch_add(1);
      }));
    }
  }  // the destructor drains the queue
  EXPECT_EQ(ran.load(), 500);
  EXPECT_FALSE(on_caller.load());
}

TEST(WorkPoolTest, RefusesWhenTheQueueIsFull) {
  absl::Notification release;
  absl::Notification started;
  std::atomic<int> ran{0};
  {
    WorkPool pool(1, 2);
    ASSERT_TRUE(pool.TrySubmit([&] {
      started.Notify();
      release.WaitForNotification();
      ran.fetch_add(1);
    }));
    started.WaitForNotification();  // the one thread is busy
    EXPECT_TRUE(pool.TrySubmit([&] { ran.fetch_add(1); }));
    EXPECT_TRUE(pool.TrySubmit([&] { ran.fetch_add(1); }));
    EXPECT_FALSE(pool.TrySubmit([&] { ran.fetch_add(100); }));  // 2 already wait
    release.Notify();
  }
  EXPECT_EQ(ran.load(), 3);
}

TEST(WorkPoolTest, ABlockedTaskDoesNotStallTheOthers) {
  absl::Notification release;
  absl::Notification others_done;
  std::atomic<int> ran{0};
  WorkPool pool(2, 100);
  ASSERT_TRUE(pool.TrySubmit([&] { release.WaitForNotification(); }));
  for (int i = 0; i < 10; ++i) {
    ASSERT_TRUE(pool.TrySubmit([&] {
      if (ran.fetch_add(1) == 9) others_done.Notify();
    }));
  }
  EXPECT_TRUE(others_done.WaitForNotificationWithTimeout(absl::Seconds(10)));
  release.Notify();
}

TEST(WorkPoolTest, DropQueuedDiscardsWaitingTasksButNotTheRunningOne) {
  absl::Notification release;
  absl::Notification started;
  std::atomic<int> ran{0};
  {
    WorkPool pool(1, 10);
    ASSERT_TRUE(pool.TrySubmit([&] {
      started.Notify();
      release.WaitForNotification();
      ran.fetch_add(1);
    }));
    started.WaitForNotification();
    ASSERT_TRUE(pool.TrySubmit([&] { ran.fetch_add(100); }));
    ASSERT_TRUE(pool.TrySubmit([&] { ran.fetch_add(100); }));
    EXPECT_EQ(pool.DropQueued(), 2u);
    release.Notify();
  }
  EXPECT_EQ(ran.load(), 1);
}

TEST(WorkPoolTest, WaitForQueuedSeesTasksWaitingForAThread) {
  absl::Notification release;
  absl::Notification started;
  WorkPool pool(1, 10);
  ASSERT_TRUE(pool.TrySubmit([&] {
    started.Notify();
    release.WaitForNotification();
  }));
  ASSERT_TRUE(started.WaitForNotificationWithTimeout(absl::Seconds(10)));
  // The running task is not queued.
  EXPECT_FALSE(pool.WaitForQueuedForTesting(1, absl::ZeroDuration()));
  ASSERT_TRUE(pool.TrySubmit([] {}));
  EXPECT_TRUE(pool.WaitForQueuedForTesting(1, absl::Seconds(10)));
  EXPECT_FALSE(pool.WaitForQueuedForTesting(2, absl::ZeroDuration()));
  release.Notify();
}

TEST(WorkPoolTest, MoveOnlyTasksAreAccepted) {
  std::atomic<int> got{0};
  {
    WorkPool pool(1, 10);
    auto value = std::make_unique<int>(7);
    ASSERT_TRUE(pool.TrySubmit([v = std::move(value), &got] { got = *v; }));
  }
  EXPECT_EQ(got.load(), 7);
}

}  // namespace
}  // namespace writ::issuer
