#!/usr/bin/env python3
"""Interop tests: Writ's JOSE core against independent implementations.

The `writ` binary is checked against Debian's PyJWT (python3-jwt), jwcrypto
(python3-jwcrypto) and pyca/cryptography (python3-cryptography):

  * Writ signs (`writ keygen`, `writ jwt sign`); PyJWT and jwcrypto verify with
    the public JWK `writ jwk` printed (so JWK export is checked too).
  * PyJWT and jwcrypto sign with keys from python-cryptography; Writ verifies
    (`writ jwt verify --jwks`) with a JWK Set jwcrypto exported (JWK import).
  * Bad tokens (expired, wrong aud/iss, tampered, wrong key, alg none, HS256
    keyed with the public PEM, nbf in the future): Writ rejects each with exit
    code 3 (refused) or 1 (malformed) and a sensible one-line reason, and so do PyJWT and jwcrypto, so the
    test proves agreement rather than only Writ's behaviour.
  * RFC 7638 thumbprints from `writ jwk thumbprint` equal jwcrypto's.

Run:  /usr/bin/python3 jose_interop_test.py --writ build/sdk/cli/writ [-v] [-k ES256]
or set WRIT_CLI instead of --writ. Missing Python modules are a failure, never
a skip: CI installs them through scripts/setup.sh.
"""

import argparse
import atexit
import base64
import functools
import hashlib
import hmac
import json
import os
import secrets
import stat
import subprocess
import sys
import tempfile
import time
import unittest

try:
    import jwt as pyjwt
    from cryptography.hazmat.primitives import serialization
    from cryptography.hazmat.primitives.asymmetric import ec, ed25519, rsa
    from jwcrypto import jwk as jwc_jwk
    from jwcrypto import jwt as jwc_jwt
    from jwcrypto.common import JWException
except ImportError as error:  # A loud failure: CI must never skip these tests.
    sys.stderr.write(
        f"jose_interop_test: FAILED: cannot import a JOSE module ({error}).\n"
        f"  interpreter: {sys.executable}\n"
        "  Install python3-jwt, python3-jwcrypto and python3-cryptography from Debian\n"
        "  (scripts/setup.sh) and run this test with /usr/bin/python3 (CMake: WRIT_PYTHON).\n")
    sys.exit(1)

WRIT = None  # Path of the writ binary, set in main().

ISSUER = "https://issuer.interop.test"
AUDIENCE = "https://api.interop.test"

# What jwcrypto checks. Once check_claims is given, jwcrypto checks "exp" and
# "nbf" only when they are named (None: against the current time), so they are.
JWCRYPTO_CHECKS = {"iss": ISSUER, "aud": AUDIENCE, "exp": None, "nbf": None}

ALGORITHMS = ["RS256", "RS384", "RS512", "PS256", "PS384", "PS512",
              "ES256", "ES384", "ES512", "EdDSA"]
# Writ's --bits for its RSA keys: a few sizes, so more than one is exercised.
WRIT_RSA_BITS = {"RS384": "3072", "PS384": "3072", "RS512": "4096"}


