// Clients for issuer_load's `inproc` transport: they call the issuance
// pipeline directly (attestation, policy, minting or signing, the durable
// ledger), without HTTP or gRPC, to measure what a transport adds.
#ifndef WRIT_BENCH_INPROC_CLIENTS_H_
#define WRIT_BENCH_INPROC_CLIENTS_H_

#include <cstddef>
#include <memory>
#include <string>
#include <vector>

#include "bench/load_clients.h"
#include "issuer/src/exchange/certificate_exchange.h"
#include "issuer/src/exchange/token_exchange.h"

namespace writ::bench {

// NewInprocTokenClient exchanges each token for an access token shaped by
// `shape`.
std::unique_ptr<ExchangeClient> NewInprocTokenClient(const issuer::TokenExchange* exchange,
                                                     const ExchangeRequestShape& shape);

// NewInprocSvidClient asks for an X.509-SVID with pre-made P-256 CSRs
// (`csrs`, taken in turn from index `first`: making a CSR is the workload's
// cost, not the issuer's).
std::unique_ptr<ExchangeClient> NewInprocSvidClient(const issuer::CertificateExchange* certs,
                                                    const std::vector<std::string>* csrs,
                                                    size_t first);

// NewInprocSshClient asks for an SSH user certificate for pre-made Ed25519
// public key lines (`keys`, in turn from index `first`).
std::unique_ptr<ExchangeClient> NewInprocSshClient(const issuer::CertificateExchange* certs,
                                                   const std::vector<std::string>* keys,
                                                   size_t first);

}  // namespace writ::bench

#endif  // WRIT_BENCH_INPROC_CLIENTS_H_
