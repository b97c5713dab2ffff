// libFuzzer target: OpenSSH public key lines (the public_key of an SSH
// certificate request, untrusted). What parses must encode back, from its
// OpenSSL key, to the same bytes, and that line must parse to the same key.
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string>

#include "issuer/src/mint/ssh_cert_minter.h"
#include "issuer/src/mint/ssh_public_key.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  absl::string_view line(reinterpret_cast<const char*>(data), size);
  auto key = writ::issuer::ParseSshPublicKeyLine(line);
  if (!key.ok()) {
    if (key.status().message().empty()) abort();  // every refusal says why
    return 0;
  }
  if (key->key == nullptr || key->bits <= 0) abort();
  std::string type, blob;
  if (!writ::issuer::EncodeSshPublicKey(key->key.get(), &type, &blob).ok() || type != key->type ||
      blob != key->blob) {
    abort();
  }
  auto again_line = writ::issuer::OpenSshPublicKeyLine(key->key.get(), "fuzz");
  if (!again_line.ok()) abort();
  auto again = writ::issuer::ParseSshPublicKeyLine(*again_line);
  if (!again.ok() || again->blob != key->blob || again->bits != key->bits) abort();
  return 0;
}
