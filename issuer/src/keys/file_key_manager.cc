#include "issuer/src/keys/file_key_manager.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <fstream>
#include <sstream>

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

// WriteNewPrivateFile creates `path` exclusively with mode 0600, so a key is
// never readable by others, not even for a moment.
absl::Status WriteNewPrivateFile(const std::string& path, absl::string_view data) {
  int fd = ::open(path.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
  if (fd < 0) return ErrnoStatus("cannot create", path);
  size_t done = 0;
  while (done < data.size()) {
    ssize_t n = ::write(fd, data.data() + done, data.size() - done);
    if (n < 0) {
      if (errno == EINTR) continue;
      absl::Status s = ErrnoStatus("cannot write", path);
      ::close(fd);
      ::unlink(path.c_str());
      return s;
    }
    done += static_cast<size_t>(n);
  }
  if (::fsync(fd) != 0) {
    absl::Status s = ErrnoStatus("cannot sync", path);
    ::close(fd);
    return s;
  }
  ::close(fd);
  return absl::OkStatus();
}

absl::StatusOr<std::string> ReadPrivateFile(const std::string& path) {
  struct stat st {};
  if (::stat(path.c_str(), &st) != 0) return ErrnoStatus("cannot stat", path);
  if ((st.st_mode & 077) != 0) {
    return absl::FailedPreconditionError(absl::StrCat(
        "refusing to load ", path, ": mode ", absl::Dec(st.st_mode & 0777, absl::kZeroPad4),
        " lets others read or write it; run `chmod 600 ", path, "`"));
  }
  std::ifstream in(path, std::ios::binary);
  if (!in) return ErrnoStatus("cannot open", path);
  std::ostringstream buf;
  buf << in.rdbuf();
  return buf.str();
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
    RETURN_IF_ERROR(WriteNewPrivateFile(km->jwt_key_path_, pem));
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
