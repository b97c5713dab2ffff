#include "issuer/src/ledger/ledger_codec.h"

#include <cstdint>
#include <limits>
#include <random>
#include <string>
#include <tuple>
#include <vector>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_replace.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"

namespace writ::issuer::ledger_codec {
namespace {

using ::testing::HasSubstr;

LedgerRecord FullRecord() {
  LedgerRecord r;
  r.time = absl::FromUnixMicros(1714564800123456);
  r.request_id = "req-1";
  r.transport = "http";
  r.client_address = "10.0.0.1:5555";
  r.attested_issuer = "https://token.actions.githubusercontent.com";
  r.attested_subject = "repo:acme/ünïcödé:ref:refs/heads/main";
  r.actors = {"inner", "outer"};
  r.claims = {{"repository", "acme/app"}, {"ref", "refs/heads/main"}};
  r.requested_audience = "https://api.example";
  r.requested_scopes = {"read", "write"};
  r.requested_lifetime = absl::Minutes(10);
  r.granted_subject = "svc:deployer";
  r.granted_audience = "https://api.example";
  r.granted_scopes = {"read"};
  r.granted_lifetime = absl::Microseconds(300000001);
  r.decision = "allow";
  r.error = "";
  r.reasons = {"rule deploy matched", "scope write dropped"};
  r.rule = "deploy";
  r.policy_file = "/etc/writ/policy.yaml";
  r.credential_kind = "jwt";
  r.jti = "jti-123";
  r.credential_sha256 = std::string(64, 'a');
  r.expires_at = absl::FromUnixMicros(1714565100123456);
  r.attested_issuer_name = "github";
  r.principals = {"deploy", "ops"};
  r.source_addresses = {"10.0.0.0/8", "192.0.2.7"};
  r.renewed_from = "0abc";
  r.signing_key = "kid-1";
  return r;
}

void ExpectSame(const LedgerRecord& a, const LedgerRecord& b) {
  EXPECT_EQ(a.time, b.time);
  EXPECT_EQ(a.request_id, b.request_id);
  EXPECT_EQ(a.transport, b.transport);
  EXPECT_EQ(a.client_address, b.client_address);
  EXPECT_EQ(a.attested_issuer, b.attested_issuer);
  EXPECT_EQ(a.attested_subject, b.attested_subject);
  EXPECT_EQ(a.actors, b.actors);
  EXPECT_EQ(a.claims, b.claims);
  EXPECT_EQ(a.requested_audience, b.requested_audience);
  EXPECT_EQ(a.requested_scopes, b.requested_scopes);
  EXPECT_EQ(a.requested_lifetime, b.requested_lifetime);
  EXPECT_EQ(a.granted_subject, b.granted_subject);
  EXPECT_EQ(a.granted_audience, b.granted_audience);
  EXPECT_EQ(a.granted_scopes, b.granted_scopes);
  EXPECT_EQ(a.granted_lifetime, b.granted_lifetime);
  EXPECT_EQ(a.decision, b.decision);
  EXPECT_EQ(a.error, b.error);
  EXPECT_EQ(a.reasons, b.reasons);
  EXPECT_EQ(a.rule, b.rule);
  EXPECT_EQ(a.policy_file, b.policy_file);
  EXPECT_EQ(a.credential_kind, b.credential_kind);
  EXPECT_EQ(a.jti, b.jti);
  EXPECT_EQ(a.credential_sha256, b.credential_sha256);
  EXPECT_EQ(a.expires_at, b.expires_at);
  EXPECT_EQ(a.attested_issuer_name, b.attested_issuer_name);
  EXPECT_EQ(a.principals, b.principals);
  EXPECT_EQ(a.source_addresses, b.source_addresses);
  EXPECT_EQ(a.renewed_from, b.renewed_from);
  EXPECT_EQ(a.signing_key, b.signing_key);
}

// kStoredV1Record is a record exactly as the ledger stored it before the
// certificate and key-id fields existed.
constexpr char kStoredV1Record[] =
    R"({"v":1,"time":1714564800123456,"request_id":"req-1","transport":"http",)"
    R"("client_address":"10.0.0.1","attested_issuer":"https://iss.example",)"
    R"("attested_subject":"repo:acme/app","actors":[],"claims":[["repository","acme/app"]],)"
    R"("requested_audience":"api","requested_scopes":["read"],"requested_lifetime_us":0,)"
    R"("granted_subject":"svc:deploy","granted_audience":"api","granted_scopes":["read"],)"
    R"("granted_lifetime_us":300000000,"decision":"allow","error":"","reasons":[],"rule":"r1",)"
    R"("policy_file":"p.yaml","credential_kind":"jwt","jti":"jti-1",)"
    R"("credential_sha256":"aa","expires_at":1714565100123456})";

TEST(LedgerCodecTest, DecodesRecordsWrittenBeforeTheCertificateFields) {
  auto decoded = DecodeRecord(kStoredV1Record);
  ASSERT_TRUE(decoded.ok()) << decoded.status();
  EXPECT_EQ(decoded->request_id, "req-1");
  EXPECT_EQ(decoded->jti, "jti-1");
  EXPECT_EQ(decoded->granted_lifetime, absl::Minutes(5));
  EXPECT_EQ(decoded->expires_at, absl::FromUnixMicros(1714565100123456));
  EXPECT_TRUE(decoded->attested_issuer_name.empty());
  EXPECT_TRUE(decoded->principals.empty());
  EXPECT_TRUE(decoded->source_addresses.empty());
  EXPECT_TRUE(decoded->renewed_from.empty());
  EXPECT_TRUE(decoded->signing_key.empty());
  // Written again, it gains the new fields, empty, and still round-trips.
  const std::string again = EncodeRecord(*decoded);
  EXPECT_THAT(again, HasSubstr("\"principals\":[]"));
  EXPECT_THAT(again, HasSubstr("\"signing_key\":\"\""));
  auto twice = DecodeRecord(again);
  ASSERT_TRUE(twice.ok()) << twice.status();
  ExpectSame(*twice, *decoded);
}

TEST(LedgerCodecTest, NewFieldsAreTypeCheckedWhenPresent) {
  const std::string good = EncodeRecord(FullRecord());
  for (auto [from, to, field] : std::vector<std::tuple<std::string, std::string, std::string>>{
           {"\"principals\":[\"deploy\"", "\"principals\":[3", "principals"},
           {"\"source_addresses\":[\"10.0.0.0/8\",\"192.0.2.7\"]", "\"source_addresses\":\"x\"",
            "source_addresses"},
           {"\"renewed_from\":\"0abc\"", "\"renewed_from\":[]", "renewed_from"},
           {"\"signing_key\":\"kid-1\"", "\"signing_key\":null", "signing_key"},
           {"\"attested_issuer_name\":\"github\"", "\"attested_issuer_name\":1",
            "attested_issuer_name"},
       }) {
    const std::string bad = absl::StrReplaceAll(good, {{from, to}});
    ASSERT_NE(bad, good) << from;
    auto r = DecodeRecord(bad);
    EXPECT_EQ(r.status().code(), absl::StatusCode::kDataLoss) << field;
    EXPECT_THAT(r.status().message(), HasSubstr(field));
  }
}

TEST(LedgerCodecTest, RoundTripsEveryField) {
  const LedgerRecord r = FullRecord();
  auto decoded = DecodeRecord(EncodeRecord(r));
  ASSERT_TRUE(decoded.ok()) << decoded.status();
  ExpectSame(*decoded, r);
}

TEST(LedgerCodecTest, RoundTripsEmptyRecordWithInfinitePastExpiry) {
  LedgerRecord r;  // every vector empty, expires_at InfinitePast, zero durations
  r.time = absl::UnixEpoch();
  auto decoded = DecodeRecord(EncodeRecord(r));
  ASSERT_TRUE(decoded.ok()) << decoded.status();
  ExpectSame(*decoded, r);
  EXPECT_EQ(decoded->expires_at, absl::InfinitePast());
}

TEST(LedgerCodecTest, RoundTripsInfiniteValuesAndRawBytes) {
  LedgerRecord r = FullRecord();
  r.expires_at = absl::InfiniteFuture();
  r.requested_lifetime = absl::InfiniteDuration();
  r.granted_lifetime = -absl::InfiniteDuration();
  r.attested_subject = std::string("nul\0inside\x01\xff\"\\", 15);
  r.time = absl::FromUnixMicros(-5);  // before 1970
  auto decoded = DecodeRecord(EncodeRecord(r));
  ASSERT_TRUE(decoded.ok()) << decoded.status();
  ExpectSame(*decoded, r);
}

TEST(LedgerCodecTest, Rfc3339FormatWritesReadableTimes) {
  const std::string json = EncodeRecord(FullRecord(), TimeFormat::kRfc3339);
  EXPECT_THAT(json, HasSubstr("\"time\":\"2024-05-01T12:00:00.123456Z\""));
  EXPECT_THAT(json, HasSubstr("\"claims\":[[\"repository\",\"acme/app\"]"));
}

TEST(LedgerCodecTest, RejectsNonJson) {
  auto r = DecodeRecord("not json");
  EXPECT_EQ(r.status().code(), absl::StatusCode::kDataLoss);
  EXPECT_THAT(r.status().message(), HasSubstr("not JSON"));
}

TEST(LedgerCodecTest, RejectsNonObject) {
  EXPECT_EQ(DecodeRecord("[1,2]").status().code(), absl::StatusCode::kDataLoss);
}

TEST(LedgerCodecTest, RejectsUnknownVersion) {
  std::string json = absl::StrReplaceAll(EncodeRecord(FullRecord()), {{"\"v\":1", "\"v\":2"}});
  auto r = DecodeRecord(json);
  EXPECT_EQ(r.status().code(), absl::StatusCode::kDataLoss);
  EXPECT_THAT(r.status().message(), HasSubstr("version"));
}

TEST(LedgerCodecTest, RejectsMissingField) {
  std::string json = absl::StrReplaceAll(EncodeRecord(FullRecord()), {{"\"rule\":", "\"rulx\":"}});
  auto r = DecodeRecord(json);
  EXPECT_EQ(r.status().code(), absl::StatusCode::kDataLoss);
  EXPECT_THAT(r.status().message(), HasSubstr("\"rule\" is missing"));
}

TEST(LedgerCodecTest, RejectsMistypedFields) {
  const std::string good = EncodeRecord(FullRecord());
  for (auto [from, to, field] : std::vector<std::tuple<std::string, std::string, std::string>>{
           {"\"jti\":\"jti-123\"", "\"jti\":5", "jti"},
           {"\"actors\":[\"inner\"", "\"actors\":[7", "actors"},
           {"\"claims\":[[\"repository\",\"acme/app\"]", "\"claims\":[[\"repository\"]", "claims"},
           {"\"time\":1714564800123456", "\"time\":1.5", "time"},
           {"\"expires_at\":1714565100123456", "\"expires_at\":\"soon\"", "expires_at"},
           {"\"granted_scopes\":[\"read\"]", "\"granted_scopes\":{}", "granted_scopes"},
       }) {
    const std::string bad = absl::StrReplaceAll(good, {{from, to}});
    ASSERT_NE(bad, good) << from;
    auto r = DecodeRecord(bad);
    EXPECT_EQ(r.status().code(), absl::StatusCode::kDataLoss) << field;
    EXPECT_THAT(r.status().message(), HasSubstr(field));
  }
}

TEST(LedgerCodecTest, GarbageNeverCrashes) {
  std::mt19937 rng(42);
  const std::string good = EncodeRecord(FullRecord());
  int accepted = 0;
  for (int i = 0; i < 5000; ++i) {
    std::string input;
    if (i % 2 == 0) {
      input.resize(rng() % 300);
      for (char& c : input) c = static_cast<char>(rng());
    } else {
      // Mutate a valid record: flip, drop or duplicate a few bytes.
      input = good;
      for (int k = 0, n = 1 + rng() % 4; k < n && !input.empty(); ++k) {
        size_t pos = rng() % input.size();
        switch (rng() % 3) {
          case 0:
            input[pos] = static_cast<char>(rng());
            break;
          case 1:
            input.erase(pos, 1 + rng() % 8);
            break;
          default:
            input.insert(pos, input.substr(pos, 1 + rng() % 8));
        }
      }
    }
    auto r = DecodeRecord(input);
    if (r.ok()) {
      ++accepted;
    } else {
      EXPECT_EQ(r.status().code(), absl::StatusCode::kDataLoss);
    }
  }
  EXPECT_LT(accepted, 5000);
}

TEST(LedgerCodecTest, DeepNestingIsRejectedWithoutRecursion) {
  std::string deep = std::string(200000, '[') + std::string(200000, ']');
  EXPECT_EQ(DecodeRecord(deep).status().code(), absl::StatusCode::kDataLoss);
}

TEST(LedgerCodecTest, TimeKeysSortInTimeOrder) {
  const int64_t times[] = {std::numeric_limits<int64_t>::min(), -1000000, -1, 0, 1, 1000000,
                           std::numeric_limits<int64_t>::max()};
  for (size_t i = 0; i + 1 < std::size(times); ++i) {
    EXPECT_LT(TimeKey(times[i]), TimeKey(times[i + 1])) << times[i];
    EXPECT_EQ(TimeFromKey(TimeKey(times[i])), times[i]);
  }
}

TEST(LedgerCodecTest, SubjectPrefixesNeverNest) {
  // "a" must not be a prefix of "a\0b" once escaped, and vice versa.
  const std::string a = SubjectIndexPrefix("a");
  const std::string a_nul_b = SubjectIndexPrefix(std::string("a\0b", 3));
  const std::string a_one = SubjectIndexPrefix("a\x01");
  EXPECT_FALSE(absl::StartsWith(a_nul_b, a));
  EXPECT_FALSE(absl::StartsWith(a_one, a));
  EXPECT_FALSE(absl::StartsWith(a, a_nul_b));
  EXPECT_EQ(DecisionIndexPrefix("allow"), std::string("d/allow\0", 8));
}

TEST(LedgerCodecTest, RecordKeyLayout) {
  const std::string key = RecordKey(absl::FromUnixMicros(1), "rid");
  EXPECT_EQ(key, absl::StrCat("r/", TimeKey(1), "rid"));
  EXPECT_EQ(key.size(), 2 + 8 + 3);
}

TEST(LedgerCodecTest, PrintableKeyEscapesBytes) {
  EXPECT_EQ(PrintableKey(std::string("r/\x00\xff"
                                     "a\\",
                                     6)),
            "r/\\x00\\xffa\\x5c");
  EXPECT_EQ(PrintableKey(std::string(200, 'k')).size(), 123u);
}

}  // namespace
}  // namespace writ::issuer::ledger_codec
