#!/usr/bin/python3
"""Check an X.509-SVID against the SPIFFE X509-SVID rules, independently of Writ.

Written with Debian's python3-cryptography (38) only, so it shares no code with
the issuer's OpenSSL path. Checks (X509-SVID.md sections 2-5, and Writ's own
promises):
  - the leaf chains to a certificate of --bundle: issuer name, authority key
    identifier and signature (ECDSA / RSA PKCS#1 v1.5 / Ed25519) checked here,
    through --chain intermediates when given;
  - exactly one URI SAN, a valid spiffe:// ID (trust domain [a-z0-9._-], path
    segments [A-Za-z0-9._-], no empty / "." / ".." segment, no trailing slash,
    at most 2048 bytes), in --trust-domain and equal to --expect-id if given;
  - basicConstraints cA=false (critical); keyUsage critical, digitalSignature,
    no keyCertSign or cRLSign; extKeyUsage serverAuth and clientAuth;
  - a positive serial of at least 64 bits; valid now; never outliving its
    issuer; every CA on the way has cA=true and keyCertSign;
  - with --facts-oid: that extension is non-critical and decodes as
    SEQUENCE OF SEQUENCE { UTF8String, UTF8String } (printed as facts).

  svid_check.py --bundle bundle.pem --svid svid.pem [--chain chain.pem]
      [--trust-domain acme.example] [--expect-id spiffe://...] [--facts-oid 1.2.3]

Exit 0 and a JSON summary on stdout when every check passes; exit 1 and one
line per violation on stderr otherwise; exit 2 for unreadable input.
"""

import argparse
import datetime
import json
import re
import sys

from cryptography import x509
from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives.asymmetric import ec, ed25519, padding, rsa
from cryptography.x509.oid import ExtendedKeyUsageOID

TRUST_DOMAIN_RE = re.compile(r"^[a-z0-9._-]+$")
SEGMENT_RE = re.compile(r"^[A-Za-z0-9._-]+$")


def load_pems(path):
    with open(path, "rb") as f:
        data = f.read()
    certs = []
    for block in re.findall(rb"-----BEGIN CERTIFICATE-----.+?-----END CERTIFICATE-----", data, re.S):
        certs.append(x509.load_pem_x509_certificate(block))
    return certs


def spiffe_id_problems(uri):
    problems = []
    if len(uri.encode()) > 2048:
        problems.append("SPIFFE ID longer than 2048 bytes")
    if not uri.startswith("spiffe://"):
        return problems + [f"URI SAN {uri!r} is not a spiffe:// ID"]
    rest = uri[len("spiffe://"):]
    domain, _, path = rest.partition("/")
    if not domain or not TRUST_DOMAIN_RE.match(domain):
        problems.append(f"trust domain {domain!r} is not lowercase [a-z0-9._-]")
    if "/" in rest:
        for segment in path.split("/"):
            if segment in ("", ".", ".."):
                problems.append(f"path segment {segment!r} is empty, '.' or '..' (or a trailing slash)")
            elif not SEGMENT_RE.match(segment):
                problems.append(f"path segment {segment!r} has characters outside [A-Za-z0-9._-]")
    return problems


def extension(cert, oid_class):
    try:
        return cert.extensions.get_extension_for_class(oid_class)
    except x509.ExtensionNotFound:
        return None


def signed_by(child, parent):
    """Returns a problem string, or None when parent's key signed child."""
    if child.issuer != parent.subject:
        return "issuer name does not match"
    aki = extension(child, x509.AuthorityKeyIdentifier)
    ski = extension(parent, x509.SubjectKeyIdentifier)
    if aki and ski and aki.value.key_identifier not in (None, ski.value.digest):
        return "authority key identifier does not match the issuer's subject key identifier"
    key = parent.public_key()
    try:
        if isinstance(key, ec.EllipticCurvePublicKey):
            key.verify(child.signature, child.tbs_certificate_bytes,
                       ec.ECDSA(child.signature_hash_algorithm))
        elif isinstance(key, rsa.RSAPublicKey):
            key.verify(child.signature, child.tbs_certificate_bytes, padding.PKCS1v15(),
                       child.signature_hash_algorithm)
        elif isinstance(key, ed25519.Ed25519PublicKey):
            key.verify(child.signature, child.tbs_certificate_bytes)
        else:
            return f"unsupported issuer key type {type(key).__name__}"
    except InvalidSignature:
        return "signature does not verify"
    return None


def not_after(cert):
    return cert.not_valid_after.replace(tzinfo=datetime.timezone.utc)


def not_before(cert):
    return cert.not_valid_before.replace(tzinfo=datetime.timezone.utc)


def check_ca(cert, label, problems):
    bc = extension(cert, x509.BasicConstraints)
    if bc is None or not bc.value.ca:
        problems.append(f"{label}: not a CA (basicConstraints cA is not true)")
    ku = extension(cert, x509.KeyUsage)
    if ku is not None and not ku.value.key_cert_sign:
        problems.append(f"{label}: keyUsage lacks keyCertSign")


def read_der(data, pos):
    """Returns (tag, content, next position) of one DER TLV; ValueError if malformed."""
    if pos + 2 > len(data):
        raise ValueError("truncated")
    tag, length = data[pos], data[pos + 1]
    pos += 2
    if length & 0x80:
        n = length & 0x7F
        if n == 0 or n > 4 or pos + n > len(data):
            raise ValueError("bad length")
        length = int.from_bytes(data[pos:pos + n], "big")
        pos += n
    if pos + length > len(data):
        raise ValueError("truncated")
    return tag, data[pos:pos + length], pos + length


