// writ audit list, run in-process against a real ledger in a temp dir.

#include <stdlib.h>

#include <algorithm>
#include <filesystem>
#include <sstream>
#include <string>
#include <vector>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "issuer/src/ledger/rocksdb_ledger.h"
#include "sdk/cli/command.h"
#include "sdk/cli/commands.h"
#include "writ/base/clock.h"

namespace writ::cli {
namespace {

using ::testing::ElementsAre;
using ::testing::HasSubstr;
using ::testing::IsEmpty;
using ::testing::Not;
using ::testing::StartsWith;

const absl::Time kNow = absl::FromUnixSeconds(1'700'000'000);  // 2023-11-14T22:13:20Z

struct RunResult {
  int code;
  std::string out;
  std::string err;
};

issuer::LedgerRecord Record(absl::string_view id, absl::Duration ago, absl::string_view subject,
                            absl::string_view decision) {
  issuer::LedgerRecord r;
  r.time = kNow - ago;
  r.request_id = std::string(id);
  r.attested_issuer = "https://iss.example";
  r.attested_subject = std::string(subject);
  r.decision = std::string(decision);
  if (decision == "allow") {
    r.granted_subject = "svc:deploy";
    r.granted_audience = "api";
    r.granted_scopes = {"read", "write"};
    r.rule = "r1";
    r.jti = absl::StrCat("jti-", id);
  } else {
    r.error = "access_denied";
  }
  return r;
}

class AuditCommandTest : public ::testing::Test {
 protected:
  void SetUp() override {
    std::string tmpl = absl::StrCat(::testing::TempDir(), "/writ_audit_test.XXXXXX");
    ASSERT_NE(mkdtemp(tmpl.data()), nullptr);
    tmp_ = tmpl;
    dir_ = tmp_ + "/ledger";
    auto ledger = issuer::RocksDbLedger::Open(dir_);
    ASSERT_TRUE(ledger.ok()) << ledger.status();
    ledger_ = *std::move(ledger);
    // a0: 3h ago alice allow; a1: 2h ago bob deny; a2: 30m ago alice deny;
    // a3: 1m ago carol allow.
    ASSERT_TRUE(ledger_->Append(Record("a0", absl::Hours(3), "alice", "allow")).ok());
    ASSERT_TRUE(ledger_->Append(Record("a1", absl::Hours(2), "bob", "deny")).ok());
    ASSERT_TRUE(ledger_->Append(Record("a2", absl::Minutes(30), "alice", "deny")).ok());
    ASSERT_TRUE(ledger_->Append(Record("a3", absl::Minutes(1), "carol\x1b[2J", "allow")).ok());
  }
  void TearDown() override {
    ledger_.reset();
    std::error_code ec;
    std::filesystem::remove_all(tmp_, ec);
  }

  RunResult Run(std::vector<std::string> args) {
    std::istringstream in;
    std::ostringstream out, err;
    CommandEnv env{&in, &out, &err, &clock_};
    const int code = RunWrit(args, env);
    return {code, out.str(), err.str()};
  }

  // Lines runs `audit list --ledger DIR extra...` and returns the request ids
  // ("a0".."a3") found on each output line, in order.
  std::vector<std::string> Ids(std::vector<std::string> extra) {
    std::vector<std::string> args = {"audit", "list", "--ledger", dir_};
    args.insert(args.end(), extra.begin(), extra.end());
    args.push_back("--json");
    RunResult r = Run(args);
    EXPECT_EQ(r.code, kExitOk) << r.err;
    std::vector<std::string> ids;
    for (absl::string_view line : absl::StrSplit(r.out, '\n', absl::SkipEmpty())) {
      for (const char* id : {"a0", "a1", "a2", "a3"}) {
        if (absl::StrContains(line, absl::StrCat("\"request_id\":\"", id, "\""))) {
          ids.push_back(id);
        }
      }
    }
    return ids;
  }

  std::string tmp_, dir_;
  std::unique_ptr<issuer::RocksDbLedger> ledger_;  // held open: the issuer is "running"
  FakeClock clock_{kNow};
};

TEST_F(AuditCommandTest, ListsNewestFirstAsText) {
  RunResult r = Run({"audit", "list", "--ledger", dir_});
  ASSERT_EQ(r.code, kExitOk) << r.err;
  std::vector<std::string> lines = absl::StrSplit(r.out, '\n', absl::SkipEmpty());
  ASSERT_EQ(lines.size(), 4u);
  EXPECT_EQ(lines[3],
            "2023-11-14T19:13:20.000000Z allow error=- iss=https://iss.example sub=alice "
            "granted_sub=svc:deploy aud=api scopes=read,write rule=r1 jti=jti-a0");
  EXPECT_THAT(lines[2], HasSubstr(" deny error=access_denied "));
  EXPECT_THAT(lines[2], HasSubstr(" granted_sub=- aud=- scopes=- rule=- jti=-"));
  // Untrusted strings cannot drive the terminal.
  EXPECT_THAT(lines[0], HasSubstr("sub=carol?[2J"));
  EXPECT_THAT(r.out, Not(HasSubstr("\x1b")));
}

TEST_F(AuditCommandTest, CertificateFieldsFollowTheJwtFields) {
  issuer::LedgerRecord ssh = Record("c0", absl::Seconds(10), "dave", "allow");
  ssh.credential_kind = "ssh";
  ssh.signing_key = "5f0c2a";
  ssh.principals = {"deploy", "ops\x1b"};
  ssh.source_addresses = {"10.0.0.0/8"};
  issuer::LedgerRecord svid = Record("c1", absl::Seconds(5), "erin", "allow");
  svid.credential_kind = "x509-svid";
  svid.renewed_from = "0a1b";
  svid.actors = {"agent:triage-bot"};
  ASSERT_TRUE(ledger_->Append(ssh).ok());
  ASSERT_TRUE(ledger_->Append(svid).ok());
  RunResult r = Run({"audit", "list", "--ledger", dir_, "--limit", "2"});
  ASSERT_EQ(r.code, kExitOk) << r.err;
  std::vector<std::string> lines = absl::StrSplit(r.out, '\n', absl::SkipEmpty());
  ASSERT_EQ(lines.size(), 2u);
  EXPECT_THAT(lines[0],
              HasSubstr(" jti=jti-c1 act=agent:triage-bot kind=x509-svid renewed_from=0a1b"));
  EXPECT_THAT(
      lines[1],
      HasSubstr(" jti=jti-c0 kind=ssh key=5f0c2a principals=deploy,ops? source=10.0.0.0/8"));
  RunResult json = Run({"audit", "list", "--ledger", dir_, "--limit", "1", "--json"});
  EXPECT_THAT(json.out, HasSubstr("\"renewed_from\":\"0a1b\""));
}

TEST_F(AuditCommandTest, JsonLinesCarryEveryFieldWithReadableTimes) {
  RunResult r = Run({"audit", "list", "--ledger", dir_, "--json", "--limit", "1"});
  ASSERT_EQ(r.code, kExitOk) << r.err;
  EXPECT_THAT(r.out, StartsWith("{\"v\":1,\"time\":\"2023-11-14T22:12:20.000000Z\""));
  EXPECT_THAT(r.out, HasSubstr("\"granted_scopes\":[\"read\",\"write\"]"));
  EXPECT_THAT(r.out, HasSubstr("\"expires_at\":\"-inf\""));
  EXPECT_EQ(std::count(r.out.begin(), r.out.end(), '\n'), 1);
}

TEST_F(AuditCommandTest, FiltersBySubjectDecisionAndTime) {
  EXPECT_THAT(Ids({}), ElementsAre("a3", "a2", "a1", "a0"));
  EXPECT_THAT(Ids({"--subject", "alice"}), ElementsAre("a2", "a0"));
  EXPECT_THAT(Ids({"--subject", "svc:deploy"}), ElementsAre("a3", "a0"));
  EXPECT_THAT(Ids({"--decision", "deny"}), ElementsAre("a2", "a1"));
  EXPECT_THAT(Ids({"--since", "1h"}), ElementsAre("a3", "a2"));
  EXPECT_THAT(Ids({"--until", "30m"}), ElementsAre("a1", "a0"));             // exclusive
  EXPECT_THAT(Ids({"--since", "2h", "--until", "30m"}), ElementsAre("a1"));  // inclusive
  EXPECT_THAT(Ids({"--since", "2023-11-14T19:13:20Z", "--until", "2023-11-14T20:00:00Z"}),
              ElementsAre("a0"));
  EXPECT_THAT(Ids({"--since", "1d", "--decision", "allow", "--subject", "alice"}),
              ElementsAre("a0"));
  EXPECT_THAT(Ids({"--limit", "2"}), ElementsAre("a3", "a2"));
}

TEST_F(AuditCommandTest, FindsByJti) {
  EXPECT_THAT(Ids({"--jti", "jti-a3"}), ElementsAre("a3"));
  EXPECT_THAT(Ids({"--jti", "jti-a3", "--decision", "deny"}), IsEmpty());
  EXPECT_THAT(Ids({"--jti", "no-such"}), IsEmpty());
}

TEST_F(AuditCommandTest, SeesRecordsAppendedByTheRunningWriter) {
  ASSERT_TRUE(ledger_->Append(Record("a4", absl::Seconds(1), "dave", "deny")).ok());
  EXPECT_THAT(Ids({"--subject", "dave"}), IsEmpty());  // a4 is not among the known ids
  RunResult r = Run({"audit", "list", "--ledger", dir_, "--subject", "dave"});
  ASSERT_EQ(r.code, kExitOk) << r.err;
  EXPECT_THAT(r.out, HasSubstr("sub=dave"));
}

TEST_F(AuditCommandTest, MissingLedgerIsAClearFailure) {
  RunResult r = Run({"audit", "list", "--ledger", tmp_ + "/nope"});
  EXPECT_EQ(r.code, kExitFailure);
  EXPECT_THAT(r.err, HasSubstr("writ: no ledger directory at"));
  EXPECT_THAT(r.err, HasSubstr("nope"));
  r = Run({"audit", "list", "--ledger", tmp_});
  EXPECT_EQ(r.code, kExitFailure);
  EXPECT_THAT(r.err, HasSubstr("no CURRENT file"));
}

TEST_F(AuditCommandTest, RejectsBadFlagsAsUsageErrors) {
  struct Case {
    std::vector<std::string> args;
    std::string message;
  };
  for (const Case& c : std::vector<Case>{
           {{}, "--ledger"},
           {{"--since", "yesterday"}, "--since 'yesterday' is neither an RFC 3339 time"},
           {{"--until", "-5m"}, "--until '-5m'"},
           {{"--since", "2023-13-01T00:00:00Z"}, "--since"},
           {{"--since", "xd"}, "--since 'xd'"},
           {{"--decision", "maybe"}, "--decision must be allow or deny, not 'maybe'"},
           {{"--limit", "0"}, "--limit must be a whole number"},
           {{"--limit", "ten"}, "--limit must be a whole number"},
           {{"--subject="}, "--subject must not be empty"},
           {{"--jti="}, "--jti must not be empty"},
           {{"--bogus"}, "unknown flag --bogus"},
       }) {
    std::vector<std::string> args = {"audit", "list"};
    if (!c.args.empty()) {
      args.push_back("--ledger");
      args.push_back(dir_);
    }
    args.insert(args.end(), c.args.begin(), c.args.end());
    RunResult r = Run(args);
    EXPECT_EQ(r.code, kExitUsage) << c.message;
    EXPECT_THAT(r.err, HasSubstr(c.message));
    EXPECT_THAT(r.out, IsEmpty());
  }
}

TEST_F(AuditCommandTest, HelpListsTheFlags) {
  RunResult r = Run({"audit", "list", "--help"});
  EXPECT_EQ(r.code, kExitOk);
  EXPECT_THAT(r.out, HasSubstr("--ledger DIR"));
  EXPECT_THAT(r.out, HasSubstr("--decision allow|deny"));
  r = Run({"audit", "--help"});
  EXPECT_EQ(r.code, kExitOk);
  EXPECT_THAT(r.out, HasSubstr("list the issuer's decisions"));
  r = Run({"audit"});  // like every group: no subcommand is a usage error
  EXPECT_EQ(r.code, kExitUsage);
  EXPECT_THAT(r.err, HasSubstr("list"));
}

}  // namespace
}  // namespace writ::cli
