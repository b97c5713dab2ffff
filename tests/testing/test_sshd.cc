#include "tests/testing/test_sshd.h"

#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <poll.h>
#include <signal.h>
#include <spawn.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <sstream>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/strings/str_split.h"
#include "absl/strings/strip.h"
#include "absl/strings/substitute.h"

extern char** environ;

namespace writ::test {
namespace {

absl::Status Errno(absl::string_view what) {
  return absl::InternalError(absl::StrCat(what, ": ", std::strerror(errno)));
}

absl::Status CheckExecutable(const std::string& path) {
  if (access(path.c_str(), X_OK) == 0) return absl::OkStatus();
  return absl::FailedPreconditionError(
      absl::StrCat(path,
                   " is missing or not executable: run scripts/setup.sh (it installs the "
                   "Debian packages openssh-client and openssh-server)"));
}

// Spawn starts `argv` in a process group of its own (so it can be killed
// with everything it forked), stdin from /dev/null, stdout and stderr to
// `out_fd`.
absl::StatusOr<pid_t> Spawn(const std::vector<std::string>& argv, int out_fd) {
  posix_spawn_file_actions_t actions;
  posix_spawnattr_t attr;
  posix_spawn_file_actions_init(&actions);
  posix_spawnattr_init(&attr);
  posix_spawn_file_actions_addopen(&actions, 0, "/dev/null", O_RDONLY, 0);
  posix_spawn_file_actions_adddup2(&actions, out_fd, 1);
  posix_spawn_file_actions_adddup2(&actions, out_fd, 2);
  sigset_t empty, defaults;
  sigemptyset(&empty);
  sigemptyset(&defaults);
  for (int sig : {SIGPIPE, SIGCHLD, SIGTERM, SIGINT, SIGHUP}) sigaddset(&defaults, sig);
  posix_spawnattr_setflags(&attr,
                           POSIX_SPAWN_SETPGROUP | POSIX_SPAWN_SETSIGMASK | POSIX_SPAWN_SETSIGDEF);
  posix_spawnattr_setpgroup(&attr, 0);
  posix_spawnattr_setsigmask(&attr, &empty);
  posix_spawnattr_setsigdefault(&attr, &defaults);
  std::vector<char*> args;
  for (const std::string& a : argv) args.push_back(const_cast<char*>(a.c_str()));
  args.push_back(nullptr);
  pid_t pid = -1;
  const int rc = posix_spawn(&pid, argv[0].c_str(), &actions, &attr, args.data(), environ);
  posix_spawn_file_actions_destroy(&actions);
  posix_spawnattr_destroy(&attr);
  if (rc != 0) {
    return absl::InternalError(absl::StrCat("starting ", argv[0], ": ", std::strerror(rc)));
  }
  return pid;
}

int WaitExitCode(pid_t pid) {
  int status = 0;
  while (waitpid(pid, &status, 0) < 0) {
    if (errno != EINTR) return -1;
  }
  if (WIFEXITED(status)) return WEXITSTATUS(status);
  if (WIFSIGNALED(status)) return 128 + WTERMSIG(status);
  return -1;
}

absl::Status WriteFile(const std::string& path, absl::string_view data, mode_t mode) {
  std::ofstream out(path, std::ios::binary | std::ios::trunc);
  out << data;
  out.close();
  if (!out) return absl::InternalError(absl::StrCat("writing ", path));
  if (chmod(path.c_str(), mode) != 0) return Errno(absl::StrCat("chmod ", path));
  return absl::OkStatus();
}

// FreePort binds 127.0.0.1:0 and releases the port the kernel chose; the
// caller must cope with losing it to someone else before it binds again.
absl::StatusOr<int> FreePort() {
  const int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (fd < 0) return Errno("socket");
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  socklen_t len = sizeof(addr);
  const bool ok = bind(fd, reinterpret_cast<sockaddr*>(&addr), sizeof(addr)) == 0 &&
                  getsockname(fd, reinterpret_cast<sockaddr*>(&addr), &len) == 0;
  const int saved = errno;
  close(fd);
  errno = saved;
  if (!ok) return Errno("binding 127.0.0.1:0");
  return static_cast<int>(ntohs(addr.sin_port));
}

}  // namespace

absl::StatusOr<ProcessResult> RunProcess(const std::vector<std::string>& argv,
                                         absl::Duration timeout) {
  if (argv.empty()) return absl::InvalidArgumentError("RunProcess: empty argv");
  if (absl::Status s = CheckExecutable(argv[0]); !s.ok()) return s;
  int fds[2];
  if (pipe2(fds, O_CLOEXEC) != 0) return Errno("pipe");
  absl::StatusOr<pid_t> pid = Spawn(argv, fds[1]);
  close(fds[1]);
  if (!pid.ok()) {
    close(fds[0]);
    return pid.status();
  }
  ProcessResult result;
  const absl::Time deadline = absl::Now() + timeout;
  bool timed_out = false;
  for (;;) {
    const int64_t ms = absl::ToInt64Milliseconds(deadline - absl::Now());
    pollfd p{fds[0], POLLIN, 0};
    const int r = ms <= 0 ? 0 : poll(&p, 1, static_cast<int>(ms));
    if (r < 0 && errno == EINTR) continue;
    if (r == 0) {
      timed_out = true;
      break;
    }
    char buf[4096];
    const ssize_t n = read(fds[0], buf, sizeof(buf));
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) break;
    result.output.append(buf, static_cast<size_t>(n));
  }
  close(fds[0]);
  if (timed_out) kill(-*pid, SIGKILL);
  const int code = WaitExitCode(*pid);
  result.exit_code = timed_out ? -1 : code;
  return result;
}

