#!/usr/bin/env bash
# Start, stop or report the moto server that replaces S3 in the
# distributed-mode tests.
#
#   scripts/services/moto.sh start|stop|status
#
# moto_server comes from the test extras in .venv (pip install -e '.[test]')
# and listens on 127.0.0.1 only. It keeps all buckets in memory, so every start
# begins empty. The pid file and log live under .services/moto/.
#
# `start` prints `export VAR=value` lines on stdout and writes the same lines
# to .services/moto/env, so a caller can run
#   eval "$(scripts/services/moto.sh start)"
# Progress messages and errors go to stderr.
#
# Environment:
#   PRAETOR_TEST_MOTO_PORT           HTTP port (default 55000)
#   PRAETOR_TEST_MOTO_START_TIMEOUT  seconds that start waits for HTTP 200 (default 60)

set -euo pipefail

readonly STOP_TIMEOUT=30

SCRIPT_DIR=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
ROOT=$(cd "$SCRIPT_DIR/../.." && pwd)
readonly SCRIPT_DIR ROOT
readonly STATE_DIR="$ROOT/.services/moto"
readonly PID_FILE="$STATE_DIR/pid"
readonly LOG_FILE="$STATE_DIR/log"
readonly ENV_FILE="$STATE_DIR/env"
readonly VENV_PYTHON="$ROOT/.venv/bin/python"
readonly MOTO_SERVER="$ROOT/.venv/bin/moto_server"

readonly PORT=${PRAETOR_TEST_MOTO_PORT:-55000}
readonly START_TIMEOUT=${PRAETOR_TEST_MOTO_START_TIMEOUT:-60}

readonly SERVICE=moto SERVICE_LABEL=moto
# shellcheck source=scripts/services/common.sh
source "$SCRIPT_DIR/common.sh"

require_number PRAETOR_TEST_MOTO_PORT "$PORT"
require_number PRAETOR_TEST_MOTO_START_TIMEOUT "$START_TIMEOUT"

# Print the pid of the moto server that this script started, or fail when it is
# not running. The command line must match the one that start uses, so a recycled
# pid that now belongs to another process is never reported or signalled.
running_pid() {
    pid_file_process "$MOTO_SERVER -H 127.0.0.1 -p "
}

# Print the port that the running server was started with.
running_port() {
    process_cmdline "$1" | sed -n 's/.* -p \([0-9]*\).*/\1/p'
}

# Succeed when the port accepts connections and GET / returns HTTP 200. The
# empty ProxyHandler keeps an http_proxy setting from routing the loopback
# request elsewhere.
http_ready() {
    port_open "$PORT" || return 1
    "$VENV_PYTHON" - "http://127.0.0.1:$PORT/" 2>/dev/null <<'EOF'
import sys
import urllib.request

opener = urllib.request.build_opener(urllib.request.ProxyHandler({}))
with opener.open(sys.argv[1], timeout=5) as response:
    sys.exit(0 if response.status == 200 else 1)
EOF
}

print_env() {
    cat <<EOF
export PRAETOR_TEST_S3_ENDPOINT_URL=http://127.0.0.1:$PORT
export AWS_ACCESS_KEY_ID=testing
export AWS_SECRET_ACCESS_KEY=testing
export AWS_DEFAULT_REGION=us-east-1
EOF
}

cmd_start() {
    local pid running started_at=$EPOCHREALTIME
    mkdir -p "$STATE_DIR"
    if pid=$(running_pid); then
        running=$(running_port "$pid")
        [ "$running" = "$PORT" ] ||
            die "moto is already running (pid $pid) on port $running, not $PORT; run '$0 stop' first"
        log "already running (pid $pid) on 127.0.0.1:$PORT"
        write_env
        return 0
    fi
    rm -f "$PID_FILE" "$ENV_FILE"
    [ -x "$MOTO_SERVER" ] ||
        die "$MOTO_SERVER not found; install the test extras into .venv with: .venv/bin/pip install -e '.[test]'"
    port_open "$PORT" &&
        die "port $PORT on 127.0.0.1 is in use by another process; stop it or set PRAETOR_TEST_MOTO_PORT"

    log "starting moto on 127.0.0.1:$PORT (log: $LOG_FILE)"
    # setsid detaches the server from the caller's terminal, so a closing
    # terminal sends it no SIGHUP. The inner shell writes its own pid and then
    # execs moto_server, so the pid file contains the server's pid even when setsid
    # has to fork.
    setsid bash -c 'echo $$ >"$0"; exec "$@"' "$PID_FILE" \
        "$MOTO_SERVER" -H 127.0.0.1 -p "$PORT" \
        >"$LOG_FILE" 2>&1 </dev/null &

    wait_until_ready 0.2 "return HTTP 200 on http://127.0.0.1:$PORT/" http_ready
    log "running (pid $(<"$PID_FILE")) on 127.0.0.1:$PORT, ready after $(elapsed_since "$started_at") s"
    write_env
}

cmd_stop() {
    local pid
    if ! pid=$(running_pid); then
        log "not running"
        rm -f "$PID_FILE" "$ENV_FILE"
        return 0
    fi
    stop_pid "$pid"
}

cmd_status() {
    local pid
    if pid=$(running_pid); then
        echo "moto: running (pid $pid) on 127.0.0.1:$(running_port "$pid")"
        return 0
    fi
    echo "moto: not running"
    return 3
}

run_command "$@"
