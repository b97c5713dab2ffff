// writ ssh: an OpenSSH user certificate for this workload's key, for
// just-in-time access to hosts that trust Writ's SSH CA.

#include <sys/stat.h>

#include <ostream>
#include <string>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/strings/strip.h"
#include "absl/time/time.h"
#include "issuer/src/mint/ssh_cert_minter.h"
#include "sdk/cli/commands.h"
#include "sdk/cli/io.h"
#include "sdk/cli/json_util.h"
#include "sdk/cli/workload_flags.h"
#include "writ/base/status_macros.h"
#include "writ/crypto/keys.h"

namespace writ::cli {
namespace {

// CertificatePath is OpenSSH's convention: id_ecdsa.pub -> id_ecdsa-cert.pub,
// so `ssh -i id_ecdsa` finds the certificate beside the key.
std::string CertificatePath(absl::string_view public_key_path) {
  return absl::StrCat(absl::StripSuffix(public_key_path, ".pub"), "-cert.pub");
}

bool Exists(const std::string& path) {
  struct stat st;
  return ::lstat(path.c_str(), &st) == 0;
}

}  // namespace

absl::Status RunSshCommand(absl::string_view name, absl::Span<const std::string> args,
                           CommandEnv& env) {
  WorkloadFlags workload;
  std::string public_key, new_key;
  std::vector<std::string> principals;
  FlagSet flags(std::string(name),
                "[--issuer URL] [--github-actions | --oidc-token-env VAR | --oidc-token-file F | "
                "--azure-imds] (--public-key FILE.pub | --new-key FILE) [--principal P]... "
                "[--lifetime 10m] [--format raw|json|env] [--out FILE]",
                "Gets an SSH user certificate from Writ for an existing public key\n"
                "(--public-key ~/.ssh/id_ed25519.pub) or for a new ECDSA P-256 key made here\n"
                "(--new-key FILE writes FILE, mode 0600, and FILE.pub). The certificate is\n"
                "written beside the key as <key>-cert.pub, where ssh finds it:\n"
                "  writ ssh --new-key /tmp/deploy-key --principal deploy && ssh -i /tmp/deploy-key "
                "deploy@host\n"
                "Exit codes: 0 issued, 1 failed, 2 usage error, 3 refused (the issuer's\n"
                "reason on stderr), 4 issuer or token source unreachable (retry later).");
  workload.Register(flags,
                    "raw: the certificate file's path; json: principals, key id, expiry and "
                    "files; env: WRIT_SSH_*=... lines");
  flags.String("public-key", "FILE", &public_key, "an existing OpenSSH public key file (.pub)");
  flags.String("new-key", "FILE", &new_key, "generate a new key into FILE and FILE.pub");
  flags.StringList("principal", "P", &principals,
                   "a principal (login name) to ask for (repeatable; default: all the policy "
                   "allows)");
  RETURN_IF_ERROR(flags.Parse(args));
  if (flags.help_requested()) {
    *env.out << flags.Help();
    return absl::OkStatus();
  }
  RETURN_IF_ERROR(workload.Check(flags));
  if (public_key.empty() == new_key.empty()) {
    return flags.Error("give one of --public-key and --new-key");
  }
  std::string key_line, public_path;
  if (!new_key.empty()) {
    public_path = new_key + ".pub";
    if (Exists(new_key) || Exists(public_path)) {
      return absl::AlreadyExistsError(
          absl::StrCat(new_key, " or ", public_path, " exists; --new-key never overwrites a key"));
    }
  } else {
    public_path = public_key;
    ASSIGN_OR_RETURN(std::string raw, ReadInput(public_key, "--public-key file", *env.in));
    key_line = std::string(absl::StripAsciiWhitespace(raw));
  }
  ASSIGN_OR_RETURN(std::unique_ptr<Client> client, workload.NewClient(flags, env));
  if (!new_key.empty()) {
    ASSIGN_OR_RETURN(SslPtr<EVP_PKEY> key, GenerateKey(KeySpec::kEcP256));
    ASSIGN_OR_RETURN(key_line, issuer::OpenSshPublicKeyLine(key.get(), "writ"));
    ASSIGN_OR_RETURN(std::string pem, PrivateKeyToPem(key.get()));
    RETURN_IF_ERROR(WriteNewPrivateFile(new_key, pem));
    RETURN_IF_ERROR(WritePrivateFileAtomically(public_path, key_line + "\n"));
  }
  ASSIGN_OR_RETURN(SshCertificateReply cert,
                   client->MintSshCertificate(key_line, principals, workload.Lifetime()));
  const std::string cert_path = CertificatePath(public_path);
  RETURN_IF_ERROR(WritePrivateFileAtomically(cert_path, cert.certificate + "\n"));

  const std::string expires =
      absl::FormatTime(absl::RFC3339_sec, cert.expires_at, absl::UTCTimeZone());
  std::string output;
  if (workload.format == "raw") {
    output = cert_path + "\n";
  } else if (workload.format == "json") {
    JsonMember list{"principals"};
    list.list = cert.principals;
    list.is_list = true;
    output = FlatJson({{"certificate_file", cert_path},
                       list,
                       {"key_id", cert.key_id},
                       {"expires_at", expires}}) +
             "\n";
  } else {
    output = absl::StrCat(
        "WRIT_SSH_CERT=", cert_path, "\nWRIT_SSH_PRINCIPALS=", absl::StrJoin(cert.principals, ","),
        "\nWRIT_SSH_KEY_ID=", cert.key_id, "\nWRIT_SSH_EXPIRES_AT=", expires, "\n");
  }
  return workload.Emit(env, output);
}

}  // namespace writ::cli
