#!/usr/bin/env bash
# `make run`: migrate the embedded SQLite store under ./var, create the demo
# tenant on an empty store (printing its key once), then serve until Ctrl-C.
set -euo pipefail
cd "$(dirname "$0")/.."
BIN=${RINGNITY_BIN:-build/ringnity}
export RINGNITY_LISTEN=${RINGNITY_LISTEN:-127.0.0.1:8080}
"$BIN" migrate >/dev/null
"$BIN" demo init
echo "Serving on http://$RINGNITY_LISTEN (Ctrl-C stops). Logs are JSON lines on stderr."
exec "$BIN" serve
