// RocksDbLedger: the Ledger on RocksDB, one database directory per issuer.
//
// Layout (keys, value format, column families): ledger_codec.h. Records live
// in the default column family, index entries in the "index" family; each
// Append is one atomic WriteBatch across both holding the record and all its
// index entries, so a reader never sees a record without its indexes or the
// reverse. A ledger written before the index family existed is moved into
// this layout when it is opened read-write (ledger_migration.h).
//
// Durability: with `sync` (the default) Append returns OK only once the
// batch is in the WAL and fsync'ed. Appends are group-committed by one
// writer thread of the ledger's: callers encode their record and queue it,
// and the writer puts everything queued since its last write into one
// WriteBatch, one WAL write and one fsync, then answers each caller. So
// throughput grows with the number of concurrent callers, and a caller
// waits (or, with AppendAsync, does not) without spinning.
//
// Failure: after any failed write the ledger fails closed: Healthy() turns
// false for good and every later Append returns kUnavailable without
// touching the database. Reopen to recover.
//
// Readers: Open() gives the issuer's read-write handle (one process at a
// time: RocksDB's LOCK file). OpenReadOnly() gives operators a RocksDB
// *secondary* instance that works while the issuer holds the database open,
// and catches up with the primary's WAL before every FindByJti/Query.
//
// Thread-safety: every method may be called from any thread, Close()
// included (it waits for Appends in flight), except that an AppendAsync
// callback must not call Close() or the destructor.
#ifndef WRIT_ISSUER_LEDGER_ROCKSDB_LEDGER_H_
#define WRIT_ISSUER_LEDGER_ROCKSDB_LEDGER_H_

#include <algorithm>
#include <atomic>
#include <cstddef>
#include <cstdint>
#include <functional>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <utility>
#include <vector>

#include "absl/base/thread_annotations.h"
#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/time.h"
#include "issuer/src/ledger/ledger.h"

namespace rocksdb {
class ColumnFamilyHandle;
class DB;
class Env;
class RateLimiter;
}  // namespace rocksdb

namespace writ::issuer {

struct RocksDbLedgerOptions {
  // sync: every Append is on stable storage (WAL fsync'ed) before it returns.
  // Turning it off survives a process crash but not a power loss.
  // Default: true.
  bool sync = true;
  // write_buffer_bytes: memtable size, for each of the two column families.
  // Records are ~1 KiB, so 16 MiB holds ~16k decisions before a flush; their
  // ~4 index entries take ~220 B of memtable each, so the index family
  // flushes about a third as often. Default: 16 MiB.
  size_t write_buffer_bytes = 16 << 20;
  // block_cache_bytes: LRU cache for data blocks, shared by reads. Default: 8 MiB.
  size_t block_cache_bytes = 8 << 20;
  // bloom_bits_per_key: Bloom filter in each table, for FindByJti point
  // lookups; 0 disables it. Default: 10 (~1% false positives).
  int bloom_bits_per_key = 10;
  // max_background_jobs: flush + compaction threads. Default: 2.
  int max_background_jobs = 2;
  // background_write_bytes_per_sec: the ceiling of a RocksDB rate limiter on
  // what flushes and compactions write. It tunes itself between 1/20 of this
  // and this by recent demand, and lets a flush or compaction write in
  // ~64 KiB steps at that pace: on a small machine one unpaced flush of the
  // index takes a core for 100 ms or more, and every request behind it
  // waits. The WAL is never limited. The tuner moves 5% a second, so a
  // flush after an idle spell starts near the floor; up to four memtables
  // per family may wait for it before writes stop (Close flushes at the
  // ceiling). 0 disables it. Default: 160 MiB/s (so at least 8 MiB/s).
  int64_t background_write_bytes_per_sec = int64_t{160} << 20;
  // commit_delay, commit_group: group commit under load. When records
  // arrived while the writer was writing the last group (callers come
  // faster than fsyncs finish) and fewer than commit_group are queued, it
  // waits up to commit_delay for more before it writes, so one fsync
  // carries several records where it would carry one or two. Each fsync
  // costs CPU (three block requests on a virtual disk), so at moderate load
  // this trades up to commit_delay of latency for fewer fsyncs. A record
  // that finds the writer idle, e.g. from a caller that waits for each
  // answer before the next, is never held; but a few such callers (2 to 7
  // with the defaults) answer in each other's fsyncs, so theirs may each
  // wait the whole delay. commit_delay 0 disables it; at most 1 min.
  // Default: 300 us, 8.
  absl::Duration commit_delay = absl::Microseconds(300);
  size_t commit_group = 8;
  // max_pending_appends: records queued for the writer at most. When the
  // disk stalls, more are refused at once (kUnavailable: a 503) instead of
  // piling up in memory with ever longer waits. Default: 4096.
  size_t max_pending_appends = 4096;
  // env: the RocksDB Env (tests inject a failing file system). Not owned; must
  // outlive the ledger. Default: nullptr (rocksdb::Env::Default()).
  rocksdb::Env* env = nullptr;
  // on_index_move: told 0 when Open starts moving an older ledger's index
  // entries into the index family (ledger_migration.h), then the number moved
  // so far after each batch of 4096, on Open's thread. Default: none.
  std::function<void(uint64_t moved)> on_index_move;
};

class RocksDbLedger final : public Ledger {
 public:
  // Open opens (creating it, and `dir` with mode 0700, when missing) the
  // read-write ledger in `dir`. Returns kInvalidArgument for an empty `dir`,
  // kUnavailable when the directory cannot be created or the database cannot
  // be opened (e.g. another process holds it: the message says so) or its
  // index entries cannot be moved into today's layout, kDataLoss when RocksDB
  // reports corruption, kFailedPrecondition when the ledger has a column
  // family this version does not know (a newer Writ wrote it).
  static absl::StatusOr<std::unique_ptr<RocksDbLedger>> Open(
      absl::string_view dir, const RocksDbLedgerOptions& options = {});

