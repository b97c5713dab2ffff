#include "writ/spiffe/spiffe_id.h"

#include <string>

#include "absl/strings/str_cat.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"

namespace writ {
namespace {

using ::testing::HasSubstr;

struct ValidCase {
  std::string id;
  std::string trust_domain;
  std::string path;
};

class SpiffeIdValidTest : public ::testing::TestWithParam<ValidCase> {};

TEST_P(SpiffeIdValidTest, ParsesAndRoundTrips) {
  const ValidCase& c = GetParam();
  absl::StatusOr<SpiffeId> id = SpiffeId::Parse(c.id);
  ASSERT_TRUE(id.ok()) << c.id << ": " << id.status();
  EXPECT_EQ(id->trust_domain(), c.trust_domain);
  EXPECT_EQ(id->path(), c.path);
  EXPECT_EQ(id->ToString(), c.id);
}

// IdOfSize returns a valid ID of exactly `size` (> 22) bytes: the path is
// "/a/" then one long segment (the standard limits only the whole ID).
std::string IdOfSize(size_t size) {
  const std::string prefix = "spiffe://example.org/a/";
  return prefix + std::string(size - prefix.size(), 'b');
}

INSTANTIATE_TEST_SUITE_P(
    Rules, SpiffeIdValidTest,
    ::testing::Values(
        ValidCase{"spiffe://example.org", "example.org", ""},
        ValidCase{"spiffe://example.org/ns/prod/sa/web", "example.org", "/ns/prod/sa/web"},
        ValidCase{"spiffe://a", "a", ""}, ValidCase{"spiffe://td-1_x.y/p", "td-1_x.y", "/p"},
        ValidCase{"spiffe://example.org/Upper/CASE09", "example.org", "/Upper/CASE09"},
        ValidCase{"spiffe://example.org/a.b-c_d", "example.org", "/a.b-c_d"},
        // "." and ".." are refused only as whole segments.
        ValidCase{"spiffe://example.org/.../..a/.b", "example.org", "/.../..a/.b"},
        ValidCase{"spiffe://0.0/_/-", "0.0", "/_/-"}));

TEST(SpiffeIdTest, AcceptsExactly2048Bytes) {
  std::string id = IdOfSize(2048);
  ASSERT_EQ(id.size(), 2048u);
  absl::StatusOr<SpiffeId> parsed = SpiffeId::Parse(id);
  ASSERT_TRUE(parsed.ok()) << parsed.status();
  EXPECT_EQ(parsed->ToString(), id);
}

TEST(SpiffeIdTest, Refuses2049Bytes) {
  std::string id = IdOfSize(2049);
  ASSERT_EQ(id.size(), 2049u);
  absl::StatusOr<SpiffeId> parsed = SpiffeId::Parse(id);
  EXPECT_EQ(parsed.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_THAT(parsed.status().message(), HasSubstr("2049 bytes"));
}

TEST(SpiffeIdTest, TrustDomainOf255BytesIsAcceptedAnd256Refused) {
  const std::string td255(255, 'a');
  absl::StatusOr<SpiffeId> id = SpiffeId::Parse("spiffe://" + td255 + "/x");
  ASSERT_TRUE(id.ok()) << id.status();
  EXPECT_EQ(id->trust_domain(), td255);
  id = SpiffeId::Parse("spiffe://" + td255 + "a/x");
  EXPECT_EQ(id.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_THAT(id.status().message(), HasSubstr("trust domain is 256 bytes"));
}

TEST(SpiffeIdTest, EqualityComparesTrustDomainAndPath) {
  EXPECT_EQ(*SpiffeId::Parse("spiffe://a/b"), *SpiffeId::Parse("spiffe://a/b"));
  EXPECT_NE(*SpiffeId::Parse("spiffe://a/b"), *SpiffeId::Parse("spiffe://a/c"));
  EXPECT_NE(*SpiffeId::Parse("spiffe://a/b"), *SpiffeId::Parse("spiffe://b/b"));
}

struct InvalidCase {
  std::string id;
  std::string defect;  // a substring the message must contain
};

class SpiffeIdInvalidTest : public ::testing::TestWithParam<InvalidCase> {};

TEST_P(SpiffeIdInvalidTest, RefusedNamingTheDefect) {
  const InvalidCase& c = GetParam();
  absl::StatusOr<SpiffeId> id = SpiffeId::Parse(c.id);
  ASSERT_FALSE(id.ok()) << c.id;
  EXPECT_EQ(id.status().code(), absl::StatusCode::kInvalidArgument) << c.id;
  EXPECT_THAT(id.status().message(), HasSubstr(c.defect)) << c.id;
}

INSTANTIATE_TEST_SUITE_P(
    Rules, SpiffeIdInvalidTest,
    ::testing::Values(
        InvalidCase{"", "empty"},
        // Scheme.
        InvalidCase{"example.org/a", "scheme"}, InvalidCase{"SPIFFE://example.org", "scheme"},
        InvalidCase{"Spiffe://example.org", "scheme"}, InvalidCase{"spiffe:/example.org", "scheme"},
        InvalidCase{"spiffe:example.org", "scheme"}, InvalidCase{"https://example.org", "scheme"},
        InvalidCase{" spiffe://example.org", "scheme"},
        // Trust domain.
        InvalidCase{"spiffe://", "trust domain is empty"},
        InvalidCase{"spiffe:///path", "trust domain is empty"},
        InvalidCase{"spiffe://Example.org", "lowercase"},
        InvalidCase{"spiffe://example.ORG/a", "lowercase"},
        InvalidCase{"spiffe://example.org:8080/a", "port"},
        InvalidCase{"spiffe://user@example.org/a", "userinfo"},
        InvalidCase{"spiffe://user:pw@example.org/a", "port"},  // ':' comes first
        InvalidCase{"spiffe://exa%6dple.org", "percent-encoding"},
        InvalidCase{"spiffe://example.org?x=1", "query"},
        InvalidCase{"spiffe://example.org#frag", "fragment"},
        InvalidCase{"spiffe://exa mple.org", "only [a-z0-9._-]"},
        InvalidCase{"spiffe://exa+mple.org", "only [a-z0-9._-]"},
        InvalidCase{std::string("spiffe://exa\0mple.org", 21), "byte 0x0"},
        InvalidCase{"spiffe://\xc3\xa9xample.org", "byte 0xc3"},
        // Path.
        InvalidCase{"spiffe://example.org/", "trailing"},
        InvalidCase{"spiffe://example.org/a/", "trailing"},
        InvalidCase{"spiffe://example.org//a", "empty segment"},
        InvalidCase{"spiffe://example.org/a//b", "empty segment"},
        InvalidCase{"spiffe://example.org/.", "\".\" segment"},
        InvalidCase{"spiffe://example.org/a/./b", "\".\" segment"},
        InvalidCase{"spiffe://example.org/..", "\"..\" segment"},
        InvalidCase{"spiffe://example.org/a/../b", "\"..\" segment"},
        InvalidCase{"spiffe://example.org/a?x=1", "query"},
        InvalidCase{"spiffe://example.org/a#frag", "fragment"},
        InvalidCase{"spiffe://example.org/a%2Fb", "percent-encoding"},
        InvalidCase{"spiffe://example.org/a@b", "userinfo"},
        InvalidCase{"spiffe://example.org/a:b", "only [A-Za-z0-9._-]"},
        InvalidCase{"spiffe://example.org/a b", "only [A-Za-z0-9._-]"},
        InvalidCase{"spiffe://example.org/a*b", "only [A-Za-z0-9._-]"},
        InvalidCase{"spiffe://example.org/caf\xc3\xa9", "byte 0xc3"}));

}  // namespace
}  // namespace writ
