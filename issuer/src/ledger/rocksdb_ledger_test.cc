#include "issuer/src/ledger/rocksdb_ledger.h"

#include <stdlib.h>
#include <sys/stat.h>

#include <atomic>
#include <filesystem>
#include <memory>
#include <string>
#include <thread>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/synchronization/notification.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "issuer/src/ledger/ledger_codec.h"
#include "issuer/src/ledger/ledger_test_util.h"
#include "rocksdb/db.h"
#include "rocksdb/env.h"
#include "rocksdb/file_system.h"

namespace writ::issuer {
namespace {

using ::testing::ElementsAre;
using ::testing::HasSubstr;
using ::testing::IsEmpty;

const absl::Time kT0 = absl::FromUnixSeconds(1714564800);

LedgerRecord Record(absl::string_view request_id, absl::Time time, absl::string_view subject,
                    absl::string_view decision) {
  LedgerRecord r;
  r.time = time;
  r.request_id = std::string(request_id);
  r.transport = "grpc";
  r.attested_issuer = "https://issuer.example";
  r.attested_subject = std::string(subject);
  r.decision = std::string(decision);
  if (decision == "allow") {
    r.granted_subject = absl::StrCat("svc:", subject);
    r.granted_audience = "aud";
    r.granted_scopes = {"read"};
    r.jti = absl::StrCat("jti-", request_id);
    r.expires_at = time + absl::Minutes(5);
  } else {
    r.error = "access_denied";
  }
  return r;
}

std::vector<std::string> Ids(const std::vector<LedgerRecord>& records) {
  std::vector<std::string> ids;
  for (const auto& r : records) ids.push_back(r.request_id);
  return ids;
}

class RocksDbLedgerTest : public ::testing::Test {
 protected:
  void SetUp() override {
    ASSERT_FALSE(tmp_.path().empty());
    auto ledger = RocksDbLedger::Open(tmp_.Sub("ledger"));
    ASSERT_TRUE(ledger.ok()) << ledger.status();
    ledger_ = *std::move(ledger);
  }

  // Five records a second apart: alice allow, bob deny, alice deny, carol
  // allow, bob allow.
  void AppendFive() {
    ASSERT_TRUE(ledger_->Append(Record("r0", kT0, "alice", "allow")).ok());
    ASSERT_TRUE(ledger_->Append(Record("r1", kT0 + absl::Seconds(1), "bob", "deny")).ok());
    ASSERT_TRUE(ledger_->Append(Record("r2", kT0 + absl::Seconds(2), "alice", "deny")).ok());
    ASSERT_TRUE(ledger_->Append(Record("r3", kT0 + absl::Seconds(3), "carol", "allow")).ok());
    ASSERT_TRUE(ledger_->Append(Record("r4", kT0 + absl::Seconds(4), "bob", "allow")).ok());
  }

  std::vector<std::string> QueryIds(const LedgerQuery& q) {
    auto result = ledger_->Query(q);
    EXPECT_TRUE(result.ok()) << result.status();
    return result.ok() ? Ids(*result) : std::vector<std::string>{"error"};
  }

