#include "issuer/src/ledger/ledger_codec.h"

#include <utility>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "rapidjson/document.h"
#include "rapidjson/error/en.h"
#include "rapidjson/stringbuffer.h"
#include "rapidjson/writer.h"
#include "writ/base/status_macros.h"

namespace writ::issuer::ledger_codec {
namespace {

using Writer = rapidjson::Writer<rapidjson::StringBuffer>;

constexpr absl::string_view kNegInf = "-inf";
constexpr absl::string_view kPosInf = "+inf";
// Fields added to format version 1 later (certificates, key ids): absent in
// older records.
constexpr bool kOptional = true;

void Key(Writer& w, const char* name) { w.Key(name); }

void Str(Writer& w, const char* name, absl::string_view value) {
  w.Key(name);
  w.String(value.data(), static_cast<rapidjson::SizeType>(value.size()));
}

void StrList(Writer& w, const char* name, const std::vector<std::string>& values) {
  w.Key(name);
  w.StartArray();
  for (const std::string& v : values)
    w.String(v.data(), static_cast<rapidjson::SizeType>(v.size()));
  w.EndArray();
}

void TimeField(Writer& w, const char* name, absl::Time t, TimeFormat format) {
  Key(w, name);
  if (t == absl::InfinitePast() || t == absl::InfiniteFuture()) {
    absl::string_view s = t == absl::InfinitePast() ? kNegInf : kPosInf;
    w.String(s.data(), static_cast<rapidjson::SizeType>(s.size()));
  } else if (format == TimeFormat::kRfc3339) {
    std::string s = absl::FormatTime("%Y-%m-%dT%H:%M:%E6SZ", t, absl::UTCTimeZone());
    w.String(s.data(), static_cast<rapidjson::SizeType>(s.size()));
  } else {
    w.Int64(absl::ToUnixMicros(t));
  }
}

void DurationField(Writer& w, const char* name, absl::Duration d) {
  Key(w, name);
  if (d == absl::InfiniteDuration() || d == -absl::InfiniteDuration()) {
    absl::string_view s = d < absl::ZeroDuration() ? kNegInf : kPosInf;
    w.String(s.data(), static_cast<rapidjson::SizeType>(s.size()));
  } else {
    w.Int64(absl::ToInt64Microseconds(d));
  }
}

// Reader pulls typed fields out of the parsed object; the first problem
// becomes a kDataLoss naming the field.
class Reader {
 public:
  explicit Reader(const rapidjson::Value& obj) : obj_(obj) {}

  // Find returns the member `name`; a missing member is an error unless
  // `optional` (fields added after format version 1 was first written: a
  // record from before them lacks them, and they read as empty).
  const rapidjson::Value* Find(const char* name, bool optional = false) {
    auto it = obj_.FindMember(name);
    if (it == obj_.MemberEnd()) {
      if (!optional) Fail(absl::StrCat("field \"", name, "\" is missing"));
      return nullptr;
    }
    return &it->value;
  }

  void Str(const char* name, std::string* out, bool optional = false) {
    const rapidjson::Value* v = Find(name, optional);
    if (v == nullptr) return;
    if (!v->IsString()) return Fail(absl::StrCat("field \"", name, "\" is not a string"));
    out->assign(v->GetString(), v->GetStringLength());
  }

  void StrList(const char* name, std::vector<std::string>* out, bool optional = false) {
    const rapidjson::Value* v = Find(name, optional);
    if (v == nullptr) return;
    if (!v->IsArray()) return Fail(absl::StrCat("field \"", name, "\" is not an array"));
    for (const auto& e : v->GetArray()) {
      if (!e.IsString()) return Fail(absl::StrCat("field \"", name, "\" has a non-string"));
      out->emplace_back(e.GetString(), e.GetStringLength());
    }
  }

  void Pairs(const char* name, std::vector<std::pair<std::string, std::string>>* out) {
    const rapidjson::Value* v = Find(name);
    if (v == nullptr) return;
    if (!v->IsArray()) return Fail(absl::StrCat("field \"", name, "\" is not an array"));
    for (const auto& e : v->GetArray()) {
      if (!e.IsArray() || e.Size() != 2 || !e[0].IsString() || !e[1].IsString()) {
        return Fail(absl::StrCat("field \"", name, "\" has an entry that is not [name, value]"));
      }
      out->emplace_back(std::string(e[0].GetString(), e[0].GetStringLength()),
                        std::string(e[1].GetString(), e[1].GetStringLength()));
    }
  }

