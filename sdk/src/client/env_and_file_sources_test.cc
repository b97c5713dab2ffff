// The environment-variable, token-file and callback attestation sources.
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cstdio>
#include <filesystem>
#include <fstream>
#include <map>
#include <memory>
#include <optional>
#include <string>

#include "absl/strings/str_cat.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "sdk/src/client/client_test_util.h"
#include "writ/client/attestation.h"

namespace writ {
namespace {

using testing_internal::IsError;

TEST(EnvVarSourceTest, ReadsTheVariableOnEveryCallTrimmed) {
  std::map<std::string, std::string> vars = {{"CI_WRIT_TOKEN", "gitlab-token\n"}};
  auto source = NewEnvVarSource("CI_WRIT_TOKEN", [&vars](absl::string_view name) {
    auto it = vars.find(std::string(name));
    return it == vars.end() ? std::nullopt : std::optional<std::string>(it->second);
  });
  ASSERT_OK_AND_ASSIGN(std::string token, source->Token("ignored"));
  EXPECT_EQ(token, "gitlab-token");
  vars["CI_WRIT_TOKEN"] = "rotated-token";
  ASSERT_OK_AND_ASSIGN(token, source->Token("ignored"));
  EXPECT_EQ(token, "rotated-token");
  EXPECT_EQ(source->Describe(), "environment variable CI_WRIT_TOKEN");
}

TEST(EnvVarSourceTest, UnsetOrEmptyIsFailedPrecondition) {
  std::map<std::string, std::string> vars;
  auto source = NewEnvVarSource("CI_WRIT_TOKEN", [&vars](absl::string_view name) {
    auto it = vars.find(std::string(name));
    return it == vars.end() ? std::nullopt : std::optional<std::string>(it->second);
  });
  EXPECT_THAT(source->Token(""), IsError(absl::StatusCode::kFailedPrecondition,
                                         "environment variable CI_WRIT_TOKEN is not set"));
  vars["CI_WRIT_TOKEN"] = "";
  EXPECT_THAT(source->Token(""), IsError(absl::StatusCode::kFailedPrecondition, "id_tokens"));
  vars["CI_WRIT_TOKEN"] = " \n";
  EXPECT_THAT(source->Token(""), IsError(absl::StatusCode::kFailedPrecondition, "is empty"));
  vars["CI_WRIT_TOKEN"] = "a b";
  EXPECT_THAT(source->Token(""), IsError(absl::StatusCode::kInvalidArgument, "whitespace"));
  vars["CI_WRIT_TOKEN"] = std::string(64 * 1024 + 1, 'a');
  EXPECT_THAT(source->Token(""), IsError(absl::StatusCode::kInvalidArgument, "at most 65536"));
}

TEST(EnvVarSourceTest, DefaultsToTheProcessEnvironment) {
  ASSERT_EQ(::setenv("WRIT_ENV_SOURCE_TEST", "process-token", 1), 0);
  ASSERT_OK_AND_ASSIGN(std::string token, NewEnvVarSource("WRIT_ENV_SOURCE_TEST")->Token(""));
  EXPECT_EQ(token, "process-token");
  ::unsetenv("WRIT_ENV_SOURCE_TEST");
  EXPECT_THAT(NewEnvVarSource("WRIT_ENV_SOURCE_TEST")->Token(""),
              IsError(absl::StatusCode::kFailedPrecondition, "not set"));
}

class TokenFileSourceTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ =
        std::filesystem::path(::testing::TempDir()) /
        absl::StrCat("token-file-", ::testing::UnitTest::GetInstance()->current_test_info()->name(),
                     "-", ::getpid());
    std::filesystem::remove_all(dir_);
    std::filesystem::create_directories(dir_);
  }
  void TearDown() override { std::filesystem::remove_all(dir_); }

  static void Write(const std::filesystem::path& path, const std::string& contents) {
    std::ofstream out(path, std::ios::binary | std::ios::trunc);
    out << contents;
  }
  // Replace swaps in new contents the way an atomic writer does: a new file
  // renamed over the old one (same size, new inode).
  static void Replace(const std::filesystem::path& path, const std::string& contents) {
    const std::filesystem::path tmp = path.string() + ".tmp";
    Write(tmp, contents);
    std::filesystem::rename(tmp, path);
  }

  std::filesystem::path dir_;
};

TEST_F(TokenFileSourceTest, ReadsTrimmedAndRereadsAfterAChange) {
  const auto path = dir_ / "token";
  Write(path, "token-one\n");
  auto source = NewTokenFileSource(path.string());
  ASSERT_OK_AND_ASSIGN(std::string token, source->Token(""));
  EXPECT_EQ(token, "token-one");
  ASSERT_OK_AND_ASSIGN(token, source->Token(""));
  EXPECT_EQ(token, "token-one");
  // Rewritten in place, with another size.
  Write(path, "token-two-longer");
  ASSERT_OK_AND_ASSIGN(token, source->Token(""));
  EXPECT_EQ(token, "token-two-longer");
  // Replaced by rename, same size.
  Replace(path, "token-three-long");
  ASSERT_OK_AND_ASSIGN(token, source->Token(""));
  EXPECT_EQ(token, "token-three-long");
  EXPECT_EQ(source->Describe(), absl::StrCat("file ", path.string()));
}

