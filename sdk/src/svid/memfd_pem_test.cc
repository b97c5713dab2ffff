#include "sdk/src/svid/memfd_pem.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <fstream>
#include <sstream>
#include <string>

#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "tests/testing/status_test_util.h"

namespace writ::svid_internal {
namespace {

using ::testing::HasSubstr;
using ::testing::StartsWith;

std::string ReadPath(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  std::ostringstream out;
  out << in.rdbuf();
  return out.str();
}

time_t ModificationTime(const std::string& path) {
  struct stat st;
  if (stat(path.c_str(), &st) != 0) return -1;
  return st.st_mtime;
}

TEST(MemfdPemTest, PathShowsTheContents) {
  ASSERT_OK_AND_ASSIGN(std::unique_ptr<MemfdPem> file, MemfdPem::New("test", "first"));
  EXPECT_EQ(file->path(), "/proc/self/fd/" + std::to_string(file->fd()));
  EXPECT_EQ(ReadPath(file->path()), "first");
}

TEST(MemfdPemTest, ReplaceKeepsThePathAndSwapsTheContents) {
  ASSERT_OK_AND_ASSIGN(std::unique_ptr<MemfdPem> file, MemfdPem::New("test", "first"));
  const std::string path = file->path();
  const time_t first_mtime = ModificationTime(path);
  ASSERT_OK(file->Replace("second, longer than the first"));
  EXPECT_EQ(file->path(), path);
  EXPECT_EQ(ReadPath(path), "second, longer than the first");
  // gRPC's file watcher pairs a key with its certificate only if the
  // modification time did not change while it read them.
  EXPECT_GT(ModificationTime(path), first_mtime);
  EXPECT_GT(first_mtime, 0);
}

TEST(MemfdPemTest, ReaderKeepsTheFileItOpened) {
  ASSERT_OK_AND_ASSIGN(std::unique_ptr<MemfdPem> file, MemfdPem::New("test", "old"));
  std::ifstream reader(file->path(), std::ios::binary);
  ASSERT_OK(file->Replace("new"));
  std::ostringstream seen;
  seen << reader.rdbuf();
  EXPECT_EQ(seen.str(), "old");
  EXPECT_EQ(ReadPath(file->path()), "new");
}

TEST(MemfdPemTest, DescriptorIsCloseOnExecAndSealed) {
  ASSERT_OK_AND_ASSIGN(std::unique_ptr<MemfdPem> file, MemfdPem::New("test", "secret"));
  ASSERT_OK(file->Replace("secret 2"));  // dup2 would have dropped FD_CLOEXEC
  EXPECT_NE(fcntl(file->fd(), F_GETFD) & FD_CLOEXEC, 0);
  const int seals = fcntl(file->fd(), F_GET_SEALS);
  EXPECT_NE(seals & F_SEAL_WRITE, 0);
  EXPECT_NE(seals & F_SEAL_SEAL, 0);
  // Nobody, not even another writer in the process, can change it in place.
  const int writer = open(file->path().c_str(), O_WRONLY);
  if (writer >= 0) {
    EXPECT_LT(write(writer, "x", 1), 0);
    close(writer);
  }
  EXPECT_EQ(ReadPath(file->path()), "secret 2");
}

TEST(MemfdPemTest, DestructorLeavesTheNumberTakenAndEmpty) {
  std::string path;
  int fd;
  {
    ASSERT_OK_AND_ASSIGN(std::unique_ptr<MemfdPem> file, MemfdPem::New("test", "key"));
    path = file->path();
    fd = file->fd();
  }
  // A late reader (gRPC's watcher thread) finds no key, and not whatever the
  // process opened next under the same number.
  EXPECT_EQ(ReadPath(path), kTombstone);
  EXPECT_EQ(fcntl(fd, F_GETFD) & FD_CLOEXEC, FD_CLOEXEC);
  const int next = open("/dev/null", O_RDONLY | O_CLOEXEC);
  EXPECT_NE(next, fd);
  close(next);
}

TEST(MemfdPemTest, RefusesOversizedContents) {
  const std::string big(kMaxMemfdPemBytes + 1, 'a');
  absl::StatusOr<std::unique_ptr<MemfdPem>> file = MemfdPem::New("test", big);
  EXPECT_EQ(file.status().code(), absl::StatusCode::kInvalidArgument);
  ASSERT_OK_AND_ASSIGN(std::unique_ptr<MemfdPem> small, MemfdPem::New("test", "ok"));
  EXPECT_EQ(small->Replace(big).code(), absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(ReadPath(small->path()), "ok");
}

TEST(SvidFilesTest, KeyAndChainShareOneFileAndUpdateSwapsBoth) {
  ASSERT_OK_AND_ASSIGN(std::unique_ptr<SvidFiles> files,
                       SvidFiles::New("KEY1\n", "CHAIN1\n", "BUNDLE1\n"));
  EXPECT_EQ(ReadPath(files->identity_path()), "KEY1\nCHAIN1\n");
  EXPECT_EQ(ReadPath(files->bundle_path()), "BUNDLE1\n");
  EXPECT_NE(files->provider(), nullptr);
  ASSERT_OK(files->Update("KEY2\n", "CHAIN2\n", "BUNDLE2\n"));
  EXPECT_EQ(ReadPath(files->identity_path()), "KEY2\nCHAIN2\n");
  EXPECT_EQ(ReadPath(files->bundle_path()), "BUNDLE2\n");
  EXPECT_THAT(files->identity_path(), StartsWith("/proc/self/fd/"));
  EXPECT_THAT(files->bundle_path(), HasSubstr("/proc/self/fd/"));
}

}  // namespace
}  // namespace writ::svid_internal
