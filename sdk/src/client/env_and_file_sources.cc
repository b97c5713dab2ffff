// The attestation sources that need no network: an environment variable
// (GitLab CI id_tokens), a token file (Kubernetes projected service-account
// tokens) and the caller's callback.
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <utility>

#include "absl/base/thread_annotations.h"
#include "absl/cleanup/cleanup.h"
#include "absl/status/status.h"
#include "absl/strings/ascii.h"
#include "absl/strings/str_cat.h"
#include "absl/synchronization/mutex.h"
#include "sdk/src/client/client_util.h"
#include "sdk/src/jose/strict_json.h"
#include "writ/client/attestation.h"

namespace writ {
namespace {

using client_internal::CleanToken;
using client_internal::kMaxTokenBytes;

class EnvVarSource final : public AttestationSource {
 public:
  EnvVarSource(std::string name, GetEnvFn getenv)
      : name_(std::move(name)), getenv_(std::move(getenv)) {}

  absl::StatusOr<std::string> Token(absl::string_view) override {
    std::optional<std::string> value = client_internal::ReadEnv(getenv_, name_);
    if (!value.has_value() || absl::StripAsciiWhitespace(*value).empty()) {
      return absl::FailedPreconditionError(
          absl::StrCat(Describe(),
                       " is not set or is empty (in GitLab CI, declare it under the "
                       "job's `id_tokens:`)"));
    }
    return CleanToken(*value, Describe());
  }

  std::string Describe() const override {
    return absl::StrCat("environment variable ", internal::Printable(name_, 128));
  }

 private:
  const std::string name_;
  const GetEnvFn getenv_;
};

// FileVersion identifies one version of a file: a symlink swap changes the
// inode; a rewrite in place changes the size, mtime or ctime.
struct FileVersion {
  dev_t dev = 0;
  ino_t ino = 0;
  off_t size = 0;
  timespec mtime{};
  timespec ctime{};

  explicit FileVersion(const struct stat& st)
      : dev(st.st_dev), ino(st.st_ino), size(st.st_size), mtime(st.st_mtim), ctime(st.st_ctim) {}
  bool operator==(const FileVersion& o) const {
    return dev == o.dev && ino == o.ino && size == o.size && mtime.tv_sec == o.mtime.tv_sec &&
           mtime.tv_nsec == o.mtime.tv_nsec && ctime.tv_sec == o.ctime.tv_sec &&
           ctime.tv_nsec == o.ctime.tv_nsec;
  }
};

class TokenFileSource final : public AttestationSource {
 public:
  explicit TokenFileSource(std::string path) : path_(std::move(path)) {}

  absl::StatusOr<std::string> Token(absl::string_view) override {
    // open() follows the symlinks, and fstat() then describes exactly the
    // file read: the kubelet's "..data" swap cannot slip in between.
    const int fd = ::open(path_.c_str(), O_RDONLY | O_CLOEXEC | O_NOCTTY | O_NONBLOCK);
    if (fd < 0) {
      const int err = errno;
      return absl::FailedPreconditionError(
          absl::StrCat("cannot open the token ", Describe(), ": ", std::strerror(err),
                       err == ENOENT ? " (is the projected token volume mounted?)" : ""));
    }
    absl::Cleanup close_fd = [fd] { ::close(fd); };
    struct stat st {};
    if (::fstat(fd, &st) != 0) {
      return absl::FailedPreconditionError(
          absl::StrCat("cannot stat the token ", Describe(), ": ", std::strerror(errno)));
    }
    if (!S_ISREG(st.st_mode)) {
      return absl::InvalidArgumentError(
          absl::StrCat("the token ", Describe(), " is not a regular file"));
    }
    const FileVersion version(st);
    absl::MutexLock lock(&mu_);
    if (version_.has_value() && *version_ == version) return token_;
    if (st.st_size > static_cast<off_t>(kMaxTokenBytes)) {
      return TooLarge();
    }
    std::string contents;
    char buf[8192];
    for (;;) {
      const ssize_t n = ::read(fd, buf, sizeof(buf));
      if (n < 0 && errno == EINTR) continue;
      if (n < 0) {
        return absl::FailedPreconditionError(
            absl::StrCat("cannot read the token ", Describe(), ": ", std::strerror(errno)));
      }
      if (n == 0) break;
      contents.append(buf, static_cast<size_t>(n));
      if (contents.size() > kMaxTokenBytes) return TooLarge();
    }
    absl::StatusOr<std::string> token =
        CleanToken(contents, absl::StrCat("the token ", Describe()));
    if (!token.ok()) return token.status();
    token_ = *token;
    version_ = version;
    return token;
  }

  std::string Describe() const override {
    return absl::StrCat("file ", internal::Printable(path_, 256));
  }

 private:
  absl::Status TooLarge() const {
    return absl::InvalidArgumentError(absl::StrCat("the token ", Describe(), " is larger than ",
                                                   kMaxTokenBytes, " bytes; not a token"));
  }

  const std::string path_;
  absl::Mutex mu_;
  // The last token read, and the version of the file it came from.
  std::optional<FileVersion> version_ ABSL_GUARDED_BY(mu_);
  std::string token_ ABSL_GUARDED_BY(mu_);
};

class CallbackSource final : public AttestationSource {
 public:
  using Fn = std::function<absl::StatusOr<std::string>(absl::string_view audience)>;
  CallbackSource(Fn fn, std::string description)
      : fn_(std::move(fn)), description_(std::move(description)) {}

  absl::StatusOr<std::string> Token(absl::string_view audience) override {
    if (!fn_) {
      return absl::FailedPreconditionError(
          absl::StrCat("attestation source \"", description_, "\" has no function"));
    }
    absl::StatusOr<std::string> token = fn_(audience);
    if (!token.ok()) return token.status();
    return CleanToken(*token, absl::StrCat("attestation source \"", description_, "\""));
  }

  std::string Describe() const override { return description_; }

 private:
  const Fn fn_;
  const std::string description_;
};

}  // namespace

std::shared_ptr<AttestationSource> NewEnvVarSource(std::string name, GetEnvFn getenv) {
  return std::make_shared<EnvVarSource>(std::move(name), std::move(getenv));
}

std::shared_ptr<AttestationSource> NewTokenFileSource(std::string path) {
  return std::make_shared<TokenFileSource>(std::move(path));
}

std::shared_ptr<AttestationSource> NewCallbackSource(
    std::function<absl::StatusOr<std::string>(absl::string_view audience)> fn,
    std::string description) {
  return std::make_shared<CallbackSource>(std::move(fn), std::move(description));
}

}  // namespace writ
