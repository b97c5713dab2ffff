// GrpcCall: one unary gRPC call as the client saw it (status and Writ's
// trailing metadata), for tests that check both.
#ifndef WRIT_TESTS_TESTING_GRPC_CALL_H_
#define WRIT_TESTS_TESTING_GRPC_CALL_H_

#include <grpcpp/grpcpp.h>

#include <chrono>
#include <string>

namespace writ::test {

struct GrpcCall {
  grpc::Status status;
  std::string oauth_error;  // trailing writ-oauth-error, "" when absent
  std::string request_id;   // trailing writ-request-id, "" when absent
};

// CallGrpc runs `rpc` (grpc::ClientContext* -> grpc::Status) on a fresh
// context with a `deadline` and returns what the client saw.
template <typename Rpc>
GrpcCall CallGrpc(Rpc rpc, std::chrono::seconds deadline = std::chrono::seconds(10)) {
  grpc::ClientContext ctx;
  ctx.set_deadline(std::chrono::system_clock::now() + deadline);
  GrpcCall out;
  out.status = rpc(&ctx);
  const auto& md = ctx.GetServerTrailingMetadata();
  auto get = [&md](const char* key) {
    auto it = md.find(key);
    return it == md.end() ? std::string() : std::string(it->second.data(), it->second.size());
  };
  out.oauth_error = get("writ-oauth-error");
  out.request_id = get("writ-request-id");
  return out;
}

}  // namespace writ::test

#endif  // WRIT_TESTS_TESTING_GRPC_CALL_H_