  // Infinite reports "-inf"/"+inf" as -1/+1, 0 for neither; false on error.
  bool Number(const char* name, int64_t* out, int* infinite) {
    const rapidjson::Value* v = Find(name);
    if (v == nullptr) return false;
    *infinite = 0;
    if (v->IsString()) {
      absl::string_view s(v->GetString(), v->GetStringLength());
      if (s == kNegInf) {
        *infinite = -1;
        return true;
      }
      if (s == kPosInf) {
        *infinite = 1;
        return true;
      }
    } else if (v->IsInt64()) {
      *out = v->GetInt64();
      return true;
    }
    Fail(absl::StrCat("field \"", name, "\" is not an integer, \"-inf\" or \"+inf\""));
    return false;
  }

  void Time(const char* name, absl::Time* out) {
    int64_t micros = 0;
    int infinite = 0;
    if (!Number(name, &micros, &infinite)) return;
    *out = infinite < 0   ? absl::InfinitePast()
           : infinite > 0 ? absl::InfiniteFuture()
                          : absl::FromUnixMicros(micros);
  }

  void Duration(const char* name, absl::Duration* out) {
    int64_t micros = 0;
    int infinite = 0;
    if (!Number(name, &micros, &infinite)) return;
    *out = infinite < 0   ? -absl::InfiniteDuration()
           : infinite > 0 ? absl::InfiniteDuration()
                          : absl::Microseconds(micros);
  }

  void Fail(std::string message) {
    if (status_.ok()) status_ = absl::DataLossError(std::move(message));
  }
  const absl::Status& status() const { return status_; }

