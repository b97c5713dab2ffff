// WritSvidIssuer: the SvidIssuer that asks Writ, so a service gets an
// in-process key, SVIDs from Writ kept fresh, and rotating mTLS in a few lines:
//
//   ClientOptions options;
//   options.issuer_url = "https://writ.acme.example";
//   options.attestation = NewTokenFileSource("/var/run/secrets/tokens/writ");
//   ASSIGN_OR_RETURN(std::unique_ptr<Client> client, Client::New(std::move(options)));
//   ASSIGN_OR_RETURN(std::unique_ptr<X509Source> svid,
//                    X509Source::New(WritSvidIssuer(client.get())));
//   ASSIGN_OR_RETURN(auto creds, SvidServerCredentials(*svid, {.allowed_ids = {...}}));
#ifndef WRIT_SVID_WRIT_SVID_ISSUER_H_
#define WRIT_SVID_WRIT_SVID_ISSUER_H_

#include <optional>

#include "absl/time/time.h"
#include "writ/client/client.h"
#include "writ/svid/x509_source.h"

namespace writ {

// WritSvidIssuer sends each CSR to Writ with Client::MintX509Svid (a fresh
// attestation each time) and asks for `lifetime` (unset: the policy's
// default). `client` is not owned and must outlive every X509Source using
// the issuer. Writ's refusals come back as the client reports them.
SvidIssuer WritSvidIssuer(Client* client, std::optional<absl::Duration> lifetime = std::nullopt);

}  // namespace writ

#endif  // WRIT_SVID_WRIT_SVID_ISSUER_H_