absl::StatusOr<std::string> MakeTempDir() {
  const char* tmp = std::getenv("TMPDIR");
  std::string path =
      absl::StrCat(tmp != nullptr && *tmp != '\0' ? tmp : "/tmp", "/writ-ssh-XXXXXX");
  if (mkdtemp(path.data()) == nullptr) return Errno("mkdtemp");
  if (chmod(path.c_str(), 0755) != 0) return Errno("chmod");
  return path;
}

absl::StatusOr<SshKeyFiles> GenerateSshKey(absl::string_view dir, absl::string_view name,
                                           absl::string_view type, int bits) {
  SshKeyFiles files;
  files.private_key_path = absl::StrCat(dir, "/", name);
  std::vector<std::string> argv = {kSshKeygenPath, "-q", "-t", std::string(type)};
  if (bits > 0) {
    argv.push_back("-b");
    argv.push_back(absl::StrCat(bits));
  }
  for (const char* a : {"-N", "", "-C"}) argv.push_back(a);
  argv.push_back(std::string(name));
  argv.push_back("-f");
  argv.push_back(files.private_key_path);
  std::filesystem::remove(files.private_key_path);
  std::filesystem::remove(files.private_key_path + ".pub");
  absl::StatusOr<ProcessResult> run = RunProcess(argv, absl::Seconds(120));
  if (!run.ok()) return run.status();
  if (run->exit_code != 0) {
    return absl::InternalError(
        absl::StrCat("ssh-keygen -t ", type, " failed (", run->exit_code, "): ", run->output));
  }
  std::ifstream in(files.private_key_path + ".pub");
  std::stringstream ss;
  ss << in.rdbuf();
  files.public_key_line = std::string(absl::StripTrailingAsciiWhitespace(ss.str()));
  if (files.public_key_line.empty()) {
    return absl::InternalError(
        absl::StrCat("ssh-keygen wrote no ", files.private_key_path, ".pub"));
  }
  return files;
}

absl::StatusOr<std::unique_ptr<TestSshd>> TestSshd::Start(TestSshdOptions options) {
  if (geteuid() != 0) {
    return absl::FailedPreconditionError(
        "TestSshd needs root: sshd switches to the login user and uses /run/sshd");
  }
  for (const char* binary : {kSshdPath, kSshPath, kSshKeygenPath}) {
    if (absl::Status s = CheckExecutable(binary); !s.ok()) return s;
  }
  // The privilege separation directory Debian's sshd chroots into.
  if (mkdir("/run/sshd", 0755) != 0 && errno != EEXIST) return Errno("mkdir /run/sshd");

  std::unique_ptr<TestSshd> sshd(new TestSshd());
  absl::StatusOr<std::string> dir = MakeTempDir();
  if (!dir.ok()) return dir.status();
  sshd->dir_ = *dir;
  absl::StatusOr<SshKeyFiles> host_key = GenerateSshKey(sshd->dir_, "ssh_host_ed25519_key");
  if (!host_key.ok()) return host_key.status();
  std::string cas = options.trusted_user_ca_keys;
  if (!cas.empty() && cas.back() != '\n') cas.push_back('\n');
  if (absl::Status s = WriteFile(sshd->dir_ + "/trusted_user_ca_keys", cas, 0644); !s.ok()) {
    return s;
  }
  if (mkdir((sshd->dir_ + "/principals").c_str(), 0755) != 0) return Errno("mkdir principals");
  for (const auto& [user, principals] : options.authorized_principals) {
    if (absl::Status s = sshd->SetAuthorizedPrincipals(user, principals); !s.ok()) return s;
  }
  absl::Status last;
  for (int attempt = 0; attempt < 8; ++attempt) {
    bool port_taken = false;
    last = sshd->Launch(options.start_timeout, &port_taken);
    if (last.ok()) return sshd;
    if (!port_taken) break;
  }
  return last;
}

