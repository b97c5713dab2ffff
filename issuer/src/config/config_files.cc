#include "issuer/src/config/config_files.h"

#include <cerrno>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <string>
#include <system_error>

#include "absl/strings/str_cat.h"

namespace writ::issuer::config_internal {

absl::StatusOr<std::string> ReadSmallFile(absl::string_view path, size_t max_bytes) {
  const std::string name(path);
  std::error_code ec;
  const std::filesystem::file_status status = std::filesystem::status(name, ec);
  if (ec) {
    if (ec == std::errc::no_such_file_or_directory) {
      return absl::NotFoundError(absl::StrCat(name, ": no such file"));
    }
    if (ec == std::errc::permission_denied) {
      return absl::PermissionDeniedError(absl::StrCat(name, ": permission denied"));
    }
    return absl::FailedPreconditionError(absl::StrCat(name, ": ", ec.message()));
  }
  if (std::filesystem::is_directory(status)) {
    return absl::InvalidArgumentError(absl::StrCat(name, ": is a directory, not a file"));
  }
  std::ifstream in(name, std::ios::binary);
  if (!in) {
    const int err = errno;
    if (err == EACCES) {
      return absl::PermissionDeniedError(absl::StrCat(name, ": permission denied"));
    }
    return absl::FailedPreconditionError(absl::StrCat(name, ": cannot open: ", std::strerror(err)));
  }
  std::string content;
  char buffer[8192];
  while (in.read(buffer, sizeof(buffer)) || in.gcount() > 0) {
    content.append(buffer, static_cast<size_t>(in.gcount()));
    if (content.size() > max_bytes) {
      return absl::InvalidArgumentError(
          absl::StrCat(name, ": larger than the limit of ", max_bytes, " bytes"));
    }
  }
  if (in.bad()) return absl::FailedPreconditionError(absl::StrCat(name, ": read error"));
  return content;
}

std::string DirectoryOf(absl::string_view path) {
  return std::filesystem::path(std::string(path)).parent_path().string();
}

std::string ResolvePath(absl::string_view base_dir, absl::string_view path) {
  std::filesystem::path p{std::string(path)};
  if (p.is_absolute() || base_dir.empty()) return p.string();
  return (std::filesystem::path(std::string(base_dir)) / p).lexically_normal().string();
}

}  // namespace writ::issuer::config_internal
