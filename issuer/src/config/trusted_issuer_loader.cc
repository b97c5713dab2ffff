#include "issuer/src/config/trusted_issuer_loader.h"

#include <map>
#include <optional>
#include <string>
#include <utility>

#include "absl/strings/ascii.h"
#include "absl/strings/str_cat.h"
#include "issuer/src/config/config_files.h"
#include "writ/jose/algorithm.h"

namespace writ::issuer::config_internal {
namespace {

constexpr int64_t kMaxSize = int64_t{1} << 30;
constexpr absl::string_view kKeys[] = {"name",
                                       "issuer",
                                       "audiences",
                                       "algorithms",
                                       "jwks_uri",
                                       "static_jwks_file",
                                       "leeway",
                                       "max_token_bytes",
                                       "one_time_jti",
                                       "jwks_ttl",
                                       "refresh_cooldown",
                                       "stale_keys_max",
                                       "connect_timeout",
                                       "fetch_timeout",
                                       "max_response_bytes"};

bool IsValidName(absl::string_view name) {
  if (name.empty()) return false;
  for (char c : name) {
    if (!absl::ascii_islower(c) && !absl::ascii_isdigit(c) && c != '_' && c != '-') return false;
  }
  return true;
}

void ReadSize(const YAML::Node& node, absl::string_view path, ConfigErrors& errors, size_t* out) {
  int64_t value = 0;
  if (ReadInt(node, path, 1, kMaxSize, errors, &value)) *out = static_cast<size_t>(value);
}

void ReadPositiveDuration(const YAML::Node& node, absl::string_view path, ConfigErrors& errors,
                          absl::Duration* out) {
  ReadDuration(node, path, absl::Nanoseconds(1), absl::InfiniteDuration(), errors, out);
}

void ReadAlgorithms(const YAML::Node& node, absl::string_view path, ConfigErrors& errors,
                    std::vector<JwsAlgorithm>* out) {
  if (!node.IsSequence()) {
    errors.Add(node.Mark(), path, "expected a list of JWS algorithm names such as [RS256]");
    return;
  }
  if (node.size() == 0) {
    errors.Add(node.Mark(), path, "must not be empty");
    return;
  }
  std::vector<JwsAlgorithm> algorithms;
  for (size_t i = 0; i < node.size(); ++i) {
    const YAML::Node item = node[i];
    const std::string item_path = absl::StrCat(path, "[", i, "]");
    std::string name;
    if (!ReadString(item, item_path, errors, &name)) continue;
    absl::StatusOr<JwsAlgorithm> alg = JwsAlgorithmFromName(name);
    if (!alg.ok()) {
      errors.Add(item.Mark(), item_path, alg.status().message());
      continue;
    }
    bool seen = false;
    for (JwsAlgorithm a : algorithms) seen = seen || a == *alg;
    if (!seen) algorithms.push_back(*alg);
  }
  *out = std::move(algorithms);
}

struct Seen {
  std::map<std::string, std::string> names;    // name -> path of its first use
  std::map<std::string, std::string> issuers;  // issuer -> path of its first use
};

void ReadOne(const YAML::Node& node, const std::string& path, absl::string_view base_dir,
             Seen& seen, ConfigErrors& errors, TrustedIssuerConfig* out) {
  if (!node.IsMap()) {
    errors.Add(node.Mark(), path, "expected a mapping with at least name, issuer and audiences");
    return;
  }
  TrustedIssuerConfig issuer;
  bool has_name = false, has_issuer = false, has_audiences = false;
  std::optional<YAML::Node> jwks_uri_key, static_file_key;
  for (const Field& f : MapFields(node, path, kKeys, errors)) {
    const YAML::Node& v = f.value;
    if (f.name == "name") {
      has_name = true;
      if (!ReadString(v, f.path, errors, &issuer.name)) continue;
      if (!IsValidName(issuer.name)) {
        errors.Add(v.Mark(), f.path,
                   absl::StrCat("\"", issuer.name,
                                "\" is not a valid name: use one or more of a-z, 0-9, _ and -"));
      } else if (auto [it, fresh] = seen.names.emplace(issuer.name, path); !fresh) {
        errors.Add(v.Mark(), f.path,
                   absl::StrCat("duplicate name \"", issuer.name, "\" (also ", it->second, ")"));
      }
    } else if (f.name == "issuer") {
      has_issuer = true;
      if (!ReadString(v, f.path, errors, &issuer.issuer)) continue;
      if (std::string problem = CheckUrl(issuer.issuer, {}); !problem.empty()) {
        errors.Add(v.Mark(), f.path, absl::StrCat("\"", issuer.issuer, "\" ", problem));
      } else if (auto [it, fresh] = seen.issuers.emplace(issuer.issuer, path); !fresh) {
        errors.Add(v.Mark(), f.path,
                   absl::StrCat("duplicate issuer \"", issuer.issuer, "\" (also ", it->second,
                                "): merge the entries' audiences instead"));
      }
    } else if (f.name == "audiences") {
      has_audiences = true;
      ReadStringList(v, f.path, /*non_empty=*/true, errors, &issuer.audiences);
    } else if (f.name == "algorithms") {
      ReadAlgorithms(v, f.path, errors, &issuer.algorithms);
    } else if (f.name == "jwks_uri") {
      jwks_uri_key = f.key;
      if (!ReadString(v, f.path, errors, &issuer.jwks_uri)) continue;
      if (std::string problem = CheckUrl(issuer.jwks_uri, {.allow_query = true});
          !problem.empty()) {
        errors.Add(v.Mark(), f.path, absl::StrCat("\"", issuer.jwks_uri, "\" ", problem));
      }
    } else if (f.name == "static_jwks_file") {
      static_file_key = f.key;
      std::string file;
      if (!ReadString(v, f.path, errors, &file)) continue;
      if (file.empty()) {
        errors.Add(v.Mark(), f.path, "must not be empty");
        continue;
      }
      absl::StatusOr<std::string> jwks =
          ReadSmallFile(ResolvePath(base_dir, file), kMaxConfigFileBytes);
      if (!jwks.ok()) {
        errors.Add(v.Mark(), f.path, jwks.status().message());
      } else if (absl::StripAsciiWhitespace(*jwks).empty()) {
        errors.Add(v.Mark(), f.path, absl::StrCat(ResolvePath(base_dir, file), ": is empty"));
      } else {
        issuer.static_jwks = *std::move(jwks);
      }
    } else if (f.name == "leeway") {
      ReadDuration(v, f.path, absl::ZeroDuration(), absl::Seconds(60), errors, &issuer.leeway);
    } else if (f.name == "max_token_bytes") {
      ReadSize(v, f.path, errors, &issuer.max_token_bytes);
    } else if (f.name == "one_time_jti") {
      ReadBool(v, f.path, errors, &issuer.one_time_jti);
    } else if (f.name == "jwks_ttl") {
      ReadPositiveDuration(v, f.path, errors, &issuer.jwks_ttl);
    } else if (f.name == "refresh_cooldown") {
      ReadPositiveDuration(v, f.path, errors, &issuer.refresh_cooldown);
    } else if (f.name == "stale_keys_max") {
      ReadDuration(v, f.path, absl::ZeroDuration(), absl::InfiniteDuration(), errors,
                   &issuer.stale_keys_max);
    } else if (f.name == "connect_timeout") {
      ReadPositiveDuration(v, f.path, errors, &issuer.connect_timeout);
    } else if (f.name == "fetch_timeout") {
      ReadPositiveDuration(v, f.path, errors, &issuer.fetch_timeout);
    } else if (f.name == "max_response_bytes") {
      ReadSize(v, f.path, errors, &issuer.max_response_bytes);
    }
  }
  // A key written without a value was reported by MapFields already.
  has_name = has_name || node["name"].IsDefined();
  has_issuer = has_issuer || node["issuer"].IsDefined();
  has_audiences = has_audiences || node["audiences"].IsDefined();
  if (!has_name) errors.Add(node.Mark(), ChildPath(path, "name"), "is required");
  if (!has_issuer) errors.Add(node.Mark(), ChildPath(path, "issuer"), "is required");
  if (!has_audiences) errors.Add(node.Mark(), ChildPath(path, "audiences"), "is required");
  if (jwks_uri_key && static_file_key) {
    errors.Add(static_file_key->Mark(), ChildPath(path, "static_jwks_file"),
               "set either jwks_uri or static_jwks_file, not both");
  }
  *out = std::move(issuer);
}

}  // namespace

void ReadTrustedIssuers(const YAML::Node& node, absl::string_view path, absl::string_view base_dir,
                        ConfigErrors& errors, std::vector<TrustedIssuerConfig>* out) {
  out->clear();
  if (!node.IsSequence()) {
    errors.Add(node.Mark(), path, "expected a list of trusted issuers");
    return;
  }
  if (node.size() == 0) {
    errors.Add(node.Mark(), path,
               "must list at least one issuer (omit the key to keep the defaults)");
    return;
  }
  Seen seen;
  for (size_t i = 0; i < node.size(); ++i) {
    TrustedIssuerConfig issuer;
    ReadOne(node[i], absl::StrCat(path, "[", i, "]"), base_dir, seen, errors, &issuer);
    out->push_back(std::move(issuer));
  }
}

}  // namespace writ::issuer::config_internal
