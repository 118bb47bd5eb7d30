#!/usr/bin/env bash
# Start, stop or report the private PostgreSQL cluster that the distributed-mode
# tests use.
#
#   scripts/services/postgres.sh start|stop|status
#
# The first start installs Debian's postgresql package with apt-get when no
# initdb is found under /usr/lib/postgresql, then creates a new cluster in
# .services/postgres/data. The system cluster (pg_ctlcluster 15 main) is
# neither used nor changed. The server listens on 127.0.0.1 only, with its
# unix socket in .services/postgres/, and has a superuser role `praetor` that
# owns the databases `praetor` and `praetor_test`.
#
# initdb and postgres reject root, so when this script runs as root they run as
# the `postgres` OS user, which then owns .services/postgres/. When that user
# cannot reach the repository (for example a clone under /root), or the socket
# path would be too long, the cluster lives in /tmp/praetor-postgres-<hash>
# instead and .services/postgres/data and .services/postgres/log link there.
#
# `start` prints `export VAR=value` lines on stdout and writes the same lines
# to .services/postgres/env, so a caller can run
#   eval "$(scripts/services/postgres.sh start)"
# Progress messages and errors go to stderr.
#
# Environment:
#   PRAETOR_TEST_PG_PORT           TCP port (default 55432)
#   PRAETOR_TEST_PG_START_TIMEOUT  seconds that start waits for the server (default 60)

set -euo pipefail

readonly STOP_TIMEOUT=60
# sun_path in struct sockaddr_un is 108 bytes on Linux, including the final NUL.
readonly MAX_SOCKET_PATH=107

SCRIPT_DIR=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
ROOT=$(cd "$SCRIPT_DIR/../.." && pwd)
readonly SCRIPT_DIR ROOT
readonly STATE_DIR="$ROOT/.services/postgres"
readonly PID_FILE="$STATE_DIR/pid"
readonly ENV_FILE="$STATE_DIR/env"

readonly PORT=${PRAETOR_TEST_PG_PORT:-55432}
readonly START_TIMEOUT=${PRAETOR_TEST_PG_START_TIMEOUT:-60}

readonly SERVICE=postgres SERVICE_LABEL=PostgreSQL
# LOG_FILE is set by set_paths, because the cluster directory is chosen at run time.
# shellcheck source=scripts/services/common.sh
source "$SCRIPT_DIR/common.sh"

require_number PRAETOR_TEST_PG_PORT "$PORT"
require_number PRAETOR_TEST_PG_START_TIMEOUT "$START_TIMEOUT"

if [ "$(id -u)" = 0 ]; then
    readonly DB_OS_USER=postgres
else
    readonly DB_OS_USER=
fi

# Run a command as the OS user that owns the cluster. The cd avoids warnings
# from a working directory that the postgres user cannot enter.
as_db_user() {
    if [ -n "$DB_OS_USER" ]; then
        (cd / && runuser -u "$DB_OS_USER" -- "$@")
    else
        "$@"
    fi
}

# Set PG_BIN to the bin directory of the newest installed PostgreSQL. With
# `install`, Debian's postgresql package is installed first when there is none.
# Otherwise the function fails when there is none.
find_postgres() {
    local initdb
    initdb=$(ls -d /usr/lib/postgresql/*/bin/initdb 2>/dev/null | sort -V | tail -n 1)
    if [ -z "$initdb" ]; then
        [ "${1:-}" = install ] || return 1
        [ "$(id -u)" = 0 ] ||
            die "no initdb under /usr/lib/postgresql; install the postgresql package, or run this script as root so it can use apt-get"
        log "no initdb under /usr/lib/postgresql; installing Debian's postgresql package with apt-get"
        apt-get update >&2
        DEBIAN_FRONTEND=noninteractive apt-get install -y postgresql >&2
        initdb=$(ls -d /usr/lib/postgresql/*/bin/initdb 2>/dev/null | sort -V | tail -n 1)
        [ -n "$initdb" ] || die "apt-get installed postgresql, but no initdb appeared under /usr/lib/postgresql"
    fi
    PG_BIN=$(dirname "$initdb")
    if [ -n "$DB_OS_USER" ]; then
        id -u "$DB_OS_USER" >/dev/null 2>&1 ||
            die "the OS user '$DB_OS_USER' does not exist; reinstall the postgresql package to create it"
    fi
}

