// frontend: a gRPC client service that calls inventory over mTLS with its
// own rotating Writ SVID, accepting only the inventory's SPIFFE ID. It makes
// all its calls on ONE channel: SvidChannelCredentials present the current
// SVID and trust the current bundle on every new handshake, so rotations of
// either side, and of Writ's CA, need no reconnect logic here.
//
//   frontend --issuer URL --token-file F --inventory HOST:PORT --expect SPIFFE_ID
//            [--calls 20] [--interval 250ms] [--rotate-every 2s]
// Exits 0 when every call succeeded.

#include <grpcpp/grpcpp.h>

#include <iostream>
#include <set>
#include <string>
#include <thread>

#include "absl/strings/numbers.h"
#include "absl/time/clock.h"
#include "examples/service-mtls/inventory.grpc.pb.h"
#include "examples/service-mtls/workload.h"
#include "writ/svid/grpc_credentials.h"

int main(int argc, char** argv) {
  writ::examples::WorkloadFlags flags;
  std::string target, expect;
  int calls = 20;
  absl::Duration interval = absl::Milliseconds(250);
  for (int i = 1; i + 1 < argc; i += 2) {
    const std::string flag = argv[i], value = argv[i + 1];
    if (flags.Parse(flag, value)) continue;
    if (flag == "--inventory") {
      target = value;
    } else if (flag == "--expect") {
      expect = value;
    } else if (flag == "--calls" && absl::SimpleAtoi(value, &calls)) {
    } else if (flag == "--interval" && absl::ParseDuration(value, &interval)) {
    } else {
      std::cerr << "usage: frontend --issuer URL --token-file F --inventory HOST:PORT --expect ID "
                   "[--calls N] [--interval D] [--rotate-every D]\n";
      return 2;
    }
  }
  absl::StatusOr<writ::examples::Workload> workload =
      writ::examples::StartWorkload(flags, "frontend");
  if (!workload.ok()) {
    std::cerr << "frontend: " << workload.status().message() << "\n";
    return 1;
  }
  writ::SpiffePeerPolicy peers;
  if (!expect.empty()) peers.allowed_ids = {expect};
  absl::StatusOr<std::shared_ptr<grpc::ChannelCredentials>> credentials =
      writ::SvidChannelCredentials(*workload->source, peers);
  if (!credentials.ok()) {
    std::cerr << "frontend: " << credentials.status().message() << "\n";
    return 1;
  }
  std::shared_ptr<grpc::Channel> channel = grpc::CreateChannel(target, *credentials);
  std::unique_ptr<writ::examples::Inventory::Stub> stub =
      writ::examples::Inventory::NewStub(channel);
  int failures = 0;
  std::string last_error;
  std::set<std::string> server_svids;
  for (int i = 1; i <= calls; ++i) {
    writ::examples::ReserveRequest request;
    request.set_sku("sku-1");
    request.set_quantity(1);
    writ::examples::ReserveReply reply;
    grpc::ClientContext context;
    context.set_deadline(std::chrono::system_clock::now() + std::chrono::seconds(5));
    grpc::Status status = stub->Reserve(&context, request, &reply);
    if (status.ok()) {
      server_svids.insert(reply.server_svid());
      std::cout << "call " << i << ": ok; inventory saw " << reply.caller() << "; it presented "
                << reply.server_svid() << std::endl;
    } else {
      ++failures;
      last_error = status.error_message();
      std::cout << "call " << i << ": FAILED: " << status.error_message() << std::endl;
    }
    absl::SleepFor(interval);
  }
  std::cout << "frontend: " << calls - failures << "/" << calls << " calls ok; inventory presented "
            << server_svids.size() << " different SVIDs" << std::endl;
  if (failures > 0) std::cout << "frontend: last failure: " << last_error << std::endl;
  return failures == 0 ? 0 : 1;
}
