#include "issuer/src/config/keys_config_loader.h"

#include <string>
#include <vector>

#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "issuer/src/config/config_files.h"
#include "issuer/src/config/duration.h"
#include "writ/spiffe/spiffe_id.h"

namespace writ::issuer::config_internal {
namespace {

constexpr absl::string_view kKeysKeys[] = {"rotate_after", "publish_lead", "check_interval"};
constexpr absl::string_view kX509Keys[] = {
    "enabled", "trust_domain", "mode", "root_bundle_file", "ca_lifetime", "facts_extension_oid"};
constexpr absl::string_view kSshKeys[] = {"enabled"};

bool ReadPositiveDuration(const Field& f, ConfigErrors& errors, absl::Duration* out) {
  return ReadDuration(f.value, f.path, absl::Nanoseconds(1), absl::InfiniteDuration(), errors, out);
}

YAML::Mark MarkOf(const std::optional<YAML::Node>& node, const YAML::Node& fallback) {
  return node ? node->Mark() : fallback.Mark();
}

}  // namespace

bool IsDottedOid(absl::string_view oid) {
  std::vector<absl::string_view> arcs = absl::StrSplit(oid, '.');
  if (arcs.size() < 2) return false;
  for (absl::string_view arc : arcs) {
    if (arc.empty() || arc.size() > 10) return false;
    if (arc.size() > 1 && arc[0] == '0') return false;
    for (char c : arc) {
      if (c < '0' || c > '9') return false;
    }
    // Arcs of 2^31 or more (a 2.25 UUID arc) make certificates unparseable
    // for Go's crypto/x509 and Python's cryptography.
    int64_t value = 0;
    if (!absl::SimpleAtoi(arc, &value) || value > 0x7fffffff) return false;
  }
  if (arcs[0].size() != 1 || arcs[0][0] > '2') return false;
  if (arcs[0][0] != '2') {
    int second = 0;
    if (!absl::SimpleAtoi(arcs[1], &second) || second >= 40) return false;
  }
  return true;
}

void ReadKeysConfig(const Field& field, ConfigErrors& errors, KeysConfig* out,
                    KeyLifetimeNodes* nodes) {
  for (const Field& f : MapFields(field.value, field.path, kKeysKeys, errors)) {
    if (f.name == "rotate_after") {
      nodes->rotate_after = f.value;
      ReadPositiveDuration(f, errors, &out->rotate_after);
    } else if (f.name == "publish_lead") {
      nodes->publish_lead = f.value;
      ReadPositiveDuration(f, errors, &out->publish_lead);
    } else if (f.name == "check_interval") {
      ReadPositiveDuration(f, errors, &out->check_interval);
    }
  }
  if (out->publish_lead > out->rotate_after) {
    errors.Add(
        MarkOf(nodes->publish_lead ? nodes->publish_lead : nodes->rotate_after, field.value),
        ChildPath(field.path, "publish_lead"),
        absl::StrCat("must not exceed rotate_after (", FormatConfigDuration(out->publish_lead),
                     " > ", FormatConfigDuration(out->rotate_after),
                     "): the next key must have been published for publish_lead when "
                     "the active one is due"));
  }
}

void ReadX509Config(const Field& field, absl::string_view base_dir, ConfigErrors& errors,
                    X509Config* out, KeyLifetimeNodes* nodes) {
  std::optional<YAML::Node> mode_node;
  for (const Field& f : MapFields(field.value, field.path, kX509Keys, errors)) {
    if (f.name == "enabled") {
      ReadBool(f.value, f.path, errors, &out->enabled);
    } else if (f.name == "trust_domain") {
      if (!ReadString(f.value, f.path, errors, &out->trust_domain)) continue;
      auto id = SpiffeId::Parse(absl::StrCat("spiffe://", out->trust_domain));
      if (!id.ok() || !id->path().empty()) {
        errors.Add(
            f.value.Mark(), f.path,
            absl::StrCat("\"", out->trust_domain,
                         "\" is not a SPIFFE trust domain (1 to 255 characters of a-z, "
                         "0-9, '.', '-' and '_'",
                         id.ok() ? ", no path)" : absl::StrCat("): ", id.status().message())));
      }
    } else if (f.name == "mode") {
      mode_node = f.value;
      if (ReadString(f.value, f.path, errors, &out->mode) && out->mode != "self-signed" &&
          out->mode != "intermediate") {
        errors.Add(f.value.Mark(), f.path,
                   absl::StrCat("\"", out->mode, "\" is not \"self-signed\" or \"intermediate\""));
      }
    } else if (f.name == "root_bundle_file") {
      std::string value;
      if (!ReadString(f.value, f.path, errors, &value)) continue;
      if (value.empty()) {
        errors.Add(f.value.Mark(), f.path, "must not be empty");
        continue;
      }
      out->root_bundle_file = ResolvePath(base_dir, value);
    } else if (f.name == "ca_lifetime") {
      nodes->ca_lifetime = f.value;
      ReadPositiveDuration(f, errors, &out->ca_lifetime);
    } else if (f.name == "facts_extension_oid") {
      if (ReadString(f.value, f.path, errors, &out->facts_extension_oid) &&
          !out->facts_extension_oid.empty() && !IsDottedOid(out->facts_extension_oid)) {
        errors.Add(f.value.Mark(), f.path,
                   absl::StrCat("\"", out->facts_extension_oid,
                                "\" is not a dotted OID such as 1.3.6.1.4.1.99999.1 with every arc "
                                "below 2^31 (larger arcs break common verifiers; empty turns "
                                "the extension off)"));
      }
    }
  }
  if (out->mode == "intermediate" && out->root_bundle_file.empty()) {
    errors.Add(MarkOf(mode_node, field.value), ChildPath(field.path, "root_bundle_file"),
               "is required in intermediate mode: the operator's root certificates (PEM) that "
               "Writ's CA certificates chain to");
  }
}

void ReadSshConfig(const Field& field, ConfigErrors& errors, SshConfig* out) {
  for (const Field& f : MapFields(field.value, field.path, kSshKeys, errors)) {
    if (f.name == "enabled") ReadBool(f.value, f.path, errors, &out->enabled);
  }
}

void CheckCaLifetime(const IssuerConfig& config, const KeyLifetimeNodes& nodes,
                     ConfigErrors& errors) {
  if (!config.x509.enabled || config.x509.mode != "self-signed") return;
  const absl::Duration needed =
      config.keys.rotate_after + config.keys.publish_lead + config.tokens.max_lifetime;
  if (config.x509.ca_lifetime > needed) return;
  const std::optional<YAML::Node>* at = &nodes.ca_lifetime;
  for (const std::optional<YAML::Node>* n :
       {&nodes.ca_lifetime, &nodes.rotate_after, &nodes.publish_lead, &nodes.max_lifetime}) {
    if (*n) {
      at = n;
      break;
    }
  }
  errors.Add(*at ? (*at)->Mark() : YAML::Mark::null_mark(), "x509.ca_lifetime",
             absl::StrCat("must exceed keys.rotate_after + keys.publish_lead + "
                          "tokens.max_lifetime (",
                          FormatConfigDuration(config.x509.ca_lifetime),
                          " <= ", FormatConfigDuration(config.keys.rotate_after), " + ",
                          FormatConfigDuration(config.keys.publish_lead), " + ",
                          FormatConfigDuration(config.tokens.max_lifetime),
                          "): a CA certificate must outlive what its key signs"));
}

}  // namespace writ::issuer::config_internal
