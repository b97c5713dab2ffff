#include "sdk/cli/io.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <istream>

#include "absl/cleanup/cleanup.h"
#include "absl/strings/ascii.h"
#include "absl/strings/str_cat.h"
#include "sdk/cli/command.h"

namespace writ::cli {
namespace {

absl::Status ErrnoStatus(int err, absl::string_view what) {
  const std::string message = absl::StrCat(what, ": ", std::strerror(err));
  switch (err) {
    case ENOENT:
    case ENOTDIR:
      return absl::NotFoundError(message);
    case EACCES:
    case EPERM:
      return absl::PermissionDeniedError(message);
    case EEXIST:
      return absl::AlreadyExistsError(message);
    case EISDIR:
    case ELOOP:
      return absl::InvalidArgumentError(message);
    default:
      return absl::UnavailableError(message);
  }
}

std::string Described(absl::string_view what, absl::string_view path) {
  return absl::StrCat(what, " '", Printable(path, 256), "'");
}

}  // namespace

absl::StatusOr<std::string> ReadStream(std::istream& in, absl::string_view what, size_t max_bytes) {
  std::string data;
  char buf[8192];
  while (in.read(buf, sizeof(buf)) || in.gcount() > 0) {
    data.append(buf, static_cast<size_t>(in.gcount()));
    if (data.size() > max_bytes) {
      return absl::InvalidArgumentError(
          absl::StrCat(what, " is larger than ", max_bytes, " bytes"));
    }
  }
  if (in.bad()) return absl::UnavailableError(absl::StrCat("reading ", what, " failed"));
  return data;
}

absl::StatusOr<std::string> ReadInput(absl::string_view path, absl::string_view what,
                                      std::istream& in, size_t max_bytes) {
  if (path == "-") return ReadStream(in, absl::StrCat(what, " (standard input)"), max_bytes);
  const std::string p(path);
  const int fd = open(p.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) return ErrnoStatus(errno, absl::StrCat("cannot open ", Described(what, path)));
  absl::Cleanup close_fd = [fd] { close(fd); };
  struct stat st;
  if (fstat(fd, &st) != 0)
    return ErrnoStatus(errno, absl::StrCat("cannot stat ", Described(what, path)));
  if (S_ISDIR(st.st_mode)) {
    return absl::InvalidArgumentError(absl::StrCat(Described(what, path), " is a directory"));
  }
  std::string data;
  char buf[8192];
  while (true) {
    const ssize_t n = read(fd, buf, sizeof(buf));
    if (n < 0) {
      if (errno == EINTR) continue;
      return ErrnoStatus(errno, absl::StrCat("cannot read ", Described(what, path)));
    }
    if (n == 0) break;
    data.append(buf, static_cast<size_t>(n));
    if (data.size() > max_bytes) {
      return absl::InvalidArgumentError(
          absl::StrCat(Described(what, path), " is larger than ", max_bytes, " bytes"));
    }
  }
  return data;
}

absl::Status WriteNewPrivateFile(absl::string_view path, absl::string_view contents) {
  const std::string p(path);
  // O_EXCL refuses an existing file and (with O_CREAT) an existing symlink, so
  // nobody can point us at a file to overwrite. 0600 from the start, so the
  // secret is never readable by others, even briefly.
  const int fd = open(p.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC | O_NOFOLLOW, 0600);
  if (fd < 0) {
    if (errno == EEXIST) {
      return absl::AlreadyExistsError(
          absl::StrCat("refusing to overwrite existing file '", Printable(path, 256), "'"));
    }
    return ErrnoStatus(errno, absl::StrCat("cannot create '", Printable(path, 256), "'"));
  }
  bool ok = false;
  absl::Cleanup cleanup = [&] {
    close(fd);
    if (!ok) unlink(p.c_str());
  };
  // The umask can only clear bits; fchmod makes the mode exactly 0600.
  if (fchmod(fd, 0600) != 0) {
    return ErrnoStatus(errno, absl::StrCat("cannot set mode 0600 on '", Printable(path, 256), "'"));
  }
  size_t written = 0;
  while (written < contents.size()) {
    const ssize_t n = write(fd, contents.data() + written, contents.size() - written);
    if (n < 0) {
      if (errno == EINTR) continue;
      return ErrnoStatus(errno, absl::StrCat("cannot write '", Printable(path, 256), "'"));
    }
    written += static_cast<size_t>(n);
  }
  if (fsync(fd) != 0) {
    return ErrnoStatus(errno, absl::StrCat("cannot flush '", Printable(path, 256), "'"));
  }
  ok = true;
  return absl::OkStatus();
}

absl::string_view TrimToken(absl::string_view token) { return absl::StripAsciiWhitespace(token); }

}  // namespace writ::cli