def b64url(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode("ascii")


def b64url_decode(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


def python_private_key(alg):
    """A fresh pyca/cryptography private key for `alg`."""
    if alg.startswith(("RS", "PS")):
        return rsa.generate_private_key(public_exponent=65537, key_size=2048)
    if alg == "EdDSA":
        return ed25519.Ed25519PrivateKey.generate()
    curve = {"ES256": ec.SECP256R1, "ES384": ec.SECP384R1, "ES512": ec.SECP521R1}[alg]
    return ec.generate_private_key(curve())


def public_pem(private_key) -> bytes:
    return private_key.public_key().public_bytes(
        serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo)


def standard_claims(**overrides):
    """An access-token-shaped claims set valid now, with non-ASCII and nested values."""
    now = int(time.time())
    claims = {
        "iss": ISSUER,
        "sub": "spiffe://interop.test/ci/job",
        "aud": AUDIENCE,
        "iat": now,
        "nbf": now,
        "exp": now + 300,
        "jti": secrets.token_urlsafe(12),
        "scope": "deploy:staging read",
        "name": "Zo\u00eb \u2713 \u65e5\u672c",
        "ctx": {"repo": "acme/payments", "run": [1, "two", {"three": True}], "n": None},
    }
    claims.update(overrides)
    return claims


class WritRun:
    def __init__(self, proc):
        self.code = proc.returncode
        self.out = proc.stdout
        self.err = proc.stderr


def run_writ(*args, stdin=None):
    proc = subprocess.run([WRIT, *args], input=stdin, capture_output=True, text=True,
                          encoding="utf-8", timeout=120, check=False)
    return WritRun(proc)


@functools.lru_cache(maxsize=None)
def scratch_dir():
    """One scratch directory for the whole run, removed at exit."""
    tmp = tempfile.TemporaryDirectory(prefix="writ-interop-")
    atexit.register(tmp.cleanup)
    return tmp.name


class WritTestCase(unittest.TestCase):
    """Shared helpers: files in the scratch directory and Writ invocations."""

    @classmethod
    def write(cls, name, text):
        path = os.path.join(scratch_dir(), name)
        with open(path, "w", encoding="utf-8") as f:
            f.write(text)
        return path

    def writ_ok(self, *args, stdin=None):
        r = run_writ(*args, stdin=stdin)
        self.assertEqual(r.code, 0, f"writ {' '.join(args)} failed: {r.err}")
        return r

    def writ_verify(self, token, jwks_path, *extra, via="stdin"):
        args = ["jwt", "verify", "--jwks", jwks_path, "--iss", ISSUER, "--aud", AUDIENCE, *extra]
        if via == "stdin":
            return run_writ(*args, stdin=token + "\n")
        if via == "arg":
            return run_writ(*args, "--token", token)
        path = self.write(f"token-{secrets.token_hex(4)}.jwt", token + "\n")
        return run_writ(*args, "--token-file", path)


# ---------------------------------------------------------------------------
# Writ signs, PyJWT and jwcrypto verify.


@functools.lru_cache(maxsize=None)
def writ_key(alg):
    """(key path, public JWK text) made by `writ keygen` + `writ jwk`."""
    path = os.path.join(scratch_dir(), f"writ-{alg}.pem")
    args = ["keygen", "--alg", alg, "--out", path]
    if alg in WRIT_RSA_BITS:
        args += ["--bits", WRIT_RSA_BITS[alg]]
    r = run_writ(*args)
    if r.code != 0:
        raise AssertionError(f"writ keygen --alg {alg} failed: {r.err}")
    r = run_writ("jwk", "--key", path, "--alg", alg, "--kid", f"writ-{alg}")
    if r.code != 0:
        raise AssertionError(f"writ jwk --alg {alg} failed: {r.err}")
    return path, r.out


class WritSignsTest(WritTestCase):
    """Tokens from `writ jwt sign` verify in PyJWT and jwcrypto."""

    def check_writ_signs(self, alg):
        key_path, jwk_text = writ_key(alg)
        jwk = json.loads(jwk_text)
        self.assertEqual(jwk["alg"], alg)
        self.assertEqual(jwk["kid"], f"writ-{alg}")
        self.assertEqual(jwk["use"], "sig")
        for private_member in ("d", "p", "q", "dp", "dq", "qi", "k"):
            self.assertNotIn(private_member, jwk)

        claims = standard_claims()
        token = self.writ_sign(alg, claims)

        header = pyjwt.get_unverified_header(token)
        self.assertEqual(header, {"alg": alg, "kid": f"writ-{alg}", "typ": "JWT"})

        # PyJWT, keyed from Writ's JWK.
        pyjwk = pyjwt.PyJWK(jwk)
        decoded = pyjwt.decode(token, key=pyjwk.key, algorithms=[alg], audience=AUDIENCE,
                               issuer=ISSUER)
        self.assertEqual(decoded, claims)

        # jwcrypto, keyed from Writ's JWK.
        key = jwc_jwk.JWK(**jwk)
        verified = jwc_jwt.JWT(jwt=token, key=key, algs=[alg],
                               check_claims=JWCRYPTO_CHECKS)
        self.assertEqual(json.loads(verified.claims), claims)

    def writ_sign(self, alg, claims):
        key_path, _ = writ_key(alg)
        return self.writ_ok("jwt", "sign", "--key", key_path, "--alg", alg, "--kid", f"writ-{alg}",
                            "--claims", json.dumps(claims, ensure_ascii=False)).out.strip()

    def check_writ_jwk_set(self, alg):
        """`writ jwk --set` is a JWK Set both libraries read and select from by kid."""
        key_path, _ = writ_key(alg)
        jwks = self.writ_ok("jwk", "--key", key_path, "--alg", alg, "--kid", f"writ-{alg}",
                            "--set").out
        claims = standard_claims()
        token = self.writ_sign(alg, claims)

        pyjwt_keys = {k.key_id: k for k in pyjwt.PyJWKSet.from_json(jwks).keys}
        self.assertEqual(list(pyjwt_keys), [f"writ-{alg}"])
        self.assertEqual(pyjwt.decode(token, key=pyjwt_keys[f"writ-{alg}"].key, algorithms=[alg],
                                      audience=AUDIENCE, issuer=ISSUER), claims)

        verified = jwc_jwt.JWT(jwt=token, key=jwc_jwk.JWKSet.from_json(jwks), algs=[alg],
                               check_claims=JWCRYPTO_CHECKS)
        self.assertEqual(json.loads(verified.claims), claims)

    def check_keygen_pem(self, alg):
        """`writ keygen` writes standard unencrypted PKCS#8, mode 0600, matching its JWK."""
        key_path, jwk_text = writ_key(alg)
        self.assertEqual(stat.S_IMODE(os.stat(key_path).st_mode), 0o600)
        with open(key_path, "rb") as f:
            pem = f.read()
        self.assertTrue(pem.startswith(b"-----BEGIN PRIVATE KEY-----\n"), pem[:40])
        private_key = serialization.load_pem_private_key(pem, password=None)
        from_pem = jwc_jwk.JWK.from_pyca(private_key.public_key())
        self.assertEqual(from_pem.thumbprint(), jwc_jwk.JWK(**json.loads(jwk_text)).thumbprint())


# ---------------------------------------------------------------------------
# PyJWT and jwcrypto sign, Writ verifies.


@functools.lru_cache(maxsize=None)
def python_keys():
    """{alg: (pyca private key, jwcrypto private JWK, kid)} for every algorithm."""
    keys = {}
    for alg in ALGORITHMS:
        private_key = python_private_key(alg)
        keys[alg] = (private_key, jwc_jwk.JWK.from_pyca(private_key), f"py-{alg}")
    return keys


def jwcrypto_public_jwk(alg, with_alg=True):
    _, private_jwk, kid = python_keys()[alg]
    members = json.loads(private_jwk.export_public())
    members["kid"] = kid
    members["use"] = "sig"
    if with_alg:
        members["alg"] = alg
    return jwc_jwk.JWK(**members)


def jwcrypto_jwks(algs, with_alg=True):
    """A JWK Set document exported by jwcrypto (public keys only)."""
    key_set = jwc_jwk.JWKSet()
    for alg in algs:
        key_set.add(jwcrypto_public_jwk(alg, with_alg))
    return key_set.export(private_keys=False)


def pyjwt_sign(alg, claims, **header):
    private_key, _, kid = python_keys()[alg]
    return pyjwt.encode(claims, private_key, algorithm=alg, headers={"kid": kid, **header})


def jwcrypto_sign(alg, claims):
    _, private_jwk, kid = python_keys()[alg]
    token = jwc_jwt.JWT(header={"alg": alg, "kid": kid, "typ": "JWT"}, claims=claims)
    token.make_signed_token(private_jwk)
    return token.serialize()


class PythonSignsTest(WritTestCase):
    """Tokens from PyJWT and jwcrypto verify in `writ jwt verify`."""

    @classmethod
    def setUpClass(cls):
        cls.jwks_text = jwcrypto_jwks(ALGORITHMS)
        cls.jwks_path = cls.write("python.jwks", cls.jwks_text)

    def check_jwks_export(self, alg):
        exported = [k for k in json.loads(self.jwks_text)["keys"] if k["kid"] == f"py-{alg}"]
        self.assertEqual(len(exported), 1)
        self.assertNotIn("d", exported[0])

    def check_pyjwt_signs(self, alg):
        claims = standard_claims()
        token = pyjwt_sign(alg, claims)
        for via in ("stdin", "arg", "file"):
            r = self.writ_verify(token, self.jwks_path, via=via)
            self.assertEqual(r.code, 0, f"{via}: {r.err}")
            self.assertEqual(json.loads(r.out), claims)
            self.assertEqual(r.err, "")

    def check_jwcrypto_signs(self, alg):
        claims = standard_claims()
        token = jwcrypto_sign(alg, claims)
        r = self.writ_verify(token, self.jwks_path)
        self.assertEqual(r.code, 0, r.err)
        self.assertEqual(json.loads(r.out), claims)
        # The signature-only mode accepts it too.
        r = run_writ("jwt", "verify", "--jwks", self.jwks_path, "--no-claims", "--token", token)
        self.assertEqual(r.code, 0, r.err)
        self.assertEqual(json.loads(r.out), claims)

    def check_pyjwt_signs_without_kid(self, alg):
        """Without a kid Writ tries the keys bound to the token's alg."""
        private_key, _, _ = python_keys()[alg]
        claims = standard_claims()
        token = pyjwt.encode(claims, private_key, algorithm=alg)
        r = self.writ_verify(token, self.jwks_path)
        self.assertEqual(r.code, 0, r.err)
        self.assertEqual(json.loads(r.out), claims)

    def test_jwks_with_unusable_keys_still_verifies(self):
        """RFC 7517 section 5: keys a verifier cannot use are skipped, not fatal."""
        key_set = jwc_jwk.JWKSet()
        key_set.add(jwc_jwk.JWK.generate(kty="oct", size=256, kid="hmac", alg="HS256"))
        encryption_key = jwc_jwk.JWK.generate(kty="RSA", size=2048)
        key_set.add(jwc_jwk.JWK(**json.loads(encryption_key.export_public()), kid="enc",
                                use="enc", alg="RSA-OAEP"))
        key_set.add(jwcrypto_public_jwk("ES256"))
        path = self.write("mixed.jwks", key_set.export(private_keys=True))
        claims = standard_claims()
        r = self.writ_verify(pyjwt_sign("ES256", claims), path)
        self.assertEqual(r.code, 0, r.err)
        self.assertEqual(json.loads(r.out), claims)

    def test_private_jwks_is_refused_with_reason(self):
        """A JWK Set that leaks private keys is not used, and the reason says why."""
        _, private_jwk, kid = python_keys()["ES256"]
        members = json.loads(private_jwk.export_private())
        self.assertIn("d", members)
        key_set = jwc_jwk.JWKSet()
        key_set.add(jwc_jwk.JWK(**members, kid=kid, alg="ES256"))
        path = self.write("private.jwks", key_set.export(private_keys=True))
        r = self.writ_verify(pyjwt_sign("ES256", standard_claims()), path)
        self.assertEqual(r.code, 1)
        self.assertEqual(r.out, "")
        self.assertRegex(r.err, r"^writ: --jwks file: JWK Set has no usable key \(.*private")
        self.assertNotIn(members["d"], r.err)

    def test_standard_base64_kid(self):
        """Key IDs in standard base64 ('+', '/', '='), as some identity providers use."""
        kid = "Ab+c/9dEf12GhIj3kLmN4oPqR5sT6uVwX7yZ8aB9cDe="
        members = json.loads(jwcrypto_public_jwk("ES384").export_public())
        members["kid"] = kid
        key_set = jwc_jwk.JWKSet()
        key_set.add(jwc_jwk.JWK(**members))
        path = self.write("b64-kid.jwks", key_set.export(private_keys=False))
        private_key, _, _ = python_keys()["ES384"]
        claims = standard_claims()
        token = pyjwt.encode(claims, private_key, algorithm="ES384", headers={"kid": kid})
        r = self.writ_verify(token, path)
        self.assertEqual(r.code, 0, r.err)
        self.assertEqual(json.loads(r.out), claims)

    def test_rsa_jwk_without_alg_is_bound_to_rs256(self):
        """Documented behaviour: an RSA JWK without "alg" verifies RS256 only."""
        path = self.write("rsa-no-alg.jwks", jwcrypto_jwks(["RS256", "PS256"], with_alg=False))
        claims = standard_claims()
        r = self.writ_verify(pyjwt_sign("RS256", claims), path)
        self.assertEqual(r.code, 0, r.err)
        r = self.writ_verify(pyjwt_sign("PS256", claims), path)
        self.assertEqual(r.code, 3)  # refused: the key is bound to RS256
        self.assertRegex(r.err, r"^writ: token rejected: .*PS256.*RS256")


# ---------------------------------------------------------------------------
# Bad tokens: Writ, PyJWT and jwcrypto all reject them.


def replace_segment(token, index, new_segment):
    parts = token.split(".")
    parts[index] = new_segment
    return ".".join(parts)


def flip_signature_bit(token):
    signature = bytearray(b64url_decode(token.split(".")[2]))
    signature[len(signature) // 2] ^= 0x01
    return replace_segment(token, 2, b64url(bytes(signature)))


def hs256_with_public_pem(alg, claims):
    """The classic key-confusion token: HS256, keyed with the verifier's public PEM."""
    private_key, _, kid = python_keys()[alg]
    secret = public_pem(private_key)
    header = b64url(json.dumps({"alg": "HS256", "typ": "JWT", "kid": kid}).encode())
    payload = b64url(json.dumps(claims).encode())
    signing_input = f"{header}.{payload}".encode()
    mac = hmac.new(secret, signing_input, hashlib.sha256).digest()
    return f"{header}.{payload}.{b64url(mac)}"


def other_key_token(alg, claims):
    """Signed by a different key of the same kind, claiming the trusted key's kid."""
    _, _, kid = python_keys()[alg]
    return pyjwt.encode(claims, python_private_key(alg), algorithm=alg, headers={"kid": kid})


def embedded_jwk_token(alg, claims):
    """Signed by an attacker's key that the header carries as "jwk" (CVE-2018-0114 style)."""
    _, _, kid = python_keys()[alg]
    attacker = python_private_key(alg)
    attacker_jwk = json.loads(jwc_jwk.JWK.from_pyca(attacker.public_key()).export_public())
    return pyjwt.encode(claims, attacker, algorithm=alg,
                        headers={"kid": kid, "jwk": attacker_jwk})


def other_algorithm_token(alg, claims):
    """The trusted key's kid, but signed with another algorithm (and its key)."""
    other = "ES256" if alg != "ES256" else "EdDSA"
    private_key, _, _ = python_keys()[other]
    _, _, kid = python_keys()[alg]
    return pyjwt.encode(claims, private_key, algorithm=other, headers={"kid": kid})


def alg_none_keeping_signature(alg):
    token = pyjwt_sign(alg, standard_claims())
    return replace_segment(token, 0, b64url(json.dumps({"alg": "none", "typ": "JWT"}).encode()))


def now():
    return int(time.time())


# name: (make token, Writ's reason (regex), PyJWT's exception)
REJECTION_CASES = {
    "expired": (
        lambda alg: pyjwt_sign(alg, standard_claims(iat=now() - 7200, nbf=now() - 7200,
                                                    exp=now() - 3600)),
        r"token expired at \d{4}-\d\d-\d\dT", pyjwt.ExpiredSignatureError),
    "wrong_audience": (
        lambda alg: pyjwt_sign(alg, standard_claims(aud="https://other.interop.test")),
        r'"aud" names none of the accepted audiences', pyjwt.InvalidAudienceError),
    "wrong_issuer": (
        lambda alg: pyjwt_sign(alg, standard_claims(iss="https://evil.interop.test")),
        r'"iss" is not the expected issuer', pyjwt.InvalidIssuerError),
    "nbf_in_future": (
        lambda alg: pyjwt_sign(alg, standard_claims(nbf=now() + 3600, exp=now() + 7200)),
        r"token is not valid before \d{4}-", pyjwt.ImmatureSignatureError),
    "tampered_payload": (
        lambda alg: replace_segment(
            pyjwt_sign(alg, standard_claims()), 1,
            b64url(json.dumps(standard_claims(scope="deploy:production admin")).encode())),
        r"signature does not verify", pyjwt.InvalidSignatureError),
    "tampered_signature": (
        lambda alg: flip_signature_bit(pyjwt_sign(alg, standard_claims())),
        r"signature does not verify", pyjwt.InvalidSignatureError),
    "signed_by_other_key": (
        lambda alg: other_key_token(alg, standard_claims()),
        r"signature does not verify", pyjwt.InvalidSignatureError),
    "signed_by_key_in_jwk_header": (
        lambda alg: embedded_jwk_token(alg, standard_claims()),
        r"signature does not verify", pyjwt.InvalidSignatureError),
    "algorithm_not_the_keys": (
        lambda alg: other_algorithm_token(alg, standard_claims()),
        r'token "alg" (ES256|EdDSA) does not match the key\'s algorithm',
        pyjwt.InvalidAlgorithmError),
    "alg_none": (
        lambda alg: pyjwt.encode(standard_claims(), None, algorithm=None),
        r"unsecured JWS", pyjwt.InvalidAlgorithmError),
    "alg_none_keeping_signature": (
        alg_none_keeping_signature,
        r'"alg" none \(unsecured JWS\) is never accepted', pyjwt.InvalidAlgorithmError),
    "hs256_keyed_with_public_pem": (
        lambda alg: hs256_with_public_pem(alg, standard_claims()),
        r'"alg" HS256 \(HMAC\) is never accepted', pyjwt.InvalidAlgorithmError),
}


class RejectionTest(WritTestCase):
    """Each bad token: Writ exits 3 (or 1 when malformed) with a one-line reason; PyJWT and
    jwcrypto refuse it."""

    @classmethod
    def setUpClass(cls):
        cls.jwks_path = cls.write("python.jwks", jwcrypto_jwks(ALGORITHMS))

    def assert_writ_rejects(self, token, reason):
        r = self.writ_verify(token, self.jwks_path)
        self.assertIn(r.code, (1, 3), f"Writ accepted or misreported (exit {r.code}): {r.err}")
        self.assertEqual(r.out, "", "nothing may reach stdout for a rejected token")
        self.assertEqual(r.err.count("\n"), 1, f"not one line: {r.err!r}")
        self.assertRegex(r.err, r"^writ: token rejected: ")
        self.assertRegex(r.err, reason)
        self.assertNotIn(token, r.err, "the token must not be echoed")
        return r

    def assert_pyjwt_rejects(self, alg, token, exception):
        private_key, _, _ = python_keys()[alg]
        with self.assertRaises(exception):
            pyjwt.decode(token, key=private_key.public_key(), algorithms=[alg],
                         audience=AUDIENCE, issuer=ISSUER)

    def assert_jwcrypto_rejects(self, alg, token):
        key = jwcrypto_public_jwk(alg)
        with self.assertRaises((JWException, ValueError)) as caught:
            jwc_jwt.JWT(jwt=token, key=key, algs=[alg],
                        check_claims=JWCRYPTO_CHECKS)
        return caught.exception

    def check_control(self, alg):
        """The unmodified token passes all three, so each rejection is the defect's doing."""
        token = pyjwt_sign(alg, standard_claims())
        r = self.writ_verify(token, self.jwks_path)
        self.assertEqual(r.code, 0, r.err)
        private_key, _, _ = python_keys()[alg]
        pyjwt.decode(token, key=private_key.public_key(), algorithms=[alg], audience=AUDIENCE,
                     issuer=ISSUER)
        jwc_jwt.JWT(jwt=token, key=jwcrypto_public_jwk(alg), algs=[alg],
                    check_claims=JWCRYPTO_CHECKS)

    def check_rejection(self, case, alg):
        make_token, reason, pyjwt_exception = REJECTION_CASES[case]
        token = make_token(alg)
        self.assert_writ_rejects(token, reason)
        self.assert_pyjwt_rejects(alg, token, pyjwt_exception)
        self.assert_jwcrypto_rejects(alg, token)

    def check_hs256_with_hmac_allowed(self, alg):
        """Even a verifier that allows HS256 refuses a public key as the secret."""
        private_key, _, _ = python_keys()[alg]
        token = hs256_with_public_pem(alg, standard_claims())
        with self.assertRaises(pyjwt.InvalidKeyError):
            pyjwt.decode(token, key=public_pem(private_key), algorithms=["HS256"],
                         audience=AUDIENCE, issuer=ISSUER)
        with self.assertRaises((JWException, ValueError, TypeError)):
            jwc_jwt.JWT(jwt=token, key=jwcrypto_public_jwk(alg), algs=["HS256"],
                        check_claims=JWCRYPTO_CHECKS)


# ---------------------------------------------------------------------------
# RFC 7638 thumbprints.


class ThumbprintTest(WritTestCase):
    """`writ jwk thumbprint` equals jwcrypto's JWK.thumbprint()."""

    def thumbprint(self, jwk_json):
        path = self.write(f"tp-{secrets.token_hex(4)}.jwk", jwk_json)
        return self.writ_ok("jwk", "thumbprint", "--jwk", path).out.strip()

    def test_rfc7638_example(self):
        # RFC 7638 section 3.1.
        jwk = {
            "kty": "RSA",
            "n": ("0vx7agoebGcQSuuPiLJXZptN9nndrQmbXEps2aiAFbWhM78LhWx4cbbfAAtVT86zwu1RK7aPFFxuhDR1"
                  "L6tSoc_BJECPebWKRXjBZCiFV4n3oknjhMstn64tZ_2W-5JsGY4Hc5n9yBXArwl93lqt7_RN5w6Cf0h4"
                  "QyQ5v-65YGjQR0_FDW2QvzqY368QQMicAtaSqzs8KJZgnYb9c7d0zgdAZHzu6qMQvRL5hajrn1n91CbO"
                  "pbISD08qNLyrdkt-bFTWhAI4vMQFh6WeZu0fM4lFd2NcRwr3XPksINHaQ-G_xBniIqbw0Ls1jF44-csF"
                  "Cur-kEgU8awapJzKnqDKgw"),
            "e": "AQAB",
            "alg": "RS256",
            "kid": "2011-04-29",
        }
        expected = "NzbLsXh8uDCcd-6MNwXF4W_7noWXFZAfHkxZsRGC9Xs"
        self.assertEqual(jwc_jwk.JWK(**jwk).thumbprint(), expected)
        self.assertEqual(self.thumbprint(json.dumps(jwk)), expected)

    def check_thumbprint_of_writ_jwk(self, alg):
        _, jwk_text = writ_key(alg)
        expected = jwc_jwk.JWK(**json.loads(jwk_text)).thumbprint()
        self.assertEqual(self.thumbprint(jwk_text), expected)

    def check_thumbprint_of_jwcrypto_jwk(self, alg):
        jwk = jwcrypto_public_jwk(alg)
        self.assertEqual(self.thumbprint(jwk.export_public()), jwk.thumbprint())

    def check_default_kid_is_thumbprint(self, alg):
        key_path, jwk_text = writ_key(alg)
        args = ["jwk", "--key", key_path]
        if alg.startswith(("RS", "PS")):
            args += ["--alg", alg]  # RSA keys do not imply an algorithm
        default = json.loads(self.writ_ok(*args).out)
        self.assertEqual(default["kid"], jwc_jwk.JWK(**json.loads(jwk_text)).thumbprint())


# ---------------------------------------------------------------------------
# One test method per (check, algorithm), so failures name both.


def _add_per_algorithm_tests(cls, check_names):
    for check in check_names:
        for alg in ALGORITHMS:
            def test(self, check=check, alg=alg):
                getattr(self, check)(alg)
            name = f"test_{check[len('check_'):]}_{alg}"
            test.__name__ = name
            setattr(cls, name, test)


_add_per_algorithm_tests(WritSignsTest, ["check_writ_signs", "check_writ_jwk_set",
                                         "check_keygen_pem"])
_add_per_algorithm_tests(PythonSignsTest, ["check_jwks_export", "check_pyjwt_signs",
                                           "check_jwcrypto_signs",
                                           "check_pyjwt_signs_without_kid"])
_add_per_algorithm_tests(RejectionTest, ["check_control", "check_hs256_with_hmac_allowed"])
_add_per_algorithm_tests(ThumbprintTest, ["check_thumbprint_of_writ_jwk",
                                          "check_thumbprint_of_jwcrypto_jwk",
                                          "check_default_kid_is_thumbprint"])
for _case in REJECTION_CASES:
    for _alg in ALGORITHMS:
        def _test(self, case=_case, alg=_alg):
            self.check_rejection(case, alg)
        _test.__name__ = f"test_rejects_{_case}_{_alg}"
        setattr(RejectionTest, _test.__name__, _test)


def main():
    global WRIT
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0], add_help=False)
    parser.add_argument("--writ", default=os.environ.get("WRIT_CLI"),
                        help="path of the writ binary (default: $WRIT_CLI)")
    args, rest = parser.parse_known_args()
    if not args.writ:
        sys.exit("jose_interop_test: FAILED: give the writ binary with --writ or WRIT_CLI")
    WRIT = os.path.abspath(args.writ)
    if not os.access(WRIT, os.X_OK):
        sys.exit(f"jose_interop_test: FAILED: {WRIT} is not an executable writ binary")
    print(f"writ: {WRIT}\nPyJWT {pyjwt.__version__}, jwcrypto {jwc_version()}, "
          f"cryptography {cryptography_version()}, Python {sys.version.split()[0]}",
          file=sys.stderr)
    unittest.main(argv=[sys.argv[0], *rest])


def jwc_version():
    try:
        from importlib.metadata import version
        return version("jwcrypto")
    except Exception:  # pylint: disable=broad-except
        return "unknown"


def cryptography_version():
    import cryptography
    return cryptography.__version__


if __name__ == "__main__":
    main()
