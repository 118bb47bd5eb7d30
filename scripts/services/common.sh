# shellcheck shell=bash
# Helpers shared by postgres.sh, kafka.sh and moto.sh. Source this file, do not
# run it. The caller runs under `set -euo pipefail` and sets these variables
# before sourcing:
#
#   SERVICE        script name without .sh, used as the log prefix (postgres)
#   SERVICE_LABEL  name of the server in messages (PostgreSQL)
#   PID_FILE       file that contains the server's pid
#   ENV_FILE       file that write_env writes
#   START_TIMEOUT  seconds that wait_until_ready waits
#   STOP_TIMEOUT   seconds that stop_pid waits after SIGTERM
#
# The caller sets LOG_FILE, the server log that a failed start shows, before it
# calls log_start_failure, fail_start or wait_until_ready. It also defines
# print_env, which prints the `export VAR=value` lines for write_env, and
# cmd_start, cmd_stop and cmd_status for run_command.

: "${SERVICE:?set SERVICE before sourcing common.sh}"
: "${SERVICE_LABEL:?set SERVICE_LABEL before sourcing common.sh}"
: "${PID_FILE:?set PID_FILE before sourcing common.sh}"
: "${ENV_FILE:?set ENV_FILE before sourcing common.sh}"
: "${START_TIMEOUT:?set START_TIMEOUT before sourcing common.sh}"
: "${STOP_TIMEOUT:?set STOP_TIMEOUT before sourcing common.sh}"

log() { echo "$SERVICE.sh: $*" >&2; }
die() {
    log "error: $*"
    exit 1
}

require_number() {
    [[ $2 =~ ^[0-9]+$ ]] || die "$1 must be a whole number, got '$2'"
}

elapsed_since() {
    awk -v start="$1" -v now="$EPOCHREALTIME" 'BEGIN { printf "%.1f", now - start }'
}

port_open() {
    timeout 2 bash -c "exec 3<>/dev/tcp/127.0.0.1/$1" 2>/dev/null
}

# Succeed when the process exists and has not exited. A zombie counts as
# exited, because an init that does not reap orphans can leave one behind.
process_alive() {
    local state
    state=$(sed -E 's/^[0-9]+ \(.*\) (.).*/\1/' "/proc/$1/stat" 2>/dev/null) || return 1
    [ -n "$state" ] && [ "$state" != Z ]
}

# Print the command line of a process with its arguments separated by spaces.
process_cmdline() {
    tr '\0' ' ' 2>/dev/null <"/proc/$1/cmdline"
}

# Print the pid in PID_FILE when that process is alive and its command line
# contains the given string, or fail. Checking the command line means that a
# recycled pid that now belongs to another process is never reported or signalled.
pid_file_process() {
    local pid
    [ -f "$PID_FILE" ] || return 1
    pid=$(<"$PID_FILE")
    [[ $pid =~ ^[0-9]+$ ]] || return 1
    process_alive "$pid" || return 1
    process_cmdline "$pid" | grep -qF "$1" || return 1
    echo "$pid"
}

# Write the lines of print_env to ENV_FILE and print them on stdout.
write_env() {
    print_env >"$ENV_FILE"
    cat "$ENV_FILE"
}

# Send SIGTERM, wait up to STOP_TIMEOUT seconds, then SIGKILL.
stop_pid() {
    local pid=$1 deadline
    log "stopping $SERVICE_LABEL (pid $pid)"
    kill -TERM "$pid" 2>/dev/null || true
    deadline=$((SECONDS + STOP_TIMEOUT))
    while process_alive "$pid" && ((SECONDS < deadline)); do
        sleep 0.2
    done
    if process_alive "$pid"; then
        log "$SERVICE_LABEL (pid $pid) is still running after $STOP_TIMEOUT s; sending SIGKILL"
        kill -KILL "$pid" 2>/dev/null || true
        deadline=$((SECONDS + 10))
        while process_alive "$pid" && ((SECONDS < deadline)); do
            sleep 0.2
        done
        process_alive "$pid" && die "$SERVICE_LABEL (pid $pid) survived SIGKILL"
    fi
    rm -f "$PID_FILE" "$ENV_FILE"
    log "stopped"
}

# Log the error message and the last 20 lines of LOG_FILE.
log_start_failure() {
    log "error: $1"
    log "last lines of $LOG_FILE:"
    tail -n 20 "$LOG_FILE" >&2 || true
}

# Log the error message and the end of LOG_FILE, stop the process whose pid is
# the optional second argument, remove PID_FILE and ENV_FILE, and exit 1.
fail_start() {
    log_start_failure "$1"
    if [ -n "${2:-}" ] && process_alive "$2"; then
        stop_pid "$2"
    fi
    rm -f "$PID_FILE" "$ENV_FILE"
    exit 1
}

# Run the readiness command every INTERVAL seconds until it succeeds. Call
# fail_start when the process in PID_FILE exits, or after START_TIMEOUT seconds
# with the message "<SERVICE_LABEL> did not <expected state> within ...".
#
#   wait_until_ready INTERVAL "expected state" COMMAND [ARGUMENT...]
wait_until_ready() {
    local interval=$1 expected=$2 deadline=$((SECONDS + START_TIMEOUT)) pid=
    shift 2
    while ((SECONDS < deadline)); do
        if [ -z "$pid" ] && [ -s "$PID_FILE" ]; then
            pid=$(<"$PID_FILE")
        fi
        if [ -n "$pid" ]; then
            process_alive "$pid" || fail_start "$SERVICE_LABEL exited during start; see $LOG_FILE"
            "$@" && return 0
        fi
        sleep "$interval"
    done
    fail_start "$SERVICE_LABEL did not $expected within $START_TIMEOUT s; see $LOG_FILE" "$pid"
}

# Run cmd_start, cmd_stop or cmd_status for the first argument. The exit status
# is the command's, or 2 with a usage message for any other argument.
run_command() {
    case "${1:-}" in
    start) cmd_start ;;
    stop) cmd_stop ;;
    status) cmd_status ;;
    *)
        echo "usage: $0 start|stop|status" >&2
        exit 2
        ;;
    esac
}
