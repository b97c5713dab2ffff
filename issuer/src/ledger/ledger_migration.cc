#include "issuer/src/ledger/ledger_migration.h"

#include <memory>
#include <string>

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

rocksdb::WriteOptions Synced() {
  rocksdb::WriteOptions options;
  options.sync = true;
  return options;
}

// ReadMarker returns the layout marker, "" when there is none.
absl::StatusOr<std::string> ReadMarker(rocksdb::DB* db, rocksdb::ColumnFamilyHandle* records) {
  std::string value;
  rocksdb::Status s = db->Get(rocksdb::ReadOptions(), records, kLayoutKey, &value);
  if (s.IsNotFound()) return std::string();
  if (!s.ok()) {
    return absl::UnavailableError(
        absl::StrCat("cannot read the ledger's layout marker: ", s.ToString()));
  }
  return value;
}

absl::Status WriteMarker(rocksdb::DB* db, rocksdb::ColumnFamilyHandle* records,
                         absl::string_view value) {
  rocksdb::Status s =
      db->Put(Synced(), records, kLayoutKey, rocksdb::Slice(value.data(), value.size()));
  return s.ok() ? absl::OkStatus() : Unavailable(s, "writing the layout marker");
}

// MovePrefix moves every entry of `records` starting with `prefix` (which
// does not end in 0xff), adds their number to `*moved`, then compacts the
// prefix's range of `records`.
absl::Status MovePrefix(rocksdb::DB* db, rocksdb::ColumnFamilyHandle* records,
                        rocksdb::ColumnFamilyHandle* index, absl::string_view prefix,
                        uint64_t* moved, const Progress& progress) {
  std::string upper(prefix);
  upper.back() = static_cast<char>(upper.back() + 1);
  const rocksdb::Slice lower_slice(prefix.data(), prefix.size()), upper_slice(upper);
  rocksdb::ReadOptions read_options;
  read_options.iterate_lower_bound = &lower_slice;
  read_options.iterate_upper_bound = &upper_slice;
  // The iterator reads a snapshot, so the deletes below do not disturb it.
  std::unique_ptr<rocksdb::Iterator> it(db->NewIterator(read_options, records));
  it->SeekToFirst();
  while (it->Valid()) {
    rocksdb::WriteBatch batch;
    for (int n = 0; n < kBatchEntries && it->Valid(); ++n, it->Next()) {
      rocksdb::Status s = batch.Put(index, it->key(), it->value());
      if (s.ok()) s = batch.Delete(records, it->key());
      if (!s.ok()) return Unavailable(s, "building a batch");
      ++*moved;
    }
    if (rocksdb::Status s = db->Write(Synced(), &batch); !s.ok()) {
      return Unavailable(s, "writing a batch");
    }
    if (progress) progress(*moved);
  }
  if (!it->status().ok()) return Unavailable(it->status(), "reading");
  it.reset();  // unpins the files the compaction replaces
  rocksdb::Status s =
      db->CompactRange(rocksdb::CompactRangeOptions(), records, &lower_slice, &upper_slice);
  return s.ok() ? absl::OkStatus() : Unavailable(s, "compacting the emptied range");
}

}  // namespace

absl::Status MarkIndexed(rocksdb::DB* db, rocksdb::ColumnFamilyHandle* records) {
  return WriteMarker(db, records, kLayoutIndexed);
}

absl::StatusOr<uint64_t> MoveToIndexedLayout(rocksdb::DB* db, rocksdb::ColumnFamilyHandle* records,
                                             rocksdb::ColumnFamilyHandle* index,
                                             const Progress& progress) {
  absl::StatusOr<std::string> marker = ReadMarker(db, records);
  if (!marker.ok()) return marker.status();
  if (*marker == kLayoutIndexed) return 0;
  // Before the first delete, so a reader of the old layout stops trusting it.
  if (*marker != kLayoutMoving) {
    if (absl::Status s = WriteMarker(db, records, kLayoutMoving); !s.ok()) return s;
  }
  if (progress) progress(0);
  uint64_t moved = 0;
  for (absl::string_view prefix :
       {codec::kJtiPrefix, codec::kSubjectPrefix, codec::kDecisionPrefix}) {
    if (absl::Status s = MovePrefix(db, records, index, prefix, &moved, progress); !s.ok()) {
      return s;
    }
  }
  if (absl::Status s = MarkIndexed(db, records); !s.ok()) return s;
  return moved;
}

absl::Status CheckReadable(rocksdb::DB* db, rocksdb::ColumnFamilyHandle* records,
                           bool has_index_family) {
  absl::StatusOr<std::string> marker = ReadMarker(db, records);
  if (!marker.ok()) return marker.status();
  if (has_index_family) {
    if (*marker == kLayoutIndexed) return absl::OkStatus();
    return absl::FailedPreconditionError(
        "the ledger's index entries are being moved into their own column family, or a move "
        "was interrupted; let writ-issuer finish starting on this ledger, then try again");
  }
  if (marker->empty()) return absl::OkStatus();
  return absl::FailedPreconditionError(
      "the ledger was moved to a new layout since this reader opened it; open it again");
}

}  // namespace writ::issuer::ledger_migration
