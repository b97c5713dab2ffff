#include "issuer/src/keys/file_key_manager.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

#include "absl/strings/str_cat.h"
#include "writ/base/status_macros.h"
#include "writ/crypto/keys.h"

namespace writ::issuer {
namespace {

absl::Status ErrnoStatus(absl::string_view what, absl::string_view path) {
  return absl::InternalError(absl::StrCat(what, " ", path, ": ", std::strerror(errno)));
}

absl::Status EnsurePrivateDir(const std::string& dir) {
  if (::mkdir(dir.c_str(), 0700) != 0 && errno != EEXIST) {
    return ErrnoStatus("cannot create key directory", dir);
  }
  struct stat st {};
  if (::stat(dir.c_str(), &st) != 0) return ErrnoStatus("cannot stat", dir);
  if (!S_ISDIR(st.st_mode))
    return absl::FailedPreconditionError(absl::StrCat(dir, " is not a directory"));
  return absl::OkStatus();
}

// WriteNewPrivateFile makes `path` appear whole or not at all: the key goes
// to a temporary file (mode 0600 from creation, so never readable by others),
// is synced, and is linked into place (link() never replaces an existing
// file), then the directory is synced so the name survives a power loss.
absl::Status WriteNewPrivateFile(const std::string& dir, const std::string& path,
                                 absl::string_view data) {
  std::string tmp = path + ".tmp-XXXXXX";
  int fd = ::mkostemp(tmp.data(), O_CLOEXEC);
  if (fd < 0) return ErrnoStatus("cannot create", tmp);
  size_t done = 0;
  absl::Status status;
  while (status.ok() && done < data.size()) {
    ssize_t n = ::write(fd, data.data() + done, data.size() - done);
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) status = ErrnoStatus("cannot write", tmp);
    if (n > 0) done += static_cast<size_t>(n);
  }
  if (status.ok() && ::fsync(fd) != 0) status = ErrnoStatus("cannot sync", tmp);
  ::close(fd);
  if (status.ok() && ::link(tmp.c_str(), path.c_str()) != 0) {
    status = ErrnoStatus("cannot create", path);
  }
  ::unlink(tmp.c_str());
  if (!status.ok()) return status;
  int dfd = ::open(dir.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (dfd < 0 || ::fsync(dfd) != 0) status = ErrnoStatus("cannot sync", dir);
  if (dfd >= 0) ::close(dfd);
  return status;
}

// ReadPrivateFile checks the mode of the very file it reads (fstat on the
// open descriptor, no symlink followed).
absl::StatusOr<std::string> ReadPrivateFile(const std::string& path) {
  int fd = ::open(path.c_str(), O_RDONLY | O_NOFOLLOW | O_CLOEXEC);
  if (fd < 0) return ErrnoStatus("cannot open", path);
  struct stat st {};
  if (::fstat(fd, &st) != 0) {
    absl::Status s = ErrnoStatus("cannot stat", path);
    ::close(fd);
    return s;
  }
  if (!S_ISREG(st.st_mode) || (st.st_mode & 077) != 0) {
    ::close(fd);
    return absl::FailedPreconditionError(absl::StrCat(
        "refusing to load ", path, ": mode ", absl::Dec(st.st_mode & 0777, absl::kZeroPad4),
        " lets others read or write it (or it is not a regular file); run `chmod 600 ", path, "`"));
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
    if (out.size() > 64 * 1024) {
      ::close(fd);
      return absl::InvalidArgumentError(absl::StrCat(path, ": larger than any key file"));
    }
  }
  ::close(fd);
  return out;
}

}  // namespace

absl::StatusOr<std::unique_ptr<FileKeyManager>> FileKeyManager::Open(absl::string_view dir) {
  const std::string dir_str(dir);
  RETURN_IF_ERROR(EnsurePrivateDir(dir_str));
  auto km = std::unique_ptr<FileKeyManager>(new FileKeyManager());
  km->jwt_key_path_ = absl::StrCat(dir_str, "/jwt-signing.pem");

  SslPtr<EVP_PKEY> key;
  if (::access(km->jwt_key_path_.c_str(), F_OK) != 0) {
    ASSIGN_OR_RETURN(key, GenerateKey(KeySpec::kEcP256));
    ASSIGN_OR_RETURN(std::string pem, PrivateKeyToPem(key.get()));
    RETURN_IF_ERROR(WriteNewPrivateFile(dir_str, km->jwt_key_path_, pem));
    km->created_ = true;
  } else {
    ASSIGN_OR_RETURN(std::string pem, ReadPrivateFile(km->jwt_key_path_));
    auto parsed = ParsePrivateKeyPem(pem);
    if (!parsed.ok()) {
      return absl::InvalidArgumentError(
          absl::StrCat(km->jwt_key_path_, ": ", parsed.status().message()));
    }
    key = *std::move(parsed);
  }
  auto signer = PrivateKeySigner::New(std::move(key), JwsAlgorithm::kEs256);
  if (!signer.ok()) {
    return absl::InvalidArgumentError(
        absl::StrCat(km->jwt_key_path_, ": not an ES256 (P-256) key: ", signer.status().message()));
  }
  km->jwks_ = absl::StrCat(R"({"keys":[)", (*signer)->public_jwk().ToJson(), "]}");
  km->jwt_signer_ = std::shared_ptr<const Signer>(*std::move(signer));
  return km;
}

}  // namespace writ::issuer
