#!/usr/bin/env bash
# `make bench`: every benchmark script in this folder, one after another.
set -euo pipefail
cd "$(dirname "$0")"
for script in health.sh contacts.sh tokens.sh reports.sh webhooks.sh; do
  [ -x "$script" ] || continue
  echo "== $script"
  "./$script"
  echo
done
