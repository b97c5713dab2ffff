#include "issuer/src/ledger/ledger_migration.h"

#include <memory>
#include <string>

#include "absl/status/status.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/string_view.h"
#include "issuer/src/ledger/ledger_codec.h"
#include "rocksdb/db.h"
#include "rocksdb/write_batch.h"

namespace writ::issuer::ledger_migration {
namespace {

namespace codec = ledger_codec;

// Entries per batch: a few hundred KiB, so a batch never holds much memory
// and an interrupted move loses no more than one batch of work.
constexpr int kBatchEntries = 4096;

absl::Status Unavailable(const rocksdb::Status& s, absl::string_view what) {
  return absl::UnavailableError(
      absl::StrCat("cannot move the ledger's index entries (", what, "): ", s.ToString()));
}

// MovePrefix moves every entry of `records` starting with `prefix` (which
// does not end in 0xff) and adds their number to `*moved`.
absl::Status MovePrefix(rocksdb::DB* db, rocksdb::ColumnFamilyHandle* records,
                        rocksdb::ColumnFamilyHandle* index, absl::string_view prefix,
                        uint64_t* moved) {
  std::string upper(prefix);
  upper.back() = static_cast<char>(upper.back() + 1);
  const rocksdb::Slice lower_slice(prefix.data(), prefix.size()), upper_slice(upper);
  rocksdb::ReadOptions read_options;
  read_options.iterate_lower_bound = &lower_slice;
  read_options.iterate_upper_bound = &upper_slice;
  // The iterator reads a snapshot, so the deletes below do not disturb it.
  std::unique_ptr<rocksdb::Iterator> it(db->NewIterator(read_options, records));
  rocksdb::WriteOptions write_options;
  write_options.sync = true;
  const uint64_t before = *moved;
  it->SeekToFirst();
  while (it->Valid()) {
    rocksdb::WriteBatch batch;
    for (int n = 0; n < kBatchEntries && it->Valid(); ++n, it->Next()) {
      rocksdb::Status s = batch.Put(index, it->key(), it->value());
      if (s.ok()) s = batch.Delete(records, it->key());
      if (!s.ok()) return Unavailable(s, "building a batch");
      ++*moved;
    }
    if (rocksdb::Status s = db->Write(write_options, &batch); !s.ok()) {
      return Unavailable(s, "writing a batch");
    }
  }
  if (!it->status().ok()) return Unavailable(it->status(), "reading");
  if (*moved == before) return absl::OkStatus();
  rocksdb::Status s =
      db->CompactRange(rocksdb::CompactRangeOptions(), records, &lower_slice, &upper_slice);
  return s.ok() ? absl::OkStatus() : Unavailable(s, "compacting the emptied range");
}

}  // namespace

absl::StatusOr<uint64_t> MoveIndexEntries(rocksdb::DB* db, rocksdb::ColumnFamilyHandle* records,
                                          rocksdb::ColumnFamilyHandle* index) {
  uint64_t moved = 0;
  for (absl::string_view prefix :
       {codec::kJtiPrefix, codec::kSubjectPrefix, codec::kDecisionPrefix}) {
    absl::Status s = MovePrefix(db, records, index, prefix, &moved);
    if (!s.ok()) return s;
  }
  return moved;
}

}  // namespace writ::issuer::ledger_migration
