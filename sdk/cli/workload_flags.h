// WorkloadFlags: the flags every pipeline command (writ token, cert, ssh)
// shares to reach Writ and prove who is calling: the issuer URL and one
// attestation source. One place, so the commands' flags stay consistent.
#ifndef WRIT_SDK_CLI_WORKLOAD_FLAGS_H_
#define WRIT_SDK_CLI_WORKLOAD_FLAGS_H_

#include <memory>
#include <optional>
#include <string>

#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "sdk/cli/command.h"
#include "sdk/cli/flags.h"
#include "writ/client/client.h"

namespace writ::cli {

struct WorkloadFlags {
  std::string issuer;
  std::string oidc_token_file;
  std::string oidc_token_env;
  bool github_actions = false;
  bool azure_imds = false;
  std::string azure_client_id;
  std::string oidc_audience;
  std::string lifetime;
  std::string format = "raw";
  std::string out;

  // Register declares --issuer, the attestation flags (--github-actions,
  // --oidc-token-env, --oidc-token-file, --azure-imds, --azure-client-id,
  // --oidc-audience), --lifetime, --format (raw|json|env; `formats` overrides
  // the help text) and --out on `flags`.
  void Register(FlagSet& flags, absl::string_view format_help);

  // Check validates the parsed values (one source at most, a known format,
  // a lifetime of at least 1 s). Returns a UsageError from `flags`.
  absl::Status Check(const FlagSet& flags) const;

  // Lifetime returns the parsed --lifetime, unset when not given.
  std::optional<absl::Duration> Lifetime() const;

  // NewClient resolves the issuer (--issuer, else $WRIT_ISSUER, else
  // http://127.0.0.1:8080) and the source (the flag given; else GitHub
  // Actions when ACTIONS_ID_TOKEN_REQUEST_URL is set) and builds a Client.
  // Returns a UsageError when no source applies.
  absl::StatusOr<std::unique_ptr<Client>> NewClient(const FlagSet& flags, CommandEnv& env) const;

  // Emit writes `output` to --out (replaced atomically, mode 0600) or to
  // standard output.
  absl::Status Emit(CommandEnv& env, absl::string_view output) const;
};

// WritePrivateFileAtomically replaces `path` with `contents`, mode 0600, so a
// re-run of a pipeline step overwrites its old output and a reader never sees
// a half-written one. The contents are never part of a message.
absl::Status WritePrivateFileAtomically(const std::string& path, absl::string_view contents);

}  // namespace writ::cli

#endif  // WRIT_SDK_CLI_WORKLOAD_FLAGS_H_
