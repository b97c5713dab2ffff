// Internal to writ_keys: the state file of the key rings (keyring.json), the
// one record of which key is in which state. Key material stays in the PEM
// files it names.
//
//   {"format": "writ-keyring-1", "sequence": 7, "published_digest": "<hex>",
//    "keys": [{"purpose": "jwt", "id": "...", "state": "active",
//              "file": "jwt-....pem", "created_at": "2026-01-02T03:04:05Z",
//              "activated_at": "...", "retired_at": "...",
//              "publish_until": "..."}, ...]}
//
// Times are RFC 3339 UTC; a time that is not set (never activated, not
// retired) is left out.
#ifndef WRIT_ISSUER_KEYS_KEY_RING_STATE_H_
#define WRIT_ISSUER_KEYS_KEY_RING_STATE_H_

#include <cstdint>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "absl/time/time.h"
#include "issuer/src/keys/key_manager.h"

namespace writ::issuer::keys_internal {

// kMaxStateFileBytes bounds keyring.json (a ring holds a handful of keys).
inline constexpr size_t kMaxStateFileBytes = 1024 * 1024;

// KeyRecord is what the state file says about one key.
struct KeyRecord {
  KeyPurpose purpose = KeyPurpose::kJwt;
  std::string id;
  KeyState state = KeyState::kPrepared;
  // file: the PEM private key, a plain name inside the key directory.
  std::string file;
  absl::Time created_at = absl::InfinitePast();
  absl::Time activated_at = absl::InfinitePast();
  absl::Time retired_at = absl::InfinitePast();
  absl::Time publish_until = absl::InfiniteFuture();
};

// RingState is the whole state file.
struct RingState {
  uint64_t sequence = 0;
  // published_digest: PublishedDigest (key_ring.h) of the bundle `sequence`
  // numbers; empty when the file has none.
  std::string published_digest;
  std::vector<KeyRecord> keys;
};

// IsPlainFileName is true for a name of [A-Za-z0-9._-], not starting with a
// dot, of at most 128 characters: no path separators, no "..", nothing
// hidden.
bool IsPlainFileName(absl::string_view name);

// SerializeRingState renders `state` as the JSON above.
std::string SerializeRingState(const RingState& state);

// ParseRingState reads the JSON above. kInvalidArgument naming `path` and
// the defect for malformed JSON, a missing or mistyped member, an unknown
// purpose, state or format, a file name that is not plain, a time that is
// not RFC 3339, a duplicated id or file, or a ring with more than one active
// or more than one prepared key.
absl::StatusOr<RingState> ParseRingState(absl::string_view json, absl::string_view path);

}  // namespace writ::issuer::keys_internal

#endif  // WRIT_ISSUER_KEYS_KEY_RING_STATE_H_
