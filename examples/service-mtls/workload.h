// Workload: what both example services do to get rotating SVIDs: a Writ
// Client attesting with the service-account token file, an X509Source that
// keeps the SVID (key generated in this process) fresh, and optionally a
// forced rotation every few seconds so the example shows rotations without
// waiting half an SVID lifetime.
#ifndef WRIT_EXAMPLES_SERVICE_MTLS_WORKLOAD_H_
#define WRIT_EXAMPLES_SERVICE_MTLS_WORKLOAD_H_

#include <atomic>
#include <memory>
#include <string>
#include <thread>

#include "absl/status/statusor.h"
#include "absl/synchronization/notification.h"
#include "absl/time/time.h"
#include "writ/client/client.h"
#include "writ/svid/x509_source.h"

namespace writ::examples {

struct WorkloadFlags {
  std::string issuer;
  std::string token_file;
  absl::Duration rotate_every = absl::ZeroDuration();
  // Parse takes --issuer, --token-file and --rotate-every; false for others.
  bool Parse(const std::string& flag, const std::string& value);
};

// Rotator calls RotateNow every `every` until destroyed, printing each new
// SVID.
class Rotator {
 public:
  Rotator(X509Source* source, absl::Duration every, std::string name);
  ~Rotator();

 private:
  absl::Notification stop_;
  std::thread thread_;
};

struct Workload {
  std::unique_ptr<Client> client;
  std::unique_ptr<X509Source> source;
  std::unique_ptr<Rotator> rotator;
};

// StartWorkload builds the client and gets the first SVID. Fails with the
// issuer's reason when Writ refuses.
absl::StatusOr<Workload> StartWorkload(const WorkloadFlags& flags, const std::string& name);

}  // namespace writ::examples

#endif  // WRIT_EXAMPLES_SERVICE_MTLS_WORKLOAD_H_