# Set RUN_DIR, the directory that contains the cluster's data, log and unix socket.
# It is STATE_DIR unless the postgres user cannot write there or the socket path
# would not fit in sun_path.
choose_run_dir() {
    local socket_path="$STATE_DIR/.s.PGSQL.$PORT" fallback
    mkdir -p "$STATE_DIR"
    if [ -n "$DB_OS_USER" ]; then
        chown "$DB_OS_USER:" "$STATE_DIR"
    fi
    if [ "${#socket_path}" -le "$MAX_SOCKET_PATH" ] && as_db_user test -w "$STATE_DIR" -a -x "$STATE_DIR"; then
        RUN_DIR=$STATE_DIR
        return 0
    fi

    fallback="/tmp/praetor-postgres-$(printf '%s' "$ROOT" | sha1sum | cut -c1-12)"
    # /tmp is shared, so reject a symbolic link planted there, because chown would follow it.
    [ ! -L "$fallback" ] || die "$fallback is a symbolic link; remove it and run start again"
    mkdir -p "$fallback"
    chmod 700 "$fallback"
    if [ -n "$DB_OS_USER" ]; then
        chown "$DB_OS_USER:" "$fallback"
    fi
    as_db_user test -w "$fallback" || die "$fallback is not writable by the OS user that runs PostgreSQL"
    ln -sfn "$fallback/data" "$STATE_DIR/data"
    ln -sfn "$fallback/log" "$STATE_DIR/log"
    RUN_DIR=$fallback
}

set_paths() {
    DATA_DIR="$RUN_DIR/data"
    LOG_FILE="$RUN_DIR/log"
    CONFIG_FILE="$DATA_DIR/praetor-test.conf"
}

# Print the postmaster pid, or fail when no server runs on this cluster.
# pg_ctl status checks that the pid in postmaster.pid is alive.
running_pid() {
    [ -f "$DATA_DIR/postmaster.pid" ] || return 1
    as_db_user "$PG_BIN/pg_ctl" status -D "$DATA_DIR" >/dev/null 2>&1 || return 1
    head -n 1 "$DATA_DIR/postmaster.pid"
}

# Print the port of the running server (line 4 of postmaster.pid).
running_port() {
    sed -n 4p "$DATA_DIR/postmaster.pid"
}

print_env() {
    cat <<EOF
export PRAETOR_TEST_DATABASE_URL=postgresql+psycopg://praetor@127.0.0.1:$PORT/praetor_test
export PRAETOR_TEST_PG_DSN=postgresql://praetor@127.0.0.1:$PORT/praetor_test
EOF
}

init_cluster() {
    local major
    major=$(basename "$(dirname "$PG_BIN")")
    if [ -f "$DATA_DIR/PG_VERSION" ]; then
        [ "$(<"$DATA_DIR/PG_VERSION")" = "$major" ] ||
            die "$DATA_DIR was made by PostgreSQL $(<"$DATA_DIR/PG_VERSION"), but $PG_BIN is PostgreSQL $major; delete $DATA_DIR to make a new cluster"
        return 0
    fi

    log "creating a PostgreSQL $major cluster in $DATA_DIR"
    rm -rf "$DATA_DIR"
    # Trust authentication lets any local user connect as any role without a
    # password. That is acceptable only because this is a throwaway test cluster
    # that listens on 127.0.0.1 and a private socket directory.
    as_db_user "$PG_BIN/initdb" -D "$DATA_DIR" -U postgres -A trust -E UTF8 --locale=C --no-sync \
        >>"$LOG_FILE" 2>&1 || die "initdb failed; see $LOG_FILE"
    echo "include 'praetor-test.conf'" >>"$DATA_DIR/postgresql.conf"
}

write_config() {
    cat >"$CONFIG_FILE" <<EOF
# Written by scripts/services/postgres.sh on every start, so edits here are lost.
listen_addresses = '127.0.0.1'
port = $PORT
unix_socket_directories = '$RUN_DIR'

# A crash may lose or corrupt this throwaway test cluster, so the writes that
# make commits durable are skipped for speed. Never copy these to a real server.
fsync = off
synchronous_commit = off
full_page_writes = off

# Raised from the default of 100 for test runs that open several connection pools.
max_connections = 200
EOF
    if [ -n "$DB_OS_USER" ]; then
        chown "$DB_OS_USER:" "$CONFIG_FILE"
    fi
}

