#!/usr/bin/env bash
# Installs the Debian packages the build, the tests and the benchmarks need.
# Idempotent: does nothing when everything is already installed.
set -euo pipefail

PACKAGES=(
  build-essential cmake pkg-config
  libmicrohttpd-dev libjansson-dev libsqlite3-dev libpq-dev libsodium-dev
  libcurl4-openssl-dev libcmocka-dev libphonenumber-dev libyaml-dev
  postgresql postgresql-contrib postgresql-client sqlite3 curl
  nodejs npm
  wrk nginx-light
)

missing=()
for p in "${PACKAGES[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed' || missing+=("$p")
done
# nodejs may come from elsewhere than Debian; only require a working node >= 18.
if command -v node >/dev/null 2>&1; then
  missing=("${missing[@]/nodejs}"); missing=("${missing[@]/npm}")
fi
list=()
for p in "${missing[@]}"; do [ -n "$p" ] && list+=("$p"); done
[ ${#list[@]} -eq 0 ] && exit 0

echo "setup: installing ${list[*]}" >&2
SUDO=""
[ "$(id -u)" -ne 0 ] && SUDO="sudo"
export DEBIAN_FRONTEND=noninteractive
$SUDO apt-get update -qq
$SUDO apt-get install -y -qq --no-install-recommends "${list[@]}" >/dev/null