 private:
  const rapidjson::Value& obj_;
  absl::Status status_;
};

void AppendEscaped(std::string& out, absl::string_view name) {
  for (char c : name) {
    if (c == '\0') {
      out.append("\x01\x01", 2);
    } else if (c == '\x01') {
      out.append("\x01\x02", 2);
    } else {
      out.push_back(c);
    }
  }
}

}  // namespace

std::string EncodeRecord(const LedgerRecord& r, TimeFormat time_format) {
  rapidjson::StringBuffer buffer;
  Writer w(buffer);
  w.StartObject();
  Key(w, "v");
  w.Int(kFormatVersion);
  TimeField(w, "time", r.time, time_format);
  Str(w, "request_id", r.request_id);
  Str(w, "transport", r.transport);
  Str(w, "client_address", r.client_address);
  Str(w, "attested_issuer", r.attested_issuer);
  Str(w, "attested_subject", r.attested_subject);
  Str(w, "attested_issuer_name", r.attested_issuer_name);
  StrList(w, "actors", r.actors);
  Key(w, "claims");
  w.StartArray();
  for (const auto& [name, value] : r.claims) {
    w.StartArray();
    w.String(name.data(), static_cast<rapidjson::SizeType>(name.size()));
    w.String(value.data(), static_cast<rapidjson::SizeType>(value.size()));
    w.EndArray();
  }
  w.EndArray();
  Str(w, "requested_audience", r.requested_audience);
  StrList(w, "requested_scopes", r.requested_scopes);
  DurationField(w, "requested_lifetime_us", r.requested_lifetime);
  Str(w, "granted_subject", r.granted_subject);
  Str(w, "granted_audience", r.granted_audience);
  StrList(w, "granted_scopes", r.granted_scopes);
  DurationField(w, "granted_lifetime_us", r.granted_lifetime);
  Str(w, "decision", r.decision);
  Str(w, "error", r.error);
  StrList(w, "reasons", r.reasons);
  Str(w, "rule", r.rule);
  Str(w, "policy_file", r.policy_file);
  Str(w, "credential_kind", r.credential_kind);
  Str(w, "jti", r.jti);
  Str(w, "credential_sha256", r.credential_sha256);
  TimeField(w, "expires_at", r.expires_at, time_format);
  StrList(w, "principals", r.principals);
  StrList(w, "source_addresses", r.source_addresses);
  Str(w, "renewed_from", r.renewed_from);
  Str(w, "signing_key", r.signing_key);
  w.EndObject();
  return std::string(buffer.GetString(), buffer.GetSize());
}

absl::StatusOr<LedgerRecord> DecodeRecord(absl::string_view value) {
  rapidjson::Document doc;
  // Iterative: garbage nested a million deep must not exhaust the stack.
  doc.Parse<rapidjson::kParseIterativeFlag>(value.data(), value.size());
  if (doc.HasParseError()) {
    return absl::DataLossError(
        absl::StrCat("record is not JSON: ", rapidjson::GetParseError_En(doc.GetParseError()),
                     " at offset ", doc.GetErrorOffset()));
  }
  if (!doc.IsObject()) return absl::DataLossError("record is not a JSON object");
  const rapidjson::Value& root = doc;  // const iterators: clang -Wambiguous-reversed-operator
  auto version = root.FindMember("v");
  if (version == root.MemberEnd() || !version->value.IsInt() ||
      version->value.GetInt() != kFormatVersion) {
    return absl::DataLossError(absl::StrCat(
        "record has no \"v\" or an unknown format version (want ", kFormatVersion, ")"));
  }
  LedgerRecord r;
  Reader in(doc);
  in.Time("time", &r.time);
  in.Str("request_id", &r.request_id);
  in.Str("transport", &r.transport);
  in.Str("client_address", &r.client_address);
  in.Str("attested_issuer", &r.attested_issuer);
  in.Str("attested_subject", &r.attested_subject);
  in.Str("attested_issuer_name", &r.attested_issuer_name, kOptional);
  in.StrList("actors", &r.actors);
  in.Pairs("claims", &r.claims);
  in.Str("requested_audience", &r.requested_audience);
  in.StrList("requested_scopes", &r.requested_scopes);
  in.Duration("requested_lifetime_us", &r.requested_lifetime);
  in.Str("granted_subject", &r.granted_subject);
  in.Str("granted_audience", &r.granted_audience);
  in.StrList("granted_scopes", &r.granted_scopes);
  in.Duration("granted_lifetime_us", &r.granted_lifetime);
  in.Str("decision", &r.decision);
  in.Str("error", &r.error);
  in.StrList("reasons", &r.reasons);
  in.Str("rule", &r.rule);
  in.Str("policy_file", &r.policy_file);
  in.Str("credential_kind", &r.credential_kind);
  in.Str("jti", &r.jti);
  in.Str("credential_sha256", &r.credential_sha256);
  in.Time("expires_at", &r.expires_at);
  in.StrList("principals", &r.principals, kOptional);
  in.StrList("source_addresses", &r.source_addresses, kOptional);
  in.Str("renewed_from", &r.renewed_from, kOptional);
  in.Str("signing_key", &r.signing_key, kOptional);
  RETURN_IF_ERROR(in.status());
  return r;
}

std::string TimeKey(int64_t micros) {
  uint64_t u = static_cast<uint64_t>(micros) ^ (uint64_t{1} << 63);
  std::string out(8, '\0');
  for (int i = 7; i >= 0; --i) {
    out[i] = static_cast<char>(u & 0xff);
    u >>= 8;
  }
  return out;
}

int64_t TimeFromKey(absl::string_view bytes) {
  uint64_t u = 0;
  for (size_t i = 0; i < 8 && i < bytes.size(); ++i) {
    u = (u << 8) | static_cast<unsigned char>(bytes[i]);
  }
  return static_cast<int64_t>(u ^ (uint64_t{1} << 63));
}

std::string RecordKey(absl::Time time, absl::string_view request_id) {
  return absl::StrCat(kRecordPrefix, TimeKey(absl::ToUnixMicros(time)), request_id);
}

std::string JtiKey(absl::string_view jti) { return absl::StrCat(kJtiPrefix, jti); }

std::string SubjectIndexPrefix(absl::string_view subject) {
  std::string out(kSubjectPrefix);
  AppendEscaped(out, subject);
  out.push_back('\0');
  return out;
}

std::string DecisionIndexPrefix(absl::string_view decision) {
  std::string out(kDecisionPrefix);
  AppendEscaped(out, decision);
  out.push_back('\0');
  return out;
}

std::string PrintableKey(absl::string_view key) {
  constexpr size_t kMax = 120;
  std::string out;
  for (size_t i = 0; i < key.size() && i < kMax; ++i) {
    const unsigned char c = static_cast<unsigned char>(key[i]);
    if (c >= 0x20 && c < 0x7f && c != '\\') {
      out.push_back(static_cast<char>(c));
    } else {
      absl::StrAppendFormat(&out, "\\x%02x", c);
    }
  }
  if (key.size() > kMax) out.append("...");
  return out;
}

}  // namespace writ::issuer::ledger_codec