absl::Status TestSshd::Launch(absl::Duration timeout, bool* port_taken) {
  absl::StatusOr<int> port = FreePort();
  if (!port.ok()) return port.status();
  port_ = *port;
  const std::string config_path = dir_ + "/sshd_config";
  const std::string config = absl::Substitute(R"(ListenAddress 127.0.0.1:$0
AddressFamily inet
HostKey $1/ssh_host_ed25519_key
PidFile $1/sshd.pid
TrustedUserCAKeys $1/trusted_user_ca_keys
AuthorizedPrincipalsFile $1/principals/%u
# Only certificates: no authorized_keys, passwords or PAM.
AuthorizedKeysFile none
PubkeyAuthentication yes
PasswordAuthentication no
KbdInteractiveAuthentication no
HostbasedAuthentication no
PermitRootLogin yes
UsePAM no
# The files live under /tmp (mode 1777), which StrictModes refuses.
StrictModes no
LogLevel VERBOSE
PrintMotd no
PrintLastLog no
UseDNS no
LoginGraceTime 30
)",
                                              port_, dir_);
  if (absl::Status s = WriteFile(config_path, config, 0644); !s.ok()) return s;

  int fds[2];
  if (pipe2(fds, O_CLOEXEC) != 0) return Errno("pipe");
  if (pipe2(wake_fds_, O_CLOEXEC) != 0) {
    close(fds[0]);
    close(fds[1]);
    return Errno("pipe");
  }
  absl::StatusOr<pid_t> pid = Spawn({kSshdPath, "-D", "-e", "-f", config_path}, fds[1]);
  close(fds[1]);
  log_fd_ = fds[0];
  if (!pid.ok()) {
    Stop();
    return pid.status();
  }
  pid_ = *pid;
  {
    absl::MutexLock lock(&mu_);
    lines_.clear();
    partial_.clear();
    eof_ = false;
  }
  reader_ = std::thread(&TestSshd::ReadLog, this);

  const std::string listening = absl::StrCat("Server listening on 127.0.0.1 port ", port_, ".");
  bool up = false;
  std::string log_text;
  {
    absl::MutexLock lock(&mu_);
    const absl::Time deadline = absl::Now() + timeout;
    for (;;) {
      for (const std::string& line : lines_) up = up || absl::StrContains(line, listening);
      if (up || eof_ || cv_.WaitWithDeadline(&mu_, deadline)) break;
    }
    log_text = absl::StrJoin(lines_, "\n");
  }
  if (up) return absl::OkStatus();
  Stop();
  *port_taken = absl::StrContains(log_text, "Address already in use");
  return absl::InternalError(absl::StrCat("sshd did not start listening on 127.0.0.1:", port_,
                                          " within ", absl::FormatDuration(timeout), "; its log:\n",
                                          log_text));
}

void TestSshd::ReadLog() {
  for (;;) {
    pollfd p[2] = {{log_fd_, POLLIN, 0}, {wake_fds_[0], POLLIN, 0}};
    if (poll(p, 2, -1) < 0) {
      if (errno == EINTR) continue;
      break;
    }
    // Once woken (the wake pipe stays readable), take only what sshd has
    // already written, then end.
    if (p[0].revents == 0) {
      if (p[1].revents != 0) break;
      continue;
    }
    {
      absl::MutexLock lock(&mu_);
      reading_ = true;
    }
    char buf[4096];
    const ssize_t n = read(log_fd_, buf, sizeof(buf));
    absl::MutexLock lock(&mu_);
    reading_ = false;
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) break;
    partial_.append(buf, static_cast<size_t>(n));
    size_t nl;
    while ((nl = partial_.find('\n')) != std::string::npos) {
      lines_.push_back(std::string(absl::StripSuffix(partial_.substr(0, nl), "\r")));
      partial_.erase(0, nl + 1);
    }
    cv_.SignalAll();
  }
  absl::MutexLock lock(&mu_);
  if (!partial_.empty()) lines_.push_back(std::move(partial_));
  partial_.clear();
  eof_ = true;
  cv_.SignalAll();
}

