#include "issuer/src/config/config_loader.h"

#include <exception>
#include <optional>
#include <sstream>
#include <string>
#include <utility>
#include <vector>

#include "absl/strings/str_cat.h"
#include "issuer/src/config/config_defaults.h"
#include "issuer/src/config/config_files.h"
#include "issuer/src/config/duration.h"
#include "issuer/src/config/keys_config_loader.h"
#include "issuer/src/config/trusted_issuer_loader.h"
#include "issuer/src/config/yaml_fields.h"
#include "issuer/src/yaml/yaml_guard.h"
#include "writ/base/status_macros.h"
#include "yaml-cpp/eventhandler.h"
#include "yaml-cpp/yaml.h"

namespace writ::issuer {
namespace {

using config_internal::ChildPath;
using config_internal::ConfigErrors;
using config_internal::Field;
using config_internal::MapFields;
using config_internal::ReadBool;
using config_internal::ReadDuration;
using config_internal::ReadInt;
using config_internal::ReadString;

constexpr int64_t kMaxSize = int64_t{1} << 30;
// yaml-cpp parses flow collections recursively; bound the nesting so that
// hostile input cannot exhaust the stack. Real configs nest three deep.

constexpr absl::string_view kTopKeys[] = {"issuer_url", "http",   "grpc",   "data_dir",
                                          "policy_dir", "tokens", "limits", "trusted_issuers",
                                          "keys",       "x509",   "ssh",    "ledger"};
constexpr absl::string_view kListenerKeys[] = {"host", "port", "tls_cert_file", "tls_key_file",
                                               "enabled"};
constexpr absl::string_view kTokenKeys[] = {"default_lifetime", "max_lifetime",
                                            "max_delegation_depth"};
constexpr absl::string_view kLimitKeys[] = {"max_body_bytes",         "max_header_bytes",
                                            "max_grpc_message_bytes", "http_threads",
                                            "http_io_threads",        "max_http_connections"};
constexpr absl::string_view kLedgerKeys[] = {"commit_delay", "commit_group",
                                             "background_write_bytes_per_sec"};

// Loader holds the state of one ParseIssuerConfig call.
class Loader {
 public:
  Loader(absl::string_view source) : errors_(std::string(source)) {
    base_dir_ = config_internal::DirectoryOf(source);
  }

  absl::StatusOr<IssuerConfig> Load(const YAML::Node& root, IssuerConfig config);

 private:
  void ReadListener(const Field& field, ListenerConfig* out);
  void ReadTokens(const Field& field, TokenConfig* out, std::optional<YAML::Node>* max_node);
  void ReadLimits(const Field& field, LimitsConfig* out);
  void ReadLedger(const Field& field, LedgerConfig* out);
  void ReadPath(const Field& field, std::string* out);
  void DeriveIssuerUrl(const std::optional<YAML::Node>& http_key, IssuerConfig& config);

