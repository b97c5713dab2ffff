// The ledger's storage layout, and moving a ledger written before the index
// column family into today's.
//
// Until 2026-12 every key lived in RocksDB's default column family: the
// time-ordered records (r/) interleaved with the index entries (j/, s/, d/),
// so each new table file overlapped every older one and each level-0 →
// level-1 compaction rewrote all of level 1. Today records stay in the
// default family and the index entries live in the "index" family
// (ledger_codec.h), so records reach level 1 by moving files, not rewriting
// them.
//
// The layout marker (key m/layout in the default family) says where a ledger
// stands: absent in the old layout, "moving" while its index entries are being
// moved, "indexed" once they all live in the index family and the emptied
// ranges are compacted. A reader uses it to refuse, rather than silently
// under-report, a ledger whose index is incomplete.
#ifndef WRIT_ISSUER_LEDGER_LEDGER_MIGRATION_H_
#define WRIT_ISSUER_LEDGER_LEDGER_MIGRATION_H_

#include <cstdint>
#include <functional>

#include "absl/status/status.h"
#include "absl/status/statusor.h"

namespace rocksdb {
class ColumnFamilyHandle;
class DB;
}  // namespace rocksdb

namespace writ::issuer::ledger_migration {

// The column family that holds the index entries.
inline constexpr char kIndexFamily[] = "index";
// The layout marker's key (in the default family) and values.
inline constexpr char kLayoutKey[] = "m/layout";
inline constexpr char kLayoutMoving[] = "moving";
inline constexpr char kLayoutIndexed[] = "indexed";

// Progress is told 0 when a move starts, then the number of entries moved so
// far after each batch.
using Progress = std::function<void(uint64_t moved)>;

// MarkIndexed writes the "indexed" marker (synced): for a ledger created
// today, which has nothing to move.
absl::Status MarkIndexed(rocksdb::DB* db, rocksdb::ColumnFamilyHandle* records);

// MoveToIndexedLayout brings a ledger to the "indexed" layout unless the
// marker already says so (one Get). Otherwise it writes "moving", moves every
// j/, s/ and d/ entry of `records` (the default family) into `index` in synced
// batches that each put a set of entries into `index` and delete them from
// `records` atomically, compacts the emptied key ranges of `records` so their
// tombstones do not linger, and writes "indexed". At any moment each entry is
// in exactly one family, so an interrupted move is safe and the next call
// finishes it, compaction included. Returns how many entries moved.
// kUnavailable on a RocksDB error. `progress` may be empty.
absl::StatusOr<uint64_t> MoveToIndexedLayout(rocksdb::DB* db, rocksdb::ColumnFamilyHandle* records,
                                             rocksdb::ColumnFamilyHandle* index,
                                             const Progress& progress);

// CheckReadable says whether a reader of `db` may trust its index entries:
// `has_index_family` tells which layout the reader opened (with the index
// family, or the old one). OK for the old layout without a marker, and for
// the index family with the "indexed" marker; kFailedPrecondition, saying
// what to do, while a move is under way or was interrupted, and for an
// old-layout reader once the ledger has started moving (open it again).
// kUnavailable when the marker cannot be read.
absl::Status CheckReadable(rocksdb::DB* db, rocksdb::ColumnFamilyHandle* records,
                           bool has_index_family);

}  // namespace writ::issuer::ledger_migration

#endif  // WRIT_ISSUER_LEDGER_LEDGER_MIGRATION_H_
