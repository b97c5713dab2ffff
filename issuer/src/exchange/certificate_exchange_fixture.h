// The fixture CertificateExchange's unit tests share: fake attestor and
// policy, the in-memory FakeKeyManager, and the real RocksDB ledger in a
// temporary directory behind a switch that makes it fail.
#ifndef WRIT_ISSUER_EXCHANGE_CERTIFICATE_EXCHANGE_FIXTURE_H_
#define WRIT_ISSUER_EXCHANGE_CERTIFICATE_EXCHANGE_FIXTURE_H_

#include <stdlib.h>

#include <atomic>
#include <filesystem>
#include <map>
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "absl/base/thread_annotations.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/time.h"
#include "gtest/gtest.h"
#include "issuer/src/exchange/certificate_exchange.h"
#include "issuer/src/ledger/rocksdb_ledger.h"
#include "tests/testing/fake_key_manager.h"
#include "writ/crypto/keys.h"
#include "writ/x509/certificate.h"
#include "writ/x509/certificate_request.h"
#include "writ/x509/verify.h"

namespace writ::issuer {

// kWaitTimeout bounds the fixtures' waits for another thread: generous, as it
// is reached only when something is broken (then the test fails, not hangs).
inline constexpr absl::Duration kWaitTimeout = absl::Seconds(10);

// FakeAttestor answers `results` by token, and counts what it is asked. It is
// called on pool and ledger threads: read the counts through the accessors.
class FakeAttestor final : public Attestor {
 public:
  absl::StatusOr<AttestedIdentity> Attest(absl::string_view token, KeyFetch) override {
    absl::MutexLock lock(&mu_);
    ++calls_;
    auto it = results.find(std::string(token));
    if (it == results.end()) return absl::UnauthenticatedError("token issuer \"x\" is not trusted");
    return it->second;
  }
  void Forget(const AttestedIdentity& id) override {
    absl::MutexLock lock(&mu_);
    forgotten_.push_back(id.subject);
  }

  // Calls returns how many attestations were asked for.
  int Calls() const {
    absl::MutexLock lock(&mu_);
    return calls_;
  }
  // Forgotten returns the subjects released (Attestor::Forget), in order.
  std::vector<std::string> Forgotten() const {
    absl::MutexLock lock(&mu_);
    return forgotten_;
  }

  // results: set before the exchange runs; not changed while it does.
  std::map<std::string, absl::StatusOr<AttestedIdentity>> results;

 private:
  mutable absl::Mutex mu_;
  int calls_ ABSL_GUARDED_BY(mu_) = 0;
  std::vector<std::string> forgotten_ ABSL_GUARDED_BY(mu_);
};

// FakePolicy answers `decision`, and remembers what it was asked.
class FakePolicy final : public PolicySource {
 public:
  Decision Decide(const AttestedIdentity& id, const PolicyRequest& req) const override {
    absl::MutexLock lock(&mu);
    last_identity = id;
    last_request = req;
    return decision;
  }
  Explanation Explain(const AttestedIdentity& id, const PolicyRequest& req) const override {
    return {Decide(id, req), {}};
  }
  mutable absl::Mutex mu;
  Decision decision;
  mutable AttestedIdentity last_identity;
  mutable PolicyRequest last_request;
};

// SwitchableLedger is a RocksDbLedger that a test can make fail, or hold:
// after Hold(), AppendAsync keeps each record and its callback until the
// test releases them (Release), so it can look at what happens before a
// record is durable. Otherwise AppendAsync goes to the RocksDbLedger, whose
// writer thread runs the callback.
class SwitchableLedger final : public Ledger {
 public:
  explicit SwitchableLedger(std::unique_ptr<RocksDbLedger> db) : db_(std::move(db)) {}
  absl::Status Append(const LedgerRecord& r) override {
    if (unhealthy || fail_appends) return absl::UnavailableError("disk full");
    return db_->Append(r);
  }
  void AppendAsync(const LedgerRecord& r, AppendDone done) override {
    {
      absl::MutexLock lock(&mu_);
      if (hold_) {
        held_.push_back({r, std::move(done)});
        return;
      }
    }
    if (unhealthy || fail_appends) return std::move(done)(absl::UnavailableError("disk full"));
    db_->AppendAsync(r, std::move(done));
  }
  absl::StatusOr<LedgerRecord> FindByJti(absl::string_view jti) const override {
    return db_->FindByJti(jti);
  }
  absl::StatusOr<std::vector<LedgerRecord>> Query(const LedgerQuery& q) const override {
    return db_->Query(q);
  }
  bool Healthy() const override { return !unhealthy; }

