#include "examples/service-mtls/workload.h"

#include <sys/prctl.h>

#include <iostream>
#include <utility>

#include "examples/service-mtls/svid_summary.h"
#include "writ/base/status_macros.h"
#include "writ/client/attestation.h"
#include "writ/svid/writ_svid_issuer.h"

namespace writ::examples {

bool WorkloadFlags::Parse(const std::string& flag, const std::string& value) {
  if (flag == "--issuer") {
    issuer = value;
  } else if (flag == "--token-file") {
    token_file = value;
  } else if (flag == "--rotate-every") {
    return absl::ParseDuration(value, &rotate_every);
  } else {
    return false;
  }
  return true;
}

Rotator::Rotator(X509Source* source, absl::Duration every, std::string name) {
  thread_ = std::thread([this, source, every, name = std::move(name)] {
    while (!stop_.WaitForNotificationWithTimeout(every)) {
      absl::Status rotated = source->RotateNow();
      if (rotated.ok()) {
        std::cout << name << ": new SVID, " << SvidSummary(source->Current().certificate_chain_pem)
                  << std::endl;
      } else {
        std::cout << name << ": rotation failed (the old SVID stays): " << rotated.message()
                  << std::endl;
      }
    }
  });
}

Rotator::~Rotator() {
  stop_.Notify();
  thread_.join();
}

absl::StatusOr<Workload> StartWorkload(const WorkloadFlags& flags, const std::string& name) {
  // Other processes of this user must not read the SVID key through
  // /proc/<pid>/fd (grpc_credentials.h); this process still can.
  if (prctl(PR_SET_DUMPABLE, 0) != 0) return absl::InternalError("prctl(PR_SET_DUMPABLE) failed");
  ClientOptions options;
  options.issuer_url = flags.issuer;
  options.attestation_audience = "writ";
  // The kubelet rotates projected tokens; the source re-reads the file.
  options.attestation = NewTokenFileSource(flags.token_file);
  Workload w;
  ASSIGN_OR_RETURN(w.client, Client::New(std::move(options)));
  ASSIGN_OR_RETURN(w.source, X509Source::New(WritSvidIssuer(w.client.get())));
  std::cout << name << ": SVID " << w.source->Current().spiffe_id << ", "
            << SvidSummary(w.source->Current().certificate_chain_pem) << std::endl;
  if (flags.rotate_every > absl::ZeroDuration()) {
    w.rotator = std::make_unique<Rotator>(w.source.get(), flags.rotate_every, name);
  }
  return w;
}

}  // namespace writ::examples
