// Internal to writ_keys: the file operations the key directory needs, each
// crash-safe (a file appears whole or not at all) and each naming the path
// in its errors.
#ifndef WRIT_ISSUER_KEYS_KEY_FILES_H_
#define WRIT_ISSUER_KEYS_KEY_FILES_H_

#include <sys/types.h>

#include <cstddef>
#include <string>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"

namespace writ::issuer::keys_internal {

// EnsurePrivateDir creates `dir` with mode 0700 if it does not exist.
// kFailedPrecondition if it is not a directory, is owned by another user
// than the process's effective uid, or group or others may write to it
// (mode & 022), saying which chown or chmod fixes it; kInternal on I/O
// errors. Only `dir` itself is checked, not its parents.
absl::Status EnsurePrivateDir(const std::string& dir);

// FileExists is true when `path` names anything (a dangling symlink too).
bool FileExists(const std::string& path);

// WriteNewFile makes `path` (in directory `dir`) appear with `data` and
// `mode`, whole or not at all: the data goes to a temporary file created
// with `mode` (so a private key is never readable by others, not even
// briefly), is synced, and is linked into place, which never replaces an
// existing file (kInternal naming the path if one exists); then the
// directory is synced so the name survives a power loss.
absl::Status WriteNewFile(const std::string& dir, const std::string& path, absl::string_view data,
                          mode_t mode);

// ReplaceFile atomically replaces (or creates) `path` with `data`, mode
// 0600: temporary file, fsync, rename over `path`, fsync of `dir`. A reader
// sees the old content or the new, never a mix. kInternal on I/O errors.
// `*replaced` says whether the rename happened: an error with `*replaced`
// false left `path` as it was; with `*replaced` true the new content is in
// place but syncing the directory failed (it may not survive a power loss).
absl::Status ReplaceFile(const std::string& dir, const std::string& path, absl::string_view data,
                         bool* replaced);

// ReadPrivateFile reads `path`, refusing (kFailedPrecondition, with the
// chmod that fixes it) a file that group or others may read or write, or
// that is not a regular file; a symlink is not followed. The mode is checked
// on the very file read (fstat of the open descriptor). kInvalidArgument
// when larger than `max_bytes`; kInternal on I/O errors (kNotFound when it
// does not exist).
absl::StatusOr<std::string> ReadPrivateFile(const std::string& path, size_t max_bytes);

// ReadPublicFile reads a regular file of at most `max_bytes` whatever its
// mode (certificates an operator places). Same errors otherwise.
absl::StatusOr<std::string> ReadPublicFile(const std::string& path, size_t max_bytes);

// RemoveFile deletes `path`; a missing file is not an error.
absl::Status RemoveFile(const std::string& path);

}  // namespace writ::issuer::keys_internal

#endif  // WRIT_ISSUER_KEYS_KEY_FILES_H_
