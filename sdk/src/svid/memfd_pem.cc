#include "sdk/src/svid/memfd_pem.h"

#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include <atomic>
#include <utility>

#include "absl/strings/str_cat.h"
#include "grpcpp/security/tls_certificate_provider.h"
#include "openssl/crypto.h"
#include "writ/base/status_macros.h"

namespace writ::svid_internal {
namespace {

// The next modification time to stamp on a new file. Starts at 1: gRPC
// treats a modification time of 0 as "could not stat".
std::atomic<int64_t> next_version{1};

// Identity holds a private key PEM followed by its chain, and wipes the
// copy when it goes out of scope.
class Identity {
 public:
  Identity(absl::string_view key_pem, absl::string_view chain_pem)
      : text_(absl::StrCat(key_pem, chain_pem)) {}
  ~Identity() { OPENSSL_cleanse(text_.data(), text_.size()); }
  Identity(const Identity&) = delete;
  Identity& operator=(const Identity&) = delete;
  absl::string_view text() const { return text_; }

 private:
  std::string text_;
};

absl::Status ErrnoError(absl::string_view what, int err) {
  return absl::InternalError(absl::StrCat(what, ": ", strerror(err)));
}

// NewSealedMemfd returns a new memfd holding `contents`, stamped with a fresh
// version and sealed against any further change.
absl::StatusOr<int> NewSealedMemfd(const std::string& name, absl::string_view contents) {
  if (contents.size() > kMaxMemfdPemBytes) {
    return absl::InvalidArgumentError(absl::StrCat(
        "PEM of ", contents.size(), " bytes is over the limit of ", kMaxMemfdPemBytes));
  }
  const int fd = memfd_create(name.c_str(), MFD_CLOEXEC | MFD_ALLOW_SEALING);
  if (fd < 0) return ErrnoError("memfd_create", errno);
  absl::Status status;
  size_t written = 0;
  while (written < contents.size()) {
    const ssize_t n = write(fd, contents.data() + written, contents.size() - written);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) {
      status = ErrnoError("write to memfd", n < 0 ? errno : EIO);
      break;
    }
    written += static_cast<size_t>(n);
  }
  if (status.ok()) {
    const struct timespec times[2] = {{.tv_sec = 0, .tv_nsec = UTIME_OMIT},
                                      {.tv_sec = next_version.fetch_add(1), .tv_nsec = 0}};
    if (futimens(fd, times) != 0) status = ErrnoError("futimens on memfd", errno);
  }
  if (status.ok() &&
      fcntl(fd, F_ADD_SEALS, F_SEAL_SHRINK | F_SEAL_GROW | F_SEAL_WRITE | F_SEAL_SEAL) != 0) {
    status = ErrnoError("sealing memfd", errno);
  }
  if (!status.ok()) {
    close(fd);
    return status;
  }
  return fd;
}

}  // namespace

MemfdPem::MemfdPem(std::string name, int fd)
    : name_(std::move(name)), fd_(fd), path_(absl::StrCat("/proc/self/fd/", fd)) {}

absl::StatusOr<std::unique_ptr<MemfdPem>> MemfdPem::New(absl::string_view name,
                                                        absl::string_view contents) {
  std::string memfd_name(name);
  ASSIGN_OR_RETURN(const int fd, NewSealedMemfd(memfd_name, contents));
  std::unique_ptr<MemfdPem> file(new MemfdPem(std::move(memfd_name), fd));
  struct stat st;
  if (stat(file->path_.c_str(), &st) != 0) {
    const int err = errno;
    close(fd);
    file->fd_ = -1;
    return absl::FailedPreconditionError(
        absl::StrCat("cannot reach an in-memory file at ", file->path_, " (", strerror(err),
                     "): gRPC credentials from an X509Source need /proc mounted"));
  }
  return file;
}

MemfdPem::~MemfdPem() {
  if (fd_ < 0) return;
  // Keep the number taken, but without the key (see the header). If even
  // that fails, the sealed file cannot be wiped in place: close it.
  if (absl::Status status = Replace(kTombstone); !status.ok()) close(fd_);
}

absl::Status MemfdPem::Replace(absl::string_view contents) {
  ASSIGN_OR_RETURN(const int fd, NewSealedMemfd(name_, contents));
  // dup3 swaps the file behind fd_ in one step (and, unlike dup2, keeps
  // close-on-exec, so a child process never inherits the key).
  int rc;
  do {
    rc = dup3(fd, fd_, O_CLOEXEC);
  } while (rc < 0 && (errno == EINTR || errno == EBUSY));
  const int err = errno;
  close(fd);
  if (rc < 0) return ErrnoError("dup3 onto the memfd's descriptor", err);
  return absl::OkStatus();
}

SvidFiles::SvidFiles(std::unique_ptr<MemfdPem> identity, std::unique_ptr<MemfdPem> bundle)
    : identity_(std::move(identity)), bundle_(std::move(bundle)) {}

SvidFiles::~SvidFiles() {
  // Release gRPC's provider first (while the files still hold the SVID);
  // the memfds are emptied afterwards by their own destructors.
  provider_.reset();
}

absl::StatusOr<std::unique_ptr<SvidFiles>> SvidFiles::New(absl::string_view key_pem,
                                                          absl::string_view chain_pem,
                                                          absl::string_view bundle_pem) {
  ASSIGN_OR_RETURN(std::unique_ptr<MemfdPem> identity,
                   MemfdPem::New("writ-svid-identity", Identity(key_pem, chain_pem).text()));
  ASSIGN_OR_RETURN(std::unique_ptr<MemfdPem> bundle, MemfdPem::New("writ-svid-bundle", bundle_pem));
  std::unique_ptr<SvidFiles> files(new SvidFiles(std::move(identity), std::move(bundle)));
  // The same path for the key and the chain: gRPC reads it twice and PEM
  // parsing skips the blocks of the other kind.
  files->provider_ = std::make_shared<grpc::experimental::FileWatcherCertificateProvider>(
      files->identity_->path(), files->identity_->path(), files->bundle_->path(),
      kRefreshIntervalSeconds);
  return files;
}

absl::Status SvidFiles::Update(absl::string_view key_pem, absl::string_view chain_pem,
                               absl::string_view bundle_pem) {
  RETURN_IF_ERROR(bundle_->Replace(bundle_pem));
  return identity_->Replace(Identity(key_pem, chain_pem).text());
}

}  // namespace writ::svid_internal
