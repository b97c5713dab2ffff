// tickets-tools: the tool server an AI agent calls. Each tool needs one
// scope, and only delegated tokens are served: the token's "act" must name
// an agent (a task's own token, used without an agent, is refused). Tokens
// are verified with the SDK's TokenVerifier against Writ's issuer URL.
//
//   tickets-tools --issuer http://127.0.0.1:8080 [--port 0]

#include <iostream>
#include <string>

#include "absl/strings/match.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "examples/common/protected_api.h"

namespace {

// Caller names who asked and through which agent, as the tools answer it.
std::string Caller(const writ::VerifiedToken& token) {
  return absl::StrCat(R"("task":")", token.subject, R"(","agent":")", token.actor.value_or(""),
                      R"(")");
}

}  // namespace

int main(int argc, char** argv) {
  writ::TokenVerifierOptions options;
  options.audience = "https://tickets.acme.example";
  int port = 0;
  for (int i = 1; i + 1 < argc; i += 2) {
    const std::string flag = argv[i], value = argv[i + 1];
    if (flag == "--issuer") {
      options.issuer_url = value;
    } else if (flag == "--port" && absl::SimpleAtoi(value, &port)) {
    } else {
      std::cerr << "usage: tickets-tools --issuer URL [--port N]\n";
      return 2;
    }
  }
  absl::StatusOr<std::unique_ptr<writ::TokenVerifier>> verifier = writ::TokenVerifier::New(options);
  if (!verifier.ok()) {
    std::cerr << "tickets-tools: " << verifier.status().message() << "\n";
    return 2;
  }
  writ::examples::ProtectedApi api(*std::move(verifier));
  // RequireAgent wraps a tool so that only an agent acting for a task uses it.
  auto require_agent = [](auto tool) {
    return [tool](const writ::VerifiedToken& token,
                  const httplib::Request& req) -> absl::StatusOr<std::string> {
      if (!token.actor || !absl::StartsWith(*token.actor, "agent:")) {
        return absl::PermissionDeniedError(
            "this tool serves agents acting for a task, and the token names no agent (act)");
      }
      return tool(token, req);
    };
  };
  api.Handle("GET", "/tools/list_tickets", "tickets:read",
             require_agent([](const writ::VerifiedToken& token, const httplib::Request&) {
               return absl::StrCat("{", Caller(token),
                                   R"(,"tickets":[{"id":7,"title":"Checkout times out"},)"
                                   R"({"id":9,"title":"Refund not received"}]})");
             }));
  api.Handle("POST", "/tools/comment", "tickets:comment",
             require_agent([](const writ::VerifiedToken& token, const httplib::Request& req) {
               return absl::StrCat("{", Caller(token), R"(,"commented":)",
                                   req.body.empty() ? "false" : "true", "}");
             }));
  return writ::examples::ServeUntilSignal(api, "tickets-tools", port);
}
