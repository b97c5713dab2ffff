// writ-dev-oidc: a local OIDC provider for running the examples on one
// machine. It plays the CI platform or cloud that a real deployment trusts:
// discovery and a JWKS at its issuer URL, GitHub Actions' runner token
// endpoint, and a mint endpoint for scripts. Loopback only; never use it to
// protect anything.
//
//   writ-dev-oidc [--port N] [--bearer SECRET] [--runner-claims JSON] [--env-file FILE]
//
// It prints (and writes to --env-file) shell lines a script can source:
//   DEV_OIDC_ISSUER=http://127.0.0.1:PORT
//   ACTIONS_ID_TOKEN_REQUEST_URL=http://127.0.0.1:PORT/github/token
//   ACTIONS_ID_TOKEN_REQUEST_TOKEN=SECRET
// then serves until SIGTERM or SIGINT.

#include <openssl/rand.h>
#include <signal.h>

#include <cstdio>
#include <fstream>
#include <iostream>
#include <string>

#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "tests/testing/test_oidc_provider.h"
#include "writ/base/base64url.h"

namespace {

int Usage() {
  std::cerr << "usage: writ-dev-oidc [--port N] [--bearer SECRET] [--runner-claims JSON] "
               "[--env-file FILE]\n";
  return 2;
}

}  // namespace

int main(int argc, char** argv) {
  writ::test::TestOidcProviderOptions options;
  options.fresh_keys = true;
  options.audience = "writ";
  std::string env_file;
  for (int i = 1; i < argc; ++i) {
    const std::string flag = argv[i];
    if (flag == "--help" || flag == "-h") {
      std::cout << "writ-dev-oidc: a local OIDC provider for Writ's examples (loopback only).\n"
                   "  --port N              port on 127.0.0.1 (default: ephemeral)\n"
                   "  --bearer SECRET       bearer the mint endpoints require (default: random)\n"
                   "  --runner-claims JSON  claims of GitHub-runner tokens\n"
                   "  --env-file FILE       also write the DEV_OIDC_ISSUER/ACTIONS_* lines here\n";
      return 0;
    }
    if (i + 1 >= argc) return Usage();
    const std::string value = argv[++i];
    if (flag == "--port") {
      if (!absl::SimpleAtoi(value, &options.port) || options.port < 0 || options.port > 65535) {
        return Usage();
      }
    } else if (flag == "--bearer") {
      options.mint_bearer = value;
    } else if (flag == "--runner-claims") {
      options.runner_claims_json = value;
    } else if (flag == "--env-file") {
      env_file = value;
    } else {
      return Usage();
    }
  }
  if (options.mint_bearer.empty()) {
    unsigned char random[16];
    if (RAND_bytes(random, sizeof(random)) != 1) return 1;
    options.mint_bearer =
        writ::Base64UrlEncode(absl::string_view(reinterpret_cast<char*>(random), sizeof(random)));
  }
  // Block the stop signals before the server thread starts, then wait here.
  sigset_t stop;
  sigemptyset(&stop);
  sigaddset(&stop, SIGTERM);
  sigaddset(&stop, SIGINT);
  pthread_sigmask(SIG_BLOCK, &stop, nullptr);

  absl::StatusOr<std::unique_ptr<writ::test::TestOidcProvider>> idp =
      writ::test::TestOidcProvider::Start(options);
  if (!idp.ok()) {
    std::cerr << "writ-dev-oidc: " << idp.status().message() << "\n";
    return 1;
  }
  const std::string lines = absl::StrCat(
      "DEV_OIDC_ISSUER=", (*idp)->issuer(), "\nACTIONS_ID_TOKEN_REQUEST_URL=", (*idp)->issuer(),
      "/github/token\nACTIONS_ID_TOKEN_REQUEST_TOKEN=", options.mint_bearer, "\n");
  if (!env_file.empty()) {
    const std::string tmp = env_file + ".tmp";
    std::ofstream(tmp) << lines;
    std::rename(tmp.c_str(), env_file.c_str());
  }
  std::cout << lines << std::flush;
  int sig = 0;
  sigwait(&stop, &sig);
  (*idp)->Stop();
  return 0;
}
