// Strict application/x-www-form-urlencoded parsing for the token endpoint.
#ifndef WRIT_ISSUER_API_FORM_BODY_H_
#define WRIT_ISSUER_API_FORM_BODY_H_

#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"

namespace writ::issuer {

// FormBody is a decoded form: name/value pairs in body order.
class FormBody {
 public:
  // Parse decodes `body` ("a=1&b=x+y%21"). '+' is a space; '%' must be
  // followed by two hex digits. Returns kInvalidArgument naming the defect for
  // a bad escape, an empty or nameless pair, a NUL byte, or more than
  // `max_params` pairs.
  static absl::StatusOr<FormBody> Parse(absl::string_view body, size_t max_params = 64);

  // Single returns the one value of `name`, nullopt when absent, or
  // kInvalidArgument when it occurs more than once (RFC 6749 section 3.2).
  absl::StatusOr<std::optional<std::string>> Single(absl::string_view name) const;
  // All returns every value of `name`, in order.
  std::vector<std::string> All(absl::string_view name) const;

  const std::vector<std::pair<std::string, std::string>>& pairs() const { return pairs_; }

 private:
  std::vector<std::pair<std::string, std::string>> pairs_;
};

}  // namespace writ::issuer

#endif  // WRIT_ISSUER_API_FORM_BODY_H_
