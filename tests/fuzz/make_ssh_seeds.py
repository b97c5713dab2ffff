#!/usr/bin/python3
"""Writes the seed corpus for the ssh_public_key fuzzer (run once; output is checked in).

Keys come from Debian's python3-cryptography (an OpenSSH encoder other than
Writ's); the defective lines are built from them by hand.
"""
import base64
import os
import struct

from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import dsa, ec, ed25519, rsa

OUT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "corpus", "ssh_public_key")


def write(name, data):
    os.makedirs(OUT, exist_ok=True)
    with open(os.path.join(OUT, name), "wb") as f:
        f.write(data if isinstance(data, bytes) else data.encode())


def line(key):
    return key.public_key().public_bytes(serialization.Encoding.OpenSSH,
                                         serialization.PublicFormat.OpenSSH).decode()


def blob(text):
    return base64.b64decode(text.split()[1])


def string(b):
    return struct.pack(">I", len(b)) + b


def encode(type_name, data, comment=" seed"):
    return type_name + " " + base64.b64encode(data).decode() + comment


keys = {
    "ed25519": ed25519.Ed25519PrivateKey.generate(),
    "ecdsa-p256": ec.generate_private_key(ec.SECP256R1()),
    "ecdsa-p384": ec.generate_private_key(ec.SECP384R1()),
    "ecdsa-p521": ec.generate_private_key(ec.SECP521R1()),
    "rsa-2048": rsa.generate_private_key(65537, 2048),
}
lines = {name: line(key) for name, key in keys.items()}
for name, text in lines.items():
    write(name + ".pub", text + " user@host\n")
write("rsa-1024-weak.pub", line(rsa.generate_private_key(65537, 1024)))
write("dsa.pub", line(dsa.generate_private_key(1024)))

ed = blob(lines["ed25519"])
p256 = blob(lines["ecdsa-p256"])
rsa_blob = blob(lines["rsa-2048"])
write("tabs-and-comment.pub", lines["ed25519"].replace(" ", "\t") + "\ta comment with spaces\r\n")
write("type-mismatch.pub", encode("ssh-rsa", ed))
write("truncated.pub", encode("ecdsa-sha2-nistp256", p256[:-5]))
write("trailing-bytes.pub", encode("ssh-rsa", rsa_blob + b"\x00\x00\x00\x00"))
write("unpadded-base64.pub", lines["ecdsa-p256"].rstrip("="))
write("two-lines.pub", lines["ed25519"] + "\n" + lines["ecdsa-p256"] + "\n")
off_curve = bytearray(p256)
off_curve[-1] ^= 1
write("p256-off-curve.pub", encode("ecdsa-sha2-nistp256", bytes(off_curve)))
point = p256[-65:]
compressed = p256[:-69] + string(bytes([2 + (point[-1] & 1)]) + point[1:33])
write("p256-compressed.pub", encode("ecdsa-sha2-nistp256", compressed))
cert_type = b"ssh-ed25519-cert-v01@openssh.com"
cert = string(cert_type) + string(os.urandom(32)) + ed[len(string(b"ssh-ed25519")):]
write("certificate.pub", encode(cert_type.decode(), cert))
huge_length = b"\xff\xff\xff\xf0ssh-ed25519"
write("huge-length.pub", encode("ssh-ed25519", huge_length))
write("empty.pub", "")
print("ssh_public_key seeds written to", OUT)
