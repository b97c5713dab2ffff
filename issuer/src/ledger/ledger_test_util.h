// Test helpers for the ledger: a temporary directory, a file system that
// fails on demand, and raw access to the RocksDB underneath a ledger (to plant old layouts,
// corruption, and to check which column family holds which keys).
#ifndef WRIT_ISSUER_LEDGER_LEDGER_TEST_UTIL_H_
#define WRIT_ISSUER_LEDGER_LEDGER_TEST_UTIL_H_

#include <stdlib.h>

#include <algorithm>
#include <atomic>
#include <filesystem>
#include <memory>
#include <string>
#include <system_error>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/strings/string_view.h"
#include "gtest/gtest.h"
#include "rocksdb/db.h"
#include "rocksdb/file_system.h"

namespace writ::issuer {

class TempDir {
 public:
  TempDir() {
    path_ = absl::StrCat(::testing::TempDir(), "/writ_ledger_test.XXXXXX");
    if (mkdtemp(path_.data()) == nullptr) path_.clear();
  }
  ~TempDir() {
    std::error_code ec;
    std::filesystem::remove_all(path_, ec);
  }
  const std::string& path() const { return path_; }
  std::string Sub(absl::string_view name) const { return absl::StrCat(path_, "/", name); }

 private:
  std::string path_;
};

// FailingFileSystem makes every write, flush and sync of files it created
// fail while `fail` is set: a disk that went away under the ledger.
class FailingWritableFile : public rocksdb::FSWritableFileOwnerWrapper {
 public:
  FailingWritableFile(std::unique_ptr<rocksdb::FSWritableFile> file, const std::atomic<bool>* fail)
      : FSWritableFileOwnerWrapper(std::move(file)), fail_(fail) {}

  rocksdb::IOStatus Append(const rocksdb::Slice& data, const rocksdb::IOOptions& options,
                           rocksdb::IODebugContext* dbg) override {
    if (*fail_) return Injected();
    return target()->Append(data, options, dbg);
  }
  rocksdb::IOStatus Append(const rocksdb::Slice& data, const rocksdb::IOOptions& options,
                           const rocksdb::DataVerificationInfo& info,
                           rocksdb::IODebugContext* dbg) override {
    if (*fail_) return Injected();
    return target()->Append(data, options, info, dbg);
  }
  rocksdb::IOStatus Flush(const rocksdb::IOOptions& options,
                          rocksdb::IODebugContext* dbg) override {
    if (*fail_) return Injected();
    return target()->Flush(options, dbg);
  }
  rocksdb::IOStatus Sync(const rocksdb::IOOptions& options, rocksdb::IODebugContext* dbg) override {
    if (*fail_) return Injected();
    return target()->Sync(options, dbg);
  }
  rocksdb::IOStatus Fsync(const rocksdb::IOOptions& options,
                          rocksdb::IODebugContext* dbg) override {
    if (*fail_) return Injected();
    return target()->Fsync(options, dbg);
  }

 private:
  static rocksdb::IOStatus Injected() {
    return rocksdb::IOStatus::IOError("injected write failure");
  }
  const std::atomic<bool>* fail_;
};

class FailingFileSystem : public rocksdb::FileSystemWrapper {
 public:
  FailingFileSystem() : FileSystemWrapper(rocksdb::FileSystem::Default()) {}
  const char* Name() const override { return "FailingFileSystem"; }

  rocksdb::IOStatus NewWritableFile(const std::string& name, const rocksdb::FileOptions& options,
                                    std::unique_ptr<rocksdb::FSWritableFile>* result,
                                    rocksdb::IODebugContext* dbg) override {
    if (fail) return rocksdb::IOStatus::IOError("injected create failure");
    rocksdb::IOStatus s = target()->NewWritableFile(name, options, result, dbg);
    if (s.ok()) result->reset(new FailingWritableFile(std::move(*result), &fail));
    return s;
  }

  std::atomic<bool> fail{false};
};

// RawDb opens the RocksDB in `dir` (creating it when missing) with every
// column family it has plus `extra_families`, and closes it on destruction.
// Check ok() after constructing.
class RawDb {
 public:
  explicit RawDb(const std::string& dir, std::vector<std::string> extra_families = {}) {
    rocksdb::Options options;
    options.create_if_missing = true;
    options.create_missing_column_families = true;
    std::vector<std::string> names;
    if (!rocksdb::DB::ListColumnFamilies(options, dir, &names).ok()) {
      names = {rocksdb::kDefaultColumnFamilyName};
    }
    for (std::string& extra : extra_families) {
      if (std::find(names.begin(), names.end(), extra) == names.end()) names.push_back(extra);
    }
    std::vector<rocksdb::ColumnFamilyDescriptor> families;
    for (const std::string& name : names) families.emplace_back(name, options);
    rocksdb::DB* raw = nullptr;
    status_ = rocksdb::DB::Open(options, dir, families, &handles_, &raw);
    db_.reset(raw);
    names_ = names;
  }
  ~RawDb() {
    if (db_ == nullptr) return;
    for (rocksdb::ColumnFamilyHandle* h : handles_)
      db_->DestroyColumnFamilyHandle(h).PermitUncheckedError();
    db_->Close().PermitUncheckedError();
  }

  bool ok() const { return status_.ok(); }
  const rocksdb::Status& status() const { return status_; }

  // Put writes `key` = `value` into `family` (not synced: tests do not crash).
  bool Put(absl::string_view family, const std::string& key, const std::string& value) {
    rocksdb::ColumnFamilyHandle* h = Handle(family);
    return h != nullptr && db_->Put(rocksdb::WriteOptions(), h, key, value).ok();
  }

  // Keys returns every key of `family` in order ({"<no family>"} when absent).
  std::vector<std::string> Keys(absl::string_view family) {
    rocksdb::ColumnFamilyHandle* h = Handle(family);
    if (h == nullptr) return {"<no family>"};
    std::vector<std::string> keys;
    std::unique_ptr<rocksdb::Iterator> it(db_->NewIterator(rocksdb::ReadOptions(), h));
    for (it->SeekToFirst(); it->Valid(); it->Next()) keys.push_back(it->key().ToString());
    return keys;
  }

 private:
  rocksdb::ColumnFamilyHandle* Handle(absl::string_view family) {
    for (size_t i = 0; i < names_.size() && i < handles_.size(); ++i) {
      if (names_[i] == family) return handles_[i];
    }
    return nullptr;
  }

  rocksdb::Status status_;
  std::unique_ptr<rocksdb::DB> db_;
  std::vector<std::string> names_;
  std::vector<rocksdb::ColumnFamilyHandle*> handles_;
};

}  // namespace writ::issuer

#endif  // WRIT_ISSUER_LEDGER_LEDGER_TEST_UTIL_H_
