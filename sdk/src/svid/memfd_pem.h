// Internal: PEM files in anonymous memory for gRPC's file-watcher certificate
// provider, so rotating credentials need neither a disk nor a custom provider
// (gRPC 1.51's C++ API has no public one).
#ifndef WRIT_SDK_SRC_SVID_MEMFD_PEM_H_
#define WRIT_SDK_SRC_SVID_MEMFD_PEM_H_

#include <memory>
#include <string>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"

namespace grpc::experimental {
class CertificateProviderInterface;
}  // namespace grpc::experimental

namespace writ::svid_internal {

// kMaxMemfdPemBytes bounds what one MemfdPem holds.
inline constexpr size_t kMaxMemfdPemBytes = 4 * 1024 * 1024;

// kTombstone is what a MemfdPem holds once its owner is gone.
inline constexpr absl::string_view kTombstone =
    "# Writ: the X509Source behind this file was destroyed.\n";

// MemfdPem is an anonymous in-memory file (memfd_create) reachable at a path,
// "/proc/self/fd/N", that stays the same while Replace swaps its contents.
//
// Replace writes the new contents into a new, sealed memfd and dup3()s it
// onto N: a reader that opens the path gets the old file or the new one,
// whole, never a mix. Every new file gets a later modification time than
// any before it (a process-wide counter, in seconds since the epoch: it is a
// version, not a date), which is what gRPC's file watcher compares before and
// after reading a key and its certificate, so it retries instead of pairing
// a key with another key's certificate.
//
// The destructor does not close N: gRPC may still read the path after the
// owner is gone, and a closed number is soon reused by an unrelated file. It
// swaps in kTombstone instead and leaves that one descriptor open for the
// life of the process. kTombstone is not empty on purpose: gRPC 1.51 aborts
// the process on an empty key or chain, while text without PEM blocks only
// makes its handshakes fail.
//
// Not thread-safe: the owner serialises Replace. Reading the path is safe
// from any thread, at any time.
class MemfdPem {
 public:
  // New creates the file with `contents`. `name` shows in /proc/self/fd
  // listings ("memfd:name"). Returns kInvalidArgument if `contents` is over
  // kMaxMemfdPemBytes, kFailedPrecondition if /proc/self/fd is not mounted,
  // kInternal if a system call fails.
  static absl::StatusOr<std::unique_ptr<MemfdPem>> New(absl::string_view name,
                                                       absl::string_view contents);
  ~MemfdPem();

  MemfdPem(const MemfdPem&) = delete;
  MemfdPem& operator=(const MemfdPem&) = delete;

  // Replace makes the path show `contents`. On error the old contents stay.
  absl::Status Replace(absl::string_view contents);

  // path returns "/proc/self/fd/N"; valid in this process only.
  const std::string& path() const { return path_; }
  int fd() const { return fd_; }

 private:
  MemfdPem(std::string name, int fd);

  std::string name_;
  int fd_;
  std::string path_;
};

// SvidFiles holds one X509Source's credentials as gRPC reads them: the
// private key and certificate chain in one MemfdPem (gRPC is given the same
// path for both, so they swap together), the bundle in another, and the
// FileWatcherCertificateProvider that re-reads both every second.
// Not thread-safe: the X509Source serialises Update.
class SvidFiles {
 public:
  // New writes the files and starts the provider (which reads them once
  // before returning). Errors as MemfdPem::New.
  static absl::StatusOr<std::unique_ptr<SvidFiles>> New(absl::string_view key_pem,
                                                        absl::string_view chain_pem,
                                                        absl::string_view bundle_pem);
  ~SvidFiles();

  // Update replaces the bundle, then the key and chain: a new CA reaches
  // the trusted roots no later than certificates it issued. gRPC picks the
  // change up within its refresh interval (1 s).
  absl::Status Update(absl::string_view key_pem, absl::string_view chain_pem,
                      absl::string_view bundle_pem);

  // provider returns the provider for TlsCredentialsOptions. It reads the
  // files' paths: once this object is destroyed they hold kTombstone and
  // handshakes with credentials made from it fail.
  const std::shared_ptr<grpc::experimental::CertificateProviderInterface>& provider() const {
    return provider_;
  }
  const std::string& identity_path() const { return identity_->path(); }
  const std::string& bundle_path() const { return bundle_->path(); }

  // kRefreshIntervalSeconds is how often gRPC re-reads the files (its
  // minimum).
  static constexpr unsigned int kRefreshIntervalSeconds = 1;

 private:
  SvidFiles(std::unique_ptr<MemfdPem> identity, std::unique_ptr<MemfdPem> bundle);

  std::unique_ptr<MemfdPem> identity_;
  std::unique_ptr<MemfdPem> bundle_;
  std::shared_ptr<grpc::experimental::CertificateProviderInterface> provider_;
};

}  // namespace writ::svid_internal

#endif  // WRIT_SDK_SRC_SVID_MEMFD_PEM_H_
