#!/usr/bin/env python3
"""The writ-issuer binary as an operator runs it: --check-config, a bad config,
start with --config on free ports, /healthz and discovery over HTTP, SIGHUP
with a broken and then a good policy set, SIGTERM, and the ledger readable by
`writ audit list` afterwards.

  issuer_smoke_test.py --issuer BUILD/writ-issuer --writ BUILD/writ --allocator tcmalloc
"""
import argparse
import json
import os
import re
import shutil
import signal
import subprocess
import sys
import tempfile
import time
import urllib.request

POLICY = """
rules:
  - name: smoke
    issuer: ci
    subject: "job:1"
    grant:
      audiences: [aud]
      scopes: [read]
tests:
  - name: job 1 may read
    identity: {issuer: ci, subject: "job:1"}
    request: {audience: aud, scopes: [read]}
    expect: {decision: allow, rule: smoke}
"""

JWKS = ('{"keys":[{"kty":"EC","crv":"P-256","kid":"k","alg":"ES256",'
        '"x":"zh49oxB88xhk-G5Ahu5etbb1Z9GVhWjRUa9Aki8KFLo",'
        '"y":"W3ptg3xrtdL5_99pZn_xU2mOMuwc5bXswb4zEENnAq8"}]}')

CONFIG = """
http: {port: 0}
grpc: {port: 0}
data_dir: data
policy_dir: policies
trusted_issuers:
  - name: ci
    issuer: https://ci.example
    audiences: [writ]
    algorithms: [ES256]
    static_jwks_file: ci-jwks.json
"""


def fail(msg):
    print("FAIL:", msg)
    sys.exit(1)


def wait_for(path, pattern, proc, seconds=20):
    deadline = time.time() + seconds
    while time.time() < deadline:
        with open(path) as f:
            text = f.read()
        m = re.search(pattern, text)
        if m:
            return m
        if proc.poll() is not None:
            fail(f"writ-issuer exited ({proc.returncode}) before printing {pattern!r}:\n{text}")
        time.sleep(0.05)
    fail(f"timed out waiting for {pattern!r} in:\n{open(path).read()}")


def get(url):
    with urllib.request.urlopen(url, timeout=5) as r:
        return r.status, r.read().decode()


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--issuer", required=True)
    ap.add_argument("--writ", required=True)
    ap.add_argument("--allocator", required=True, choices=["tcmalloc", "system"],
                    help="the malloc the build linked in (WRIT_MALLOC)")
    args = ap.parse_args()
    work = tempfile.mkdtemp(prefix="writ-smoke-")
    try:
        os.mkdir(os.path.join(work, "policies"))
        with open(os.path.join(work, "policies", "smoke.yaml"), "w") as f:
            f.write(POLICY)
        with open(os.path.join(work, "ci-jwks.json"), "w") as f:
            f.write(JWKS)
        config = os.path.join(work, "writ.yaml")
        with open(config, "w") as f:
            f.write(CONFIG)

        # A typo is refused with the file, line, column and field.
        bad = os.path.join(work, "bad.yaml")
        with open(bad, "w") as f:
            f.write("http: {prot: 0}\n")
        r = subprocess.run([args.issuer, "--config", bad], capture_output=True, text=True)
        if r.returncode != 1 or not re.search(r"bad\.yaml:1:\d+: http\.prot", r.stderr):
            fail(f"bad config: rc={r.returncode} stderr={r.stderr!r}")
        r = subprocess.run([args.issuer, "--config", config, "--check-config"],
                           capture_output=True, text=True)
        if r.returncode != 0 or "is valid" not in r.stdout:
            fail(f"--check-config: rc={r.returncode} {r.stdout!r} {r.stderr!r}")

        log_path = os.path.join(work, "issuer.log")
        with open(log_path, "w") as log:
            proc = subprocess.Popen([args.issuer, "--config", config], stdout=log,
                                    stderr=subprocess.STDOUT, cwd=work)
        try:
            m = wait_for(log_path, r"HTTP:\s+http://127\.0\.0\.1:(\d+)", proc)
            wait_for(log_path, r"ready \(TERM", proc)
            # The allocator the build chose is the one that serves malloc
            # (printed before "ready").
            banner = open(log_path).read()
            if not re.search(r"allocator:\s+" + args.allocator + r"\n", banner):
                fail(f"expected allocator {args.allocator!r} in the banner:\n{banner}")
            base = f"http://127.0.0.1:{m.group(1)}"
            status, body = get(base + "/healthz")
            if status != 200:
                fail(f"/healthz {status}")
            status, body = get(base + "/.well-known/openid-configuration")
            if json.loads(body)["issuer"] != base:
                fail(f"discovery issuer {body}")
            status, body = get(base + "/readyz")
            if status != 200:
                fail(f"/readyz {status} {body}")

            # A broken set is refused; the server keeps serving.
            with open(os.path.join(work, "policies", "smoke.yaml"), "w") as f:
                f.write("rules: [,]\n")
            proc.send_signal(signal.SIGHUP)
            wait_for(log_path, r"policy reload refused", proc)
            if get(base + "/healthz")[0] != 200:
                fail("not serving after a refused reload")
            # A good set is taken.
            with open(os.path.join(work, "policies", "smoke.yaml"), "w") as f:
                f.write(POLICY)
            proc.send_signal(signal.SIGHUP)
            wait_for(log_path, r"policies reloaded", proc)

            proc.send_signal(signal.SIGTERM)
            rc = proc.wait(timeout=20)
            if rc != 0:
                fail(f"exit code after SIGTERM: {rc}\n{open(log_path).read()}")
            wait_for(log_path, r"stopped, ledger closed", proc)
        finally:
            if proc.poll() is None:
                proc.kill()

        key = os.path.join(work, "data", "keys", "jwt-signing.pem")
        if os.stat(key).st_mode & 0o777 != 0o600:
            fail("signing key is not 0600")
        r = subprocess.run([args.writ, "audit", "list", "--ledger",
                            os.path.join(work, "data", "ledger")], capture_output=True, text=True)
        if r.returncode != 0:
            fail(f"writ audit list after shutdown: {r.returncode} {r.stderr!r}")
        print("PASS: writ-issuer smoke test")
    finally:
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
