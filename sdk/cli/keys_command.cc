// writ keys list | rotate: the issuer's signing keys, through its operator-only
// gRPC KeyService (loopback clients only).

#include <grpcpp/grpcpp.h>

#include <algorithm>
#include <chrono>
#include <memory>
#include <ostream>
#include <string>
#include <vector>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/time/time.h"
#include "sdk/cli/commands.h"
#include "sdk/cli/flags.h"
#include "sdk/cli/io.h"
#include "writ/base/status_macros.h"
#include "writ/v1/writ.grpc.pb.h"

namespace writ::cli {
namespace {

constexpr char kDefaultGrpc[] = "127.0.0.1:8081";
constexpr char kPurposes[] = "jwt, x509-ca or ssh-ca";

// ConnectionFlags are the flags every keys command takes to reach the issuer.
struct ConnectionFlags {
  std::string grpc;
  std::string ca_file;

  void Declare(FlagSet& flags) {
    flags.String("grpc", "HOST:PORT", &grpc,
                 "the issuer's gRPC listener (default: $WRIT_GRPC, else 127.0.0.1:8081)");
    flags.String("ca", "FILE", &ca_file,
                 "the listener has TLS: trust this CA certificate (PEM) for it");
  }

  absl::StatusOr<std::unique_ptr<v1::KeyService::Stub>> Connect(const FlagSet& flags,
                                                                CommandEnv& env) {
    if (grpc.empty()) grpc = env.getenv("WRIT_GRPC").value_or(kDefaultGrpc);
    if (grpc.empty() || absl::StrContains(grpc, "://")) {
      return flags.Error(absl::StrCat("--grpc must be HOST:PORT, not '", Printable(grpc), "'"));
    }
    std::shared_ptr<grpc::ChannelCredentials> creds;
    if (flags.IsSet("ca")) {
      ASSIGN_OR_RETURN(std::string ca, ReadInput(ca_file, "--ca", *env.in, 1024 * 1024));
      grpc::SslCredentialsOptions ssl;
      ssl.pem_root_certs = std::move(ca);
      creds = grpc::SslCredentials(ssl);
    } else {
      creds = grpc::InsecureChannelCredentials();
    }
    return v1::KeyService::NewStub(grpc::CreateChannel(grpc, creds));
  }
};

// FromGrpc turns a failed call into the one-line error the user sees.
absl::Status FromGrpc(const grpc::Status& s, const std::string& target) {
  if (s.error_code() == grpc::StatusCode::UNAVAILABLE ||
      s.error_code() == grpc::StatusCode::DEADLINE_EXCEEDED) {
    return absl::UnavailableError(absl::StrCat("cannot reach the issuer's gRPC at ",
                                               Printable(target), ": ", s.error_message()));
  }
  if (s.error_code() == grpc::StatusCode::UNIMPLEMENTED) {
    return absl::UnimplementedError(
        absl::StrCat("the issuer at ", Printable(target), " has no KeyService (older version?)"));
  }
  return absl::Status(static_cast<absl::StatusCode>(s.error_code()),
                      absl::StrCat("the issuer refused: ", Printable(s.error_message(), 400)));
}

void SetDeadline(grpc::ClientContext& ctx) {
  ctx.set_deadline(std::chrono::system_clock::now() + std::chrono::seconds(10));
}

std::string Time(int64_t unix_seconds) {
  if (unix_seconds == 0) return "-";
  return absl::FormatTime("%Y-%m-%dT%H:%M:%SZ", absl::FromUnixSeconds(unix_seconds),
                          absl::UTCTimeZone());
}

// PrintTable writes one row per key, columns aligned.
void PrintTable(const google::protobuf::RepeatedPtrField<v1::KeyInfo>& keys, std::ostream& out) {
  std::vector<std::vector<std::string>> rows = {{"PURPOSE", "STATE", "ID", "ALGORITHM", "CREATED",
                                                 "ACTIVATED", "RETIRED", "PUBLISHED UNTIL",
                                                 "NOTE"}};
  for (const v1::KeyInfo& k : keys) {
    std::string note;
    if (!k.has_certificate()) {
      note = absl::StrCat("waiting for its certificate (CSR: ", Printable(k.csr_path(), 200), ")");
    } else if (k.not_after_unix() != 0) {
      note = absl::StrCat("certificate until ", Time(k.not_after_unix()));
    }
    rows.push_back({Printable(k.purpose()), Printable(k.state()), Printable(k.id(), 128),
                    Printable(k.algorithm()), Time(k.created_at_unix()),
                    Time(k.activated_at_unix()), Time(k.retired_at_unix()),
                    k.state() == "retired" ? Time(k.publish_until_unix()) : "-", note});
  }
  std::vector<size_t> width(rows[0].size(), 0);
  for (const auto& row : rows) {
    for (size_t i = 0; i < row.size(); ++i) width[i] = std::max(width[i], row[i].size());
  }
  for (const auto& row : rows) {
    std::string line;
    for (size_t i = 0; i < row.size(); ++i) {
      line += row[i];
      if (i + 1 < row.size()) line += std::string(width[i] - row[i].size() + 2, ' ');
    }
    while (!line.empty() && line.back() == ' ') line.pop_back();
    out << line << "\n";
  }
}

absl::Status RunList(absl::string_view name, absl::Span<const std::string> args, CommandEnv& env) {
  ConnectionFlags conn;
  FlagSet flags(std::string(name), "[--grpc HOST:PORT] [--ca FILE]",
                "Lists the issuer's signing keys (JWT, X.509 CA, SSH CA): state, id and\n"
                "dates; never key material. Served to loopback clients only.");
  conn.Declare(flags);
  RETURN_IF_ERROR(flags.Parse(args));
  if (flags.help_requested()) {
    *env.out << flags.Help();
    return absl::OkStatus();
  }
  ASSIGN_OR_RETURN(auto stub, conn.Connect(flags, env));
  grpc::ClientContext ctx;
  SetDeadline(ctx);
  v1::ListKeysResponse resp;
  grpc::Status s = stub->ListKeys(&ctx, v1::ListKeysRequest(), &resp);
  if (!s.ok()) return FromGrpc(s, conn.grpc);
  PrintTable(resp.keys(), *env.out);
  return absl::OkStatus();
}

absl::Status RunRotate(absl::string_view name, absl::Span<const std::string> args,
                       CommandEnv& env) {
  ConnectionFlags conn;
  bool force = false;
  FlagSet flags(std::string(name), "PURPOSE [--force] [--grpc HOST:PORT] [--ca FILE]",
                "Rotates one key ring now (PURPOSE: jwt, x509-ca or ssh-ca): the prepared\n"
                "key becomes active, the active one retired (still published until what it\n"
                "signed has expired), and a new key is prepared. Without --force a prepared\n"
                "key published for less than keys.publish_lead is refused, since verifiers\n"
                "may not have fetched it yet. Prints the ring afterwards.");
  conn.Declare(flags);
  flags.Bool("force", &force, "rotate even if the prepared key is younger than the publish lead");
  // The purpose is the one positional argument (before or after the flags);
  // FlagSet takes the rest, including the values of "--grpc X" and "--ca X".
  std::string purpose;
  std::vector<std::string> rest;
  for (size_t i = 0; i < args.size(); ++i) {
    const std::string& a = args[i];
    if ((a == "--grpc" || a == "--ca") && i + 1 < args.size()) {
      rest.push_back(a);
      rest.push_back(args[++i]);
    } else if (purpose.empty() && !a.empty() && a[0] != '-') {
      purpose = a;
    } else {
      rest.push_back(a);
    }
  }
  RETURN_IF_ERROR(flags.Parse(rest));
  if (flags.help_requested()) {
    *env.out << flags.Help();
    return absl::OkStatus();
  }
  if (purpose.empty()) return flags.Error(absl::StrCat("name the key ring: ", kPurposes));
  if (purpose != "jwt" && purpose != "x509-ca" && purpose != "ssh-ca") {
    return flags.Error(
        absl::StrCat("unknown key ring '", Printable(purpose), "' (use ", kPurposes, ")"));
  }
  ASSIGN_OR_RETURN(auto stub, conn.Connect(flags, env));
  grpc::ClientContext ctx;
  SetDeadline(ctx);
  v1::RotateKeyRequest req;
  req.set_purpose(purpose);
  req.set_force(force);
  v1::RotateKeyResponse resp;
  grpc::Status s = stub->RotateKey(&ctx, req, &resp);
  if (!s.ok()) return FromGrpc(s, conn.grpc);
  *env.out << "rotated " << purpose << "\n";
  PrintTable(resp.keys(), *env.out);
  return absl::OkStatus();
}

constexpr Command kKeysCommands[] = {
    {"list", "list the issuer's signing keys and their states", RunList},
    {"rotate", "rotate one key ring now (jwt, x509-ca, ssh-ca)", RunRotate},
};

}  // namespace

absl::Status RunKeysCommand(absl::string_view name, absl::Span<const std::string> args,
                            CommandEnv& env) {
  return DispatchSubcommand(name,
                            "Lists and rotates the issuer's signing keys over its gRPC\n"
                            "KeyService (operator-only: loopback clients).",
                            kKeysCommands, args, env);
}

}  // namespace writ::cli