  // Hold makes AppendAsync keep what it is given until Release.
  void Hold() {
    absl::MutexLock lock(&mu_);
    hold_ = true;
  }
  // WaitHeld waits up to kWaitTimeout until at least `n` appends are held;
  // false when they are not.
  [[nodiscard]] bool WaitHeld(size_t n) {
    struct Want {
      const std::vector<HeldAppend>* held;
      size_t n;
    } want{&held_, n};
    absl::MutexLock lock(&mu_);
    return mu_.AwaitWithTimeout(absl::Condition(
                                    +[](Want* w) { return w->held->size() >= w->n; }, &want),
                                kWaitTimeout);
  }
  // Held returns the records held now, in the order they came.
  std::vector<LedgerRecord> Held() {
    absl::MutexLock lock(&mu_);
    std::vector<LedgerRecord> records;
    for (const HeldAppend& h : held_) records.push_back(h.record);
    return records;
  }
  // Release stops holding and answers every held append with `status`: when
  // OK, the record is written first (so the answer follows the record).
  void Release(absl::Status status) {
    std::vector<HeldAppend> held;
    {
      absl::MutexLock lock(&mu_);
      hold_ = false;
      held.swap(held_);
    }
    for (HeldAppend& h : held) {
      absl::Status recorded = status.ok() ? db_->Append(h.record) : status;
      std::move(h.done)(recorded);
    }
  }

  std::atomic<bool> unhealthy{false};
  std::atomic<bool> fail_appends{false};

