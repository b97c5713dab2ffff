// Rotation of FileKeyManager's rings: prepared -> active -> retired ->
// dropped, on demand (Rotate) and on schedule (RotateDue).
#include <sys/stat.h>

#include <atomic>
#include <thread>

#include "absl/strings/str_cat.h"
#include "gtest/gtest.h"
#include "issuer/src/keys/file_key_manager.h"
#include "issuer/src/keys/key_test_util.h"
#include "tests/testing/status_test_util.h"
#include "writ/jose/jwk.h"
#include "writ/jose/jws.h"
#include "writ/jose/jws_verifier.h"
#include "writ/x509/verify.h"

namespace writ::issuer {
namespace {

using testing::IssueLeaf;
using testing::KeyDirTest;
using testing::StartTime;

class KeyRotationTest : public KeyDirTest {
 protected:
  // Verifies `token` with what `km` publishes now.
  static absl::Status VerifyWithPublished(const FileKeyManager& km, const std::string& token) {
    auto jwks = JwkSet::Parse(km.PublicJwks());
    if (!jwks.ok()) return jwks.status();
    auto parsed = ParseCompactJws(token);
    if (!parsed.ok()) return parsed.status();
    return VerifyJws(*parsed, *jwks);
  }
  static std::string Sign(const Signer& signer) {
    auto token = SignCompactJws(signer, "at+jwt", R"({"sub":"x"})");
    EXPECT_TRUE(token.ok()) << token.status();
    return token.ok() ? *token : "";
  }
  static bool Published(const FileKeyManager& km, const std::string& kid) {
    auto jwks = JwkSet::Parse(km.PublicJwks());
    return jwks.ok() && jwks->Find(kid) != nullptr;
  }
};

TEST_F(KeyRotationTest, AJwtKeyIsPublishedBeforeItSignsAndAfterItStops) {
  ASSERT_OK_AND_ASSIGN(auto km, Open());
  const KeyInfo first = Find(km->List(), KeyPurpose::kJwt, KeyState::kActive);
  const KeyInfo next = Find(km->List(), KeyPurpose::kJwt, KeyState::kPrepared);
  // The prepared key is published, but does not sign yet.
  EXPECT_TRUE(Published(*km, next.id));
  EXPECT_EQ(km->JwtSigner()->kid(), first.id);
  std::shared_ptr<const Signer> old_signer = km->JwtSigner();
  const std::string old_token = Sign(*old_signer);

  clock_.Advance(options_.publish_lead);
  ASSERT_OK_AND_ASSIGN(std::vector<KeyInfo> ring, km->Rotate(KeyPurpose::kJwt, {}));
  ASSERT_EQ(ring.size(), 3u);
  const absl::Time rotated_at = clock_.Now();
  // Now the prepared key signs, and the old one is still published.
  EXPECT_EQ(km->JwtSigner()->kid(), next.id);
  const KeyInfo retired = Find(ring, KeyPurpose::kJwt, KeyState::kRetired);
  EXPECT_EQ(retired.id, first.id);
  EXPECT_EQ(retired.retired_at, rotated_at);
  EXPECT_EQ(retired.publish_until, rotated_at + options_.retired_publish_for);
  EXPECT_EQ(Find(ring, KeyPurpose::kJwt, KeyState::kActive).activated_at, rotated_at);
  const KeyInfo newest = Find(ring, KeyPurpose::kJwt, KeyState::kPrepared);
  EXPECT_NE(newest.id, next.id);
  EXPECT_NE(newest.id, first.id);
  EXPECT_TRUE(Published(*km, newest.id));
  EXPECT_OK(VerifyWithPublished(*km, old_token));
  EXPECT_OK(VerifyWithPublished(*km, Sign(*km->JwtSigner())));
  // A signer obtained before the rotation still works.
  EXPECT_EQ(old_signer->kid(), first.id);
  EXPECT_OK(VerifyWithPublished(*km, Sign(*old_signer)));

  // Up to publish_until the retired key stays published ...
  clock_.Set(retired.publish_until - absl::Nanoseconds(1));
  ASSERT_OK_AND_ASSIGN(std::vector<KeyPurpose> due, km->RotateDue());
  EXPECT_TRUE(due.empty());
  EXPECT_TRUE(Published(*km, first.id));
  EXPECT_TRUE(Exists(retired.path));
  // ... and at publish_until it is dropped, its file deleted.
  const uint64_t sequence = km->Bundle()->sequence;
  clock_.Set(retired.publish_until);
  ASSERT_OK_AND_ASSIGN(due, km->RotateDue());
  EXPECT_TRUE(due.empty());  // dropping is not rotating
  EXPECT_FALSE(Published(*km, first.id));
  EXPECT_FALSE(Exists(retired.path));
  EXPECT_EQ(km->Bundle()->sequence, sequence + 1);
  EXPECT_EQ(Count(km->List(), KeyPurpose::kJwt), 2);
  EXPECT_FALSE(VerifyWithPublished(*km, old_token).ok());
}

TEST_F(KeyRotationTest, RefusesAPreparedKeyYoungerThanThePublishLeadUnlessForced) {
  ASSERT_OK_AND_ASSIGN(auto km, Open());
  const std::vector<KeyInfo> before = km->List();
  clock_.Advance(options_.publish_lead - absl::Seconds(90));
  auto refused = km->Rotate(KeyPurpose::kSshCa, {});
  ASSERT_FALSE(refused.ok());
  EXPECT_EQ(refused.status().code(), absl::StatusCode::kFailedPrecondition);
  EXPECT_TRUE(absl::StrContains(refused.status().message(), "--force")) << refused.status();
  EXPECT_TRUE(absl::StrContains(refused.status().message(), "wait 1m30s")) << refused.status();
  EXPECT_EQ(km->List().size(), before.size());
  EXPECT_EQ(km->Bundle()->sequence, 1u);

  // One nanosecond short is still refused; exactly the lead is enough.
  clock_.Set(StartTime() + options_.publish_lead - absl::Nanoseconds(1));
  EXPECT_EQ(km->Rotate(KeyPurpose::kSshCa, {}).status().code(),
            absl::StatusCode::kFailedPrecondition);
  clock_.Set(StartTime() + options_.publish_lead);
  EXPECT_OK(km->Rotate(KeyPurpose::kSshCa, {}));

  // The new prepared key is brand new: only force promotes it.
  EXPECT_EQ(km->Rotate(KeyPurpose::kSshCa, {}).status().code(),
            absl::StatusCode::kFailedPrecondition);
  const std::string prepared = Find(km->List(), KeyPurpose::kSshCa, KeyState::kPrepared).id;
  ASSERT_OK(km->Rotate(KeyPurpose::kSshCa, {.force = true}));
  EXPECT_EQ(km->ActiveSshCa()->id, prepared);
  EXPECT_EQ(km->Bundle()->sequence, 3u);
  EXPECT_EQ(km->Bundle()->ssh_ca_keys.size(), 4u);  // 2 retired, active, prepared
}

TEST_F(KeyRotationTest, RotateDueRotatesEveryRingAtRotateAfter) {
  ASSERT_OK_AND_ASSIGN(auto km, Open());
  const std::string jwt = km->JwtSigner()->kid();
  clock_.Set(StartTime() + options_.rotate_after - absl::Nanoseconds(1));
  ASSERT_OK_AND_ASSIGN(std::vector<KeyPurpose> due, km->RotateDue());
  EXPECT_TRUE(due.empty());
  EXPECT_EQ(km->JwtSigner()->kid(), jwt);
  EXPECT_EQ(km->Bundle()->sequence, 1u);

  clock_.Set(StartTime() + options_.rotate_after);
  ASSERT_OK_AND_ASSIGN(due, km->RotateDue());
  EXPECT_EQ(due,
            (std::vector<KeyPurpose>{KeyPurpose::kJwt, KeyPurpose::kX509Ca, KeyPurpose::kSshCa}));
  EXPECT_NE(km->JwtSigner()->kid(), jwt);
  EXPECT_EQ(km->Bundle()->sequence, 4u);  // one per ring
  EXPECT_EQ(km->List().size(), 9u);
  // Nothing more is due right after.
  ASSERT_OK_AND_ASSIGN(due, km->RotateDue());
  EXPECT_TRUE(due.empty());
}

TEST_F(KeyRotationTest, RotateDueWaitsUntilThePreparedKeyWasPublishedLongEnough) {
  ASSERT_OK_AND_ASSIGN(auto km, Open());
  clock_.Advance(absl::Hours(2));
  // A forced rotation leaves a brand-new prepared key.
  ASSERT_OK(km->Rotate(KeyPurpose::kJwt, {.force = true}));
  const absl::Time forced_at = clock_.Now();
  clock_.Set(forced_at + absl::Minutes(59));
  options_.rotate_after = absl::Minutes(30);
  ASSERT_OK_AND_ASSIGN(km, Open());  // the same rings, a shorter period
  ASSERT_OK_AND_ASSIGN(std::vector<KeyPurpose> due, km->RotateDue());
  // The other rings' prepared keys are old enough; the JWT one is not yet.
  EXPECT_EQ(due, (std::vector<KeyPurpose>{KeyPurpose::kX509Ca, KeyPurpose::kSshCa}));
  clock_.Set(forced_at + options_.publish_lead);
  ASSERT_OK_AND_ASSIGN(due, km->RotateDue());
  EXPECT_EQ(due, (std::vector<KeyPurpose>{KeyPurpose::kJwt}));
}

TEST_F(KeyRotationTest, TheSequenceIncreasesAndPersistsAcrossReopen) {
  {
    ASSERT_OK_AND_ASSIGN(auto km, Open());
    EXPECT_EQ(km->Bundle()->sequence, 1u);
    ASSERT_OK(km->Rotate(KeyPurpose::kJwt, {.force = true}));
    ASSERT_OK(km->Rotate(KeyPurpose::kX509Ca, {.force = true}));
    EXPECT_EQ(km->Bundle()->sequence, 3u);
  }
  {
    ASSERT_OK_AND_ASSIGN(auto km, Open());
    EXPECT_EQ(km->Bundle()->sequence, 3u);
    EXPECT_EQ(km->List().size(), 8u);
    clock_.Advance(options_.retired_publish_for);
    ASSERT_OK(km->RotateDue());  // drops both retired keys: one change
    EXPECT_EQ(km->Bundle()->sequence, 4u);
    EXPECT_EQ(km->List().size(), 6u);
  }
  ASSERT_OK_AND_ASSIGN(auto km, Open());
  EXPECT_EQ(km->Bundle()->sequence, 4u);
  EXPECT_EQ(km->List().size(), 6u);
}

TEST_F(KeyRotationTest, AFailedStateWriteChangesNothing) {
  bool fail = false;
  options_.before_state_write = [&fail]() {
    return fail ? absl::UnavailableError("disk on fire") : absl::OkStatus();
  };
  ASSERT_OK_AND_ASSIGN(auto km, Open());
  const std::vector<KeyInfo> before = km->List();
  const std::set<std::string> files = Files();
  const std::string state = Read(dir_ + "/keyring.json");
  const std::string jwks = km->PublicJwks();
  auto bundle = km->Bundle();

  fail = true;
  clock_.Advance(options_.rotate_after);
  for (KeyPurpose p : {KeyPurpose::kJwt, KeyPurpose::kX509Ca, KeyPurpose::kSshCa}) {
    auto rotated = km->Rotate(p, {.force = true});
    ASSERT_FALSE(rotated.ok());
    EXPECT_EQ(rotated.status().code(), absl::StatusCode::kInternal);
    EXPECT_TRUE(absl::StrContains(rotated.status().message(), "disk on fire"));
    EXPECT_TRUE(absl::StrContains(rotated.status().message(), "unchanged"));
  }
  auto due = km->RotateDue();
  ASSERT_FALSE(due.ok());
  EXPECT_EQ(due.status().code(), absl::StatusCode::kInternal);

  EXPECT_EQ(Files(), files);  // the new keys' files were removed again
  EXPECT_EQ(Read(dir_ + "/keyring.json"), state);
  EXPECT_EQ(km->PublicJwks(), jwks);
  EXPECT_EQ(km->Bundle(), bundle);
  ASSERT_EQ(km->List().size(), before.size());
  for (size_t i = 0; i < before.size(); ++i) {
    EXPECT_EQ(km->List()[i].id, before[i].id);
    EXPECT_EQ(km->List()[i].state, before[i].state);
  }
  fail = false;
  ASSERT_OK_AND_ASSIGN(std::vector<KeyPurpose> rotated, km->RotateDue());
  EXPECT_EQ(rotated.size(), 3u);
}

TEST_F(KeyRotationTest, ADropThatCannotBeWrittenKeepsTheKeyAndItsFile) {
  bool fail = false;
  options_.before_state_write = [&fail]() {
    return fail ? absl::InternalError("read-only") : absl::OkStatus();
  };
  ASSERT_OK_AND_ASSIGN(auto km, Open());
  ASSERT_OK(km->Rotate(KeyPurpose::kJwt, {.force = true}));
  const KeyInfo retired = Find(km->List(), KeyPurpose::kJwt, KeyState::kRetired);
  clock_.Set(retired.publish_until);
  fail = true;
  EXPECT_EQ(km->RotateDue().status().code(), absl::StatusCode::kInternal);
  EXPECT_TRUE(Exists(retired.path));
  EXPECT_TRUE(Published(*km, retired.id));
}

TEST_F(KeyRotationTest, ASnapshotHeldAcrossARotationDoesNotChange) {
  ASSERT_OK_AND_ASSIGN(auto km, Open());
  std::shared_ptr<const TrustBundle> bundle = km->Bundle();
  std::shared_ptr<const X509Authority> ca = km->ActiveX509Ca();
  std::shared_ptr<const SshAuthority> ssh = km->ActiveSshCa();
  const std::vector<std::string> x509 = bundle->x509_authorities_der;
  const std::vector<std::string> lines = bundle->ssh_ca_keys;
  clock_.Advance(options_.rotate_after);
  ASSERT_OK(km->RotateDue());
  EXPECT_EQ(bundle->sequence, 1u);
  EXPECT_EQ(bundle->x509_authorities_der, x509);
  EXPECT_EQ(bundle->ssh_ca_keys, lines);
  EXPECT_NE(km->Bundle()->sequence, 1u);
  EXPECT_NE(km->ActiveX509Ca()->id, ca->id);
  EXPECT_NE(km->ActiveSshCa()->id, ssh->id);
  // The old CA can still sign, and what it signs still verifies against what
  // is published (its certificate is retired, not gone).
  ASSERT_OK_AND_ASSIGN(SslPtr<X509> leaf, IssueLeaf(*ca, clock_.Now(), absl::Minutes(5)));
  std::vector<SslPtr<X509>> roots;
  std::vector<const X509*> root_ptrs;
  for (const std::string& der : km->Bundle()->x509_authorities_der) {
    ASSERT_OK_AND_ASSIGN(SslPtr<X509> root, ParseCertificateDer(der));
    root_ptrs.push_back(root.get());
    roots.push_back(std::move(root));
  }
  EXPECT_EQ(roots.size(), 3u);
  EXPECT_OK(VerifyCertificate(leaf.get(), root_ptrs, clock_.Now()));
}

TEST_F(KeyRotationTest, ReadersNeverSeeAHalfDoneRotation) {
  options_.enable_x509 = false;
  options_.enable_ssh = false;
  ASSERT_OK_AND_ASSIGN(auto km, Open());
  std::atomic<bool> stop{false};
  std::atomic<int> failures{0};
  std::atomic<int> consistent{0};
  std::vector<std::thread> readers;
  for (int i = 0; i < 2; ++i) {
    readers.emplace_back([&] {
      uint64_t last = 0;
      while (!stop.load()) {
        const uint64_t before = km->Bundle()->sequence;
        std::shared_ptr<const Signer> signer = km->JwtSigner();
        auto token = SignCompactJws(*signer, "", "{}");
        auto jwks = JwkSet::Parse(km->PublicJwks());
        const uint64_t after = km->Bundle()->sequence;
        // Every read is whole, and the sequence never goes back.
        if (!token.ok() || !jwks.ok() || jwks->keys().size() < 2 || jwks->keys().size() > 3 ||
            before < last || after < before) {
          ++failures;
        }
        last = after;
        // With no rotation in between, what signs is what is published.
        if (jwks.ok() && before == after) {
          if (jwks->Find(signer->kid()) == nullptr) ++failures;
          ++consistent;
        }
      }
    });
  }
  for (int i = 0; i < 20; ++i) {
    // Let the readers check the current snapshot before the next rotation.
    const int seen = consistent.load();
    while (consistent.load() < seen + 2) std::this_thread::yield();
    clock_.Advance(options_.rotate_after);
    EXPECT_OK(km->RotateDue());  // not ASSERT: the readers must be joined
  }
  stop = true;
  for (std::thread& t : readers) t.join();
  EXPECT_EQ(failures.load(), 0);
  EXPECT_GE(consistent.load(), 40);
  EXPECT_EQ(km->Bundle()->sequence, 1u + 20u + 19u);  // 20 rotations, 19 drops
}

TEST_F(KeyRotationTest, SelfSignedCaCertificateHasTheCaProfile) {
  ASSERT_OK_AND_ASSIGN(auto km, Open());
  std::shared_ptr<const X509Authority> ca = km->ActiveX509Ca();
  ASSERT_NE(ca, nullptr);
  X509* cert = ca->certificate.get();
  EXPECT_EQ(X509_check_ca(cert), 1);
  EXPECT_EQ(X509_get_pathlen(cert), 0);
  const uint32_t flags = X509_get_extension_flags(cert);
  EXPECT_TRUE(flags & EXFLAG_SS);  // self-signed
  EXPECT_TRUE(flags & EXFLAG_KUSAGE);
  EXPECT_EQ(X509_get_key_usage(cert),
            uint32_t{KU_KEY_CERT_SIGN | KU_CRL_SIGN | KU_DIGITAL_SIGNATURE});
  int critical = -1;
  void* bc = X509_get_ext_d2i(cert, NID_basic_constraints, &critical, nullptr);
  ASSERT_NE(bc, nullptr);
  BASIC_CONSTRAINTS_free(static_cast<BASIC_CONSTRAINTS*>(bc));
  EXPECT_EQ(critical, 1);
  void* ku = X509_get_ext_d2i(cert, NID_key_usage, &critical, nullptr);
  ASSERT_NE(ku, nullptr);
  ASN1_BIT_STRING_free(static_cast<ASN1_BIT_STRING*>(ku));
  EXPECT_EQ(critical, 1);
  EXPECT_NE(X509_get0_subject_key_id(cert), nullptr);
  EXPECT_NE(X509_get0_authority_key_id(cert), nullptr);
  ASSERT_OK_AND_ASSIGN(std::vector<std::string> uris, CertificateUriSans(cert));
  EXPECT_EQ(uris, std::vector<std::string>{"spiffe://acme.example"});
  EXPECT_EQ(CertificateSubject(cert), "CN=Writ CA " + ca->id);
  ASSERT_OK_AND_ASSIGN(absl::Time not_before, CertificateNotBefore(cert));
  ASSERT_OK_AND_ASSIGN(absl::Time not_after, CertificateNotAfter(cert));
  EXPECT_EQ(not_before, StartTime() - absl::Minutes(5));
  EXPECT_EQ(not_after, StartTime() + options_.ca_lifetime);
  EXPECT_EQ(EVP_PKEY_eq(X509_get0_pubkey(cert), ca->private_key.get()), 1);

  // The same, read by the openssl CLI from the file next to the key.
  const std::string crt = dir_ + "/x509-ca-" + ca->id + ".crt";
  std::string text;
  ASSERT_EQ(testing::Run("openssl x509 -noout -text -in " + crt, &text), 0);
  EXPECT_TRUE(absl::StrContains(text, "CA:TRUE, pathlen:0")) << text;
  EXPECT_TRUE(absl::StrContains(text, "Certificate Sign, CRL Sign")) << text;
  EXPECT_TRUE(absl::StrContains(text, "URI:spiffe://acme.example")) << text;
  EXPECT_TRUE(absl::StrContains(text, "ASN1 OID: prime256v1")) << text;
}

TEST_F(KeyRotationTest, ALeafSignedByTheActiveCaVerifiesAgainstThePemBundle) {
  ASSERT_OK_AND_ASSIGN(auto km, Open());
  ASSERT_OK_AND_ASSIGN(SslPtr<X509> leaf,
                       IssueLeaf(*km->ActiveX509Ca(), clock_.Now(), absl::Minutes(10)));
  ASSERT_OK_AND_ASSIGN(std::string leaf_pem, CertificateToPem(leaf.get()));
  const std::string bundle_path = root_ + "/bundle.pem", leaf_path = root_ + "/leaf.pem";
  Write(bundle_path, X509BundlePem(*km->Bundle()), 0644);
  Write(leaf_path, leaf_pem, 0644);
  const std::string at = absl::StrCat(absl::ToUnixSeconds(clock_.Now()));
  std::string out;
  EXPECT_EQ(testing::Run(absl::StrCat("openssl verify -x509_strict -attime ", at, " -CAfile ",
                                      bundle_path, " ", leaf_path, " 2>&1"),
                         &out),
            0)
      << out;
  // After the leaf's notAfter it no longer verifies: the check is real.
  const std::string later = absl::StrCat(absl::ToUnixSeconds(clock_.Now() + absl::Minutes(11)));
  EXPECT_NE(testing::Run(absl::StrCat("openssl verify -attime ", later, " -CAfile ", bundle_path,
                                      " ", leaf_path, " 2>&1"),
                         &out),
            0)
      << out;
}

TEST_F(KeyRotationTest, RotateDueRotatesACaWhoseCertificateIsAboutToExpire) {
  // Rotation by age would come after the certificate's end.
  options_.enable_ssh = false;
  options_.ca_lifetime = absl::Hours(5);
  ASSERT_OK_AND_ASSIGN(auto km, Open());
  const std::string ca = km->ActiveX509Ca()->id;
  const absl::Time limit =
      StartTime() + options_.ca_lifetime - options_.publish_lead - options_.retired_publish_for;
  clock_.Set(limit - absl::Seconds(1));
  ASSERT_OK_AND_ASSIGN(std::vector<KeyPurpose> due, km->RotateDue());
  EXPECT_TRUE(due.empty());
  clock_.Set(limit);
  ASSERT_OK_AND_ASSIGN(due, km->RotateDue());
  EXPECT_EQ(due, std::vector<KeyPurpose>{KeyPurpose::kX509Ca});
  EXPECT_NE(km->ActiveX509Ca()->id, ca);
}

TEST_F(KeyRotationTest, ForcedRotationsStopAtTheRetiredKeyLimitUntilOneIsDue) {
  ASSERT_OK_AND_ASSIGN(auto km, Open());
  const absl::Time first_retired = clock_.Now();
  for (size_t i = 0; i < FileKeyManager::kMaxRetiredKeys; ++i) {
    SCOPED_TRACE(i);
    ASSERT_OK(km->Rotate(KeyPurpose::kJwt, {.force = true}).status());
    clock_.Advance(absl::Seconds(1));
  }
  const uint64_t sequence = km->Bundle()->sequence;
  const std::string jwks = km->PublicJwks();
  auto refused = km->Rotate(KeyPurpose::kJwt, {.force = true});
  ASSERT_FALSE(refused.ok());
  EXPECT_EQ(refused.status().code(), absl::StatusCode::kFailedPrecondition);
  // It names when the oldest retired key leaves what is published.
  const std::string until = absl::FormatTime(
      absl::RFC3339_sec, first_retired + options_.retired_publish_for, absl::UTCTimeZone());
  EXPECT_TRUE(absl::StrContains(refused.status().message(), "too many retired jwt keys"))
      << refused.status();
  EXPECT_TRUE(absl::StrContains(refused.status().message(), "wait until " + until))
      << refused.status();
  // Nothing changed, and nothing published was dropped early.
  EXPECT_EQ(km->Bundle()->sequence, sequence);
  EXPECT_EQ(km->PublicJwks(), jwks);
  EXPECT_EQ(Count(km->List(), KeyPurpose::kJwt),
            2 + static_cast<int>(FileKeyManager::kMaxRetiredKeys));
  // Other rings are not limited by this one.
  EXPECT_OK(km->Rotate(KeyPurpose::kSshCa, {.force = true}).status());

  // One second before the oldest leaves: still refused; at that instant: fine.
  clock_.Set(first_retired + options_.retired_publish_for - absl::Seconds(1));
  EXPECT_EQ(km->Rotate(KeyPurpose::kJwt, {.force = true}).status().code(),
            absl::StatusCode::kFailedPrecondition);
  clock_.Set(first_retired + options_.retired_publish_for);
  EXPECT_OK(km->Rotate(KeyPurpose::kJwt, {.force = true}).status());
}

TEST_F(KeyRotationTest, TheScheduleIsNotLimitedByTheRetiredKeyLimit) {
  // Retired keys outlive many rotation periods: the schedule keeps rotating.
  options_.enable_x509 = options_.enable_ssh = false;
  options_.rotate_after = options_.publish_lead = absl::Minutes(1);
  options_.retired_publish_for = absl::Hours(1);
  ASSERT_OK_AND_ASSIGN(auto km, Open());
  for (size_t i = 0; i <= FileKeyManager::kMaxRetiredKeys; ++i) {
    clock_.Advance(options_.rotate_after);
    ASSERT_OK_AND_ASSIGN(std::vector<KeyPurpose> rotated, km->RotateDue());
    EXPECT_EQ(rotated, std::vector<KeyPurpose>{KeyPurpose::kJwt}) << i;
  }
  EXPECT_EQ(Count(km->List(), KeyPurpose::kJwt),
            3 + static_cast<int>(FileKeyManager::kMaxRetiredKeys));
  // An on-demand rotation waits, though.
  clock_.Advance(options_.publish_lead);
  EXPECT_EQ(km->Rotate(KeyPurpose::kJwt, {}).status().code(),
            absl::StatusCode::kFailedPrecondition);
}

TEST_F(KeyRotationTest, RotatingADisabledRingFails) {
  options_.enable_x509 = false;
  ASSERT_OK_AND_ASSIGN(auto km, Open());
  auto rotated = km->Rotate(KeyPurpose::kX509Ca, {.force = true});
  ASSERT_FALSE(rotated.ok());
  EXPECT_EQ(rotated.status().code(), absl::StatusCode::kFailedPrecondition);
  EXPECT_TRUE(absl::StrContains(rotated.status().message(), "disabled"));
}

}  // namespace
}  // namespace writ::issuer
