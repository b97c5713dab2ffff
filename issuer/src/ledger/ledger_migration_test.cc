// A ledger written before the index column family (every key in the default
// family) is read as it is by a reader, and moved into today's layout by the
// first read-write open; an interrupted move is finished; readers refuse a
// ledger whose index is incomplete; a ledger with a family this version does
// not know is refused.
#include "issuer/src/ledger/ledger_migration.h"

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "issuer/src/ledger/ledger_codec.h"
#include "issuer/src/ledger/ledger_test_util.h"
#include "issuer/src/ledger/rocksdb_ledger.h"
#include "rocksdb/env.h"

namespace writ::issuer {
namespace {

namespace codec = ledger_codec;
using ::testing::AllOf;
using ::testing::Each;
using ::testing::ElementsAre;
using ::testing::ElementsAreArray;
using ::testing::HasSubstr;
using ::testing::SizeIs;
using ::testing::StartsWith;

const absl::Time kT0 = absl::FromUnixSeconds(1714564800);

LedgerRecord Record(int i) {
  LedgerRecord r;
  r.time = kT0 + absl::Seconds(i);
  r.request_id = absl::StrCat("req-", i);
  r.transport = "http";
  r.attested_issuer = "https://issuer.example";
  r.attested_subject = i % 2 == 0 ? "even" : "odd";
  r.decision = i % 3 == 0 ? "deny" : "allow";
  if (r.decision == "allow") {
    r.granted_subject = absl::StrCat("svc:", r.attested_subject);
    r.jti = absl::StrCat("jti-", i);
  }
  return r;
}

// WriteOldLayout writes `r` as Writ wrote it before the index family: the
// record and its index entries all in the default family. Returns how many
// index entries it wrote.
int WriteOldLayout(RawDb& db, const LedgerRecord& r, absl::string_view index_family = "default") {
  const std::string key = codec::RecordKey(r.time, r.request_id);
  const std::string suffix = key.substr(codec::kRecordPrefix.size());
  EXPECT_TRUE(db.Put("default", key, codec::EncodeRecord(r)));
  int entries = 2;
  EXPECT_TRUE(db.Put(index_family,
                     absl::StrCat(codec::SubjectIndexPrefix(r.attested_subject), suffix), ""));
  EXPECT_TRUE(
      db.Put(index_family, absl::StrCat(codec::DecisionIndexPrefix(r.decision), suffix), ""));
  if (!r.jti.empty()) {
    EXPECT_TRUE(db.Put(index_family, codec::JtiKey(r.jti), key));
    ++entries;
  }
  if (!r.granted_subject.empty()) {
    EXPECT_TRUE(db.Put(index_family,
                       absl::StrCat(codec::SubjectIndexPrefix(r.granted_subject), suffix), ""));
    ++entries;
  }
  return entries;
}

// ExpectAllReadable checks that the six records of the tests are found
// through every index and the time order.
void ExpectAllReadable(const Ledger& ledger) {
  auto all = ledger.Query({});
  ASSERT_TRUE(all.ok()) << all.status();
  EXPECT_THAT(*all, SizeIs(6));
  LedgerQuery by_subject;
  by_subject.subject = "even";
  auto even = ledger.Query(by_subject);
  ASSERT_TRUE(even.ok()) << even.status();
  EXPECT_THAT(*even, SizeIs(3));
  by_subject.subject = "svc:odd";
  auto granted = ledger.Query(by_subject);
  ASSERT_TRUE(granted.ok()) << granted.status();
  EXPECT_THAT(*granted, SizeIs(2));  // 1 and 5 (3 is denied)
  LedgerQuery by_decision;
  by_decision.decision = "deny";
  auto denied = ledger.Query(by_decision);
  ASSERT_TRUE(denied.ok()) << denied.status();
  EXPECT_THAT(*denied, SizeIs(2));  // 0 and 3
  auto found = ledger.FindByJti("jti-4");
  ASSERT_TRUE(found.ok()) << found.status();
  EXPECT_EQ(found->request_id, "req-4");
}

TEST(LedgerMigrationTest, OldLayoutIsReadAsItIsThenMovedByTheFirstWriter) {
  TempDir tmp;
  const std::string dir = tmp.Sub("ledger");
  int entries = 0;
  {
    RawDb db(dir);
    ASSERT_TRUE(db.ok()) << db.status().ToString();
    for (int i = 0; i < 6; ++i) entries += WriteOldLayout(db, Record(i));
  }
  // A reader before any read-write open reads the old layout.
  auto old_reader = RocksDbLedger::OpenReadOnly(dir);
  ASSERT_TRUE(old_reader.ok()) << old_reader.status();
  ExpectAllReadable(**old_reader);

  auto ledger = RocksDbLedger::Open(dir);
  ASSERT_TRUE(ledger.ok()) << ledger.status();
  EXPECT_EQ((*ledger)->MovedIndexEntries(), entries);
  ExpectAllReadable(**ledger);
  // The old reader cannot see the index family: it refuses rather than
  // answer "not found".
  auto stale = (*old_reader)->FindByJti("jti-4");
  EXPECT_EQ(stale.status().code(), absl::StatusCode::kFailedPrecondition);
  EXPECT_THAT(stale.status().message(), HasSubstr("open it again"));
  EXPECT_EQ((*old_reader)->Query({}).status().code(), absl::StatusCode::kFailedPrecondition);

  ASSERT_TRUE((*ledger)->Append(Record(7)).ok());  // allowed: 4 index entries
  ASSERT_TRUE((*ledger)->Close().ok());
  {
    RawDb db(dir);
    ASSERT_TRUE(db.ok()) << db.status().ToString();
    std::vector<std::string> keys = db.Keys("default");
    ASSERT_FALSE(keys.empty());
    EXPECT_EQ(keys.front(), "m/layout");
    EXPECT_THAT(std::vector<std::string>(keys.begin() + 1, keys.end()),
                AllOf(SizeIs(7), Each(StartsWith("r/"))));
    EXPECT_THAT(db.Keys("index"), SizeIs(entries + 4));
  }
  // The next open has nothing to move, and a reader now reads the new layout.
  auto reopened = RocksDbLedger::Open(dir);
  ASSERT_TRUE(reopened.ok()) << reopened.status();
  EXPECT_EQ((*reopened)->MovedIndexEntries(), 0);
  auto reader = RocksDbLedger::OpenReadOnly(dir);
  ASSERT_TRUE(reader.ok()) << reader.status();
  auto found = (*reader)->FindByJti("jti-7");
  ASSERT_TRUE(found.ok()) << found.status();
  EXPECT_EQ(found->request_id, "req-7");
}

TEST(LedgerMigrationTest, AHalfMovedLedgerIsRefusedByReadersAndFinishedByTheWriter) {
  TempDir tmp;
  const std::string dir = tmp.Sub("ledger");
  int left_behind = 0;
  {
    // Half the records' entries already moved, half still in the default family.
    RawDb db(dir, {"index"});
    ASSERT_TRUE(db.ok()) << db.status().ToString();
    ASSERT_TRUE(db.Put("default", "m/layout", "moving"));
    for (int i = 0; i < 6; ++i) {
      const int n = WriteOldLayout(db, Record(i), i < 3 ? "index" : "default");
      if (i >= 3) left_behind += n;
    }
  }
  auto reader = RocksDbLedger::OpenReadOnly(dir);
  EXPECT_EQ(reader.status().code(), absl::StatusCode::kFailedPrecondition);
  EXPECT_THAT(reader.status().message(), HasSubstr("being moved"));

  auto ledger = RocksDbLedger::Open(dir);
  ASSERT_TRUE(ledger.ok()) << ledger.status();
  EXPECT_EQ((*ledger)->MovedIndexEntries(), left_behind);
  ExpectAllReadable(**ledger);
  reader = RocksDbLedger::OpenReadOnly(dir);
  ASSERT_TRUE(reader.ok()) << reader.status();
  ExpectAllReadable(**reader);
}

TEST(LedgerMigrationTest, AMoveThatFailsMidwayLeavesNothingLostAndTheNextOpenFinishesIt) {
  TempDir tmp;
  const std::string dir = tmp.Sub("ledger");
  constexpr int kJtis = 10000;  // three batches
  {
    RawDb db(dir);
    ASSERT_TRUE(db.ok()) << db.status().ToString();
    for (int i = 0; i < kJtis; ++i) {
      ASSERT_TRUE(db.Put("default", codec::JtiKey(absl::StrCat("j", i)), "r/x"));
    }
  }
  auto fs = std::make_shared<FailingFileSystem>();
  std::unique_ptr<rocksdb::Env> env = rocksdb::NewCompositeEnv(fs);
  RocksDbLedgerOptions options;
  options.env = env.get();
  std::vector<uint64_t> progress;
  options.on_index_move = [&](uint64_t moved) {
    progress.push_back(moved);
    if (moved > 0) fs->fail = true;  // the disk goes away after the first batch
  };
  auto failed = RocksDbLedger::Open(dir, options);
  EXPECT_EQ(failed.status().code(), absl::StatusCode::kUnavailable);
  EXPECT_THAT(failed.status().message(), AllOf(HasSubstr(dir), HasSubstr("index entries")));
  EXPECT_THAT(progress, ElementsAre(0, 4096));
  {
    RawDb db(dir);
    ASSERT_TRUE(db.ok()) << db.status().ToString();
    const size_t in_default = db.Keys("default").size() - 1;  // without the marker
    EXPECT_EQ(in_default + db.Keys("index").size(), kJtis);
    EXPECT_EQ(db.Keys("index").size(), 4096u);
  }

  progress.clear();
  options.env = nullptr;
  auto ledger = RocksDbLedger::Open(dir, options);
  ASSERT_TRUE(ledger.ok()) << ledger.status();
  EXPECT_EQ((*ledger)->MovedIndexEntries(), kJtis - 4096);
  EXPECT_THAT(progress, ElementsAre(0, 8192 - 4096, kJtis - 4096));
  ASSERT_TRUE((*ledger)->Close().ok());
  RawDb db(dir);
  ASSERT_TRUE(db.ok());
  EXPECT_THAT(db.Keys("default"), ElementsAre("m/layout"));
  EXPECT_THAT(db.Keys("index"), SizeIs(kJtis));
}

TEST(LedgerMigrationTest, ANewLedgerIsMarkedIndexedAndNothingMoves) {
  TempDir tmp;
  const std::string dir = tmp.Sub("ledger");
  RocksDbLedgerOptions options;
  int calls = 0;
  options.on_index_move = [&](uint64_t) { ++calls; };
  {
    auto ledger = RocksDbLedger::Open(dir, options);
    ASSERT_TRUE(ledger.ok()) << ledger.status();
    EXPECT_EQ((*ledger)->MovedIndexEntries(), 0);
  }
  EXPECT_EQ(calls, 0);
  {
    RawDb db(dir);
    ASSERT_TRUE(db.ok());
    EXPECT_THAT(db.Keys("default"), ElementsAre("m/layout"));
  }
  auto reader = RocksDbLedger::OpenReadOnly(dir);
  EXPECT_TRUE(reader.ok()) << reader.status();
}

TEST(LedgerMigrationTest, AFamilyThisVersionDoesNotKnowIsRefused) {
  TempDir tmp;
  const std::string dir = tmp.Sub("ledger");
  {
    RawDb db(dir, {"index", "records-v9"});
    ASSERT_TRUE(db.ok()) << db.status().ToString();
  }
  auto ledger = RocksDbLedger::Open(dir);
  EXPECT_EQ(ledger.status().code(), absl::StatusCode::kFailedPrecondition);
  EXPECT_THAT(ledger.status().message(), AllOf(HasSubstr("records-v9"), HasSubstr("newer")));
  auto reader = RocksDbLedger::OpenReadOnly(dir);
  EXPECT_EQ(reader.status().code(), absl::StatusCode::kFailedPrecondition);
  EXPECT_THAT(reader.status().message(), HasSubstr("records-v9"));
}

TEST(LedgerMigrationTest, ALedgerWhoseFamiliesCannotBeReadIsAClearError) {
  TempDir tmp;
  const std::string dir = tmp.Sub("ledger");
  { ASSERT_TRUE(RawDb(dir).ok()); }
  FILE* current = fopen((dir + "/CURRENT").c_str(), "w");
  ASSERT_NE(current, nullptr);
  fputs("MANIFEST-999999\n", current);  // names a manifest that is not there
  fclose(current);
  const absl::Status writer = RocksDbLedger::Open(dir).status();
  EXPECT_FALSE(writer.ok());
  EXPECT_THAT(writer.message(), HasSubstr(dir)) << writer;
  const absl::Status reader = RocksDbLedger::OpenReadOnly(dir).status();
  EXPECT_FALSE(reader.ok());
  EXPECT_THAT(reader.message(), HasSubstr(dir)) << reader;
}

}  // namespace
}  // namespace writ::issuer