  // OpenReadOnly opens the existing ledger in `dir` as a RocksDB secondary
  // instance; safe while another process has it open read-write. Its private
  // state lives in a fresh temporary directory, removed by Close(). Append
  // returns kFailedPrecondition. A ledger that no read-write open has moved
  // into today's layout yet is read in its old one. Returns kNotFound when
  // `dir` holds no ledger, kFailedPrecondition as for Open, and (here and from
  // every later read) while the issuer is moving its index entries or after
  // a move was interrupted (ledger_migration::CheckReadable), kUnavailable
  // for other open failures.
  static absl::StatusOr<std::unique_ptr<RocksDbLedger>> OpenReadOnly(absl::string_view dir);

  RocksDbLedger(const RocksDbLedger&) = delete;
  RocksDbLedger& operator=(const RocksDbLedger&) = delete;
  // Closes the ledger (see Close).
  ~RocksDbLedger() override;

  // Append: see Ledger. Additionally returns kInvalidArgument (and stays
  // healthy) for a record without request_id or with an infinite time, and
  // kFailedPrecondition on a read-only ledger.
  absl::Status Append(const LedgerRecord& record) override;

  // AppendAsync: see Ledger. `done` runs on the ledger's writer thread after
  // the group's fsync, except for errors found before queueing (bad record,
  // failed or closed ledger), which run `done` inline.
  void AppendAsync(const LedgerRecord& record, AppendDone done) override;
  // FindByJti: see Ledger. kInvalidArgument for an empty jti, kDataLoss (naming
  // the key) for a corrupt record or dangling index, kUnavailable when closed.
  absl::StatusOr<LedgerRecord> FindByJti(absl::string_view jti) const override;
  // Query: see Ledger. Uses the subject index when a subject is set, else the
  // decision index, else the time-ordered records; every set filter is then
  // checked on the record itself. kDataLoss as for FindByJti.
  absl::StatusOr<std::vector<LedgerRecord>> Query(const LedgerQuery& query) const override;
  // Healthy: see Ledger. True for an open read-only ledger (it serves reads).
  bool Healthy() const override;

