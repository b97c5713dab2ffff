// inventory: a gRPC service that only answers callers presenting a Writ SVID
// with an allowed SPIFFE ID, and presents its own rotating SVID. Its key is
// generated in the process; the SDK's X509Source sends CSRs to Writ
// (attesting with the service-account token file) and keeps the SVID fresh;
// SvidServerCredentials always present the current SVID and trust the
// current bundle, so the server never restarts for a rotation.
//
//   inventory --issuer URL --token-file F --allow SPIFFE_ID [--port 0] [--rotate-every 2s]

#include <grpcpp/grpcpp.h>
#include <signal.h>

#include <iostream>
#include <string>
#include <thread>

#include "absl/strings/numbers.h"
#include "absl/time/time.h"
#include "examples/service-mtls/inventory.grpc.pb.h"
#include "examples/service-mtls/svid_summary.h"
#include "examples/service-mtls/workload.h"
#include "writ/svid/grpc_credentials.h"

namespace {

class InventoryService final : public writ::examples::Inventory::Service {
 public:
  explicit InventoryService(writ::X509Source* source) : source_(source) {}
  grpc::Status Reserve(grpc::ServerContext* context, const writ::examples::ReserveRequest*,
                       writ::examples::ReserveReply* reply) override {
    absl::StatusOr<std::string> caller = writ::PeerSpiffeId(*context->auth_context());
    if (!caller.ok()) return grpc::Status(grpc::StatusCode::UNAUTHENTICATED, "no SVID");
    reply->set_caller(*caller);
    reply->set_server_svid(writ::examples::SvidSummary(source_->Current().certificate_chain_pem));
    return grpc::Status::OK;
  }

 private:
  writ::X509Source* source_;
};

}  // namespace

int main(int argc, char** argv) {
  writ::examples::WorkloadFlags flags;
  std::string allow;
  int port = 0;
  for (int i = 1; i + 1 < argc; i += 2) {
    const std::string flag = argv[i], value = argv[i + 1];
    if (flags.Parse(flag, value)) continue;
    if (flag == "--allow") {
      allow = value;
    } else if (flag == "--port" && absl::SimpleAtoi(value, &port)) {
    } else {
      std::cerr << "usage: inventory --issuer URL --token-file F --allow SPIFFE_ID [--port N] "
                   "[--rotate-every DURATION]\n";
      return 2;
    }
  }
  sigset_t stop;
  sigemptyset(&stop);
  sigaddset(&stop, SIGTERM);
  sigaddset(&stop, SIGINT);
  pthread_sigmask(SIG_BLOCK, &stop, nullptr);

  absl::StatusOr<writ::examples::Workload> workload =
      writ::examples::StartWorkload(flags, "inventory");
  if (!workload.ok()) {
    std::cerr << "inventory: " << workload.status().message() << "\n";
    return 1;
  }
  writ::X509Source& source = *workload->source;
  writ::SpiffePeerPolicy peers;
  if (!allow.empty()) peers.allowed_ids = {allow};
  absl::StatusOr<std::shared_ptr<grpc::ServerCredentials>> credentials =
      writ::SvidServerCredentials(source, peers);
  if (!credentials.ok()) {
    std::cerr << "inventory: " << credentials.status().message() << "\n";
    return 1;
  }
  InventoryService service(&source);
  grpc::ServerBuilder builder;
  int bound = 0;
  builder.AddListeningPort("127.0.0.1:" + std::to_string(port), *credentials, &bound);
  builder.RegisterService(&service);
  // Recycle connections every second so each new handshake shows the SVIDs
  // in force (production would use minutes; a live connection keeps the
  // identity it was established with).
  builder.AddChannelArgument(GRPC_ARG_MAX_CONNECTION_AGE_MS, 1000);
  builder.AddChannelArgument(GRPC_ARG_MAX_CONNECTION_AGE_GRACE_MS, 5000);
  std::unique_ptr<grpc::Server> server = builder.BuildAndStart();
  if (server == nullptr || bound == 0) {
    std::cerr << "inventory: cannot listen on 127.0.0.1:" << port << "\n";
    return 1;
  }
  std::cout << "inventory listening on 127.0.0.1:" << bound << " as " << source.Current().spiffe_id
            << std::endl;
  int sig = 0;
  sigwait(&stop, &sig);
  server->Shutdown();
  return 0;
}
