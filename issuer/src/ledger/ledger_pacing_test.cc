// The ledger's pacing: group commit under load (commit_delay, commit_group)
// and the background rate limiter on flushes and compactions.
#include <memory>
#include <string>
#include <vector>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/synchronization/mutex.h"
#include "absl/synchronization/notification.h"
#include "absl/time/clock.h"
#include "gtest/gtest.h"
#include "issuer/src/ledger/ledger_test_util.h"
#include "issuer/src/ledger/rocksdb_ledger.h"
#include "rocksdb/env.h"
#include "rocksdb/file_system.h"

namespace writ::issuer {
namespace {

const absl::Duration kWait = absl::Seconds(20);  // bounds every wait; never reached

LedgerRecord Decision(absl::string_view id) {
  LedgerRecord r;
  r.time = absl::FromUnixSeconds(1714564800);
  r.request_id = std::string(id);
  r.transport = "http";
  r.attested_issuer = "https://issuer.example";
  r.attested_subject = "repo:acme/app";
  r.decision = "allow";
  r.jti = absl::StrCat("jti-", id);
  return r;
}

// Gate holds every WAL sync while it is shut, so a test can have the writer
// in the middle of a write.
class Gate {
 public:
  void Shut() {
    absl::MutexLock lock(&mu_);
    shut_ = true;
  }
  void Open() {
    absl::MutexLock lock(&mu_);
    shut_ = false;
  }
  void Pass() {
    absl::MutexLock lock(&mu_);
    ++waiting_;
    mu_.Await(absl::Condition(
        +[](bool* shut) { return !*shut; }, &shut_));
    --waiting_;
  }
  // AwaitWaiter returns once a sync is held at the gate.
  bool AwaitWaiter() {
    absl::MutexLock lock(&mu_);
    return mu_.AwaitWithTimeout(absl::Condition(
                                    +[](int* waiting) { return *waiting > 0; }, &waiting_),
                                kWait);
  }

 private:
  absl::Mutex mu_;
  bool shut_ ABSL_GUARDED_BY(mu_) = false;
  int waiting_ ABSL_GUARDED_BY(mu_) = 0;
};

class GatedWal : public rocksdb::FSWritableFileOwnerWrapper {
 public:
  GatedWal(std::unique_ptr<rocksdb::FSWritableFile> file, Gate* gate)
      : FSWritableFileOwnerWrapper(std::move(file)), gate_(gate) {}
  rocksdb::IOStatus Sync(const rocksdb::IOOptions& options, rocksdb::IODebugContext* dbg) override {
    gate_->Pass();
    return target()->Sync(options, dbg);
  }
  rocksdb::IOStatus Fsync(const rocksdb::IOOptions& options,
                          rocksdb::IODebugContext* dbg) override {
    gate_->Pass();
    return target()->Fsync(options, dbg);
  }

 private:
  Gate* gate_;
};

class GatedFileSystem : public rocksdb::FileSystemWrapper {
 public:
  GatedFileSystem() : FileSystemWrapper(rocksdb::FileSystem::Default()) {}
  const char* Name() const override { return "GatedFileSystem"; }
  rocksdb::IOStatus NewWritableFile(const std::string& name, const rocksdb::FileOptions& options,
                                    std::unique_ptr<rocksdb::FSWritableFile>* result,
                                    rocksdb::IODebugContext* dbg) override {
    rocksdb::IOStatus s = target()->NewWritableFile(name, options, result, dbg);
    if (s.ok() && absl::EndsWith(name, ".log"))
      result->reset(new GatedWal(std::move(*result), &gate));
    return s;
  }
  Gate gate;
};

// Appended is an AppendAsync's answer.
struct Appended {
  absl::Notification done;
  absl::Status status;
  Ledger::AppendDone Callback() {
    return [this](absl::Status s) {
      status = std::move(s);
      done.Notify();
    };
  }
};

class LedgerPacingTest : public ::testing::Test {
 protected:
  void OpenLedger(absl::Duration commit_delay, size_t commit_group) {
    ASSERT_FALSE(tmp_.path().empty());
    RocksDbLedgerOptions options;
    options.env = env_.get();
    options.commit_delay = commit_delay;
    options.commit_group = commit_group;
    auto ledger = RocksDbLedger::Open(tmp_.Sub("ledger"), options);
    ASSERT_TRUE(ledger.ok()) << ledger.status();
    ledger_ = *std::move(ledger);
  }

  // WriteFirstWithLateArrival appends "a" and, while its fsync is held,
  // "b": so "b" arrives during a write. Returns once "a" is stored.
  void WriteFirstWithLateArrival(Appended& a, Appended& b) {
    fs_->gate.Shut();
    ledger_->AppendAsync(Decision("a"), a.Callback());
    ASSERT_TRUE(fs_->gate.AwaitWaiter());
    ledger_->AppendAsync(Decision("b"), b.Callback());
    fs_->gate.Open();
    ASSERT_TRUE(a.done.WaitForNotificationWithTimeout(kWait));
    ASSERT_TRUE(a.status.ok()) << a.status;
  }

  // A failed assertion may leave the gate shut; Close must not wait on it.
  void TearDown() override { fs_->gate.Open(); }

