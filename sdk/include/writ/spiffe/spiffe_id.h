// SpiffeId: a validated SPIFFE ID, "spiffe://<trust domain>/<path>", as the
// SPIFFE ID standard (SPIFFE-ID.md, sections 2 and 2.3) defines it.
#ifndef WRIT_SPIFFE_SPIFFE_ID_H_
#define WRIT_SPIFFE_SPIFFE_ID_H_

#include <cstddef>
#include <string>
#include <utility>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"

namespace writ {

// SpiffeId is an immutable, validated SPIFFE ID. Copyable; thread-compatible.
class SpiffeId {
 public:
  // kMaxBytes bounds the whole ID ("spiffe://" included), SPIFFE-ID.md 2.3.
  static constexpr size_t kMaxBytes = 2048;
  // kMaxTrustDomainBytes bounds the trust domain (SPIFFE-ID.md 2.3, after the
  // 255-byte host limit of RFC 3986).
  static constexpr size_t kMaxTrustDomainBytes = 255;

  // Parse validates `id` and splits it. The rules (SPIFFE-ID.md, as go-spiffe
  // enforces them):
  //   - the scheme is exactly "spiffe://" (lowercase);
  //   - the trust domain is 1 to kMaxTrustDomainBytes bytes of [a-z0-9._-]
  //     (so no uppercase, port, userinfo or percent-encoding);
  //   - the path is empty or "/"-separated segments of [A-Za-z0-9._-], with
  //     no empty segment (so no "//" and no trailing "/"), and no segment
  //     that is "." or "..";
  //   - no query ("?") or fragment ("#");
  //   - at most kMaxBytes bytes in all.
  // Returns kInvalidArgument with a message naming the first defect found.
  static absl::StatusOr<SpiffeId> Parse(absl::string_view id);

  // trust_domain returns the trust domain name, e.g. "example.org".
  const std::string& trust_domain() const { return trust_domain_; }

  // path returns the path including its leading "/", e.g. "/ns/prod/sa/web",
  // or "" for the ID of the trust domain itself.
  const std::string& path() const { return path_; }

  // ToString returns the ID in its canonical (and only valid) form.
  std::string ToString() const { return "spiffe://" + trust_domain_ + path_; }

  friend bool operator==(const SpiffeId& a, const SpiffeId& b) {
    return a.trust_domain_ == b.trust_domain_ && a.path_ == b.path_;
  }
  friend bool operator!=(const SpiffeId& a, const SpiffeId& b) { return !(a == b); }

 private:
  SpiffeId(std::string trust_domain, std::string path)
      : trust_domain_(std::move(trust_domain)), path_(std::move(path)) {}

  std::string trust_domain_;
  std::string path_;
};

}  // namespace writ

#endif  // WRIT_SPIFFE_SPIFFE_ID_H_
