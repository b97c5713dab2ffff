#include "writ/client/token.h"

#include <string>

#include "gmock/gmock.h"
#include "gtest/gtest.h"

namespace writ {
namespace {

using ::testing::HasSubstr;
using ::testing::Not;

TokenRequest Request() {
  TokenRequest r;
  r.audience = "https://deploy.acme.example";
  r.scopes = {"deploy:write", "deploy:read"};
  r.lifetime = absl::Minutes(10);
  return r;
}

TEST(TokenRequestKeyTest, SameRequestSameKeyWhateverTheScopeOrder) {
  TokenRequest a = Request(), b = Request();
  b.scopes = {"deploy:read", "deploy:write"};
  EXPECT_EQ(a.Key(), b.Key());
}

TEST(TokenRequestKeyTest, EveryFieldChangesTheKey) {
  const std::string base = Request().Key();
  TokenRequest r = Request();
  r.audience = "https://other.acme.example";
  EXPECT_NE(r.Key(), base);
  r = Request();
  r.scopes.push_back("admin");
  EXPECT_NE(r.Key(), base);
  r = Request();
  r.lifetime = absl::Minutes(5);
  EXPECT_NE(r.Key(), base);
  r = Request();
  r.lifetime.reset();
  EXPECT_NE(r.Key(), base);
  r = Request();
  r.actor_token = "actor-1";
  const std::string with_actor = r.Key();
  EXPECT_NE(with_actor, base);
  r.actor_token = "actor-2";
  EXPECT_NE(r.Key(), with_actor);
}

TEST(TokenRequestKeyTest, FieldsCannotImitateEachOther) {
  TokenRequest a, b;
  a.scopes = {"a b"};
  b.scopes = {"a", "b"};
  EXPECT_NE(a.Key(), b.Key());
  a = {};
  b = {};
  a.audience = "x|scopes:1:1:y";
  b.audience = "x";
  b.scopes = {"y"};
  EXPECT_NE(a.Key(), b.Key());
}

TEST(TokenRequestKeyTest, HoldsADigestOfTheActorTokenNotTheToken) {
  TokenRequest r = Request();
  r.actor_token = "eyJhbGciOiJFUzI1NiJ9.actor-secret.sig";
  EXPECT_THAT(r.Key(), Not(HasSubstr("actor-secret")));
}

}  // namespace
}  // namespace writ
