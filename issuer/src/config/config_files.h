// Internal to writ_config: reading files named by the configuration, and
// resolving paths relative to the configuration file.
#ifndef WRIT_ISSUER_CONFIG_CONFIG_FILES_H_
#define WRIT_ISSUER_CONFIG_CONFIG_FILES_H_

#include <cstddef>
#include <string>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"

namespace writ::issuer::config_internal {

// kMaxConfigFileBytes caps writ.yaml and any file it names.
inline constexpr size_t kMaxConfigFileBytes = 1 << 20;

// ReadSmallFile returns the content of `path`. Fails with kNotFound (no such
// file), kPermissionDenied, kInvalidArgument (larger than `max_bytes`, or a
// directory) or kFailedPrecondition (other I/O errors); messages name the path.
absl::StatusOr<std::string> ReadSmallFile(absl::string_view path, size_t max_bytes);

// DirectoryOf returns the directory part of `path` ("" for a bare name).
std::string DirectoryOf(absl::string_view path);

// ResolvePath returns `path` when it is absolute or `base_dir` is empty, else
// base_dir/path, lexically normalised.
std::string ResolvePath(absl::string_view base_dir, absl::string_view path);

}  // namespace writ::issuer::config_internal

#endif  // WRIT_ISSUER_CONFIG_CONFIG_FILES_H_