TEST_F(TokenFileSourceTest, FollowsTheKubeletsDataSymlinkSwap) {
  // The kubelet's AtomicWriter layout: token -> ..data/token,
  // ..data -> ..<timestamp>; a rotation writes a new timestamped directory
  // and renames a new ..data symlink over the old one.
  std::filesystem::create_directory(dir_ / "..2024_01_01_00_00_00.1");
  Write(dir_ / "..2024_01_01_00_00_00.1" / "token", "projected-token-1");
  std::filesystem::create_directory_symlink("..2024_01_01_00_00_00.1", dir_ / "..data");
  std::filesystem::create_symlink("..data/token", dir_ / "token");
  auto source = NewTokenFileSource((dir_ / "token").string());
  ASSERT_OK_AND_ASSIGN(std::string token, source->Token(""));
  EXPECT_EQ(token, "projected-token-1");

  std::filesystem::create_directory(dir_ / "..2024_01_01_00_50_00.2");
  Write(dir_ / "..2024_01_01_00_50_00.2" / "token", "projected-token-2");
  std::filesystem::create_directory_symlink("..2024_01_01_00_50_00.2", dir_ / "..data_tmp");
  std::filesystem::rename(dir_ / "..data_tmp", dir_ / "..data");
  std::filesystem::remove_all(dir_ / "..2024_01_01_00_00_00.1");
  ASSERT_OK_AND_ASSIGN(token, source->Token(""));
  EXPECT_EQ(token, "projected-token-2");
}

TEST_F(TokenFileSourceTest, MissingFileIsFailedPreconditionAndRecovers) {
  const auto path = dir_ / "token";
  auto source = NewTokenFileSource(path.string());
  EXPECT_THAT(source->Token(""),
              IsError(absl::StatusCode::kFailedPrecondition, "No such file or directory"));
  EXPECT_THAT(source->Token(""), IsError(absl::StatusCode::kFailedPrecondition, path.string()));
  Write(path, "late-token");
  ASSERT_OK_AND_ASSIGN(std::string token, source->Token(""));
  EXPECT_EQ(token, "late-token");
  std::filesystem::remove(path);
  EXPECT_THAT(source->Token(""), IsError(absl::StatusCode::kFailedPrecondition, "cannot open"));
}

TEST_F(TokenFileSourceTest, SizeLimitIsExactly64KiB) {
  const auto path = dir_ / "token";
  Write(path, std::string(64 * 1024, 'a'));
  auto source = NewTokenFileSource(path.string());
  ASSERT_OK_AND_ASSIGN(std::string token, source->Token(""));
  EXPECT_EQ(token.size(), 64u * 1024);
  Write(path, std::string(64 * 1024 + 1, 'a'));
  EXPECT_THAT(source->Token(""), IsError(absl::StatusCode::kInvalidArgument, "larger than 65536"));
  // Whitespace counts too: the file itself is bounded, not the token.
  Write(path, std::string(64 * 1024, 'a') + "\n");
  EXPECT_THAT(source->Token(""), IsError(absl::StatusCode::kInvalidArgument, "larger than"));
}

TEST_F(TokenFileSourceTest, EmptyFileDirectoryAndGarbageAreRefused) {
  const auto path = dir_ / "token";
  Write(path, "\n");
  auto source = NewTokenFileSource(path.string());
  EXPECT_THAT(source->Token(""), IsError(absl::StatusCode::kInvalidArgument, "empty token"));
  Write(path, "two\nlines");
  EXPECT_THAT(source->Token(""), IsError(absl::StatusCode::kInvalidArgument, "whitespace"));
  EXPECT_THAT(NewTokenFileSource(dir_.string())->Token(""),
              IsError(absl::StatusCode::kInvalidArgument, "not a regular file"));
  // A FIFO is not read (and does not block the caller).
  const auto fifo = dir_ / "fifo";
  ASSERT_EQ(::mkfifo(fifo.c_str(), 0600), 0);
  EXPECT_THAT(NewTokenFileSource(fifo.string())->Token(""),
              IsError(absl::StatusCode::kInvalidArgument, "not a regular file"));
}

TEST(CallbackSourceTest, PassesTheAudienceAndChecksTheToken) {
  std::string seen;
  std::string answer = "callback-token";
  auto source = NewCallbackSource(
      [&](absl::string_view audience) -> absl::StatusOr<std::string> {
        seen = std::string(audience);
        return answer;
      },
      "vault agent");
  ASSERT_OK_AND_ASSIGN(std::string token, source->Token("https://writ.acme.example"));
  EXPECT_EQ(token, "callback-token");
  EXPECT_EQ(seen, "https://writ.acme.example");
  EXPECT_EQ(source->Describe(), "vault agent");
  answer = "";
  EXPECT_THAT(source->Token(""), IsError(absl::StatusCode::kInvalidArgument, "vault agent"));
}

TEST(CallbackSourceTest, ErrorsPassThroughAndANullFunctionFails) {
  auto source = NewCallbackSource([](absl::string_view) -> absl::StatusOr<std::string> {
    return absl::PermissionDeniedError("not today");
  });
  EXPECT_THAT(source->Token(""), IsError(absl::StatusCode::kPermissionDenied, "not today"));
  EXPECT_EQ(source->Describe(), "callback");
  EXPECT_THAT(NewCallbackSource(nullptr)->Token(""),
              IsError(absl::StatusCode::kFailedPrecondition, "has no function"));
}

}  // namespace
}  // namespace writ
