// Status propagation helpers. Abseil 20220623 (Debian bookworm) has none of
// its own.
#ifndef WRIT_BASE_STATUS_MACROS_H_
#define WRIT_BASE_STATUS_MACROS_H_

#include "absl/status/status.h"
#include "absl/status/statusor.h"

#define WRIT_STATUS_CONCAT_INNER_(a, b) a##b
#define WRIT_STATUS_CONCAT_(a, b) WRIT_STATUS_CONCAT_INNER_(a, b)

// RETURN_IF_ERROR evaluates `expr` (an absl::Status) and returns it from the
// enclosing function if it is not OK.
#define RETURN_IF_ERROR(expr)                    \
  do {                                           \
    ::absl::Status writ_status_ = (expr);        \
    if (!writ_status_.ok()) return writ_status_; \
  } while (0)

// ASSIGN_OR_RETURN(lhs, expr) evaluates `expr` (an absl::StatusOr<T>); on
// error it returns the status, otherwise it moves the value into `lhs`, which
// may be a declaration (`auto x`) or an existing variable.
#define ASSIGN_OR_RETURN(lhs, expr) \
  WRIT_ASSIGN_OR_RETURN_IMPL_(WRIT_STATUS_CONCAT_(writ_statusor_, __LINE__), lhs, expr)

#define WRIT_ASSIGN_OR_RETURN_IMPL_(statusor, lhs, expr)   \
  auto statusor = (expr);                                  \
  if (!statusor.ok()) return std::move(statusor).status(); \
  lhs = std::move(statusor).value()

#endif  // WRIT_BASE_STATUS_MACROS_H_