void TestSshd::WaitForLogDrained(absl::Duration timeout) {
  absl::MutexLock lock(&mu_);
  const absl::Time deadline = absl::Now() + timeout;
  for (;;) {
    int unread = 0;
    if (eof_ || (!reading_ && ioctl(log_fd_, FIONREAD, &unread) == 0 && unread == 0)) return;
    if (cv_.WaitWithDeadline(&mu_, deadline)) return;
  }
}

absl::StatusOr<SshLoginResult> TestSshd::TryLogin(absl::string_view user,
                                                  absl::string_view key_file,
                                                  absl::string_view cert_file,
                                                  absl::string_view source_address,
                                                  absl::Duration timeout) {
  if (pid_ < 0) return absl::FailedPreconditionError("TestSshd is stopped");
  size_t first_line;
  {
    absl::MutexLock lock(&mu_);
    first_line = lines_.size();
  }
  std::vector<std::string> argv = {kSshPath, "-F", "/dev/null"};
  for (const std::string& option : {
           std::string("BatchMode=yes"),
           std::string("StrictHostKeyChecking=no"),
           std::string("UserKnownHostsFile=/dev/null"),
           std::string("GlobalKnownHostsFile=/dev/null"),
           std::string("IdentitiesOnly=yes"),
           std::string("IdentityAgent=none"),
           std::string("PreferredAuthentications=publickey"),
           std::string("ConnectTimeout=10"),
           std::string("LogLevel=ERROR"),
           absl::StrCat("IdentityFile=", key_file),
           absl::StrCat("CertificateFile=", cert_file),
           absl::StrCat("BindAddress=", source_address),
       }) {
    argv.push_back("-o");
    argv.push_back(option);
  }
  argv.insert(argv.end(), {"-p", absl::StrCat(port_), absl::StrCat(user, "@127.0.0.1"), "true"});
  absl::StatusOr<ProcessResult> run = RunProcess(argv, timeout);
  if (!run.ok()) return run.status();
  // sshd logs its decision before it answers the client, so once ssh has
  // exited the lines are in the pipe; wait for the reader to take them.
  WaitForLogDrained(absl::Seconds(5));
  SshLoginResult result;
  result.ok = run->exit_code == 0;
  result.ssh_exit_code = run->exit_code;
  result.ssh_output = std::move(run->output);
  absl::MutexLock lock(&mu_);
  result.sshd_log.assign(lines_.begin() + static_cast<std::ptrdiff_t>(first_line), lines_.end());
  return result;
}

absl::Status TestSshd::SetAuthorizedPrincipals(absl::string_view user,
                                               const std::vector<std::string>& principals) {
  if (user.empty() || user == "." || user == ".." || absl::StrContains(user, "/")) {
    return absl::InvalidArgumentError(absl::StrCat("bad login user name \"", user, "\""));
  }
  std::string text;
  for (const std::string& p : principals) absl::StrAppend(&text, p, "\n");
  return WriteFile(absl::StrCat(dir_, "/principals/", user), text, 0644);
}

std::vector<std::string> TestSshd::log() const {
  absl::MutexLock lock(&mu_);
  return lines_;
}

void TestSshd::Stop() {
  if (pid_ > 0) {
    kill(-pid_, SIGTERM);
    // Harness shutdown, not test logic: poll for sshd's exit, then force it.
    const absl::Time deadline = absl::Now() + absl::Seconds(5);
    int status = 0;
    pid_t done = 0;
    while ((done = waitpid(pid_, &status, WNOHANG)) == 0 && absl::Now() < deadline) {
      absl::SleepFor(absl::Milliseconds(10));
    }
    if (done == 0) {
      kill(-pid_, SIGKILL);
      WaitExitCode(pid_);
    }
    pid_ = -1;
  }
  if (reader_.joinable()) {
    if (write(wake_fds_[1], "x", 1) < 0) {
      // The reader still ends at EOF once every sshd process has gone.
    }
    reader_.join();
  }
  for (int* fd : {&log_fd_, &wake_fds_[0], &wake_fds_[1]}) {
    if (*fd >= 0) close(*fd);
    *fd = -1;
  }
}

TestSshd::~TestSshd() {
  Stop();
  if (!dir_.empty()) {
    std::error_code ignored;
    std::filesystem::remove_all(dir_, ignored);
  }
}

}  // namespace writ::test
