// Load-generator clients for issuer_load: one ExchangeClient per client
// thread, each doing a blocking RFC 8693 token exchange against a running
// issuer over gRPC (TokenService.ExchangeToken) or HTTP (POST /oauth2/token).
#ifndef WRIT_BENCH_LOAD_CLIENTS_H_
#define WRIT_BENCH_LOAD_CLIENTS_H_

#include <grpcpp/support/status_code_enum.h>

#include <memory>
#include <string>
#include <vector>

namespace grpc {
class Channel;
}  // namespace grpc

namespace writ::bench {

// ExchangeRequestShape is what every request asks for besides the token.
struct ExchangeRequestShape {
  std::string audience;
  std::string scope;  // one scope
};

// GrpcCodeName names a status code for an error label: "UNAVAILABLE";
// "OTHER" for codes the benchmark does not expect.
const char* GrpcCodeName(grpc::StatusCode code);

// NewLoadChannel returns an insecure channel to 127.0.0.1:`port` with a
// connection of its own (distinct `index`es never share one).
std::shared_ptr<grpc::Channel> NewLoadChannel(int port, int index);

// ExchangeClient does one exchange at a time. Not thread-safe: one per thread.
class ExchangeClient {
 public:
  virtual ~ExchangeClient() = default;
  // Exchange sends `subject_token` and waits for the answer. Returns true when
  // an access token came back; otherwise false with `error_kind` set to a short
  // label ("grpc:UNAVAILABLE", "http:503", "curl:COULDNT_CONNECT", ...).
  virtual bool Exchange(const std::string& subject_token, std::string* error_kind) = 0;
};

// MakeGrpcClients returns `n` clients on 127.0.0.1:`port`, sharing one
// channel (one HTTP/2 connection) per `clients_per_channel` clients.
std::vector<std::unique_ptr<ExchangeClient>> MakeGrpcClients(int port, int n,
                                                             int clients_per_channel,
                                                             const ExchangeRequestShape& shape);

// MakeHttpClients returns `n` clients, each with its own libcurl easy handle
// and so its own keep-alive connection to http://127.0.0.1:`port`.
std::vector<std::unique_ptr<ExchangeClient>> MakeHttpClients(int port, int n,
                                                             const ExchangeRequestShape& shape);

}  // namespace writ::bench

#endif  // WRIT_BENCH_LOAD_CLIENTS_H_