def decode_facts(der):
    tag, body, end = read_der(der, 0)
    if tag != 0x30 or end != len(der):
        raise ValueError("not a single SEQUENCE")
    facts, pos = [], 0
    while pos < len(body):
        tag, pair, pos = read_der(body, pos)
        if tag != 0x30:
            raise ValueError("element is not a SEQUENCE")
        t1, name, p = read_der(pair, 0)
        t2, value, p = read_der(pair, p)
        if t1 != 0x0C or t2 != 0x0C or p != len(pair):
            raise ValueError("element is not SEQUENCE { UTF8String, UTF8String }")
        facts.append([name.decode("utf-8"), value.decode("utf-8")])
    return facts


def check(args):
    bundle = load_pems(args.bundle)
    chain = load_pems(args.chain) if args.chain else []
    svid = load_pems(args.svid)
    if not bundle or not svid:
        print("svid_check: no certificate in --bundle or --svid", file=sys.stderr)
        return 2
    leaf, chain = svid[0], svid[1:] + chain
    problems = []
    now = datetime.datetime.now(datetime.timezone.utc)

    # Path: leaf -> intermediates (as given) -> a bundle certificate.
    current, path = leaf, []
    for step in range(len(chain) + 1):
        root = next((r for r in bundle if signed_by(current, r) is None), None)
        if root is not None:
            path.append(root)
            break
        nxt = next((c for c in chain if c not in path and signed_by(current, c) is None), None)
        if nxt is None:
            problems.append("no path from the SVID to a bundle certificate: "
                            + (signed_by(current, bundle[0]) or "no issuer found"))
            break
        path.append(nxt)
        current = nxt
    for i, ca in enumerate(path):
        check_ca(ca, f"issuer #{i + 1} ({ca.subject.rfc4514_string()})", problems)
        if not_after(leaf) > not_after(ca):
            problems.append(f"the SVID outlives issuer #{i + 1}")

    san = extension(leaf, x509.SubjectAlternativeName)
    uris = san.value.get_values_for_type(x509.UniformResourceIdentifier) if san else []
    spiffe_id = uris[0] if len(uris) == 1 else None
    if len(uris) != 1:
        problems.append(f"expected exactly one URI SAN, found {len(uris)}")
    else:
        problems += spiffe_id_problems(spiffe_id)
        if args.trust_domain and not spiffe_id.startswith(f"spiffe://{args.trust_domain}/"):
            problems.append(f"{spiffe_id} is not in trust domain {args.trust_domain}")
        if args.expect_id and spiffe_id != args.expect_id:
            problems.append(f"SPIFFE ID {spiffe_id} is not the expected {args.expect_id}")

    bc = extension(leaf, x509.BasicConstraints)
    if bc is None or bc.value.ca or not bc.critical:
        problems.append("basicConstraints must be present, critical, with cA=false")
    ku = extension(leaf, x509.KeyUsage)
    if ku is None or not ku.critical or not ku.value.digital_signature:
        problems.append("keyUsage must be critical and include digitalSignature")
    elif ku.value.key_cert_sign or ku.value.crl_sign:
        problems.append("keyUsage must not include keyCertSign or cRLSign")
    eku = extension(leaf, x509.ExtendedKeyUsage)
    wanted = {ExtendedKeyUsageOID.SERVER_AUTH, ExtendedKeyUsageOID.CLIENT_AUTH}
    if eku is None or not wanted.issubset(set(eku.value)):
        problems.append("extKeyUsage must include serverAuth and clientAuth")
    if leaf.serial_number <= 0 or leaf.serial_number.bit_length() < 64:
        problems.append(f"serial has {leaf.serial_number.bit_length()} bits, fewer than 64")
    if not (not_before(leaf) <= now <= not_after(leaf)):
        problems.append(f"not valid now ({not_before(leaf)} .. {not_after(leaf)})")

    facts = None
    if args.facts_oid:
        try:
            ext = leaf.extensions.get_extension_for_oid(x509.ObjectIdentifier(args.facts_oid))
            if ext.critical:
                problems.append("the attested facts extension must not be critical")
            facts = decode_facts(ext.value.value)
        except x509.ExtensionNotFound:
            problems.append(f"no attested facts extension {args.facts_oid}")
        except (ValueError, UnicodeDecodeError) as e:
            problems.append(f"attested facts extension does not decode: {e}")

    for p in problems:
        print(f"svid_check: {p}", file=sys.stderr)
    if problems:
        return 1
    print(json.dumps({
        "spiffe_id": spiffe_id,
        "serial_hex": format(leaf.serial_number, "x"),
        "not_after": not_after(leaf).isoformat(),
        "path_length": len(path),
        "facts": facts,
    }))
    return 0


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--bundle", required=True)
    parser.add_argument("--svid", required=True)
    parser.add_argument("--chain")
    parser.add_argument("--trust-domain")
    parser.add_argument("--expect-id")
    parser.add_argument("--facts-oid")
    args = parser.parse_args()
    try:
        return check(args)
    except (OSError, ValueError) as e:
        print(f"svid_check: cannot read input: {e}", file=sys.stderr)
        return 2


if __name__ == "__main__":
    sys.exit(main())
