#!/usr/bin/env bash
# setup.sh: installs every Debian package Writ needs to build, test and run.
#
# Idempotent: when every package is already installed it only checks and exits
# (well under a second). Needs root (or sudo) the first time. Nothing is
# downloaded outside Debian's package archive.
#
#   scripts/setup.sh          build + test dependencies
#   scripts/setup.sh --fuzz   also clang and libFuzzer's runtime for tests/fuzz
set -euo pipefail

packages=(
  # toolchain
  build-essential cmake ninja-build ccache pkg-config git
  # libraries Writ links
  libssl-dev libcurl4-openssl-dev librocksdb-dev
  libgrpc++-dev libprotobuf-dev protobuf-compiler protobuf-compiler-grpc
  libabsl-dev rapidjson-dev libyaml-cpp-dev libre2-dev libcpp-httplib-dev
  libgtest-dev libgmock-dev
  # tcmalloc (tcmalloc_minimal) for writ-issuer and issuer_load (WRIT_MALLOC)
  libgoogle-perftools-dev
  # test tools: independent JOSE/X.509 implementations and the openssl CLI
  openssl python3 python3-jwt python3-jwcrypto python3-cryptography
  # OpenSSH client and server: the SSH certificate login test runs a real sshd
  openssh-client openssh-server
  # the examples' run-local.sh scripts call HTTP APIs the way a CI step does
  curl
)
if [[ "${1:-}" == "--fuzz" ]]; then
  packages+=(clang libclang-rt-14-dev)
fi

missing=()
for p in "${packages[@]}"; do
  if ! dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed"; then
    missing+=("$p")
  fi
done
if ((${#missing[@]} == 0)); then
  exit 0
fi

echo "setup: installing ${#missing[@]} Debian packages: ${missing[*]}"
sudo_cmd=()
if [[ $(id -u) -ne 0 ]]; then sudo_cmd=(sudo); fi
export DEBIAN_FRONTEND=noninteractive
"${sudo_cmd[@]}" apt-get update -qq
"${sudo_cmd[@]}" apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
echo "setup: done"
