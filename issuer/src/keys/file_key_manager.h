// FileKeyManager: signing keys kept as PEM files in the data directory.
#ifndef WRIT_ISSUER_KEYS_FILE_KEY_MANAGER_H_
#define WRIT_ISSUER_KEYS_FILE_KEY_MANAGER_H_

#include <memory>
#include <string>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "issuer/src/keys/key_manager.h"

namespace writ::issuer {

// FileKeyManager keeps the JWT signing key (ES256, P-256) in
// `<dir>/jwt-signing.pem`. The first Open generates it (file mode 0600, in a
// directory of mode 0700); later Opens load it. A key file that group or
// others can read or write is refused: a leaked signing key is every
// credential Writ ever vouches for. Immutable after Open; thread-safe.
//
// Rotation (prepared, active, retired) is not here yet; PublicJwks publishes
// the one key.
class FileKeyManager final : public KeyManager {
 public:
  // Open loads or creates the keys in `dir`. Returns kFailedPrecondition for
  // a key file with loose permissions, kInvalidArgument for one that does not
  // parse or is not a P-256 key, kInternal for I/O errors (naming the path).
  static absl::StatusOr<std::unique_ptr<FileKeyManager>> Open(absl::string_view dir);

  std::shared_ptr<const Signer> JwtSigner() const override { return jwt_signer_; }
  std::string PublicJwks() const override { return jwks_; }

  // created is true when Open generated the key (first start).
  bool created() const { return created_; }
  // jwt_key_path is the PEM file of the JWT signing key.
  const std::string& jwt_key_path() const { return jwt_key_path_; }

 private:
  FileKeyManager() = default;
  std::shared_ptr<const Signer> jwt_signer_;
  std::string jwks_;
  std::string jwt_key_path_;
  bool created_ = false;
};

}  // namespace writ::issuer

#endif  // WRIT_ISSUER_KEYS_FILE_KEY_MANAGER_H_
