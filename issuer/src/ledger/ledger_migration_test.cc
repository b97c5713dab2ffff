// A ledger written before the index column family (every key in the default
// family) is read as it is by a reader, and moved into today's layout by the
// first read-write open; an interrupted move is finished; a ledger with a
// family this version does not know is refused.
#include "issuer/src/ledger/ledger_migration.h"

#include <memory>
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "issuer/src/ledger/ledger_codec.h"
#include "issuer/src/ledger/ledger_test_util.h"
#include "issuer/src/ledger/rocksdb_ledger.h"

namespace writ::issuer {
namespace {

namespace codec = ledger_codec;
using ::testing::AllOf;
using ::testing::Each;
using ::testing::ElementsAre;
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
  // A reader before any read-write open: reads the old layout.
  {
    auto reader = RocksDbLedger::OpenReadOnly(dir);
    ASSERT_TRUE(reader.ok()) << reader.status();
    ExpectAllReadable(**reader);
  }
  auto ledger = RocksDbLedger::Open(dir);
  ASSERT_TRUE(ledger.ok()) << ledger.status();
  EXPECT_EQ((*ledger)->MovedIndexEntries(), entries);
  ExpectAllReadable(**ledger);
  ASSERT_TRUE((*ledger)->Append(Record(7)).ok());  // allowed: 4 index entries
  ASSERT_TRUE((*ledger)->Close().ok());
  {
    RawDb db(dir);
    ASSERT_TRUE(db.ok()) << db.status().ToString();
    EXPECT_THAT(db.Keys("default"), AllOf(SizeIs(7), Each(StartsWith("r/"))));
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

TEST(LedgerMigrationTest, AnInterruptedMoveIsFinished) {
  TempDir tmp;
  const std::string dir = tmp.Sub("ledger");
  int left_behind = 0;
  {
    // Half the records' entries already moved, half still in the default family.
    RawDb db(dir, {"index"});
    ASSERT_TRUE(db.ok()) << db.status().ToString();
    for (int i = 0; i < 6; ++i) {
      const int n = WriteOldLayout(db, Record(i), i < 3 ? "index" : "default");
      if (i >= 3) left_behind += n;
    }
  }
  auto ledger = RocksDbLedger::Open(dir);
  ASSERT_TRUE(ledger.ok()) << ledger.status();
  EXPECT_EQ((*ledger)->MovedIndexEntries(), left_behind);
  ExpectAllReadable(**ledger);
  ASSERT_TRUE((*ledger)->Close().ok());
  RawDb db(dir);
  ASSERT_TRUE(db.ok()) << db.status().ToString();
  EXPECT_THAT(db.Keys("default"), AllOf(SizeIs(6), Each(StartsWith("r/"))));
}

TEST(LedgerMigrationTest, ManyEntriesMoveInSeveralBatches) {
  TempDir tmp;
  const std::string dir = tmp.Sub("ledger");
  constexpr int kJtis = 10000;  // more than one batch
  {
    RawDb db(dir);
    ASSERT_TRUE(db.ok()) << db.status().ToString();
    for (int i = 0; i < kJtis; ++i) {
      ASSERT_TRUE(db.Put("default", codec::JtiKey(absl::StrCat("j", i)), "r/x"));
    }
  }
  auto ledger = RocksDbLedger::Open(dir);
  ASSERT_TRUE(ledger.ok()) << ledger.status();
  EXPECT_EQ((*ledger)->MovedIndexEntries(), kJtis);
  ASSERT_TRUE((*ledger)->Close().ok());
  RawDb db(dir);
  ASSERT_TRUE(db.ok());
  EXPECT_THAT(db.Keys("default"), ElementsAre());
  EXPECT_THAT(db.Keys("index"), SizeIs(kJtis));
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

}  // namespace
}  // namespace writ::issuer
