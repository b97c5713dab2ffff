#include "issuer/src/api/form_body.h"

#include "gtest/gtest.h"

namespace writ::issuer {
namespace {

TEST(FormBodyTest, DecodesPlusAndPercentEscapes) {
  auto form = FormBody::Parse("a=x+y%21&b=%7e%2F&empty=&bare");
  ASSERT_TRUE(form.ok()) << form.status();
  EXPECT_EQ(*form->Single("a"), "x y!");
  EXPECT_EQ(*form->Single("b"), "~/");
  EXPECT_EQ(*form->Single("empty"), "");
  EXPECT_EQ(*form->Single("bare"), "");
  EXPECT_FALSE(form->Single("missing")->has_value());
}

TEST(FormBodyTest, EmptyBodyHasNoParameters) {
  auto form = FormBody::Parse("");
  ASSERT_TRUE(form.ok());
  EXPECT_TRUE(form->pairs().empty());
}

TEST(FormBodyTest, RepeatedParameterIsAnErrorForSingleButNotForAll) {
  auto form = FormBody::Parse("audience=a&audience=b");
  ASSERT_TRUE(form.ok());
  EXPECT_EQ(form->Single("audience").status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(form->All("audience"), (std::vector<std::string>{"a", "b"}));
}

TEST(FormBodyTest, RejectsMalformedBodies) {
  for (const char* bad :
       {"a=%", "a=%4", "a=%zz", "a=%00", "a=1&&b=2", "=x", "&", "a=1&", "%GG=1"}) {
    auto form = FormBody::Parse(bad);
    EXPECT_EQ(form.status().code(), absl::StatusCode::kInvalidArgument) << bad;
  }
}

TEST(FormBodyTest, CapsTheNumberOfParameters) {
  EXPECT_TRUE(FormBody::Parse("a=1&b=2&c=3", 3).ok());
  EXPECT_EQ(FormBody::Parse("a=1&b=2&c=3&d=4", 3).status().code(),
            absl::StatusCode::kInvalidArgument);
}

TEST(FormBodyTest, NulByteIsRejected) {
  EXPECT_FALSE(FormBody::Parse(std::string("a=b\0c", 5)).ok());
}

}  // namespace
}  // namespace writ::issuer
