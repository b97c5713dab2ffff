#include "issuer/src/keys/key_files.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <cstring>

#include "absl/strings/str_cat.h"

namespace writ::issuer::keys_internal {
namespace {

absl::Status ErrnoStatus(absl::string_view what, absl::string_view path) {
  const int err = errno;
  std::string message = absl::StrCat(what, " ", path, ": ", std::strerror(err));
  if (err == ENOENT) return absl::NotFoundError(message);
  return absl::InternalError(message);
}

absl::Status SyncDir(const std::string& dir) {
  int dfd = ::open(dir.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (dfd < 0) return ErrnoStatus("cannot open directory", dir);
  absl::Status status;
  if (::fsync(dfd) != 0) status = ErrnoStatus("cannot sync", dir);
  ::close(dfd);
  return status;
}

// WriteTemp writes `data` to a fresh temporary file next to `path`, created
// with `mode`, and syncs it. Returns its name.
absl::StatusOr<std::string> WriteTemp(const std::string& path, absl::string_view data,
                                      mode_t mode) {
  std::string tmp = path + ".tmp-XXXXXX";
  // mkostemp creates the file 0600; fchmod widens it only for public files.
  int fd = ::mkostemp(tmp.data(), O_CLOEXEC);
  if (fd < 0) return ErrnoStatus("cannot create", tmp);
  absl::Status status;
  if (mode != 0600 && ::fchmod(fd, mode) != 0) status = ErrnoStatus("cannot chmod", tmp);
  size_t done = 0;
  while (status.ok() && done < data.size()) {
    ssize_t n = ::write(fd, data.data() + done, data.size() - done);
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) status = ErrnoStatus("cannot write", tmp);
    if (n > 0) done += static_cast<size_t>(n);
  }
  if (status.ok() && ::fsync(fd) != 0) status = ErrnoStatus("cannot sync", tmp);
  ::close(fd);
  if (!status.ok()) {
    ::unlink(tmp.c_str());
    return status;
  }
  return tmp;
}

absl::StatusOr<std::string> ReadFile(const std::string& path, size_t max_bytes, bool private_file) {
  int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC | (private_file ? O_NOFOLLOW : 0));
  if (fd < 0) return ErrnoStatus("cannot open", path);
  struct stat st {};
  if (::fstat(fd, &st) != 0) {
    absl::Status s = ErrnoStatus("cannot stat", path);
    ::close(fd);
    return s;
  }
  if (!S_ISREG(st.st_mode) || (private_file && (st.st_mode & 077) != 0)) {
    ::close(fd);
    if (!S_ISREG(st.st_mode)) {
      return absl::FailedPreconditionError(
          absl::StrCat("refusing to load ", path, ": not a regular file"));
    }
    return absl::FailedPreconditionError(absl::StrCat(
        "refusing to load ", path, ": mode ", absl::Dec(st.st_mode & 0777, absl::kZeroPad4),
        " lets others read or write it; run `chmod 600 ", path, "`"));
  }
  std::string out;
  char buf[4096];
  for (;;) {
    ssize_t n = ::read(fd, buf, sizeof(buf));
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) {
      absl::Status s = ErrnoStatus("cannot read", path);
      ::close(fd);
      return s;
    }
    if (n == 0) break;
    out.append(buf, static_cast<size_t>(n));
    if (out.size() > max_bytes) {
      ::close(fd);
      return absl::InvalidArgumentError(
          absl::StrCat(path, ": larger than the limit of ", max_bytes, " bytes"));
    }
  }
  ::close(fd);
  return out;
}

}  // namespace

absl::Status EnsurePrivateDir(const std::string& dir) {
  if (::mkdir(dir.c_str(), 0700) != 0 && errno != EEXIST) {
    return ErrnoStatus("cannot create key directory", dir);
  }
  struct stat st {};
  if (::stat(dir.c_str(), &st) != 0) return ErrnoStatus("cannot stat", dir);
  if (!S_ISDIR(st.st_mode)) {
    return absl::FailedPreconditionError(absl::StrCat(dir, " is not a directory"));
  }
  // Whoever may write the directory may replace a key file or keyring.json
  // (rename over it, or delete it for the issuer to start new rings).
  const uid_t euid = ::geteuid();
  if (st.st_uid != euid) {
    return absl::FailedPreconditionError(
        absl::StrCat("refusing key directory ", dir, ": it is owned by uid ", st.st_uid,
                     ", not by uid ", euid, " that runs the issuer; run `chown -R ", euid, " ", dir,
                     "` or start the issuer as its owner"));
  }
  if ((st.st_mode & 022) != 0) {
    return absl::FailedPreconditionError(absl::StrCat(
        "refusing key directory ", dir, ": mode ", absl::Dec(st.st_mode & 0777, absl::kZeroPad4),
        " lets group or others write to it; run `chmod 700 ", dir, "`"));
  }
  return absl::OkStatus();
}

bool FileExists(const std::string& path) {
  struct stat st {};
  return ::lstat(path.c_str(), &st) == 0;
}

absl::Status WriteNewFile(const std::string& dir, const std::string& path, absl::string_view data,
                          mode_t mode) {
  auto tmp = WriteTemp(path, data, mode);
  if (!tmp.ok()) return tmp.status();
  absl::Status status;
  if (::link(tmp->c_str(), path.c_str()) != 0) status = ErrnoStatus("cannot create", path);
  ::unlink(tmp->c_str());
  if (!status.ok()) return status;
  return SyncDir(dir);
}

absl::Status ReplaceFile(const std::string& dir, const std::string& path, absl::string_view data,
                         bool* replaced) {
  *replaced = false;
  auto tmp = WriteTemp(path, data, 0600);
  if (!tmp.ok()) return tmp.status();
  if (::rename(tmp->c_str(), path.c_str()) != 0) {
    absl::Status status = ErrnoStatus("cannot replace", path);
    ::unlink(tmp->c_str());
    return status;
  }
  *replaced = true;
  return SyncDir(dir);
}

absl::StatusOr<std::string> ReadPrivateFile(const std::string& path, size_t max_bytes) {
  return ReadFile(path, max_bytes, /*private_file=*/true);
}

absl::StatusOr<std::string> ReadPublicFile(const std::string& path, size_t max_bytes) {
  return ReadFile(path, max_bytes, /*private_file=*/false);
}

absl::Status RemoveFile(const std::string& path) {
  if (::unlink(path.c_str()) != 0 && errno != ENOENT) return ErrnoStatus("cannot remove", path);
  return absl::OkStatus();
}

}  // namespace writ::issuer::keys_internal
