// Go-style durations ("500ms", "30s", "1h30m") as written in writ.yaml.
#ifndef WRIT_ISSUER_CONFIG_DURATION_H_
#define WRIT_ISSUER_CONFIG_DURATION_H_

#include <string>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "absl/time/time.h"

namespace writ::issuer {

// ParseConfigDuration parses a Go-style duration: one or more
// <number><unit> terms, where number is decimal with an optional fraction
// ("1.5h") and unit is one of ns, us, ms, s, m, h. The bare "0" is accepted as
// zero. Signs, spaces, missing or unknown units, "inf" and values beyond
// absl::Duration's range are refused with kInvalidArgument and a message that
// says which (without naming the field; the caller adds that).
// Thread-safe (pure function).
absl::StatusOr<absl::Duration> ParseConfigDuration(absl::string_view text);

// FormatConfigDuration renders a duration so that ParseConfigDuration reads
// it back exactly ("1h30m", "500ms", "0s").
std::string FormatConfigDuration(absl::Duration d);

}  // namespace writ::issuer

#endif  // WRIT_ISSUER_CONFIG_DURATION_H_
