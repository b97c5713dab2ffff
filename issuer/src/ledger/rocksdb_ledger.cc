#include "issuer/src/ledger/rocksdb_ledger.h"

#include <errno.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include <algorithm>
#include <cstdint>
#include <filesystem>
#include <limits>
#include <optional>
#include <string>
#include <system_error>
#include <utility>
#include <vector>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/synchronization/notification.h"
#include "issuer/src/ledger/ledger_codec.h"
#include "issuer/src/ledger/ledger_migration.h"
#include "rocksdb/cache.h"
#include "rocksdb/db.h"
#include "rocksdb/filter_policy.h"
#include "rocksdb/options.h"
#include "rocksdb/rate_limiter.h"
#include "rocksdb/table.h"
#include "rocksdb/write_batch.h"
#include "writ/base/status_macros.h"

namespace writ::issuer {
namespace {

namespace codec = ledger_codec;
using ledger_migration::kIndexFamily;

// ToStatus maps a RocksDB status onto ours: corruption is data loss, a
// missing key kNotFound, everything else (I/O, busy, lock held) unavailable.
absl::Status ToStatus(const rocksdb::Status& s, absl::string_view what) {
  if (s.ok()) return absl::OkStatus();
  const std::string message = absl::StrCat(what, ": ", s.ToString());
  if (s.IsCorruption()) return absl::DataLossError(message);
  if (s.IsNotFound()) return absl::NotFoundError(message);
  return absl::UnavailableError(message);
}

rocksdb::Options BaseOptions(const RocksDbLedgerOptions& o) {
  rocksdb::Options options;
  if (o.env != nullptr) options.env = o.env;
  options.write_buffer_size = o.write_buffer_bytes;
  options.max_background_jobs = o.max_background_jobs;
  // Keep the info LOGs from growing without bound in a long-lived issuer.
  options.keep_log_file_num = 4;
  options.max_log_file_size = 8 << 20;
  // A torn tail of the WAL (power loss mid-write) drops only the unsynced
  // tail; anything acknowledged under sync=true is before it.
  options.wal_recovery_mode = rocksdb::WALRecoveryMode::kPointInTimeRecovery;
  // One writer thread (RocksDbLedger::WriterLoop) does all writes, grouping
  // the callers' records itself: RocksDB's own write groups (and their
  // spinning waiters) have nothing to group.
  rocksdb::BlockBasedTableOptions table;
  table.block_cache = rocksdb::NewLRUCache(o.block_cache_bytes);
  if (o.bloom_bits_per_key > 0) {
    table.filter_policy.reset(rocksdb::NewBloomFilterPolicy(o.bloom_bits_per_key));
  }
  // Small records: small blocks keep point lookups (FindByJti) cheap.
  table.block_size = 4 << 10;
  options.table_factory.reset(rocksdb::NewBlockBasedTableFactory(table));
  // Table files go to the disk a MiB at a time as they are written, not all
  // at their final fsync, so a WAL fsync never queues behind megabytes; and
  // they are written in 64 KiB steps, the grain of the background rate
  // limiter (Open).
  options.bytes_per_sync = 1 << 20;
  options.writable_file_max_buffer_size = 64 << 10;
  // Room for three full memtables per family waiting for a (paced) flush
  // before RocksDB stops writes, instead of one: at most 4 x 2 x
  // write_buffer_bytes (128 MiB by default) of memtables.
  options.max_write_buffer_number = 4;
  return options;
}

// The background rate limiter refills every 10 ms: at its 8 MiB/s floor that
// is ~80 KiB, about one 64 KiB step, so a flush alternates a step of work
// with a short sleep instead of running for 100 ms at a stretch.
constexpr int64_t kLimiterRefillMicros = 10'000;

// CeilMicros returns the smallest whole microsecond >= t (t finite).
int64_t CeilMicros(absl::Time t) {
  int64_t micros = absl::ToUnixMicros(t);
  if (absl::FromUnixMicros(micros) < t && micros < std::numeric_limits<int64_t>::max()) ++micros;
  return micros;
}

// Successor returns the smallest key greater than every key starting with
// `prefix` (prefixes here never end in 0xff).
std::string Successor(std::string prefix) {
  prefix.back() = static_cast<char>(prefix.back() + 1);
  return prefix;
}

bool Matches(const LedgerRecord& r, const LedgerQuery& q) {
  if (!q.subject.empty() && r.attested_subject != q.subject && r.granted_subject != q.subject) {
    return false;
  }
  if (!q.decision.empty() && r.decision != q.decision) return false;
  return r.time >= q.since && r.time < q.until;
}

// FamiliesIn returns the column families of the ledger in `dir` (none for a
// directory without a database), or kFailedPrecondition naming one this
// version does not know.
absl::StatusOr<std::vector<std::string>> FamiliesIn(const rocksdb::Options& options,
                                                    const std::string& dir) {
  std::vector<std::string> names;
  struct stat st;
  if (stat((dir + "/CURRENT").c_str(), &st) != 0) return names;
  RETURN_IF_ERROR(ToStatus(rocksdb::DB::ListColumnFamilies(options, dir, &names),
                           absl::StrCat("cannot read the column families of ledger ", dir)));
  for (const std::string& name : names) {
    if (name != rocksdb::kDefaultColumnFamilyName && name != kIndexFamily) {
      return absl::FailedPreconditionError(
          absl::StrCat("ledger ", dir, " has a column family \"", name,
                       "\" that this version of Writ does not know: a newer version wrote it"));
    }
  }
  return names;
}

// Descriptors returns the records family, and the index family unless
// `with_index` is false.
std::vector<rocksdb::ColumnFamilyDescriptor> Descriptors(const rocksdb::Options& options,
                                                         bool with_index) {
  std::vector<rocksdb::ColumnFamilyDescriptor> families;
  families.emplace_back(rocksdb::kDefaultColumnFamilyName, rocksdb::ColumnFamilyOptions(options));
  if (with_index) families.emplace_back(kIndexFamily, rocksdb::ColumnFamilyOptions(options));
  return families;
}

absl::Status MakeDirectory(const std::string& dir) {
  if (mkdir(dir.c_str(), 0700) == 0) return absl::OkStatus();
  const int err = errno;
  struct stat st;
  if (err == EEXIST && stat(dir.c_str(), &st) == 0) {
    if (S_ISDIR(st.st_mode)) return absl::OkStatus();
    return absl::UnavailableError(absl::StrCat("ledger directory ", dir, " is not a directory"));
  }
  return absl::UnavailableError(
      absl::StrCat("cannot create ledger directory ", dir, ": ", strerror(err)));
}

}  // namespace

RocksDbLedger::RocksDbLedger(std::unique_ptr<rocksdb::DB> db,
                             std::vector<rocksdb::ColumnFamilyHandle*> handles,
                             const RocksDbLedgerOptions& options, bool read_only,
                             std::string secondary_dir)
    : options_(options),
      read_only_(read_only),
      secondary_dir_(std::move(secondary_dir)),
      db_(std::move(db)),
      handles_(std::move(handles)),
      background_limiter_(db_->GetDBOptions().rate_limiter) {
  records_ = handles_.front();
  index_ = handles_.back();
  if (!read_only_) writer_ = std::thread([this] { WriterLoop(); });
}

RocksDbLedger::~RocksDbLedger() { Close().IgnoreError(); }

absl::StatusOr<std::unique_ptr<RocksDbLedger>> RocksDbLedger::Open(
    absl::string_view dir, const RocksDbLedgerOptions& options) {
  if (dir.empty()) return absl::InvalidArgumentError("ledger directory is empty");
  if (options.background_write_bytes_per_sec < 0) {
    return absl::InvalidArgumentError("ledger background_write_bytes_per_sec is negative");
  }
  if (options.commit_delay < absl::ZeroDuration() || options.commit_delay > absl::Minutes(1) ||
      options.commit_group == 0) {
    return absl::InvalidArgumentError(
        "ledger commit_delay must be between 0 and 1m, and commit_group at least 1");
  }
  const std::string path(dir);
  RETURN_IF_ERROR(MakeDirectory(path));
  rocksdb::Options db_options = BaseOptions(options);
  db_options.create_if_missing = true;
  db_options.create_missing_column_families = true;
  if (options.background_write_bytes_per_sec > 0) {
    db_options.rate_limiter.reset(rocksdb::NewGenericRateLimiter(
        options.background_write_bytes_per_sec, kLimiterRefillMicros, /*fairness=*/10,
        rocksdb::RateLimiter::Mode::kWritesOnly, /*auto_tuned=*/true));
    // RocksDB would otherwise slow writes near a stall to the limiter's
    // rate (too fast to matter) instead of its usual 16 MiB/s.
    db_options.delayed_write_rate = 16 << 20;
  }
  ASSIGN_OR_RETURN(const std::vector<std::string> families, FamiliesIn(db_options, path));
  rocksdb::DB* raw = nullptr;
  std::vector<rocksdb::ColumnFamilyHandle*> handles;
  rocksdb::Status s =
      rocksdb::DB::Open(db_options, path, Descriptors(db_options, true), &handles, &raw);
  if (!s.ok()) {
    if (s.IsIOError() && s.ToString().find("lock") != std::string::npos) {
      return absl::UnavailableError(
          absl::StrCat("ledger ", path, " is in use by another writer (", s.ToString(), ")"));
    }
    return ToStatus(s, absl::StrCat("cannot open ledger ", path));
  }
  std::unique_ptr<RocksDbLedger> ledger(new RocksDbLedger(
      std::unique_ptr<rocksdb::DB>(raw), std::move(handles), options, /*read_only=*/false, ""));
  absl::StatusOr<uint64_t> moved = 0;
  {
    // Nobody else holds the ledger yet; the lock only satisfies the analysis.
    absl::ReaderMutexLock lock(&ledger->mu_);
    if (families.empty()) {  // created just now: nothing to move
      absl::Status marked = ledger_migration::MarkIndexed(ledger->db_.get(), ledger->records_);
      if (!marked.ok()) moved = marked;
    } else {
      moved = ledger_migration::MoveToIndexedLayout(ledger->db_.get(), ledger->records_,
                                                    ledger->index_, options.on_index_move);
    }
  }
  if (!moved.ok()) {
    return absl::Status(moved.status().code(),
                        absl::StrCat("ledger ", path, ": ", moved.status().message()));
  }
  ledger->moved_index_entries_ = *moved;
  return ledger;
}

absl::StatusOr<std::unique_ptr<RocksDbLedger>> RocksDbLedger::OpenReadOnly(absl::string_view dir) {
  if (dir.empty()) return absl::InvalidArgumentError("ledger directory is empty");
  const std::string path(dir);
  struct stat st;
  if (stat(path.c_str(), &st) != 0 || !S_ISDIR(st.st_mode)) {
    return absl::NotFoundError(absl::StrCat("no ledger directory at ", path));
  }
  if (stat((path + "/CURRENT").c_str(), &st) != 0) {
    return absl::NotFoundError(absl::StrCat("no ledger in ", path, " (it has no CURRENT file)"));
  }
  rocksdb::Options db_options = BaseOptions(RocksDbLedgerOptions());
  db_options.create_if_missing = false;
  db_options.max_open_files = -1;  // required by secondary instances
  ASSIGN_OR_RETURN(const std::vector<std::string> families, FamiliesIn(db_options, path));
  const bool with_index =
      std::find(families.begin(), families.end(), kIndexFamily) != families.end();
  std::error_code ec;
  std::filesystem::path tmp = std::filesystem::temp_directory_path(ec);
  if (ec) tmp = "/tmp";
  std::string secondary = (tmp / "writ-ledger-reader.XXXXXX").string();
  if (mkdtemp(secondary.data()) == nullptr) {
    return absl::UnavailableError(
        absl::StrCat("cannot create a temporary directory for the reader: ", strerror(errno)));
  }
  rocksdb::DB* raw = nullptr;
  std::vector<rocksdb::ColumnFamilyHandle*> handles;
  rocksdb::Status s = rocksdb::DB::OpenAsSecondary(
      db_options, path, secondary, Descriptors(db_options, with_index), &handles, &raw);
  if (!s.ok()) {
    std::filesystem::remove_all(secondary, ec);
    return ToStatus(s, absl::StrCat("cannot open ledger ", path, " for reading"));
  }
  std::unique_ptr<RocksDbLedger> reader(new RocksDbLedger(
      std::unique_ptr<rocksdb::DB>(raw), std::move(handles), RocksDbLedgerOptions(),
      /*read_only=*/true, secondary));
  {
    absl::ReaderMutexLock lock(&reader->mu_);
    RETURN_IF_ERROR(reader->CatchUp());
  }
  return reader;
}

absl::Status RocksDbLedger::Append(const LedgerRecord& record) {
  absl::Status result;
  absl::Notification written;
  AppendAsync(record, [&](absl::Status status) {
    result = std::move(status);
    written.Notify();
  });
  written.WaitForNotification();
  return result;
}

void RocksDbLedger::AppendAsync(const LedgerRecord& record, AppendDone done) {
  if (record.request_id.empty()) {
    return std::move(done)(absl::InvalidArgumentError("ledger record has no request_id"));
  }
  if (record.time == absl::InfinitePast() || record.time == absl::InfiniteFuture()) {
    return std::move(done)(absl::InvalidArgumentError("ledger record has an infinite time"));
  }
  if (read_only_) {
    return std::move(done)(absl::FailedPreconditionError("ledger was opened read-only"));
  }
  if (failed_.load()) {
    return std::move(done)(
        absl::UnavailableError("ledger is failed closed after an earlier write error"));
  }
  // Encode everything before queueing: the writer only copies bytes, and a
  // record goes into its group's batch with all its indexes or not at all.
  PendingWrite write;
  write.index.reserve(4);
  const absl::Time time = absl::FromUnixMicros(absl::ToUnixMicros(record.time));
  std::string key = codec::RecordKey(time, record.request_id);
  const std::string suffix = key.substr(codec::kRecordPrefix.size());
  if (!record.jti.empty()) write.index.emplace_back(codec::JtiKey(record.jti), key);
  if (!record.attested_subject.empty()) {
    write.index.emplace_back(
        absl::StrCat(codec::SubjectIndexPrefix(record.attested_subject), suffix), "");
  }
  if (!record.granted_subject.empty() && record.granted_subject != record.attested_subject) {
    write.index.emplace_back(
        absl::StrCat(codec::SubjectIndexPrefix(record.granted_subject), suffix), "");
  }
  write.index.emplace_back(absl::StrCat(codec::DecisionIndexPrefix(record.decision), suffix), "");
  if (time == record.time) {
    write.record = {std::move(key), codec::EncodeRecord(record)};
  } else {
    LedgerRecord stored = record;
    stored.time = time;
    write.record = {std::move(key), codec::EncodeRecord(stored)};
  }
  write.done = std::move(done);
  absl::Status refused;
  {
    absl::MutexLock lock(&queue_mu_);
    if (stopping_) {
      refused = absl::UnavailableError("ledger is closed");
    } else if (queue_.size() >= options_.max_pending_appends) {
      // Not a failure of the ledger: it stays healthy and takes the next.
      refused = absl::UnavailableError(absl::StrCat("the ledger has ", queue_.size(),
                                                    " records waiting for the disk; try again"));
    } else {
      queue_.push_back(std::move(write));
      return;
    }
  }
  std::move(write.done)(std::move(refused));
}

void RocksDbLedger::WriterLoop() {
  pthread_setname_np(pthread_self(), "writ-ledger");
  std::vector<PendingWrite> group;
  // Records that came while the last group was being written mean callers
  // arrive faster than fsyncs finish: worth waiting a little for more. It is
  // looked at before the group's callers are answered, so a caller that
  // waits for each answer before its next record never counts, and is
  // never held.
  bool busy = false;
  for (;;) {
    {
      absl::MutexLock lock(&queue_mu_);
      queue_mu_.Await(absl::Condition(this, &RocksDbLedger::HasWorkOrStopping));
      if (queue_.empty()) return;  // stopping, and drained
      if (busy && options_.commit_delay > absl::ZeroDuration() && !GroupFullOrStopping()) {
        queue_mu_.AwaitWithTimeout(absl::Condition(this, &RocksDbLedger::GroupFullOrStopping),
                                   options_.commit_delay);
      }
      group.swap(queue_);
    }
    const absl::Status status = WriteGroup(group);
    if (status.ok()) groups_written_.fetch_add(1);
    {
      absl::MutexLock lock(&queue_mu_);
      busy = !queue_.empty();
    }
    for (PendingWrite& write : group) std::move(write.done)(status);
    group.clear();
  }
}

absl::Status RocksDbLedger::WriteGroup(const std::vector<PendingWrite>& group) {
  if (failed_.load()) {
    return absl::UnavailableError("ledger is failed closed after an earlier write error");
  }
  absl::ReaderMutexLock lock(&mu_);
  if (db_ == nullptr) return absl::UnavailableError("ledger is closed");
  rocksdb::WriteBatch batch;
  for (const PendingWrite& write : group) {
    rocksdb::Status s = batch.Put(records_, write.record.first, write.record.second);
    for (const auto& [key, value] : write.index) {
      if (s.ok()) s = batch.Put(index_, key, value);
    }
    if (!s.ok()) return ToStatus(s, "cannot build the ledger write batch");
  }
  rocksdb::WriteOptions write_options;
  write_options.sync = options_.sync;
  rocksdb::Status s = db_->Write(write_options, &batch);
  if (!s.ok()) {
    failed_.store(true);
    return absl::UnavailableError(
        absl::StrCat("ledger write failed (ledger now fails closed): ", s.ToString()));
  }
  return absl::OkStatus();
}

absl::Status RocksDbLedger::CatchUp() const {
  if (!read_only_) return absl::OkStatus();
  absl::MutexLock lock(&catch_up_mu_);
  RETURN_IF_ERROR(
      ToStatus(db_->TryCatchUpWithPrimary(), "cannot catch up with the ledger's writer"));
  // The issuer may have started moving the index since this reader opened.
  return ledger_migration::CheckReadable(db_.get(), records_, index_ != records_);
}

absl::StatusOr<LedgerRecord> RocksDbLedger::GetRecord(const std::string& key) const {
  std::string value;
  rocksdb::Status s = db_->Get(rocksdb::ReadOptions(), records_, key, &value);
  if (s.IsNotFound()) {
    return absl::DataLossError(
        absl::StrCat("ledger index points to missing record ", codec::PrintableKey(key)));
  }
  RETURN_IF_ERROR(ToStatus(s, absl::StrCat("cannot read record ", codec::PrintableKey(key))));
  auto record = codec::DecodeRecord(value);
  if (!record.ok()) {
    return absl::DataLossError(absl::StrCat("corrupt ledger record ", codec::PrintableKey(key),
                                            ": ", record.status().message()));
  }
  if (codec::RecordKey(record->time, record->request_id) != key) {
    return absl::DataLossError(
        absl::StrCat("ledger record ", codec::PrintableKey(key), " does not match its key"));
  }
  return record;
}

absl::StatusOr<LedgerRecord> RocksDbLedger::FindByJti(absl::string_view jti) const {
  if (jti.empty()) return absl::InvalidArgumentError("jti is empty");
  absl::ReaderMutexLock lock(&mu_);
  if (db_ == nullptr) return absl::UnavailableError("ledger is closed");
  RETURN_IF_ERROR(CatchUp());
  const std::string index_key = codec::JtiKey(jti);
  std::string record_key;
  rocksdb::Status s = db_->Get(rocksdb::ReadOptions(), index_, index_key, &record_key);
  if (s.IsNotFound()) return absl::NotFoundError("no ledger record has this jti");
  RETURN_IF_ERROR(ToStatus(s, "cannot read the jti index"));
  if (!absl::StartsWith(record_key, codec::kRecordPrefix)) {
    return absl::DataLossError(
        absl::StrCat("corrupt ledger index entry ", codec::PrintableKey(index_key)));
  }
  ASSIGN_OR_RETURN(LedgerRecord record, GetRecord(record_key));
  if (record.jti != jti) {
    return absl::DataLossError(absl::StrCat("ledger index entry ", codec::PrintableKey(index_key),
                                            " points to a record with another jti"));
  }
  return record;
}

absl::StatusOr<std::vector<LedgerRecord>> RocksDbLedger::Query(const LedgerQuery& query) const {
  std::vector<LedgerRecord> out;
  if (query.limit == 0 || query.since == absl::InfiniteFuture() ||
      query.until == absl::InfinitePast() || query.since >= query.until) {
    return out;
  }
  // The most selective index first: one subject's decisions are few, one
  // decision's are about half of everything.
  std::string prefix;
  bool indexed = true;
  if (!query.subject.empty()) {
    prefix = codec::SubjectIndexPrefix(query.subject);
  } else if (!query.decision.empty()) {
    prefix = codec::DecisionIndexPrefix(query.decision);
  } else {
    prefix = std::string(codec::kRecordPrefix);
    indexed = false;
  }
  const std::string lower = query.since == absl::InfinitePast()
                                ? prefix
                                : absl::StrCat(prefix, codec::TimeKey(CeilMicros(query.since)));
  const std::string upper = query.until == absl::InfiniteFuture()
                                ? Successor(prefix)
                                : absl::StrCat(prefix, codec::TimeKey(CeilMicros(query.until)));
  const rocksdb::Slice lower_slice(lower), upper_slice(upper);

  absl::ReaderMutexLock lock(&mu_);
  if (db_ == nullptr) return absl::UnavailableError("ledger is closed");
  RETURN_IF_ERROR(CatchUp());
  rocksdb::ReadOptions read_options;
  read_options.iterate_lower_bound = &lower_slice;
  read_options.iterate_upper_bound = &upper_slice;
  std::unique_ptr<rocksdb::Iterator> it(
      db_->NewIterator(read_options, indexed ? index_ : records_));
  for (it->SeekToLast(); it->Valid() && out.size() < query.limit; it->Prev()) {
    const std::string key = it->key().ToString();
    if (key.size() < prefix.size() + 8) {
      return absl::DataLossError(absl::StrCat("corrupt ledger key ", codec::PrintableKey(key)));
    }
    LedgerRecord record;
    if (indexed) {
      ASSIGN_OR_RETURN(record,
                       GetRecord(absl::StrCat(codec::kRecordPrefix, key.substr(prefix.size()))));
    } else {
      auto decoded = codec::DecodeRecord(absl::string_view(it->value().data(), it->value().size()));
      if (!decoded.ok()) {
        return absl::DataLossError(absl::StrCat("corrupt ledger record ", codec::PrintableKey(key),
                                                ": ", decoded.status().message()));
      }
      if (codec::RecordKey(decoded->time, decoded->request_id) != key) {
        return absl::DataLossError(
            absl::StrCat("ledger record ", codec::PrintableKey(key), " does not match its key"));
      }
      record = *std::move(decoded);
    }
    if (Matches(record, query)) out.push_back(std::move(record));
  }
  RETURN_IF_ERROR(ToStatus(it->status(), "cannot scan the ledger"));
  return out;
}

bool RocksDbLedger::Healthy() const { return open_.load() && !failed_.load(); }

int64_t RocksDbLedger::BackgroundWriteRequests() const {
  return background_limiter_ == nullptr
             ? 0
             : background_limiter_->GetTotalRequests(rocksdb::Env::IO_TOTAL);
}

absl::Status RocksDbLedger::Close() {
  {
    // Appends queued before this are written; later ones are refused.
    absl::MutexLock lock(&queue_mu_);
    stopping_ = true;
  }
  std::call_once(writer_joined_, [this] {
    if (writer_.joinable()) writer_.join();
  });
  absl::WriterMutexLock lock(&mu_);
  if (db_ == nullptr) return absl::OkStatus();
  open_.store(false);
  absl::Status status;
  if (!read_only_ && !failed_.load()) {
    // Flush the memtables so the next open need not replay the WAL; at
    // full speed, as nothing waits behind it now (the limiter may be at its
    // floor after an idle spell).
    if (background_limiter_ != nullptr) {
      background_limiter_->SetBytesPerSecond(options_.background_write_bytes_per_sec);
    }
    status = ToStatus(db_->Flush(rocksdb::FlushOptions(), handles_), "cannot flush the ledger");
    if (status.ok()) status = ToStatus(db_->SyncWAL(), "cannot sync the ledger's WAL");
  }
  for (rocksdb::ColumnFamilyHandle* handle : handles_) {
    absl::Status released =
        ToStatus(db_->DestroyColumnFamilyHandle(handle), "cannot release a column family");
    if (status.ok()) status = released;
  }
  handles_.clear();
  records_ = index_ = nullptr;
  absl::Status closed = ToStatus(db_->Close(), "cannot close the ledger");
  if (status.ok()) status = closed;
  db_.reset();
  if (!secondary_dir_.empty()) {
    std::error_code ec;
    std::filesystem::remove_all(secondary_dir_, ec);
  }
  return status;
}

}  // namespace writ::issuer
