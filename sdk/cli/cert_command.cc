// writ cert: an X.509-SVID for this workload, as files: a private key made
// here (it never leaves this machine), the SVID chain and the trust bundle.

#include <ostream>
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/time/time.h"
#include "sdk/cli/commands.h"
#include "sdk/cli/json_util.h"
#include "sdk/cli/workload_flags.h"
#include "writ/base/status_macros.h"
#include "writ/crypto/keys.h"
#include "writ/x509/certificate.h"
#include "writ/x509/certificate_request.h"
#include "writ/x509/verify.h"

namespace writ::cli {
namespace {

// CheckSvid makes sure what is written works: the leaf certifies our key,
// and the chain verifies against the bundle now.
absl::Status CheckSvid(const X509SvidReply& svid, const EVP_PKEY* key, absl::Time now) {
  auto unusable = [](absl::string_view why) {
    return absl::UnavailableError(absl::StrCat("the issuer's SVID is unusable: ", why));
  };
  absl::StatusOr<std::vector<SslPtr<X509>>> chain =
      ParseCertificateChainPem(svid.certificate_chain_pem);
  if (!chain.ok()) return unusable(chain.status().message());
  absl::StatusOr<std::vector<SslPtr<X509>>> roots = ParseCertificateChainPem(svid.bundle_pem);
  if (!roots.ok()) return unusable(absl::StrCat("bundle: ", roots.status().message()));
  if (EVP_PKEY_eq(X509_get0_pubkey((*chain)[0].get()), key) != 1) {
    return unusable("it certifies another key than the one sent");
  }
  std::vector<const X509*> intermediates, anchors;
  for (size_t i = 1; i < chain->size(); ++i) intermediates.push_back((*chain)[i].get());
  for (const SslPtr<X509>& root : *roots) anchors.push_back(root.get());
  if (absl::Status ok = VerifyCertificate((*chain)[0].get(), intermediates, anchors, now);
      !ok.ok()) {
    return unusable(ok.message());
  }
  return absl::OkStatus();
}

}  // namespace

absl::Status RunCertCommand(absl::string_view name, absl::Span<const std::string> args,
                            CommandEnv& env) {
  WorkloadFlags workload;
  std::string dir = ".", key_type = "p256";
  FlagSet flags(std::string(name),
                "[--issuer URL] [--github-actions | --oidc-token-env VAR | --oidc-token-file F | "
                "--azure-imds] [--dir DIR] [--key-type p256|ed25519] [--lifetime 10m] "
                "[--format raw|json|env] [--out FILE]",
                "Gets an X.509-SVID from Writ and writes three files into DIR (mode 0600,\n"
                "each replaced atomically): svid.key (a private key generated here, never\n"
                "sent anywhere), svid.pem (the SVID, leaf first) and bundle.pem (the trust\n"
                "domain's CA certificates, to verify peers). Prints the SPIFFE ID.\n"
                "  writ cert --oidc-token-file /var/run/secrets/tokens/writ --dir /run/svid\n"
                "Exit codes: 0 issued, 1 failed, 2 usage error, 3 refused (the issuer's\n"
                "reason on stderr), 4 issuer or token source unreachable (retry later).");
  workload.Register(flags,
                    "raw: the SPIFFE ID; json: ID, serial, expiry and file names; env: "
                    "WRIT_SVID_*=... lines");
  flags.String("dir", "DIR", &dir, "where to write svid.key, svid.pem, bundle.pem (default .)");
  flags.String("key-type", "TYPE", &key_type, "the private key: p256 (default) or ed25519");
  RETURN_IF_ERROR(flags.Parse(args));
  if (flags.help_requested()) {
    *env.out << flags.Help();
    return absl::OkStatus();
  }
  RETURN_IF_ERROR(workload.Check(flags));
  if (key_type != "p256" && key_type != "ed25519") {
    return flags.Error("--key-type must be p256 or ed25519");
  }
  ASSIGN_OR_RETURN(std::unique_ptr<Client> client, workload.NewClient(flags, env));

  ASSIGN_OR_RETURN(SslPtr<EVP_PKEY> key,
                   GenerateKey(key_type == "p256" ? KeySpec::kEcP256 : KeySpec::kEd25519));
  ASSIGN_OR_RETURN(std::string csr, CertificateRequest::CreatePem(key.get(), {}));
  ASSIGN_OR_RETURN(X509SvidReply svid, client->MintX509Svid(csr, workload.Lifetime()));
  RETURN_IF_ERROR(CheckSvid(svid, key.get(), env.clock->Now()));
  ASSIGN_OR_RETURN(std::string key_pem, PrivateKeyToPem(key.get()));

  const std::string key_file = absl::StrCat(dir, "/svid.key");
  const std::string cert_file = absl::StrCat(dir, "/svid.pem");
  const std::string bundle_file = absl::StrCat(dir, "/bundle.pem");
  // Key first, then the certificate: a reader that loads both between the
  // two renames gets a new key with the old certificate, and fails its key
  // check; loading again after `writ cert` returns always gets a matching pair.
  RETURN_IF_ERROR(WritePrivateFileAtomically(key_file, key_pem));
  RETURN_IF_ERROR(WritePrivateFileAtomically(cert_file, svid.certificate_chain_pem));
  RETURN_IF_ERROR(WritePrivateFileAtomically(bundle_file, svid.bundle_pem));

  const std::string expires =
      absl::FormatTime(absl::RFC3339_sec, svid.expires_at, absl::UTCTimeZone());
  std::string output;
  if (workload.format == "raw") {
    output = svid.spiffe_id + "\n";
  } else if (workload.format == "json") {
    output = FlatJson({{"spiffe_id", svid.spiffe_id},
                       {"serial", svid.serial},
                       {"expires_at", expires},
                       {"key_file", key_file},
                       {"certificate_file", cert_file},
                       {"bundle_file", bundle_file}}) +
             "\n";
  } else {
    output = absl::StrCat("WRIT_SVID_ID=", svid.spiffe_id, "\nWRIT_SVID_SERIAL=", svid.serial,
                          "\nWRIT_SVID_EXPIRES_AT=", expires, "\nWRIT_SVID_KEY=", key_file,
                          "\nWRIT_SVID_CERT=", cert_file, "\nWRIT_SVID_BUNDLE=", bundle_file, "\n");
  }
  return workload.Emit(env, output);
}

}  // namespace writ::cli
