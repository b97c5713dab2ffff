// The on-disk layout of the RocksDB ledger: how a LedgerRecord becomes one
// value, and the keys that find it.
//
// Value: one compact JSON object (RapidJSON), self-describing and versioned:
//   {"v":1,"time":<unix micros>,"request_id":"..",...,"claims":[["name","value"],..],
//    "requested_lifetime_us":<micros>,...,"expires_at":<unix micros> | "-inf" | "+inf"}
// Every LedgerRecord field is present under its own name; times are Unix
// microseconds, durations microseconds (infinite ones as "-inf"/"+inf").
// The fields added for certificates and key ids (attested_issuer_name,
// principals, source_addresses, renewed_from, signing_key) are always written
// but optional when read: records written before them stay readable (they
// read as empty), so the version stays 1.
// Strings are stored byte for byte (JSON escapes for control bytes).
//
// Keys (one record and its index entries are written in one WriteBatch):
//   r/<time8><request_id>                 the record (primary), in the default
//                                          column family; the rest are index
//                                          entries, in the "index" family
//   j/<jti>                               -> the primary key (only when jti is set)
//   s/<esc(subject)>\0<time8><request_id> -> "" for attested_subject, and for
//                                            granted_subject when different
//   d/<esc(decision)>\0<time8><request_id> -> ""
// time8 is the record time in Unix microseconds as a big-endian uint64 with the
// sign bit flipped, so byte order is time order (negative times included).
// esc() maps \x00 -> \x01\x01 and \x01 -> \x01\x02, so the \0 separator never
// occurs inside an escaped name and one subject's range never contains
// another's. (The "d/<decision>/<time>" sketch became "\0" for the same reason.)
// Records are keyed by time, so the default family only grows at its end and
// its table files never overlap; the index entries, keyed by jti or subject,
// land all over their family and are the only keys compactions rewrite.
// (Ledgers from before 2026-12 kept everything in the default family:
// ledger_migration.h.)
//
// All functions are pure and thread-safe.
#ifndef WRIT_ISSUER_LEDGER_LEDGER_CODEC_H_
#define WRIT_ISSUER_LEDGER_LEDGER_CODEC_H_

#include <cstdint>
#include <string>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "absl/time/time.h"
#include "issuer/src/ledger/ledger.h"

namespace writ::issuer::ledger_codec {

// The current value format version ("v").
inline constexpr int kFormatVersion = 1;

// Key prefixes.
inline constexpr absl::string_view kRecordPrefix = "r/";
inline constexpr absl::string_view kJtiPrefix = "j/";
inline constexpr absl::string_view kSubjectPrefix = "s/";
inline constexpr absl::string_view kDecisionPrefix = "d/";

// How EncodeRecord writes absl::Time fields.
enum class TimeFormat {
  kUnixMicros,  // storage: integers (what DecodeRecord reads)
  kRfc3339,     // display: "2024-05-01T12:00:00.123456Z" strings (not decodable)
};

// EncodeRecord returns `record` as compact JSON. Times are truncated to whole
// microseconds (towards the past).
std::string EncodeRecord(const LedgerRecord& record,
                         TimeFormat time_format = TimeFormat::kUnixMicros);

// DecodeRecord parses a value written by EncodeRecord (kUnixMicros). Returns
// kDataLoss naming the first problem for anything else: not JSON, not an
// object, an unknown version, a missing (required) or mistyped field. Never
// crashes on any input.
absl::StatusOr<LedgerRecord> DecodeRecord(absl::string_view value);

// TimeKey returns the 8-byte order-preserving encoding of `micros`.
std::string TimeKey(int64_t micros);
// TimeFromKey is the inverse of TimeKey; `bytes` must hold 8 bytes.
int64_t TimeFromKey(absl::string_view bytes);

// RecordKey returns "r/" + TimeKey(time micros) + request_id.
std::string RecordKey(absl::Time time, absl::string_view request_id);
// JtiKey returns "j/" + jti.
std::string JtiKey(absl::string_view jti);
// SubjectIndexPrefix returns "s/" + esc(subject) + "\0"; an index key is that
// plus the record key's suffix (time8 + request_id).
std::string SubjectIndexPrefix(absl::string_view subject);
// DecisionIndexPrefix returns "d/" + esc(decision) + "\0".
std::string DecisionIndexPrefix(absl::string_view decision);

// Printable returns `key` for error messages: printable ASCII kept, other
// bytes as \xHH, cut after 120 bytes.
std::string PrintableKey(absl::string_view key);

}  // namespace writ::issuer::ledger_codec

#endif  // WRIT_ISSUER_LEDGER_LEDGER_CODEC_H_
