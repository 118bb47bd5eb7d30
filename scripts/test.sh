#!/usr/bin/env bash
# Runs the test suite with the services it needs: starts PostgreSQL, Kafka and moto when
# they are not running, and stops, at exit, only those this script started.
set -euo pipefail
cd "$(dirname "$0")/.."

started=()
stop_started() {
    local name
    for name in "${started[@]}"; do
        scripts/services/"$name".sh stop || echo "stopping $name failed; see .services/$name/log" >&2
    done
}
trap stop_started EXIT

for name in postgres kafka moto; do
    if ! scripts/services/"$name".sh status >/dev/null 2>&1; then
        started=("$name" "${started[@]}")
    fi
    # A separate assignment, so that a failed start stops this script (set -e ignores a
    # failure inside `eval "$(...)"`).
    exports=$(scripts/services/"$name".sh start)
    eval "$exports"
done

export PATH="$PWD/.venv/bin:$PATH"
python -m pytest -q -p no:cacheprovider "$@"
