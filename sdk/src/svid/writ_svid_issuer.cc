#include "writ/svid/writ_svid_issuer.h"

#include <utility>

namespace writ {

SvidIssuer WritSvidIssuer(Client* client, std::optional<absl::Duration> lifetime) {
  return [client, lifetime](absl::string_view csr_pem) -> absl::StatusOr<SvidResponse> {
    absl::StatusOr<X509SvidReply> reply = client->MintX509Svid(csr_pem, lifetime);
    if (!reply.ok()) return reply.status();
    SvidResponse response;
    response.spiffe_id = std::move(reply->spiffe_id);
    response.certificate_chain_pem = std::move(reply->certificate_chain_pem);
    response.bundle_pem = std::move(reply->bundle_pem);
    return response;
  };
}

}  // namespace writ