  TempDir tmp_;
  std::shared_ptr<GatedFileSystem> fs_ = std::make_shared<GatedFileSystem>();
  std::unique_ptr<rocksdb::Env> env_ = rocksdb::NewCompositeEnv(fs_);
  std::unique_ptr<RocksDbLedger> ledger_;
};

TEST_F(LedgerPacingTest, ArrivalsDuringAWriteAreHeldUntilTheGroupIsFull) {
  OpenLedger(/*commit_delay=*/absl::Seconds(60), /*commit_group=*/3);
  Appended a, b, c, d;
  WriteFirstWithLateArrival(a, b);
  EXPECT_EQ(ledger_->GroupsWritten(), 1);
  // "b" waits for two more (the delay is a minute: nothing else frees it).
  EXPECT_FALSE(b.done.WaitForNotificationWithTimeout(absl::Milliseconds(200)));
  ledger_->AppendAsync(Decision("c"), c.Callback());
  ledger_->AppendAsync(Decision("d"), d.Callback());
  for (Appended* x : {&b, &c, &d}) {
    ASSERT_TRUE(x->done.WaitForNotificationWithTimeout(kWait));
    EXPECT_TRUE(x->status.ok()) << x->status;
  }
  EXPECT_EQ(ledger_->GroupsWritten(), 2);  // b, c and d in one write
  EXPECT_TRUE(ledger_->FindByJti("jti-d").ok());
}

TEST_F(LedgerPacingTest, AHeldGroupIsWrittenWhenTheDelayEnds) {
  OpenLedger(/*commit_delay=*/absl::Milliseconds(50), /*commit_group=*/8);
  Appended a, b;
  WriteFirstWithLateArrival(a, b);
  ASSERT_TRUE(b.done.WaitForNotificationWithTimeout(kWait));
  EXPECT_TRUE(b.status.ok()) << b.status;
  EXPECT_EQ(ledger_->GroupsWritten(), 2);
}

TEST_F(LedgerPacingTest, ACallerThatWaitsForEachAnswerIsNeverHeld) {
  OpenLedger(/*commit_delay=*/absl::Seconds(60), /*commit_group=*/8);
  const absl::Time start = absl::Now();
  for (int i = 0; i < 5; ++i) {
    ASSERT_TRUE(ledger_->Append(Decision(absl::StrCat("seq", i))).ok());
  }
  EXPECT_LT(absl::Now() - start, kWait);  // a held record would take a minute
  EXPECT_EQ(ledger_->GroupsWritten(), 5);
}

TEST_F(LedgerPacingTest, CloseWritesAHeldGroupAtOnce) {
  OpenLedger(/*commit_delay=*/absl::Seconds(60), /*commit_group=*/8);
  Appended a, b;
  WriteFirstWithLateArrival(a, b);
  EXPECT_FALSE(b.done.WaitForNotificationWithTimeout(absl::Milliseconds(100)));
  const absl::Time start = absl::Now();
  ASSERT_TRUE(ledger_->Close().ok());
  EXPECT_LT(absl::Now() - start, kWait);
  ASSERT_TRUE(b.done.HasBeenNotified());
  EXPECT_TRUE(b.status.ok()) << b.status;  // written, not refused
  ledger_.reset();
  auto reopened = RocksDbLedger::Open(tmp_.Sub("ledger"));
  ASSERT_TRUE(reopened.ok()) << reopened.status();
  EXPECT_TRUE((*reopened)->FindByJti("jti-b").ok());
}

TEST(LedgerPacingOptionsTest, InvalidPacingIsRefusedAtOpen) {
  TempDir tmp;
  ASSERT_FALSE(tmp.path().empty());
  RocksDbLedgerOptions negative_delay;
  negative_delay.commit_delay = absl::Microseconds(-1);
  RocksDbLedgerOptions empty_group;
  empty_group.commit_group = 0;
  RocksDbLedgerOptions long_delay;
  long_delay.commit_delay = absl::Minutes(1) + absl::Nanoseconds(1);
  RocksDbLedgerOptions negative_rate;
  negative_rate.background_write_bytes_per_sec = -1;
  for (const RocksDbLedgerOptions& options :
       {negative_delay, long_delay, empty_group, negative_rate}) {
    auto ledger = RocksDbLedger::Open(tmp.Sub("ledger"), options);
    EXPECT_EQ(ledger.status().code(), absl::StatusCode::kInvalidArgument) << ledger.status();
  }
}

// A flush goes through the background limiter: the default ledger's Close
// flushes its memtables in rate-limited writes, one without a limiter not.
TEST(LedgerPacingOptionsTest, FlushesGoThroughTheBackgroundLimiter) {
  for (const int64_t rate : {int64_t{160} << 20, int64_t{0}}) {
    TempDir tmp;
    ASSERT_FALSE(tmp.path().empty());
    RocksDbLedgerOptions options;
    options.background_write_bytes_per_sec = rate;
    auto ledger = RocksDbLedger::Open(tmp.Sub("ledger"), options);
    ASSERT_TRUE(ledger.ok()) << ledger.status();
    for (int i = 0; i < 100; ++i) {
      ASSERT_TRUE((*ledger)->Append(Decision(absl::StrCat("r", i))).ok());
    }
    ASSERT_TRUE((*ledger)->Close().ok());
    if (rate > 0) {
      EXPECT_GT((*ledger)->BackgroundWriteRequests(), 0);
    } else {
      EXPECT_EQ((*ledger)->BackgroundWriteRequests(), 0);
    }
  }
}

}  // namespace
}  // namespace writ::issuer
