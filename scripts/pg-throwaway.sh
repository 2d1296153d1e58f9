#!/usr/bin/env bash
# Throwaway PostgreSQL cluster for tests and benchmarks.
#
#   scripts/pg-throwaway.sh start DIR PORT   # prints postgres://postgres@127.0.0.1:PORT/ringnity
#   scripts/pg-throwaway.sh stop DIR         # stops the server and removes DIR
#
# The cluster trusts every local connection and runs with fsync off: it is for
# data nobody needs to keep. It listens on 127.0.0.1:PORT and on a unix socket
# inside DIR. initdb and pg_ctl refuse to run as root, so as root the cluster
# belongs to the `postgres` OS user. DIR is only ever deleted when it carries
# the marker file this script writes, so a typo cannot remove someone's data.
# PG_BINDIR overrides where the server binaries are found.
set -euo pipefail

MARKER=".ringnity-pg-throwaway"

die() {
    echo "pg-throwaway: $*" >&2
    exit 1
}

usage() {
    echo "usage: $0 start DIR PORT | stop DIR" >&2
    exit 2
}

# The newest installed server version, e.g. /usr/lib/postgresql/15/bin.
find_bindir() {
    if [ -n "${PG_BINDIR:-}" ]; then
        echo "$PG_BINDIR"
        return
    fi
    local dir
    dir=$(printf '%s\n' /usr/lib/postgresql/*/bin | sort -V | tail -n 1)
    if [ ! -x "$dir/initdb" ]; then
        die "no PostgreSQL server found (install postgresql)"
    fi
    echo "$dir"
}

# Runs a command as the cluster owner: ourselves, or `postgres` when root.
as_owner() {
    if [ "$(id -u)" -eq 0 ]; then
        runuser -u postgres -- "$@"
    else
        "$@"
    fi
}

# Stops whatever server a previous run left in DIR and deletes DIR.
remove_cluster() {
    local dir=$1
    [ -e "$dir" ] || return 0
    [ -d "$dir" ] || die "$dir exists and is not a directory"
    if [ -n "$(ls -A "$dir")" ] && [ ! -e "$dir/$MARKER" ]; then
        die "$dir is not empty and was not made by this script; refusing to delete it"
    fi
    if [ -f "$dir/data/postmaster.pid" ]; then
        (cd "$dir" && as_owner "$BINDIR/pg_ctl" -D "$dir/data" -m immediate -w stop \
            >/dev/null 2>&1) || kill_leftover "$dir"
    fi
    rm -rf "$dir"
}

# pg_ctl failed to stop it (owner changed, files damaged): signal the pid itself.
kill_leftover() {
    local pid
    pid=$(head -n 1 "$1/data/postmaster.pid" 2>/dev/null || true)
    case "$pid" in
        '' | *[!0-9]*) return 0 ;;
    esac
    kill -QUIT "$pid" 2>/dev/null || return 0
    for _ in $(seq 50); do
        kill -0 "$pid" 2>/dev/null || return 0
        sleep 0.1
    done
    kill -KILL "$pid" 2>/dev/null || true
}

pick_locale() {
    if locale -a 2>/dev/null | grep -qix 'c\.utf-\?8'; then
        echo "--locale=C.UTF-8"
    else
        echo "--no-locale"
    fi
}

start() {
    local dir=$1 port=$2
    case "$port" in
        '' | *[!0-9]*) die "PORT must be a number" ;;
    esac
    remove_cluster "$dir"
    mkdir -p "$dir"
    touch "$dir/$MARKER"
    if [ "$(id -u)" -eq 0 ]; then
        chown -R postgres:postgres "$dir"
        runuser -u postgres -- test -w "$dir" || die "user postgres cannot write $dir"
    fi
    chmod 700 "$dir"
    # Run from inside DIR: the owner may not be allowed into our working directory.
    cd "$dir"
    as_owner "$BINDIR/initdb" -D "$dir/data" -U postgres -A trust -E UTF8 "$(pick_locale)" \
        --no-sync >"$dir/initdb.log" 2>&1 || {
        cat "$dir/initdb.log" >&2
        die "initdb failed"
    }
    as_owner tee -a "$dir/data/postgresql.conf" >/dev/null <<EOF
listen_addresses = '127.0.0.1'
port = $port
unix_socket_directories = '$dir'
fsync = off
synchronous_commit = off
full_page_writes = off
max_connections = 200
EOF
    as_owner "$BINDIR/pg_ctl" -D "$dir/data" -l "$dir/server.log" -w -t 30 start >/dev/null || {
        tail -n 20 "$dir/server.log" >&2 || true
        die "server did not start (is port $port already taken?)"
    }
    as_owner "$BINDIR/psql" -X -q -h "$dir" -p "$port" -U postgres -d postgres \
        -v ON_ERROR_STOP=1 -c "CREATE DATABASE ringnity" >/dev/null
    echo "postgres://postgres@127.0.0.1:$port/ringnity"
}

[ $# -ge 2 ] || usage
BINDIR=$(find_bindir)
DIR=$(realpath -m "$2")
[ "$DIR" != "/" ] || die "refusing to use /"

case "$1" in
    start)
        [ $# -eq 3 ] || usage
        start "$DIR" "$3"
        ;;
    stop)
        [ $# -eq 2 ] || usage
        remove_cluster "$DIR"
        ;;
    *) usage ;;
esac