  ConfigErrors errors_;
  std::string base_dir_;
};

absl::StatusOr<IssuerConfig> Loader::Load(const YAML::Node& root, IssuerConfig config) {
  std::optional<YAML::Node> issuer_url_node, http_key, trusted_issuers_node;
  config_internal::KeyLifetimeNodes lifetime_nodes;
  for (const Field& f : MapFields(root, "", kTopKeys, errors_)) {
    if (f.name == "issuer_url") {
      issuer_url_node = f.value;
    } else if (f.name == "http") {
      http_key = f.key;
      ReadListener(f, &config.http);
    } else if (f.name == "grpc") {
      ReadListener(f, &config.grpc);
    } else if (f.name == "data_dir") {
      ReadPath(f, &config.data_dir);
    } else if (f.name == "policy_dir") {
      ReadPath(f, &config.policy_dir);
    } else if (f.name == "tokens") {
      ReadTokens(f, &config.tokens, &lifetime_nodes.max_lifetime);
    } else if (f.name == "limits") {
      ReadLimits(f, &config.limits);
    } else if (f.name == "ledger") {
      ReadLedger(f, &config.ledger);
    } else if (f.name == "trusted_issuers") {
      trusted_issuers_node = f.value;
      config_internal::ReadTrustedIssuers(f.value, f.path, base_dir_, errors_,
                                          &config.trusted_issuers);
    } else if (f.name == "keys") {
      config_internal::ReadKeysConfig(f, errors_, &config.keys, &lifetime_nodes);
    } else if (f.name == "x509") {
      config_internal::ReadX509Config(f, base_dir_, errors_, &config.x509, &lifetime_nodes);
    } else if (f.name == "ssh") {
      config_internal::ReadSshConfig(f, errors_, &config.ssh);
    }
  }
  config_internal::CheckCaLifetime(config, lifetime_nodes, errors_);
  if (issuer_url_node) {
    if (ReadString(*issuer_url_node, "issuer_url", errors_, &config.issuer_url)) {
      std::string problem = config_internal::CheckUrl(config.issuer_url, {});
      if (problem.empty() && config.issuer_url.back() == '/') {
        problem = "must not end with \"/\" (it is the exact \"iss\" of Writ's tokens)";
      }
      if (!problem.empty()) {
        errors_.Add(issuer_url_node->Mark(), "issuer_url",
                    absl::StrCat("\"", config.issuer_url, "\" ", problem));
      }
    }
  } else {
    DeriveIssuerUrl(http_key, config);
  }
  if (!trusted_issuers_node) {
    config.trusted_issuers = DefaultTrustedIssuers(config.issuer_url);
  }
  RETURN_IF_ERROR(errors_.ToStatus());
  return config;
}

void Loader::DeriveIssuerUrl(const std::optional<YAML::Node>& http_key, IssuerConfig& config) {
  const ListenerConfig& http = config.http;
  const bool tls = !http.tls_cert_file.empty();
  absl::string_view host = http.host;
  if (host.empty() || host == "0.0.0.0" || host == "::" || host == "[::]") {
    errors_.Add(http_key ? http_key->Mark() : YAML::Mark::null_mark(), "issuer_url",
                absl::StrCat("is required when http.host is the wildcard address \"", host,
                             "\": set the URL clients use to reach this issuer"));
    return;
  }
  // Port 0 binds any free port: the server derives the URL once it is bound.
  if (http.port == 0) {
    config.issuer_url.clear();
    return;
  }
  const bool bracket = host.find(':') != absl::string_view::npos && host.front() != '[';
  config.issuer_url = absl::StrCat(tls ? "https://" : "http://", bracket ? "[" : "", host,
                                   bracket ? "]" : "", ":", http.port);
}

void Loader::ReadPath(const Field& field, std::string* out) {
  std::string value;
  if (!ReadString(field.value, field.path, errors_, &value)) return;
  if (value.empty()) {
    errors_.Add(field.value.Mark(), field.path, "must not be empty");
    return;
  }
  *out = config_internal::ResolvePath(base_dir_, value);
}

void Loader::ReadListener(const Field& field, ListenerConfig* out) {
  std::optional<YAML::Node> host_node, cert_node, key_node;
  for (const Field& f : MapFields(field.value, field.path, kListenerKeys, errors_)) {
    if (f.name == "host") {
      host_node = f.value;
      if (ReadString(f.value, f.path, errors_, &out->host) && out->host.empty()) {
        errors_.Add(f.value.Mark(), f.path, "must not be empty");
      }
    } else if (f.name == "port") {
      int64_t port = 0;
      if (ReadInt(f.value, f.path, 0, 65535, errors_, &port)) out->port = static_cast<int>(port);
    } else if (f.name == "tls_cert_file") {
      cert_node = f.value;
      ReadPath(f, &out->tls_cert_file);
    } else if (f.name == "tls_key_file") {
      key_node = f.value;
      ReadPath(f, &out->tls_key_file);
    } else if (f.name == "enabled") {
      ReadBool(f.value, f.path, errors_, &out->enabled);
    }
  }
  const bool has_cert = !out->tls_cert_file.empty();
  const bool has_key = !out->tls_key_file.empty();
  if (has_cert && !has_key) {
    errors_.Add(cert_node->Mark(), ChildPath(field.path, "tls_key_file"),
                "is required when tls_cert_file is set");
  } else if (has_key && !has_cert) {
    errors_.Add(key_node->Mark(), ChildPath(field.path, "tls_cert_file"),
                "is required when tls_key_file is set");
  }
  if (out->enabled && !has_cert && !has_key && !out->host.empty() &&
      !config_internal::IsLoopbackHost(out->host)) {
    errors_.Add(host_node ? host_node->Mark() : field.value.Mark(), ChildPath(field.path, "host"),
                absl::StrCat("\"", out->host,
                             "\" is not a loopback address: without tls_cert_file and "
                             "tls_key_file a listener may only bind 127.0.0.1, ::1 or localhost"));
  }
}

void Loader::ReadTokens(const Field& field, TokenConfig* out,
                        std::optional<YAML::Node>* max_lifetime_node) {
  std::optional<YAML::Node> default_node, max_node;
  for (const Field& f : MapFields(field.value, field.path, kTokenKeys, errors_)) {
    if (f.name == "default_lifetime") {
      default_node = f.value;
      ReadDuration(f.value, f.path, absl::Nanoseconds(1), absl::InfiniteDuration(), errors_,
                   &out->default_lifetime);
    } else if (f.name == "max_lifetime") {
      max_node = f.value;
      ReadDuration(f.value, f.path, absl::Nanoseconds(1), absl::InfiniteDuration(), errors_,
                   &out->max_lifetime);
    } else if (f.name == "max_delegation_depth") {
      int64_t depth = 0;
      if (ReadInt(f.value, f.path, 0, 16, errors_, &depth)) {
        out->max_delegation_depth = static_cast<int>(depth);
      }
    }
  }
  *max_lifetime_node = max_node;
  if (out->default_lifetime > out->max_lifetime) {
    const std::optional<YAML::Node>& at = default_node ? default_node : max_node;
    errors_.Add(
        at ? at->Mark() : field.value.Mark(), ChildPath(field.path, "default_lifetime"),
        absl::StrCat("must not exceed max_lifetime (", FormatConfigDuration(out->default_lifetime),
                     " > ", FormatConfigDuration(out->max_lifetime), ")"));
  }
}

void Loader::ReadLedger(const Field& field, LedgerConfig* out) {
  for (const Field& f : MapFields(field.value, field.path, kLedgerKeys, errors_)) {
    int64_t value = 0;
    if (f.name == "commit_delay") {
      ReadDuration(f.value, f.path, absl::ZeroDuration(), absl::Milliseconds(100), errors_,
                   &out->commit_delay);
    } else if (f.name == "commit_group") {
      if (ReadInt(f.value, f.path, 1, 4096, errors_, &value)) {
        out->commit_group = static_cast<size_t>(value);
      }
    } else if (f.name == "background_write_bytes_per_sec") {
      // 0 (off), or a ceiling whose floor (1/20) still flushes a 16 MiB
      // memtable's table file within seconds.
      if (ReadInt(f.value, f.path, 0, int64_t{1} << 40, errors_, &value)) {
        if (value != 0 && value < (int64_t{32} << 20)) {
          errors_.Add(f.value.Mark(), f.path,
                      "must be 0 (no limit) or at least 33554432 (32 MiB/s; the limiter may go "
                      "down to 1/20 of it)");
        } else {
          out->background_write_bytes_per_sec = value;
        }
      }
    }
  }
}

void Loader::ReadLimits(const Field& field, LimitsConfig* out) {
  for (const Field& f : MapFields(field.value, field.path, kLimitKeys, errors_)) {
    int64_t value = 0;
    if (f.name == "http_threads") {
      if (ReadInt(f.value, f.path, 0, 1024, errors_, &value)) {
        out->http_threads = static_cast<int>(value);
      }
      continue;
    }
    if (f.name == "http_io_threads") {
      if (ReadInt(f.value, f.path, 0, 64, errors_, &value)) {
        out->http_io_threads = static_cast<int>(value);
      }
      continue;
    }
    if (f.name == "max_http_connections") {
      if (ReadInt(f.value, f.path, 1, 1000000, errors_, &value)) {
        out->max_http_connections = static_cast<size_t>(value);
      }
      continue;
    }
    if (!ReadInt(f.value, f.path, 1, kMaxSize, errors_, &value)) continue;
    if (f.name == "max_body_bytes") out->max_body_bytes = static_cast<size_t>(value);
    if (f.name == "max_header_bytes") out->max_header_bytes = static_cast<size_t>(value);
    if (f.name == "max_grpc_message_bytes") {
      out->max_grpc_message_bytes = static_cast<size_t>(value);
    }
  }
}

}  // namespace

absl::StatusOr<IssuerConfig> ParseIssuerConfig(absl::string_view yaml,
                                               absl::string_view source_name) {
  IssuerConfig config = DefaultIssuerConfig();
  config.source = std::string(source_name);
  if (yaml.size() > config_internal::kMaxConfigFileBytes) {
    return absl::InvalidArgumentError(absl::StrCat(source_name, ": larger than the limit of ",
                                                   config_internal::kMaxConfigFileBytes, " bytes"));
  }
  ConfigErrors syntax(std::string{source_name});
  try {
    const std::string text(yaml);
    if (std::optional<YamlShapeProblem> problem = CheckYamlShape(text)) {
      if (problem->mark.is_null()) {
        return absl::InvalidArgumentError(absl::StrCat(source_name, ": ", problem->message));
      }
      syntax.Add(problem->mark, "", problem->message);
      return syntax.ToStatus();
    }
    YAML::Node root = YAML::Load(text);
    if (!root.IsDefined()) return config;
    return Loader(source_name).Load(root, std::move(config));
  } catch (const YAML::Exception& e) {
    syntax.Add(e.mark, "", absl::StrCat("invalid YAML: ", e.msg));
  } catch (const std::exception& e) {
    syntax.Add(YAML::Mark::null_mark(), "", absl::StrCat("cannot read YAML: ", e.what()));
  }
  return syntax.ToStatus();
}

absl::StatusOr<IssuerConfig> LoadIssuerConfig(absl::string_view path) {
  ASSIGN_OR_RETURN(std::string yaml,
                   config_internal::ReadSmallFile(path, config_internal::kMaxConfigFileBytes));
  return ParseIssuerConfig(yaml, path);
}

}  // namespace writ::issuer
