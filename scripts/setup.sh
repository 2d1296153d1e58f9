#!/usr/bin/env bash
# Installs the Debian packages the build and the tests need; with --bench
# also those of the benchmarks (wrk, and nginx for the static baseline).
# Idempotent: does nothing when everything is already installed.
#
# The PostgreSQL server binaries are for the throwaway clusters the tests
# start themselves, and nginx is run by the benchmarks with a config of
# their own: installing them must not start the system-wide services, so
# the install runs with a policy-rc.d that refuses service starts, as
# Debian's container images do (Debian still enables them for the next boot).
set -euo pipefail

PACKAGES=(
  build-essential cmake pkg-config
  libmicrohttpd-dev libjansson-dev libsqlite3-dev libpq-dev libsodium-dev
  libcurl4-openssl-dev libcmocka-dev libphonenumber-dev libyaml-dev
  postgresql postgresql-contrib postgresql-client sqlite3 curl
  nodejs npm
)
[ "${1:-}" = --bench ] && PACKAGES+=(wrk nginx-light)

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
DENY=/usr/sbin/policy-rc.d
if [ ! -e "$DENY" ]; then
  printf '#!/bin/sh\n# scripts/setup.sh: no service starts while it installs\nexit 101\n' |
    $SUDO tee "$DENY" >/dev/null
  $SUDO chmod 755 "$DENY"
  trap '$SUDO rm -f "$DENY"' EXIT
fi
$SUDO apt-get update -qq
$SUDO apt-get install -y -qq --no-install-recommends "${list[@]}" >/dev/null
