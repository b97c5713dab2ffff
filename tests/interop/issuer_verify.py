#!/usr/bin/python3
"""Verify a Writ access token the way an independent relying party would.

Given only the issuer URL, it fetches <issuer>/.well-known/openid-configuration,
then the jwks_uri named there, and verifies the token with PyJWT (Debian's
python3-jwt): algorithm ES256, signature by a key of that JWKS (by "kid"),
"iss" equal to the issuer, "aud" containing --audience, "exp" present and not
past, and the JOSE header "typ" equal to "at+jwt" (RFC 9068).

  issuer_verify.py --issuer http://127.0.0.1:8080 --token eyJ... --audience https://api

Exits 0 and prints the claims (JSON) on success; exits 1 with a message on
stderr when the token does not verify, 2 when the documents cannot be had.
"""

import argparse
import json
import sys
import urllib.request

import jwt

TIMEOUT_SECONDS = 5


def fetch_json(url):
    # No proxies: the issuer under test is on loopback.
    opener = urllib.request.build_opener(urllib.request.ProxyHandler({}))
    with opener.open(url, timeout=TIMEOUT_SECONDS) as response:
        if response.status != 200:
            raise ValueError(f"GET {url}: HTTP {response.status}")
        return json.loads(response.read().decode("utf-8"))


def verify(issuer, token, audience):
    """Returns the verified claims; raises jwt.PyJWTError or ValueError."""
    discovery = fetch_json(issuer.rstrip("/") + "/.well-known/openid-configuration")
    if discovery.get("issuer") != issuer:
        raise ValueError(f"discovery names issuer {discovery.get('issuer')!r}, not {issuer!r}")
    jwks_uri = discovery.get("jwks_uri")
    if not isinstance(jwks_uri, str):
        raise ValueError("discovery has no jwks_uri")
    jwks = jwt.PyJWKSet.from_dict(fetch_json(jwks_uri))

    header = jwt.get_unverified_header(token)
    if header.get("alg") != "ES256":
        raise jwt.InvalidAlgorithmError(f"alg is {header.get('alg')!r}, not ES256")
    if header.get("typ") != "at+jwt":
        raise jwt.InvalidTokenError(f"typ is {header.get('typ')!r}, not at+jwt")
    kid = header.get("kid")
    keys = [k for k in jwks.keys if k.key_id == kid]
    if len(keys) != 1:
        raise jwt.InvalidTokenError(f"kid {kid!r} is not in the JWKS at {jwks_uri}")
    return jwt.decode(
        token,
        key=keys[0].key,
        algorithms=["ES256"],
        audience=audience,
        issuer=issuer,
        options={"require": ["exp", "iss", "aud"], "verify_signature": True},
    )


def main(argv):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--issuer", required=True, help="the issuer URL (its 'iss')")
    parser.add_argument("--token", required=True, help="the access token (compact JWS)")
    parser.add_argument("--audience", required=True, help="the audience this party accepts")
    args = parser.parse_args(argv)
    try:
        claims = verify(args.issuer, args.token, args.audience)
    except jwt.PyJWTError as e:
        print(f"issuer_verify: token rejected: {type(e).__name__}: {e}", file=sys.stderr)
        return 1
    except (OSError, ValueError) as e:
        print(f"issuer_verify: cannot get the issuer's keys: {e}", file=sys.stderr)
        return 2
    print(json.dumps(claims, sort_keys=True))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
