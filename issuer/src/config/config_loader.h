// LoadIssuerConfig: writ-issuer's YAML configuration file (writ.yaml).
//
// The file overrides the embedded default (DefaultIssuerConfig) field by
// field; deploy/README.md is the reference for every key. Loading is strict:
// unknown keys, wrong types and unsafe combinations (plain HTTP off loopback,
// an http:// issuer, a TLS certificate without its key, ...) are errors, and
// every error found is reported, one per line, as
//   <file>:<line>:<column>: <field path>: <what is wrong>
// e.g. "writ.yaml:12:7: trusted_issuers[0].audiences: must not be empty".
#ifndef WRIT_ISSUER_CONFIG_CONFIG_LOADER_H_
#define WRIT_ISSUER_CONFIG_CONFIG_LOADER_H_

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "issuer/src/config/issuer_config.h"

namespace writ::issuer {

// LoadIssuerConfig reads the file at `path` (at most 1 MiB) and parses it
// with ParseIssuerConfig, using `path` as the source name; relative paths
// inside the file resolve against the file's directory.
// Returns kNotFound when the file does not exist, kPermissionDenied when it
// cannot be read for lack of permission, kFailedPrecondition for other I/O
// failures, and kInvalidArgument for anything wrong with its content.
// Thread-safe.
absl::StatusOr<IssuerConfig> LoadIssuerConfig(absl::string_view path);

// ParseIssuerConfig parses `yaml`, the text of a config file named
// `source_name` (used in error messages, as IssuerConfig::source, and, through
// its directory part, to resolve the relative paths data_dir, policy_dir,
// tls_cert_file, tls_key_file and static_jwks_file; static_jwks_file is read
// here). An empty document yields DefaultIssuerConfig() with `source` set.
//
// Rules applied on top of the defaults:
//  - issuer_url, when unset, follows the HTTP listener
//    (http[s]://host:port); the default trusted issuers (GitHub, GitLab),
//    kept when the file has no trusted_issuers, accept audience issuer_url.
//  - trusted_issuers, when present, replaces the default list.
// Returns kInvalidArgument listing every error found. Never throws, whatever
// the input. Thread-safe.
absl::StatusOr<IssuerConfig> ParseIssuerConfig(absl::string_view yaml,
                                               absl::string_view source_name);

}  // namespace writ::issuer

#endif  // WRIT_ISSUER_CONFIG_CONFIG_LOADER_H_
