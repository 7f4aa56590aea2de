#!/usr/bin/env bash
# scripts/deps.sh: installs the Debian 12 packages Parley builds and tests
# with, and the npm packages of the test suite.  Sourced by scripts/run and
# scripts/test; safe to run again (it skips what is already there).
set -euo pipefail

PARLEY_BUILD_PKGS=(
  build-essential meson ninja-build pkg-config
  libglib2.0-dev libwebsockets-dev libjansson-dev libsqlite3-dev libssl-dev
  libnice-dev libsrtp2-dev libopus-dev libvpx-dev
)
PARLEY_TEST_PKGS=(libcmocka-dev nodejs npm chromium python3-aiortc python3-websockets iproute2 nftables)
# libFuzzer targets (tests/fuzz): clang, and libFuzzer itself, which clang-14
# only recommends (libclang-rt-14-dev, in bookworm main).
PARLEY_TEST_PKGS+=(clang libclang-rt-14-dev)

pl_apt_install() {
  local missing=()
  for p in "$@"; do
    dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
  done
  # node and npm may come from elsewhere on the machine; only install them when absent.
  local filtered=()
  for p in "${missing[@]}"; do
    case "$p" in
      nodejs) command -v node >/dev/null 2>&1 || filtered+=("$p") ;;
      npm) command -v npm >/dev/null 2>&1 || filtered+=("$p") ;;
      *) filtered+=("$p") ;;
    esac
  done
  [ ${#filtered[@]} -eq 0 ] && return 0
  local sudo=""
  [ "$(id -u)" -ne 0 ] && sudo="sudo"
  echo "== installing: ${filtered[*]}"
  $sudo apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq --no-install-recommends "${filtered[@]}" >/dev/null
}

pl_npm_install() {
  local top
  top="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
  (cd "$top" && npm ci --no-audit --no-fund --loglevel=error >/dev/null)
}
