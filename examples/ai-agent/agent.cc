// triage-agent: an AI agent working on a support task. For every tool call
// it asks Writ for a new token with only the scope that call needs, for the
// tool server's audience, living one minute, and delegated: the subject is
// the task (the task token the platform gave it), the actor is the agent
// itself (its own identity token), so the token's "act" claim names the
// agent. A leaked token is good for one kind of call, for a minute.
//
//   triage-agent --issuer URL --tools URL --task-token-file F --agent-token-file F

#include <fstream>
#include <iostream>
#include <sstream>
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/strings/strip.h"
#include "writ/client/attestation.h"
#include "writ/client/client.h"
#include "writ/net/curl_fetcher.h"

namespace {

struct ToolCall {
  std::string method;
  std::string path;
  std::string scope;  // the one scope this call needs
  std::string body;
};

std::string ReadFile(const std::string& path) {
  std::ifstream in(path);
  std::stringstream ss;
  ss << in.rdbuf();
  return std::string(absl::StripAsciiWhitespace(ss.str()));
}

}  // namespace

int main(int argc, char** argv) {
  std::string issuer, tools, task_file, agent_file;
  for (int i = 1; i + 1 < argc; i += 2) {
    const std::string flag = argv[i], value = argv[i + 1];
    if (flag == "--issuer")
      issuer = value;
    else if (flag == "--tools")
      tools = value;
    else if (flag == "--task-token-file")
      task_file = value;
    else if (flag == "--agent-token-file")
      agent_file = value;
  }
  if (issuer.empty() || tools.empty() || task_file.empty() || agent_file.empty()) {
    std::cerr << "usage: triage-agent --issuer URL --tools URL --task-token-file F "
                 "--agent-token-file F\n";
    return 2;
  }
  writ::ClientOptions options;
  options.issuer_url = issuer;
  options.attestation_audience = "writ";
  // The subject token: the task's, re-read if the platform replaces it.
  options.attestation = writ::NewTokenFileSource(task_file);
  absl::StatusOr<std::unique_ptr<writ::Client>> client = writ::Client::New(std::move(options));
  if (!client.ok()) {
    std::cerr << "triage-agent: " << client.status().message() << "\n";
    return 1;
  }
  writ::CurlFetcher http;
  const std::vector<ToolCall> plan = {
      {"GET", "/tools/list_tickets", "tickets:read", ""},
      {"POST", "/tools/comment", "tickets:comment", R"({"ticket":7,"text":"Looking into it."})"},
  };
  for (const ToolCall& call : plan) {
    writ::TokenRequest request;
    request.audience = "https://tickets.acme.example";
    request.scopes = {call.scope};
    request.lifetime = absl::Minutes(1);
    request.actor_token = ReadFile(agent_file);
    absl::StatusOr<writ::Token> token = (*client)->ExchangeToken(request);
    if (!token.ok()) {
      std::cerr << "triage-agent: no token for " << call.path << ": " << token.status().message()
                << "\n";
      return 1;
    }
    writ::HttpRequest http_request;
    http_request.method = call.method;
    http_request.url = tools + call.path;
    http_request.headers = {absl::StrCat("Authorization: Bearer ", token->access_token),
                            "Content-Type: application/json"};
    http_request.body = call.body;
    absl::StatusOr<writ::HttpResponse> answer = http.Fetch(http_request, {});
    if (!answer.ok()) {
      std::cerr << "triage-agent: " << call.path << ": " << answer.status().message() << "\n";
      return 1;
    }
    std::cout << "tool " << call.path << " with a token scoped to "
              << absl::StrJoin(token->scopes, " ") << " for "
              << absl::FormatDuration(token->expires_at - token->issued_at) << ": HTTP "
              << answer->status << " " << answer->body << std::endl;
    if (answer->status != 200) return 1;
  }
  return 0;
}