  TempDir tmp_;
  std::unique_ptr<RocksDbLedger> ledger_;
};

TEST_F(RocksDbLedgerTest, OpenCreatesPrivateDirectory) {
  struct stat st;
  ASSERT_EQ(stat(tmp_.Sub("ledger").c_str(), &st), 0);
  EXPECT_EQ(st.st_mode & 0777, 0700u);
  EXPECT_TRUE(ledger_->Healthy());
}

TEST_F(RocksDbLedgerTest, RoundTripsEveryField) {
  LedgerRecord r;
  r.time = kT0 + absl::Microseconds(123456);
  r.request_id = "req-ü";
  r.transport = "http";
  r.client_address = "[::1]:443";
  r.attested_issuer = "iss";
  r.attested_subject = "sübject ✓";
  r.actors = {"a1", "a2"};
  r.claims = {{"k", "v"}, {"ключ", "значение"}};
  r.requested_audience = "ra";
  r.requested_scopes = {"s1", "s2"};
  r.requested_lifetime = absl::Seconds(90);
  r.granted_subject = "gs";
  r.granted_audience = "ga";
  r.granted_scopes = {"s1"};
  r.granted_lifetime = absl::Microseconds(59999999);
  r.decision = "allow";
  r.reasons = {"because"};
  r.rule = "rule-1";
  r.policy_file = "p.yaml";
  r.credential_kind = "jwt";
  r.jti = "j-1";
  r.credential_sha256 = std::string(64, 'f');
  r.expires_at = kT0 + absl::Minutes(1);
  ASSERT_TRUE(ledger_->Append(r).ok());
  auto got = ledger_->FindByJti("j-1");
  ASSERT_TRUE(got.ok()) << got.status();
  EXPECT_EQ(ledger_codec::EncodeRecord(*got), ledger_codec::EncodeRecord(r));
  EXPECT_EQ(got->claims, r.claims);
  EXPECT_EQ(got->granted_lifetime, r.granted_lifetime);
  EXPECT_EQ(got->time, r.time);
}

TEST_F(RocksDbLedgerTest, RoundTripsEmptyVectorsAndInfinitePastExpiry) {
  LedgerRecord r = Record("deny-1", kT0, "", "deny");
  ASSERT_TRUE(ledger_->Append(r).ok());
  auto got = ledger_->Query({});
  ASSERT_TRUE(got.ok());
  ASSERT_EQ(got->size(), 1u);
  EXPECT_EQ(ledger_codec::EncodeRecord((*got)[0]), ledger_codec::EncodeRecord(r));
  EXPECT_EQ((*got)[0].expires_at, absl::InfinitePast());
  EXPECT_THAT((*got)[0].actors, IsEmpty());
  EXPECT_THAT((*got)[0].claims, IsEmpty());
}

TEST_F(RocksDbLedgerTest, TruncatesTimeToMicroseconds) {
  ASSERT_TRUE(ledger_->Append(Record("r", kT0 + absl::Nanoseconds(1999), "a", "deny")).ok());
  auto got = ledger_->Query({});
  ASSERT_TRUE(got.ok());
  ASSERT_EQ(got->size(), 1u);
  EXPECT_EQ((*got)[0].time, kT0 + absl::Microseconds(1));
}

TEST_F(RocksDbLedgerTest, FindByJtiFoundAndNotFound) {
  AppendFive();
  auto found = ledger_->FindByJti("jti-r3");
  ASSERT_TRUE(found.ok()) << found.status();
  EXPECT_EQ(found->request_id, "r3");
  EXPECT_EQ(ledger_->FindByJti("jti-r1").status().code(), absl::StatusCode::kNotFound);
  EXPECT_EQ(ledger_->FindByJti("nope").status().code(), absl::StatusCode::kNotFound);
  EXPECT_EQ(ledger_->FindByJti("").status().code(), absl::StatusCode::kInvalidArgument);
}

TEST_F(RocksDbLedgerTest, QueryAllIsNewestFirst) {
  AppendFive();
  EXPECT_THAT(QueryIds({}), ElementsAre("r4", "r3", "r2", "r1", "r0"));
}

TEST_F(RocksDbLedgerTest, QueryHonoursLimit) {
  AppendFive();
  LedgerQuery q;
  q.limit = 2;
  EXPECT_THAT(QueryIds(q), ElementsAre("r4", "r3"));
  q.limit = 0;
  EXPECT_THAT(QueryIds(q), IsEmpty());
  q.subject = "alice";
  q.limit = 1;
  EXPECT_THAT(QueryIds(q), ElementsAre("r2"));
}

TEST_F(RocksDbLedgerTest, QueryByAttestedSubject) {
  AppendFive();
  LedgerQuery q;
  q.subject = "alice";
  EXPECT_THAT(QueryIds(q), ElementsAre("r2", "r0"));
  q.subject = "ali";  // no prefix matches
  EXPECT_THAT(QueryIds(q), IsEmpty());
}

TEST_F(RocksDbLedgerTest, QueryByGrantedSubject) {
  AppendFive();
  LedgerQuery q;
  q.subject = "svc:bob";  // only r4 was granted; r1 was a denial
  EXPECT_THAT(QueryIds(q), ElementsAre("r4"));
}

TEST_F(RocksDbLedgerTest, SameAttestedAndGrantedSubjectListedOnce) {
  LedgerRecord r = Record("r", kT0, "same", "allow");
  r.granted_subject = "same";
  ASSERT_TRUE(ledger_->Append(r).ok());
  LedgerQuery q;
  q.subject = "same";
  EXPECT_THAT(QueryIds(q), ElementsAre("r"));
}

TEST_F(RocksDbLedgerTest, SubjectWithNulDoesNotLeakIntoShorterSubject) {
  ASSERT_TRUE(ledger_->Append(Record("r0", kT0, std::string("a\0b", 3), "deny")).ok());
  ASSERT_TRUE(ledger_->Append(Record("r1", kT0 + absl::Seconds(1), "a", "deny")).ok());
  LedgerQuery q;
  q.subject = "a";
  EXPECT_THAT(QueryIds(q), ElementsAre("r1"));
  q.subject = std::string("a\0b", 3);
  EXPECT_THAT(QueryIds(q), ElementsAre("r0"));
}

TEST_F(RocksDbLedgerTest, QueryByDecision) {
  AppendFive();
  LedgerQuery q;
  q.decision = "deny";
  EXPECT_THAT(QueryIds(q), ElementsAre("r2", "r1"));
  q.decision = "allow";
  EXPECT_THAT(QueryIds(q), ElementsAre("r4", "r3", "r0"));
  q.decision = "maybe";
  EXPECT_THAT(QueryIds(q), IsEmpty());
}

TEST_F(RocksDbLedgerTest, QueryTimeRangeSinceInclusiveUntilExclusive) {
  AppendFive();
  LedgerQuery q;
  q.since = kT0 + absl::Seconds(1);
  q.until = kT0 + absl::Seconds(3);
  EXPECT_THAT(QueryIds(q), ElementsAre("r2", "r1"));
  q.since = kT0 + absl::Seconds(1) + absl::Nanoseconds(1);  // just after r1
  EXPECT_THAT(QueryIds(q), ElementsAre("r2"));
  q.since = kT0;
  q.until = kT0 + absl::Microseconds(1);
  EXPECT_THAT(QueryIds(q), ElementsAre("r0"));
  q.until = kT0;
  EXPECT_THAT(QueryIds(q), IsEmpty());
  q.since = kT0 + absl::Seconds(4);
  q.until = absl::InfiniteFuture();
  EXPECT_THAT(QueryIds(q), ElementsAre("r4"));
  q.since = kT0 + absl::Seconds(3);
  q.until = kT0 + absl::Seconds(1);  // empty interval
  EXPECT_THAT(QueryIds(q), IsEmpty());
}

TEST_F(RocksDbLedgerTest, QueryCombinesFilters) {
  AppendFive();
  LedgerQuery q;
  q.subject = "bob";
  q.decision = "allow";
  EXPECT_THAT(QueryIds(q), ElementsAre("r4"));
  q.decision = "deny";
  EXPECT_THAT(QueryIds(q), ElementsAre("r1"));
  q.until = kT0 + absl::Seconds(1);
  EXPECT_THAT(QueryIds(q), IsEmpty());
  q = {};
  q.decision = "allow";
  q.since = kT0 + absl::Seconds(1);
  q.until = kT0 + absl::Seconds(4);
  EXPECT_THAT(QueryIds(q), ElementsAre("r3"));
}

TEST_F(RocksDbLedgerTest, RecordsBeforeEpochSortCorrectly) {
  ASSERT_TRUE(ledger_->Append(Record("old", absl::FromUnixSeconds(-10), "a", "deny")).ok());
  ASSERT_TRUE(ledger_->Append(Record("new", kT0, "a", "deny")).ok());
  EXPECT_THAT(QueryIds({}), ElementsAre("new", "old"));
}

TEST_F(RocksDbLedgerTest, ReopenAfterCloseKeepsEverything) {
  AppendFive();
  ASSERT_TRUE(ledger_->Close().ok());
  EXPECT_FALSE(ledger_->Healthy());
  auto reopened = RocksDbLedger::Open(tmp_.Sub("ledger"));
  ASSERT_TRUE(reopened.ok()) << reopened.status();
  ledger_ = *std::move(reopened);
  EXPECT_THAT(QueryIds({}), ElementsAre("r4", "r3", "r2", "r1", "r0"));
  EXPECT_TRUE(ledger_->FindByJti("jti-r0").ok());
}

TEST_F(RocksDbLedgerTest, RecordsAndIndexEntriesLiveInTheirOwnColumnFamilies) {
  ASSERT_TRUE(ledger_->Append(Record("r0", kT0, "alice", "allow")).ok());
  ASSERT_TRUE(ledger_->Close().ok());
  RawDb db(tmp_.Sub("ledger"));
  ASSERT_TRUE(db.ok()) << db.status().ToString();
  EXPECT_THAT(db.Keys("default"), ElementsAre("m/layout", ledger_codec::RecordKey(kT0, "r0")));
  const std::string suffix = ledger_codec::RecordKey(kT0, "r0").substr(2);
  EXPECT_THAT(db.Keys("index"),
              ElementsAre(absl::StrCat(ledger_codec::DecisionIndexPrefix("allow"), suffix),
                          ledger_codec::JtiKey("jti-r0"),
                          absl::StrCat(ledger_codec::SubjectIndexPrefix("alice"), suffix),
                          absl::StrCat(ledger_codec::SubjectIndexPrefix("svc:alice"), suffix)));
}

TEST_F(RocksDbLedgerTest, SecondWriterIsRefused) {
  auto second = RocksDbLedger::Open(tmp_.Sub("ledger"));
  EXPECT_EQ(second.status().code(), absl::StatusCode::kUnavailable);
  EXPECT_THAT(second.status().message(), HasSubstr("in use"));
}

TEST_F(RocksDbLedgerTest, ConcurrentAppendsFromEightThreadsAllPresent) {
  constexpr int kThreads = 8, kPerThread = 25;
  std::vector<std::thread> threads;
  std::atomic<int> failures{0};
  for (int t = 0; t < kThreads; ++t) {
    threads.emplace_back([&, t] {
      for (int i = 0; i < kPerThread; ++i) {
        LedgerRecord r = Record(absl::StrCat("t", t, "-", i), kT0 + absl::Microseconds(i),
                                absl::StrCat("sub", t), "allow");
        if (!ledger_->Append(r).ok()) ++failures;
      }
    });
  }
  for (auto& th : threads) th.join();
  EXPECT_EQ(failures.load(), 0);
  LedgerQuery q;
  q.limit = 1000;
  auto all = ledger_->Query(q);
  ASSERT_TRUE(all.ok());
  EXPECT_EQ(all->size(), size_t{kThreads * kPerThread});
  for (int t = 0; t < kThreads; ++t) {
    q.subject = absl::StrCat("sub", t);
    auto mine = ledger_->Query(q);
    ASSERT_TRUE(mine.ok());
    EXPECT_EQ(mine->size(), size_t{kPerThread});
    EXPECT_TRUE(ledger_->FindByJti(absl::StrCat("jti-t", t, "-", kPerThread - 1)).ok());
  }
}

TEST_F(RocksDbLedgerTest, ReadOnlyOpenSeesRecordsWhileWriterRuns) {
  AppendFive();
  auto reader = RocksDbLedger::OpenReadOnly(tmp_.Sub("ledger"));
  ASSERT_TRUE(reader.ok()) << reader.status();
  EXPECT_TRUE((*reader)->Healthy());
  auto all = (*reader)->Query({});
  ASSERT_TRUE(all.ok()) << all.status();
  EXPECT_THAT(Ids(*all), ElementsAre("r4", "r3", "r2", "r1", "r0"));

  // Records appended after the reader opened show up on its next read.
  ASSERT_TRUE(ledger_->Append(Record("r5", kT0 + absl::Seconds(5), "dave", "allow")).ok());
  auto found = (*reader)->FindByJti("jti-r5");
  ASSERT_TRUE(found.ok()) << found.status();
  EXPECT_EQ(found->attested_subject, "dave");
  LedgerQuery q;
  q.limit = 2;
  all = (*reader)->Query(q);
  ASSERT_TRUE(all.ok());
  EXPECT_THAT(Ids(*all), ElementsAre("r5", "r4"));

  EXPECT_EQ((*reader)->Append(Record("x", kT0, "x", "deny")).code(),
            absl::StatusCode::kFailedPrecondition);
  EXPECT_TRUE((*reader)->Close().ok());
  EXPECT_EQ((*reader)->Query({}).status().code(), absl::StatusCode::kUnavailable);
  EXPECT_TRUE(ledger_->Healthy());
}

TEST(RocksDbLedgerOpenTest, ReadOnlyOpenOfMissingLedgerIsNotFound) {
  TempDir tmp;
  auto missing = RocksDbLedger::OpenReadOnly(tmp.Sub("nope"));
  EXPECT_EQ(missing.status().code(), absl::StatusCode::kNotFound);
  EXPECT_THAT(missing.status().message(), HasSubstr("nope"));
  auto empty_dir = RocksDbLedger::OpenReadOnly(tmp.path());
  EXPECT_EQ(empty_dir.status().code(), absl::StatusCode::kNotFound);
  EXPECT_THAT(empty_dir.status().message(), HasSubstr("CURRENT"));
}

TEST(RocksDbLedgerOpenTest, OpenRejectsEmptyPathAndFileInTheWay) {
  TempDir tmp;
  EXPECT_EQ(RocksDbLedger::Open("").status().code(), absl::StatusCode::kInvalidArgument);
  const std::string file = tmp.Sub("file");
  FILE* f = fopen(file.c_str(), "w");
  ASSERT_NE(f, nullptr);
  fclose(f);
  auto opened = RocksDbLedger::Open(file);
  EXPECT_EQ(opened.status().code(), absl::StatusCode::kUnavailable);
  EXPECT_THAT(opened.status().message(), HasSubstr("not a directory"));
  auto nested = RocksDbLedger::Open(tmp.Sub("no/such/parent"));
  EXPECT_EQ(nested.status().code(), absl::StatusCode::kUnavailable);
}

TEST_F(RocksDbLedgerTest, AppendAfterCloseIsUnavailable) {
  ASSERT_TRUE(ledger_->Close().ok());
  EXPECT_TRUE(ledger_->Close().ok());  // idempotent
  EXPECT_FALSE(ledger_->Healthy());
  EXPECT_EQ(ledger_->Append(Record("r", kT0, "a", "deny")).code(), absl::StatusCode::kUnavailable);
  EXPECT_EQ(ledger_->Query({}).status().code(), absl::StatusCode::kUnavailable);
  EXPECT_EQ(ledger_->FindByJti("j").status().code(), absl::StatusCode::kUnavailable);
}

// Queues `n` records r0..r{n-1} with AppendAsync; `statuses` gets each one's
// answer, `answered` counts them.
void AppendManyAsync(RocksDbLedger& ledger, int n, std::vector<absl::Status>& statuses,
                     std::atomic<int>& answered) {
  statuses.assign(n, absl::UnknownError("no answer"));
  for (int i = 0; i < n; ++i) {
    ledger.AppendAsync(Record(absl::StrCat("r", i), kT0 + absl::Seconds(i), "a", "allow"),
                       [&statuses, &answered, i](absl::Status s) {
                         statuses[i] = std::move(s);
                         answered.fetch_add(1);
                       });
  }
}

TEST_F(RocksDbLedgerTest, AppendAsyncAnswersEachRecordOnceItIsStored) {
  std::vector<absl::Status> statuses;
  std::atomic<int> answered{0};
  AppendManyAsync(*ledger_, 200, statuses, answered);
  // Close waits for everything queued before it; the answers came first.
  ASSERT_TRUE(ledger_->Close().ok());
  EXPECT_EQ(answered.load(), 200);
  for (const absl::Status& s : statuses) EXPECT_TRUE(s.ok()) << s;
  auto reopened = RocksDbLedger::Open(tmp_.Sub("ledger"));
  ASSERT_TRUE(reopened.ok()) << reopened.status();
  LedgerQuery all;
  all.limit = 1000;
  auto records = (*reopened)->Query(all);
  ASSERT_TRUE(records.ok()) << records.status();
  EXPECT_EQ(records->size(), 200u);
  auto by_jti = (*reopened)->FindByJti("jti-r137");
  ASSERT_TRUE(by_jti.ok()) << by_jti.status();
  EXPECT_EQ(by_jti->request_id, "r137");
}

TEST(RocksDbLedgerBackPressureTest, AppendsBeyondMaxPendingAreRefusedAndTheLedgerStaysHealthy) {
  TempDir tmp;
  RocksDbLedgerOptions options;
  options.max_pending_appends = 2;
  auto ledger = RocksDbLedger::Open(tmp.Sub("ledger"), options);
  ASSERT_TRUE(ledger.ok()) << ledger.status();
  // A callback that blocks holds the writer, so what follows queues up.
  absl::Notification writer_held, release;
  (*ledger)->AppendAsync(Record("r0", kT0, "a", "allow"), [&](absl::Status) {
    writer_held.Notify();
    release.WaitForNotification();
  });
  writer_held.WaitForNotification();
  std::vector<absl::Status> queued(2);
  std::atomic<int> answered{0};
  for (int i = 0; i < 2; ++i) {
    (*ledger)->AppendAsync(Record(absl::StrCat("q", i), kT0, "a", "allow"), [&, i](absl::Status s) {
      queued[i] = std::move(s);
      answered.fetch_add(1);
    });
  }
  absl::Status refused;
  (*ledger)->AppendAsync(Record("over", kT0, "a", "allow"),
                         [&](absl::Status s) { refused = std::move(s); });
  EXPECT_EQ(refused.code(), absl::StatusCode::kUnavailable);  // inline
  EXPECT_THAT(refused.message(), HasSubstr("2 records waiting"));
  EXPECT_TRUE((*ledger)->Healthy());
  release.Notify();
  ASSERT_TRUE((*ledger)->Close().ok());
  EXPECT_EQ(answered.load(), 2);
  for (const absl::Status& s : queued) EXPECT_TRUE(s.ok()) << s;
  auto reopened = RocksDbLedger::Open(tmp.Sub("ledger"));
  ASSERT_TRUE(reopened.ok()) << reopened.status();
  auto all = (*reopened)->Query({});
  ASSERT_TRUE(all.ok()) << all.status();
  EXPECT_THAT(Ids(*all), ::testing::UnorderedElementsAre("r0", "q0", "q1"));
}

TEST_F(RocksDbLedgerTest, AppendAsyncRefusesInlineWhatItCannotQueue) {
  int calls = 0;
  absl::Status got;
  auto answer = [&](absl::Status s) {
    ++calls;
    got = std::move(s);
  };
  ledger_->AppendAsync(Record("", kT0, "a", "deny"), answer);
  EXPECT_EQ(calls, 1);  // before AppendAsync returned
  EXPECT_EQ(got.code(), absl::StatusCode::kInvalidArgument);
  ASSERT_TRUE(ledger_->Close().ok());
  ledger_->AppendAsync(Record("r", kT0, "a", "deny"), answer);
  EXPECT_EQ(calls, 2);
  EXPECT_EQ(got.code(), absl::StatusCode::kUnavailable);
  EXPECT_THAT(got.message(), HasSubstr("closed"));
}

TEST_F(RocksDbLedgerTest, AppendRejectsIncompleteRecordButStaysHealthy) {
  LedgerRecord r = Record("", kT0, "a", "deny");
  EXPECT_EQ(ledger_->Append(r).code(), absl::StatusCode::kInvalidArgument);
  r = Record("r", absl::InfiniteFuture(), "a", "deny");
  EXPECT_EQ(ledger_->Append(r).code(), absl::StatusCode::kInvalidArgument);
  EXPECT_TRUE(ledger_->Healthy());
}

TEST(RocksDbLedgerFailureTest, WriteFailureFailsClosed) {
  TempDir tmp;
  auto fs = std::make_shared<FailingFileSystem>();
  std::unique_ptr<rocksdb::Env> env = rocksdb::NewCompositeEnv(fs);
  RocksDbLedgerOptions options;
  options.env = env.get();
  auto ledger = RocksDbLedger::Open(tmp.Sub("ledger"), options);
  ASSERT_TRUE(ledger.ok()) << ledger.status();
  ASSERT_TRUE((*ledger)->Append(Record("r0", kT0, "a", "allow")).ok());

  fs->fail = true;
  absl::Status s = (*ledger)->Append(Record("r1", kT0 + absl::Seconds(1), "a", "allow"));
  EXPECT_EQ(s.code(), absl::StatusCode::kUnavailable);
  EXPECT_THAT(s.message(), HasSubstr("fails closed"));
  EXPECT_FALSE((*ledger)->Healthy());

  // The disk comes back; the ledger stays closed until reopened.
  fs->fail = false;
  s = (*ledger)->Append(Record("r2", kT0 + absl::Seconds(2), "a", "allow"));
  EXPECT_EQ(s.code(), absl::StatusCode::kUnavailable);
  EXPECT_FALSE((*ledger)->Healthy());
  (*ledger)->Close().IgnoreError();

  auto reopened = RocksDbLedger::Open(tmp.Sub("ledger"));
  ASSERT_TRUE(reopened.ok()) << reopened.status();
  auto all = (*reopened)->Query({});
  ASSERT_TRUE(all.ok()) << all.status();
  EXPECT_THAT(Ids(*all), ElementsAre("r0"));  // r1 was not acknowledged: not there
}

TEST(RocksDbLedgerFailureTest, WriteFailureAnswersEveryQueuedAppendUnavailable) {
  TempDir tmp;
  auto fs = std::make_shared<FailingFileSystem>();
  std::unique_ptr<rocksdb::Env> env = rocksdb::NewCompositeEnv(fs);
  RocksDbLedgerOptions options;
  options.env = env.get();
  auto ledger = RocksDbLedger::Open(tmp.Sub("ledger"), options);
  ASSERT_TRUE(ledger.ok()) << ledger.status();
  fs->fail = true;
  std::vector<absl::Status> statuses;
  std::atomic<int> answered{0};
  AppendManyAsync(**ledger, 50, statuses, answered);
  (*ledger)->Close().IgnoreError();
  EXPECT_EQ(answered.load(), 50);
  for (const absl::Status& s : statuses) EXPECT_EQ(s.code(), absl::StatusCode::kUnavailable) << s;
  EXPECT_FALSE((*ledger)->Healthy());
}

// Writes `value` under `key` straight into `family` of the RocksDB in `dir`.
void PutRaw(const std::string& dir, const std::string& key, const std::string& value,
            absl::string_view family = "default") {
  RawDb db(dir);
  ASSERT_TRUE(db.ok()) << db.status().ToString();
  ASSERT_TRUE(db.Put(family, key, value));
}

TEST_F(RocksDbLedgerTest, CorruptRecordIsDataLossNamingTheKey) {
  AppendFive();
  ASSERT_TRUE(ledger_->Close().ok());
  const std::string key = ledger_codec::RecordKey(kT0 + absl::Seconds(3), "r3");
  PutRaw(tmp_.Sub("ledger"), key, "{garbage");
  auto reopened = RocksDbLedger::Open(tmp_.Sub("ledger"));
  ASSERT_TRUE(reopened.ok());
  ledger_ = *std::move(reopened);
  auto all = ledger_->Query({});
  EXPECT_EQ(all.status().code(), absl::StatusCode::kDataLoss);
  EXPECT_THAT(all.status().message(), HasSubstr("r/"));
  EXPECT_THAT(all.status().message(), HasSubstr("r3"));
  EXPECT_EQ(ledger_->FindByJti("jti-r3").status().code(), absl::StatusCode::kDataLoss);
  LedgerQuery q;
  q.subject = "carol";
  EXPECT_EQ(ledger_->Query(q).status().code(), absl::StatusCode::kDataLoss);
  // Records elsewhere are still readable.
  q.subject = "alice";
  EXPECT_THAT(QueryIds(q), ElementsAre("r2", "r0"));
}

TEST_F(RocksDbLedgerTest, DanglingIndexIsDataLoss) {
  ASSERT_TRUE(ledger_->Close().ok());
  PutRaw(tmp_.Sub("ledger"), ledger_codec::JtiKey("ghost"), ledger_codec::RecordKey(kT0, "missing"),
         "index");
  PutRaw(tmp_.Sub("ledger"), ledger_codec::JtiKey("bad"), "not-a-key", "index");
  PutRaw(tmp_.Sub("ledger"), absl::StrCat(ledger_codec::SubjectIndexPrefix("x"), "short"), "",
         "index");
  auto reopened = RocksDbLedger::Open(tmp_.Sub("ledger"));
  ASSERT_TRUE(reopened.ok());
  ledger_ = *std::move(reopened);
  auto ghost = ledger_->FindByJti("ghost");
  EXPECT_EQ(ghost.status().code(), absl::StatusCode::kDataLoss);
  EXPECT_THAT(ghost.status().message(), HasSubstr("missing record"));
  EXPECT_EQ(ledger_->FindByJti("bad").status().code(), absl::StatusCode::kDataLoss);
  LedgerQuery q;
  q.subject = "x";
  EXPECT_EQ(ledger_->Query(q).status().code(), absl::StatusCode::kDataLoss);
}

}  // namespace
}  // namespace writ::issuer
