// Moving a ledger written before the index column family into today's layout.
//
// Until 2026-12 every key lived in RocksDB's default column family: the
// time-ordered records (r/) interleaved with the index entries (j/, s/, d/),
// so each new table file overlapped every older one and each level-0 →
// level-1 compaction rewrote all of level 1. Today records stay in the
// default family and the index entries live in the "index" family
// (ledger_codec.h), so records reach level 1 by moving files, not rewriting
// them. MoveIndexEntries carries the index entries of an older ledger over.
#ifndef WRIT_ISSUER_LEDGER_LEDGER_MIGRATION_H_
#define WRIT_ISSUER_LEDGER_LEDGER_MIGRATION_H_

#include <cstdint>

#include "absl/status/statusor.h"

namespace rocksdb {
class ColumnFamilyHandle;
class DB;
}  // namespace rocksdb

namespace writ::issuer::ledger_migration {

// The column family that holds the index entries.
inline constexpr char kIndexFamily[] = "index";

// MoveIndexEntries moves every j/, s/ and d/ entry of `records` (the default
// family) into `index`, in synced batches that each put a set of entries into
// `index` and delete them from `records` atomically: at any moment each entry
// is in exactly one family, so an interrupted move is safe and the next call
// finishes it. When anything moved, the emptied key ranges of `records` are
// compacted so their tombstones do not linger. Returns how many entries moved
// (0, after three seeks, for a ledger that is already in today's layout).
// kUnavailable on a RocksDB error.
absl::StatusOr<uint64_t> MoveIndexEntries(rocksdb::DB* db, rocksdb::ColumnFamilyHandle* records,
                                          rocksdb::ColumnFamilyHandle* index);

}  // namespace writ::issuer::ledger_migration

#endif  // WRIT_ISSUER_LEDGER_LEDGER_MIGRATION_H_
