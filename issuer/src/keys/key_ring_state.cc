#include "issuer/src/keys/key_ring_state.h"

#include <map>
#include <set>
#include <utility>

#include "absl/strings/str_cat.h"
#include "rapidjson/document.h"
#include "rapidjson/error/en.h"
#include "rapidjson/prettywriter.h"
#include "rapidjson/stringbuffer.h"

namespace writ::issuer::keys_internal {
namespace {

constexpr char kFormat[] = "writ-keyring-1";
using Writer = rapidjson::PrettyWriter<rapidjson::StringBuffer>;

void String(Writer& w, absl::string_view s) {
  w.String(s.data(), static_cast<rapidjson::SizeType>(s.size()));
}

void TimeMember(Writer& w, const char* name, absl::Time t) {
  if (t == absl::InfinitePast() || t == absl::InfiniteFuture()) return;
  w.Key(name);
  String(w, absl::FormatTime(absl::RFC3339_full, t, absl::UTCTimeZone()));
}

absl::Status Bad(absl::string_view path, absl::string_view where, absl::string_view what) {
  return absl::InvalidArgumentError(absl::StrCat(path, ": ", where, ": ", what));
}

absl::StatusOr<std::string> StringMember(const rapidjson::Value& obj, const char* name,
                                         absl::string_view path, absl::string_view where) {
  auto it = obj.FindMember(name);
  if (it == obj.MemberEnd() || !it->value.IsString()) {
    return Bad(path, where, absl::StrCat("\"", name, "\" must be a string"));
  }
  return std::string(it->value.GetString(), it->value.GetStringLength());
}

// TimeMemberValue reads an optional time; `unset` when absent.
absl::StatusOr<absl::Time> ParseTimeMember(const rapidjson::Value& obj, const char* name,
                                           absl::Time unset, absl::string_view path,
                                           absl::string_view where) {
  if (!obj.HasMember(name)) return unset;
  auto text = StringMember(obj, name, path, where);
  if (!text.ok()) return text.status();
  absl::Time t;
  std::string err;
  if (!absl::ParseTime(absl::RFC3339_full, *text, &t, &err) || t == absl::InfinitePast() ||
      t == absl::InfiniteFuture()) {
    return Bad(path, where, absl::StrCat("\"", name, "\" is not an RFC 3339 time: ", err));
  }
  return t;
}

absl::StatusOr<KeyState> ParseKeyState(absl::string_view name) {
  for (KeyState s : {KeyState::kPrepared, KeyState::kActive, KeyState::kRetired}) {
    if (name == KeyStateName(s)) return s;
  }
  return absl::InvalidArgumentError(absl::StrCat("unknown key state \"", name, "\""));
}

absl::StatusOr<KeyRecord> ParseRecord(const rapidjson::Value& v, absl::string_view path,
                                      absl::string_view where) {
  if (!v.IsObject()) return Bad(path, where, "must be an object");
  static constexpr absl::string_view kKnown[] = {"purpose",    "id",           "state",
                                                 "file",       "created_at",   "activated_at",
                                                 "retired_at", "publish_until"};
  for (auto it = v.MemberBegin(); it != v.MemberEnd(); ++it) {
    absl::string_view name(it->name.GetString(), it->name.GetStringLength());
    bool known = false;
    for (absl::string_view k : kKnown) known = known || k == name;
    if (!known) return Bad(path, where, absl::StrCat("unknown member \"", name, "\""));
  }
  KeyRecord r;
  auto purpose = StringMember(v, "purpose", path, where);
  if (!purpose.ok()) return purpose.status();
  auto parsed_purpose = ParseKeyPurpose(*purpose);
  if (!parsed_purpose.ok()) return Bad(path, where, parsed_purpose.status().message());
  r.purpose = *parsed_purpose;
  auto id = StringMember(v, "id", path, where);
  if (!id.ok()) return id.status();
  if (!IsPlainFileName(*id)) return Bad(path, where, "\"id\" is empty or has odd characters");
  r.id = *id;
  auto state = StringMember(v, "state", path, where);
  if (!state.ok()) return state.status();
  auto parsed_state = ParseKeyState(*state);
  if (!parsed_state.ok()) return Bad(path, where, parsed_state.status().message());
  r.state = *parsed_state;
  auto file = StringMember(v, "file", path, where);
  if (!file.ok()) return file.status();
  if (!IsPlainFileName(*file) || file->size() < 5 || file->substr(file->size() - 4) != ".pem") {
    return Bad(
        path, where,
        absl::StrCat("\"file\" \"", *file, "\" is not a plain .pem name in the key directory"));
  }
  r.file = *file;
  const absl::Time past = absl::InfinitePast();
  auto created = ParseTimeMember(v, "created_at", past, path, where);
  if (!created.ok()) return created.status();
  if (*created == past) return Bad(path, where, "\"created_at\" is missing");
  r.created_at = *created;
  auto activated = ParseTimeMember(v, "activated_at", past, path, where);
  if (!activated.ok()) return activated.status();
  r.activated_at = *activated;
  auto retired = ParseTimeMember(v, "retired_at", past, path, where);
  if (!retired.ok()) return retired.status();
  r.retired_at = *retired;
  auto until = ParseTimeMember(v, "publish_until", absl::InfiniteFuture(), path, where);
  if (!until.ok()) return until.status();
  r.publish_until = *until;
  if (r.state != KeyState::kPrepared && r.activated_at == past) {
    return Bad(path, where, "an active or retired key needs \"activated_at\"");
  }
  if (r.state == KeyState::kRetired &&
      (r.retired_at == past || r.publish_until == absl::InfiniteFuture())) {
    return Bad(path, where, "a retired key needs \"retired_at\" and \"publish_until\"");
  }
  return r;
}

}  // namespace

bool IsPlainFileName(absl::string_view name) {
  if (name.empty() || name.size() > 128 || name.front() == '.') return false;
  for (char c : name) {
    const bool ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
                    c == '.' || c == '_' || c == '-';
    if (!ok) return false;
  }
  return true;
}

std::string SerializeRingState(const RingState& state) {
  rapidjson::StringBuffer buf;
  Writer w(buf);
  w.StartObject();
  w.Key("format");
  w.String(kFormat);
  w.Key("sequence");
  w.Uint64(state.sequence);
  if (!state.published_digest.empty()) {
    w.Key("published_digest");
    String(w, state.published_digest);
  }
  w.Key("keys");
  w.StartArray();
  for (const KeyRecord& r : state.keys) {
    w.StartObject();
    w.Key("purpose");
    w.String(KeyPurposeName(r.purpose));
    w.Key("id");
    String(w, r.id);
    w.Key("state");
    w.String(KeyStateName(r.state));
    w.Key("file");
    String(w, r.file);
    TimeMember(w, "created_at", r.created_at);
    TimeMember(w, "activated_at", r.activated_at);
    TimeMember(w, "retired_at", r.retired_at);
    TimeMember(w, "publish_until", r.publish_until);
    w.EndObject();
  }
  w.EndArray();
  w.EndObject();
  return std::string(buf.GetString(), buf.GetSize()) + "\n";
}

absl::StatusOr<RingState> ParseRingState(absl::string_view json, absl::string_view path) {
  if (json.size() > kMaxStateFileBytes) {
    return absl::InvalidArgumentError(absl::StrCat(path, ": larger than any key ring state"));
  }
  rapidjson::Document doc;
  doc.Parse<rapidjson::kParseIterativeFlag>(json.data(), json.size());
  if (doc.HasParseError()) {
    return absl::InvalidArgumentError(
        absl::StrCat(path, ": not valid JSON at offset ", doc.GetErrorOffset(), ": ",
                     rapidjson::GetParseError_En(doc.GetParseError())));
  }
  if (!doc.IsObject()) return Bad(path, "top level", "must be an object");
  for (auto it = doc.MemberBegin(); it != doc.MemberEnd(); ++it) {
    const absl::string_view name(it->name.GetString(), it->name.GetStringLength());
    if (name != "format" && name != "sequence" && name != "published_digest" && name != "keys") {
      return Bad(path, "top level", absl::StrCat("unknown member \"", name, "\""));
    }
  }
  auto format = StringMember(doc, "format", path, "top level");
  if (!format.ok()) return format.status();
  if (*format != kFormat) {
    return Bad(path, "format", absl::StrCat("\"", *format, "\" is not \"", kFormat, "\""));
  }
  RingState state;
  auto seq = doc.FindMember("sequence");
  if (seq == doc.MemberEnd() || !seq->value.IsUint64()) {
    return Bad(path, "top level", "\"sequence\" must be a non-negative integer");
  }
  state.sequence = seq->value.GetUint64();
  if (doc.HasMember("published_digest")) {
    auto digest = StringMember(doc, "published_digest", path, "top level");
    if (!digest.ok()) return digest.status();
    state.published_digest = *digest;
  }
  auto keys = doc.FindMember("keys");
  if (keys == doc.MemberEnd() || !keys->value.IsArray()) {
    return Bad(path, "top level", "\"keys\" must be an array");
  }
  std::set<std::string> ids, files;
  std::map<std::pair<KeyPurpose, KeyState>, int> counts;
  for (rapidjson::SizeType i = 0; i < keys->value.Size(); ++i) {
    const std::string where = absl::StrCat("keys[", i, "]");
    auto record = ParseRecord(keys->value[i], path, where);
    if (!record.ok()) return record.status();
    if (!ids.insert(absl::StrCat(KeyPurposeName(record->purpose), "/", record->id)).second) {
      return Bad(path, where, absl::StrCat("key id \"", record->id, "\" appears twice"));
    }
    if (!files.insert(record->file).second) {
      return Bad(path, where, absl::StrCat("file \"", record->file, "\" appears twice"));
    }
    const int n = ++counts[{record->purpose, record->state}];
    if (record->state != KeyState::kRetired && n > 1) {
      return Bad(path, where,
                 absl::StrCat("the ", KeyPurposeName(record->purpose), " ring has more than one ",
                              KeyStateName(record->state), " key"));
    }
    state.keys.push_back(*std::move(record));
  }
  return state;
}

}  // namespace writ::issuer::keys_internal