 private:
  struct HeldAppend {
    LedgerRecord record;
    AppendDone done;
  };
  std::unique_ptr<RocksDbLedger> db_;
  absl::Mutex mu_;
  bool hold_ ABSL_GUARDED_BY(mu_) = false;
  std::vector<HeldAppend> held_ ABSL_GUARDED_BY(mu_);
};

inline AttestedIdentity Identity(const std::string& sub, const std::string& claims_json) {
  AttestedIdentity id;
  id.issuer_name = "github";
  id.issuer = "https://token.actions.githubusercontent.com";
  id.subject = sub;
  auto claims = JwtClaims::Parse(claims_json);
  EXPECT_TRUE(claims.ok()) << claims.status();
  if (claims.ok()) id.claims = *claims;
  return id;
}

inline constexpr char kSpiffeId[] = "spiffe://acme.example/ci/acme/app";
inline constexpr char kWorkload[] = "repo:acme/app:ref:refs/heads/main";

class CertificateExchangeTest : public ::testing::Test {
 protected:
  CertificateExchangeTest() : clock_(absl::FromUnixSeconds(1'800'000'000)), keys_(clock_.Now()) {
    std::string tmpl = ::testing::TempDir() + "writ-certx-XXXXXX";
    EXPECT_NE(::mkdtemp(tmpl.data()), nullptr);
    dir_ = tmpl;
    auto db = RocksDbLedger::Open(dir_ + "/ledger");
    EXPECT_TRUE(db.ok()) << db.status();
    ledger_ = std::make_unique<SwitchableLedger>(*std::move(db));
    attestor_.results.emplace(
        "good", Identity(kWorkload, R"({"repository":"acme/app","ref":"refs/heads/main"})"));
    attestor_.results.emplace("down", absl::UnavailableError("issuer keys unreachable"));
    AllowSvid();
    options_.trust_domain = "acme.example";
    options_.max_lifetime = absl::Minutes(30);
    options_.facts_extension_oid = "1.3.6.1.4.1.99999.1";
    NewExchange();
  }
  ~CertificateExchangeTest() override {
    exchange_.reset();
    ledger_.reset();
    std::error_code ec;
    std::filesystem::remove_all(dir_, ec);
  }

  void NewExchange() {
    exchange_ = std::make_unique<CertificateExchange>(&attestor_, &policy_, &keys_, ledger_.get(),
                                                      &clock_, options_);
  }

  // AllowSvid makes the policy grant kSpiffeId as an X.509-SVID.
  void AllowSvid(bool renewable = true) {
    Decision d;
    d.allowed = true;
    d.rule = "ci-svid";
    d.policy_file = "10-ci.yaml";
    d.used_claims = {{"sub", kWorkload}, {"repository", "acme/app"}};
    Grant g;
    g.subject = kSpiffeId;
    g.lifetime = absl::Minutes(10);
    g.facts = {{"repository", "acme/app"}, {"ref", "refs/heads/main"}};
    g.kind = CredentialKind::kX509Svid;
    g.renewable = renewable;
    d.grant = g;
    policy_.decision = d;
  }

  // AllowSsh makes the policy grant SSH principals.
  void AllowSsh() {
    Decision d;
    d.allowed = true;
    d.rule = "ops-ssh";
    d.used_claims = {{"sub", kWorkload}};
    Grant g;
    g.subject = "ssh:acme/app";
    g.lifetime = absl::Minutes(5);
    g.kind = CredentialKind::kSsh;
    g.ssh_principals = {"deploy"};
    g.ssh_source_addresses = {"10.0.0.0/8"};
    d.grant = g;
    policy_.decision = d;
  }

  static std::string Csr(KeySpec spec = KeySpec::kEcP256, CertificateRequestTemplate tmpl = {}) {
    auto key = GenerateKey(spec);
    EXPECT_TRUE(key.ok());
    auto pem = CertificateRequest::CreatePem(key->get(), tmpl);
    EXPECT_TRUE(pem.ok()) << pem.status();
    return pem.ok() ? *pem : "";
  }

  CertificateResult Issue(const std::string& token = "good", std::string csr = "") {
    SvidExchangeRequest req;
    req.subject_token = token;
    req.csr = csr.empty() ? Csr() : csr;
    return exchange_->IssueSvid(req, {"http", "10.0.0.1"});
  }

  CertificateResult Renew(const std::vector<std::string>& chain_der, std::string csr = "") {
    SvidRenewalRequest req;
    req.peer_chain_der = chain_der;
    req.csr = csr.empty() ? Csr() : csr;
    return exchange_->RenewSvid(req, {"grpc", "10.0.0.2"});
  }

  // Records returns every ledger record (the fake clock stands still, so in
  // no useful order).
  std::vector<LedgerRecord> Records() {
    LedgerQuery q;
    q.limit = 10000;
    auto all = ledger_->Query(q);
    EXPECT_TRUE(all.ok()) << all.status();
    return all.ok() ? *all : std::vector<LedgerRecord>{};
  }

  // RecordOf returns the one record of `request_id` (a failure if none).
  LedgerRecord RecordOf(const std::string& request_id) {
    for (LedgerRecord& r : Records()) {
      if (r.request_id == request_id) return r;
    }
    ADD_FAILURE() << "no ledger record for request " << request_id;
    return {};
  }

  // VerifiesAgainstBundle checks `pem` against the key manager's bundle now.
  absl::Status VerifiesAgainstBundle(const std::string& pem) {
    auto cert = ParseCertificatePem(pem);
    if (!cert.ok()) return cert.status();
    std::vector<SslPtr<X509>> roots;
    std::vector<const X509*> raw;
    for (const std::string& der : keys_.Bundle()->x509_authorities_der) {
      roots.push_back(*ParseCertificateDer(der));
      raw.push_back(roots.back().get());
    }
    return VerifyCertificate(cert->get(), raw, clock_.Now());
  }

  FakeClock clock_;
  test::FakeKeyManager keys_;
  FakeAttestor attestor_;
  FakePolicy policy_;
  std::string dir_;
  std::unique_ptr<SwitchableLedger> ledger_;
  CertificateExchangeOptions options_;
  std::unique_ptr<CertificateExchange> exchange_;
};

}  // namespace writ::issuer

#endif  // WRIT_ISSUER_EXCHANGE_CERTIFICATE_EXCHANGE_FIXTURE_H_
