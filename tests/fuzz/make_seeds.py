#!/usr/bin/python3
"""Writes the seed corpora for the JOSE fuzzers (run once; output is checked in).

Uses Debian's python3-jwt, python3-jwcrypto and python3-cryptography so the
seeds come from an implementation other than Writ's.
"""
import base64
import json
import os
import sys

import jwt
from cryptography.hazmat.primitives.asymmetric import ec, ed25519, rsa
from jwcrypto import jwk

HERE = os.path.dirname(os.path.abspath(__file__))


def b64(data):
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def write(target, name, data):
    d = os.path.join(HERE, "corpus", target)
    os.makedirs(d, exist_ok=True)
    with open(os.path.join(d, name), "wb") as f:
        f.write(data if isinstance(data, bytes) else data.encode())


claims = {
    "iss": "https://token.actions.githubusercontent.com",
    "sub": "repo:acme/app:ref:refs/heads/main",
    "aud": ["https://writ.example"],
    "exp": 1900000000, "iat": 1899999700, "nbf": 1899999700,
    "repository": "acme/app", "ref": "refs/heads/main", "run_id": "42",
    "nested": {"a": {"b": [1, 2.5, True, None, "x"]}},
}
keys = {
    "RS256": rsa.generate_private_key(65537, 2048),
    "PS256": rsa.generate_private_key(65537, 2048),
    "ES256": ec.generate_private_key(ec.SECP256R1()),
    "ES384": ec.generate_private_key(ec.SECP384R1()),
    "ES512": ec.generate_private_key(ec.SECP521R1()),
    "EdDSA": ed25519.Ed25519PrivateKey.generate(),
}
for alg, key in keys.items():
    write("jws_parse", f"valid-{alg}.jwt", jwt.encode(claims, key, algorithm=alg, headers={"kid": alg}))

header = lambda h: b64(json.dumps(h).encode())
payload = b64(json.dumps(claims).encode())
sig = b64(b"\x01" * 64)
write("jws_parse", "alg-none.jwt", f"{header({'alg': 'none'})}.{payload}.")
write("jws_parse", "alg-hs256.jwt", f"{header({'alg': 'HS256'})}.{payload}.{sig}")
write("jws_parse", "crit-unknown.jwt", f"{header({'alg': 'ES256', 'crit': ['x'], 'x': 1})}.{payload}.{sig}")
write("jws_parse", "jwe-five-segments.jwt", f"{header({'alg': 'RSA-OAEP', 'enc': 'A256GCM'})}.a.b.c.d")
write("jws_parse", "duplicate-alg.jwt", b64(b'{"alg":"ES256","alg":"none"}') + f".{payload}.{sig}")
write("jws_parse", "kid-path.jwt", f"{header({'alg': 'ES256', 'kid': '../../etc/passwd'})}.{payload}.{sig}")
write("jws_parse", "jku-elsewhere.jwt", f"{header({'alg': 'ES256', 'jku': 'https://evil.example/jwks'})}.{payload}.{sig}")
write("jws_parse", "padded-base64.jwt", f"{header({'alg': 'ES256'})}==.{payload}.{sig}")
deep = b64(b'{"a":' * 40 + b"1" + b"}" * 40)
write("jws_parse", "deep-nesting.jwt", f"{header({'alg': 'ES256'})}.{deep}.{sig}")

jwks = {"keys": []}
for alg, key in keys.items():
    k = jwk.JWK.from_pyca(key.public_key())
    d = json.loads(k.export_public())
    d.update({"kid": alg, "alg": alg, "use": "sig"})
    jwks["keys"].append(d)
write("jwks_parse", "mixed-keys.json", json.dumps(jwks))
write("jwks_parse", "single-ec.json", json.dumps(jwks["keys"][2]))
no_alg = dict(jwks["keys"][0]); no_alg.pop("alg")
write("jwks_parse", "rsa-no-alg-entra-style.json", json.dumps({"keys": [no_alg]}))
write("jwks_parse", "oct-key.json", json.dumps({"keys": [{"kty": "oct", "k": "c2VjcmV0"}]}))
write("jwks_parse", "enc-key.json", json.dumps({"keys": [dict(jwks["keys"][2], use="enc")]}))
write("jwks_parse", "duplicate-kid.json", json.dumps({"keys": [jwks["keys"][2], jwks["keys"][2]]}))
write("jwks_parse", "not-on-curve.json", json.dumps({"keys": [dict(jwks["keys"][2], y=b64(b"\x01" * 32))]}))
write("jwks_parse", "empty.json", "{}")
# CSRs, DER and PEM, from python-cryptography.
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.x509.oid import NameOID

for name, key in [("p256", keys["ES256"]), ("ed25519", keys["EdDSA"]), ("rsa2048", keys["RS256"])]:
    builder = x509.CertificateSigningRequestBuilder().subject_name(
        x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "workload")])
    ).add_extension(
        x509.SubjectAlternativeName([x509.UniformResourceIdentifier("spiffe://acme.example/ci/app")]),
        critical=False,
    )
    csr = builder.sign(key, None if name == "ed25519" else hashes.SHA256())
    write("csr_parse", f"{name}.der", csr.public_bytes(serialization.Encoding.DER))
    write("csr_parse", f"{name}.pem", csr.public_bytes(serialization.Encoding.PEM))
write("csr_parse", "garbage.pem", "-----BEGIN CERTIFICATE REQUEST-----\nAAAA\n-----END CERTIFICATE REQUEST-----\n")

print("seeds written", file=sys.stderr)
