// File and stream helpers for the `writ` commands: bounded reads, "-" for
// standard input, and creating private files without races or overwrites.
#ifndef WRIT_SDK_CLI_IO_H_
#define WRIT_SDK_CLI_IO_H_

#include <iosfwd>
#include <string>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"

namespace writ::cli {

// The largest file any command reads (keys, JWK Sets, claims, tokens).
inline constexpr size_t kMaxInputBytes = 1024 * 1024;

// ReadInput returns the contents of `path`, or of `in` when `path` is "-".
// `what` names the input in messages ("--key file"). Returns kNotFound /
// kPermissionDenied / kInvalidArgument (too large) / kUnavailable with the
// path and the system's reason. The contents are never part of a message.
absl::StatusOr<std::string> ReadInput(absl::string_view path, absl::string_view what,
                                      std::istream& in, size_t max_bytes = kMaxInputBytes);

// ReadStream reads all of `in`, up to `max_bytes`.
absl::StatusOr<std::string> ReadStream(std::istream& in, absl::string_view what,
                                       size_t max_bytes = kMaxInputBytes);

// WriteNewPrivateFile creates `path` with mode 0600 and writes `contents`.
// It never overwrites or follows an existing file or symlink: returns
// kAlreadyExists when `path` exists. On any failure after creating the file,
// the file is removed. The contents are never part of a message.
absl::Status WriteNewPrivateFile(absl::string_view path, absl::string_view contents);

// TrimToken strips the whitespace around a token read from a file or a pipe
// (editors and `echo` add a final newline).
absl::string_view TrimToken(absl::string_view token);

}  // namespace writ::cli

#endif  // WRIT_SDK_CLI_IO_H_
