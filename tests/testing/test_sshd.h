// TestSshd: the real OpenSSH server (/usr/sbin/sshd) on loopback, trusting
// a test's SSH user CA, so tests can prove that a minted certificate logs in
// (or is refused) with the real /usr/bin/ssh client. Plus the small process
// helpers such tests need.
//
//   ASSERT_OK_AND_ASSIGN(auto sshd, TestSshd::Start({
//       .trusted_user_ca_keys = minter->ca_public_key_line(),
//       .authorized_principals = {{"root", {"deploy"}}}}));
//   ASSERT_OK_AND_ASSIGN(SshLoginResult login,
//                        sshd->TryLogin("root", key_file, cert_file));
//   EXPECT_TRUE(login.ok) << login.ssh_output;
//
// sshd needs root (it switches users and owns /run/sshd): Start returns
// kFailedPrecondition otherwise, so a test may GTEST_SKIP when geteuid() != 0.
#ifndef WRIT_TESTS_TESTING_TEST_SSHD_H_
#define WRIT_TESTS_TESTING_TEST_SSHD_H_

#include <sys/types.h>

#include <map>
#include <memory>
#include <string>
#include <thread>
#include <vector>

#include "absl/base/thread_annotations.h"
#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/time.h"

namespace writ::test {

inline constexpr char kSshdPath[] = "/usr/sbin/sshd";
inline constexpr char kSshPath[] = "/usr/bin/ssh";
inline constexpr char kSshKeygenPath[] = "/usr/bin/ssh-keygen";

// ProcessResult is how a process run by RunProcess ended.
struct ProcessResult {
  // exit_code: the exit status; 128 + N when killed by signal N; -1 when it
  // timed out (it was then killed).
  int exit_code = -1;
  // output: its stdout and stderr, interleaved.
  std::string output;
};

// RunProcess runs `argv` (argv[0] an absolute path; no shell) with stdin
// from /dev/null, collects its output, and kills it after `timeout`.
// kFailedPrecondition when argv[0] is not an executable file (say which
// Debian package scripts/setup.sh installs for it); kInternal when it cannot
// be started.
absl::StatusOr<ProcessResult> RunProcess(const std::vector<std::string>& argv,
                                         absl::Duration timeout = absl::Seconds(30));

// MakeTempDir creates a fresh directory (mode 0755) under $TMPDIR or /tmp
// and returns its path; the caller removes it.
absl::StatusOr<std::string> MakeTempDir();

// SshKeyFiles names a key pair that ssh-keygen wrote.
struct SshKeyFiles {
  std::string private_key_path;  // OpenSSH format, mode 0600, no passphrase
  std::string public_key_line;   // the .pub file's line, without the newline
};

// GenerateSshKey runs `ssh-keygen -t <type> [-b <bits>] -N "" -f <dir>/<name>`
// (type: ed25519, ecdsa, rsa...; bits 0: ssh-keygen's default).
absl::StatusOr<SshKeyFiles> GenerateSshKey(absl::string_view dir, absl::string_view name,
                                           absl::string_view type = "ed25519", int bits = 0);

// TestSshdOptions configures a TestSshd.
struct TestSshdOptions {
  // trusted_user_ca_keys: the TrustedUserCAKeys file, one CA public key line
  // per line (e.g. SshCertMinter::ca_public_key_line()). Default: "" (no CA
  // is trusted, so every certificate is refused).
  std::string trusted_user_ca_keys;
  // authorized_principals: login user -> the certificate principals that may
  // log in as that user (AuthorizedPrincipalsFile <dir>/principals/%u).
  // Default: none (every login is refused).
  std::map<std::string, std::vector<std::string>> authorized_principals;
  // start_timeout: how long Start waits for sshd to listen. Default: 10 s
  absl::Duration start_timeout = absl::Seconds(10);
};

// SshLoginResult is one `ssh ... user@127.0.0.1 true` attempt.
struct SshLoginResult {
  // ok: ssh authenticated and ran `true` (exit status 0).
  bool ok = false;
  // ssh_exit_code: ssh's exit status (255: refused or no connection); -1
  // when it timed out.
  int ssh_exit_code = -1;
  // ssh_output: what ssh printed.
  std::string ssh_output;
  // sshd_log: the sshd log lines (LogLevel VERBOSE) written during the
  // attempt. On success they include "Accepted publickey for USER from ...
  // ID <key id> (serial N) CA ..."; on refusal sshd's reason, when it logs
  // one at this level (an untrusted CA is only logged at DEBUG2).
  std::vector<std::string> sshd_log;
};

// TestSshd runs `/usr/sbin/sshd -D -e -f <dir>/sshd_config` on 127.0.0.1 at
// a free port, from a fresh directory holding its config, an Ed25519 host
// key, the trusted CA file and the principals files. Only certificate
// logins are possible: no passwords, keyboard-interactive or
// authorized_keys; StrictModes is off (the files live under /tmp);
// PermitRootLogin yes; UsePAM no. TryLogin is safe to call from one thread
// at a time (the log of concurrent attempts would interleave); the rest is
// thread-safe.
class TestSshd {
 public:
  // Start writes the configuration, starts sshd and waits until it listens,
  // retrying with another port if the chosen one was taken meanwhile.
  // kFailedPrecondition when not root or an OpenSSH binary is missing;
  // kInternal (with sshd's log) when sshd does not come up.
  static absl::StatusOr<std::unique_ptr<TestSshd>> Start(TestSshdOptions options);
  // The destructor stops sshd and removes dir().
  ~TestSshd();