# Create the praetor role and databases unless they exist.
create_role_and_databases() {
    "$PG_BIN/psql" -X -q -v ON_ERROR_STOP=1 -h "$RUN_DIR" -p "$PORT" -U postgres -d postgres \
        >/dev/null <<'EOF'
SELECT 'CREATE ROLE praetor LOGIN SUPERUSER'
WHERE NOT EXISTS (SELECT FROM pg_roles WHERE rolname = 'praetor')
\gexec
SELECT format('CREATE DATABASE %I OWNER praetor', name)
FROM unnest(ARRAY['praetor', 'praetor_test']) AS name
WHERE NOT EXISTS (SELECT FROM pg_database WHERE datname = name)
\gexec
EOF
}

# Log the error message and the end of the log, then exit 1. Unlike fail_start
# in common.sh, this neither stops the server nor removes the pid file.
# NOTE: when pg_ctl times out or a later step fails, the server may keep
# running until `stop`.
fail_pg_start() {
    log_start_failure "$1"
    exit 1
}

cmd_start() {
    local pid running started_at=$EPOCHREALTIME
    find_postgres install
    choose_run_dir
    set_paths
    if pid=$(running_pid); then
        running=$(running_port)
        [ "$running" = "$PORT" ] ||
            die "PostgreSQL is already running (pid $pid) on port $running, not $PORT; run '$0 stop' first"
        log "already running (pid $pid) on 127.0.0.1:$PORT"
        echo "$pid" >"$PID_FILE"
        write_env
        return 0
    fi
    rm -f "$PID_FILE" "$ENV_FILE"
    port_open "$PORT" &&
        die "port $PORT on 127.0.0.1 is in use by another process; stop it or set PRAETOR_TEST_PG_PORT"

    as_db_user touch "$LOG_FILE"
    : >"$LOG_FILE"
    init_cluster
    write_config

    log "starting PostgreSQL on 127.0.0.1:$PORT (log: $LOG_FILE)"
    # pg_ctl -w returns once the server accepts connections, or fails after -t seconds.
    as_db_user "$PG_BIN/pg_ctl" start -D "$DATA_DIR" -l "$LOG_FILE" -w -t "$START_TIMEOUT" -s >&2 ||
        fail_pg_start "PostgreSQL did not start within $START_TIMEOUT s; see $LOG_FILE"
    pid=$(running_pid) || fail_pg_start "PostgreSQL exited right after start; see $LOG_FILE"
    echo "$pid" >"$PID_FILE"

    create_role_and_databases || fail_pg_start "creating the praetor role and databases failed"
    "$PG_BIN/psql" -X -q -At -d "postgresql://praetor@127.0.0.1:$PORT/praetor_test" -c 'SELECT 1' >/dev/null ||
        fail_pg_start "PostgreSQL runs, but the praetor role cannot connect to praetor_test over TCP"

    log "running (pid $pid) on 127.0.0.1:$PORT, ready after $(elapsed_since "$started_at") s"
    write_env
}

cmd_stop() {
    local pid
    if ! find_postgres; then
        log "not running (PostgreSQL is not installed)"
        rm -f "$PID_FILE" "$ENV_FILE"
        return 0
    fi
    choose_run_dir
    set_paths
    if ! pid=$(running_pid); then
        log "not running"
        rm -f "$PID_FILE" "$ENV_FILE"
        return 0
    fi
    log "stopping PostgreSQL (pid $pid)"
    # Fast shutdown rolls back open transactions and disconnects clients.
    # pg_ctl finds the server through postmaster.pid in the data directory.
    as_db_user "$PG_BIN/pg_ctl" stop -D "$DATA_DIR" -m fast -w -t "$STOP_TIMEOUT" -s >&2 ||
        die "pg_ctl stop failed for pid $pid; see $LOG_FILE"
    rm -f "$PID_FILE" "$ENV_FILE"
    log "stopped"
}

cmd_status() {
    local pid
    if ! find_postgres; then
        echo "postgres: not running (PostgreSQL is not installed)"
        return 3
    fi
    choose_run_dir
    set_paths
    if pid=$(running_pid); then
        echo "postgres: running (pid $pid) on 127.0.0.1:$(running_port)"
        return 0
    fi
    echo "postgres: not running"
    return 3
}

run_command "$@"
