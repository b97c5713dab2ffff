// Status assertions for tests (absl 20220623 ships none).
#ifndef WRIT_TESTS_TESTING_STATUS_TEST_UTIL_H_
#define WRIT_TESTS_TESTING_STATUS_TEST_UTIL_H_

#include "gtest/gtest.h"

#define WRIT_TEST_CONCAT_INNER_(a, b) a##b
#define WRIT_TEST_CONCAT_(a, b) WRIT_TEST_CONCAT_INNER_(a, b)

// ASSERT_OK / EXPECT_OK take an absl::Status or absl::StatusOr.
#define ASSERT_OK(expr)                                                                   \
  do {                                                                                    \
    const auto& writ_test_s_ = (expr);                                                    \
    ASSERT_TRUE(writ_test_s_.ok()) << "not OK: " << ::writ::test::StatusOf(writ_test_s_); \
  } while (0)
#define EXPECT_OK(expr)                                                                   \
  do {                                                                                    \
    const auto& writ_test_s_ = (expr);                                                    \
    EXPECT_TRUE(writ_test_s_.ok()) << "not OK: " << ::writ::test::StatusOf(writ_test_s_); \
  } while (0)

// ASSERT_OK_AND_ASSIGN(lhs, expr) asserts that the StatusOr `expr` is OK and
// moves its value into `lhs` (a declaration or an existing variable).
#define ASSERT_OK_AND_ASSIGN(lhs, expr) \
  WRIT_ASSERT_OK_AND_ASSIGN_IMPL_(WRIT_TEST_CONCAT_(writ_test_so_, __LINE__), lhs, expr)
#define WRIT_ASSERT_OK_AND_ASSIGN_IMPL_(so, lhs, expr) \
  auto so = (expr);                                    \
  ASSERT_TRUE(so.ok()) << "not OK: " << so.status();   \
  lhs = std::move(so).value()

#include "absl/status/status.h"
#include "absl/status/statusor.h"

namespace writ::test {
inline const absl::Status& StatusOf(const absl::Status& s) { return s; }
template <typename T>
const absl::Status& StatusOf(const absl::StatusOr<T>& s) {
  return s.status();
}
}  // namespace writ::test

#endif  // WRIT_TESTS_TESTING_STATUS_TEST_UTIL_H_