  int port() const { return port_; }
  // dir: sshd's directory; tests may keep their client key files here too.
  const std::string& dir() const { return dir_; }

  // TryLogin runs /usr/bin/ssh -F /dev/null -o BatchMode=yes
  // -o IdentitiesOnly=yes -o IdentityFile=<key_file>
  // -o CertificateFile=<cert_file> -o BindAddress=<source_address>
  // -p <port> <user>@127.0.0.1 true (host keys not checked), at most
  // `timeout`. A refused login is an OK result with ok == false; errors are
  // for ssh that cannot be run.
  absl::StatusOr<SshLoginResult> TryLogin(absl::string_view user, absl::string_view key_file,
                                          absl::string_view cert_file,
                                          absl::string_view source_address = "127.0.0.1",
                                          absl::Duration timeout = absl::Seconds(20));

  // SetAuthorizedPrincipals rewrites `user`'s principals file (sshd reads
  // it at every login).
  absl::Status SetAuthorizedPrincipals(absl::string_view user,
                                       const std::vector<std::string>& principals);

  // log returns every sshd log line so far.
  std::vector<std::string> log() const;

  // Stop terminates sshd (SIGTERM to its process group, SIGKILL after 5 s)
  // and waits for it. Idempotent.
  void Stop();

 private:
  TestSshd() = default;
  absl::Status Launch(absl::Duration timeout, bool* port_taken);
  void ReadLog();
  // WaitForLogDrained waits until the reader has consumed everything sshd
  // has written so far.
  void WaitForLogDrained(absl::Duration timeout);

  std::string dir_;
  int port_ = 0;
  pid_t pid_ = -1;
  int log_fd_ = -1;             // read end of sshd's stderr
  int wake_fds_[2] = {-1, -1};  // Stop writes here to end the reader
  std::thread reader_;

  mutable absl::Mutex mu_;
  absl::CondVar cv_;  // signalled whenever the reader appends or ends
  std::vector<std::string> lines_ ABSL_GUARDED_BY(mu_);
  std::string partial_ ABSL_GUARDED_BY(mu_);
  bool reading_ ABSL_GUARDED_BY(mu_) = false;  // bytes read, not yet appended
  bool eof_ ABSL_GUARDED_BY(mu_) = false;
};

}  // namespace writ::test

#endif  // WRIT_TESTS_TESTING_TEST_SSHD_H_
