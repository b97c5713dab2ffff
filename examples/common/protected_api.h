// ProtectedApi: a small HTTP API that accepts only Writ tokens, the way a
// relying party uses the SDK's TokenVerifier. The examples' deployment API
// and AI tool server are built on it.
//
//   ProtectedApi api(std::move(verifier));
//   api.Handle("POST", "/v1/deployments", "deploy:write",
//              [](const VerifiedToken& token, const httplib::Request& req) {
//                return absl::StrCat("{\"deployed_by\":\"", token.subject, "\"}");
//              });
//   int port = api.Start("127.0.0.1", 0);
//
// Answers follow RFC 6750: no or a bad token -> 401 with WWW-Authenticate
// error="invalid_token"; a valid token without the route's scope -> 403 with
// error="insufficient_scope" and the scope named; keys unobtainable -> 503.
// The token itself is never logged.
#ifndef WRIT_EXAMPLES_COMMON_PROTECTED_API_H_
#define WRIT_EXAMPLES_COMMON_PROTECTED_API_H_

#include <httplib.h>

#include <functional>
#include <memory>
#include <string>
#include <thread>

#include "writ/verify/token_verifier.h"

namespace writ::examples {

class ProtectedApi {
 public:
  // Handler returns the JSON body of a 200 answer for a verified caller, or
  // kPermissionDenied (answered 403 access_denied with the message) when
  // the route refuses this caller for a reason of its own.
  using Handler = std::function<absl::StatusOr<std::string>(const VerifiedToken& token,
                                                            const httplib::Request& request)>;

  explicit ProtectedApi(std::unique_ptr<TokenVerifier> verifier);
  ~ProtectedApi();

  // Handle serves `method` ("GET" or "POST") `path` to callers whose token
  // carries `scope`.
  void Handle(const std::string& method, const std::string& path, const std::string& scope,
              Handler handler);

  // Start binds host:port (0 = ephemeral) and serves from a thread. Returns
  // the port, or -1 if it cannot bind.
  int Start(const std::string& host, int port);

  // Wait blocks until the server stops (Stop, or the process ends).
  void Wait();
  void Stop();

 private:
  std::unique_ptr<TokenVerifier> verifier_;
  httplib::Server server_;
  std::thread thread_;
};

// ServeUntilSignal starts `api` on 127.0.0.1:`port`, prints
// "<name> listening on http://127.0.0.1:PORT", and serves until SIGTERM or
// SIGINT. Returns the process exit code.
int ServeUntilSignal(ProtectedApi& api, const std::string& name, int port);

}  // namespace writ::examples

#endif  // WRIT_EXAMPLES_COMMON_PROTECTED_API_H_
