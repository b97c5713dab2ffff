// Compact JWS (RFC 7515 section 7.1) parsing with the strict checks of
// RFC 8725: exactly three segments, strict base64url, strict JSON without
// duplicate members, a size cap, no "none", no HMAC, no JWE, no nested JWT,
// "crit" honoured, and the key-locating headers ("jku", "x5u", "jwk", "x5c")
// never used.
#ifndef WRIT_JOSE_JWS_H_
#define WRIT_JOSE_JWS_H_

#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "writ/jose/algorithm.h"

namespace writ {

// JwsParseOptions bounds what ParseCompactJws accepts.
struct JwsParseOptions {
  // The longest token accepted, in bytes. Default: 16 KiB.
  size_t max_token_bytes = 16 * 1024;
  // Header parameter names this caller understands and that may therefore be
  // listed in "crit". Default: none, so any "crit" is refused.
  std::vector<std::string> understood_critical_headers;
};

// ParsedJws is a compact JWS split and decoded, not yet verified. Movable.
class ParsedJws {
 public:
  JwsAlgorithm algorithm() const { return algorithm_; }
  // kid returns the "kid" header, empty if absent.
  const std::string& kid() const { return kid_; }
  // type returns the "typ" header, empty if absent.
  const std::string& type() const { return type_; }
  // header_json returns the decoded protected header.
  const std::string& header_json() const { return header_json_; }
  // payload returns the decoded payload bytes.
  const std::string& payload() const { return payload_; }
  // signature returns the decoded signature bytes.
  const std::string& signature() const { return signature_; }
  // signing_input returns "BASE64URL(header).BASE64URL(payload)".
  absl::string_view signing_input() const { return signing_input_; }

 private:
  friend absl::StatusOr<ParsedJws> ParseCompactJws(absl::string_view, const JwsParseOptions&);
  JwsAlgorithm algorithm_ = JwsAlgorithm::kEs256;
  std::string kid_;
  std::string type_;
  std::string header_json_;
  std::string payload_;
  std::string signature_;
  std::string signing_input_;
};

// ParseCompactJws splits and decodes `token`. Returns kInvalidArgument, with a
// message naming the defect, for: a token over the size cap; a segment count
// other than three (five is named as JWE); bad base64url in any segment; a
// header that is not a strict JSON object (duplicate names, trailing bytes);
// a missing, unknown, "none" or HMAC "alg"; "enc" (JWE); "cty":"JWT" (nested);
// "b64"; a "kid" that is not a printable string of at most 256 bytes or that
// holds a path (".." or "\\"); and "crit" that is malformed or
// names a header not understood. The key-locating headers are accepted and
// ignored.
absl::StatusOr<ParsedJws> ParseCompactJws(absl::string_view token,
                                          const JwsParseOptions& options = {});

}  // namespace writ

#endif  // WRIT_JOSE_JWS_H_