  // MovedIndexEntries is how many index entries Open moved out of the
  // default column family (0 unless the ledger was in the old layout).
  uint64_t MovedIndexEntries() const { return moved_index_entries_; }
  // GroupsWritten is how many batches (each one WAL write, and one fsync
  // under `sync`) the writer has committed.
  uint64_t GroupsWritten() const { return groups_written_.load(); }
  // BackgroundWriteRequests is how many writes of flushes and compactions
  // went through the background rate limiter (0 without one).
  int64_t BackgroundWriteRequests() const;

  // Close flushes the memtable, syncs the WAL and closes the database. Returns
  // the first error met (the database is closed regardless). Later calls, and
  // the destructor, do nothing.
  absl::Status Close();

 private:
  // `handles` are the column families opened with `db`: records first, then
  // the index family when it exists (else index entries are read from the
  // records family). The ledger owns both.
  RocksDbLedger(std::unique_ptr<rocksdb::DB> db, std::vector<rocksdb::ColumnFamilyHandle*> handles,
                const RocksDbLedgerOptions& options, bool read_only, std::string secondary_dir);

  // A queued Append: its record and index entries (keys and values), and whom
  // to tell.
  struct PendingWrite {
    std::pair<std::string, std::string> record;
    std::vector<std::pair<std::string, std::string>> index;
    AppendDone done;
  };

  // WriterLoop is the writer thread: it commits the queue in groups until
  // Close() stops it (after the queue is drained).
  void WriterLoop();
  // WriteGroup writes every queued Append in `group` as one batch.
  absl::Status WriteGroup(const std::vector<PendingWrite>& group);
  bool HasWorkOrStopping() const ABSL_EXCLUSIVE_LOCKS_REQUIRED(queue_mu_) {
    return !queue_.empty() || stopping_;
  }
  bool GroupFullOrStopping() const ABSL_EXCLUSIVE_LOCKS_REQUIRED(queue_mu_) {
    // A queue refuses records beyond max_pending_appends: that many is full.
    return queue_.size() >= std::min(options_.commit_group, options_.max_pending_appends) ||
           stopping_;
  }
  absl::Status CatchUp() const ABSL_SHARED_LOCKS_REQUIRED(mu_);
  absl::StatusOr<LedgerRecord> GetRecord(const std::string& key) const
      ABSL_SHARED_LOCKS_REQUIRED(mu_);

  const RocksDbLedgerOptions options_;
  const bool read_only_;
  const std::string secondary_dir_;  // empty for the read-write ledger
  // Appends and reads hold mu_ shared; Close holds it exclusively.
  mutable absl::Mutex mu_;
  std::unique_ptr<rocksdb::DB> db_ ABSL_GUARDED_BY(mu_);
  // The column families (owned; released before db_ closes), and which of
  // them holds records and which index entries.
  std::vector<rocksdb::ColumnFamilyHandle*> handles_ ABSL_GUARDED_BY(mu_);
  rocksdb::ColumnFamilyHandle* records_ ABSL_GUARDED_BY(mu_) = nullptr;
  rocksdb::ColumnFamilyHandle* index_ ABSL_GUARDED_BY(mu_) = nullptr;
  uint64_t moved_index_entries_ = 0;
  // Serializes TryCatchUpWithPrimary on a read-only ledger.
  mutable absl::Mutex catch_up_mu_;
  // The writer's queue; stopping_ is set by Close().
  absl::Mutex queue_mu_;
  std::vector<PendingWrite> queue_ ABSL_GUARDED_BY(queue_mu_);
  bool stopping_ ABSL_GUARDED_BY(queue_mu_) = false;
  std::thread writer_;  // not started on a read-only ledger
  std::once_flag writer_joined_;
  std::atomic<bool> open_{true};
  std::atomic<bool> failed_{false};
  std::atomic<uint64_t> groups_written_{0};
  // The database's background rate limiter (nullptr when disabled).
  const std::shared_ptr<rocksdb::RateLimiter> background_limiter_;
};

}  // namespace writ::issuer

#endif  // WRIT_ISSUER_LEDGER_ROCKSDB_LEDGER_H_
