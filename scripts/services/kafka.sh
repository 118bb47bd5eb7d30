#!/usr/bin/env bash
# Start, stop or report the single-node Apache Kafka broker that the
# distributed-mode tests use.
#
#   scripts/services/kafka.sh start|stop|status
#
# The broker runs in KRaft mode, with broker and controller in one JVM, and
# listens on 127.0.0.1 only. The first start installs Java and Maven with
# apt-get when they are missing, then copies the Kafka jars from Maven Central
# into .services/kafka/lib. Jars, data, pid file and log all live under
# .services/kafka/ in the repository.
#
# `start` prints `export VAR=value` lines on stdout and writes the same lines
# to .services/kafka/env, so a caller can run
#   eval "$(scripts/services/kafka.sh start)"
# Progress messages and errors go to stderr.
#
# Environment:
#   PRAETOR_TEST_KAFKA_PORT             client listener port (default 59092)
#   PRAETOR_TEST_KAFKA_CONTROLLER_PORT  KRaft controller port (default 59093)
#   PRAETOR_TEST_KAFKA_START_TIMEOUT    seconds that start waits for the broker
#                                       to serve clients (default 120)
#   JAVA_HOME                           Java 17 or newer to run the broker with
#                                       (default: java on PATH)

set -euo pipefail

readonly KAFKA_VERSION=4.1.2
readonly MIN_JAVA_MAJOR=17
readonly STOP_TIMEOUT=30

SCRIPT_DIR=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
ROOT=$(cd "$SCRIPT_DIR/../.." && pwd)
readonly SCRIPT_DIR ROOT
readonly STATE_DIR="$ROOT/.services/kafka"
readonly LIB_DIR="$STATE_DIR/lib"
readonly DATA_DIR="$STATE_DIR/data"
readonly PID_FILE="$STATE_DIR/pid"
readonly LOG_FILE="$STATE_DIR/log"
readonly ENV_FILE="$STATE_DIR/env"
readonly CONFIG_FILE="$STATE_DIR/server.properties"
readonly LOG4J_CONFIG="$STATE_DIR/log4j2.properties"
readonly VENV_PYTHON="$ROOT/.venv/bin/python"

readonly PORT=${PRAETOR_TEST_KAFKA_PORT:-59092}
readonly CONTROLLER_PORT=${PRAETOR_TEST_KAFKA_CONTROLLER_PORT:-59093}
readonly START_TIMEOUT=${PRAETOR_TEST_KAFKA_START_TIMEOUT:-120}

readonly SERVICE=kafka SERVICE_LABEL=Kafka
# shellcheck source=scripts/services/common.sh
source "$SCRIPT_DIR/common.sh"

require_number PRAETOR_TEST_KAFKA_PORT "$PORT"
require_number PRAETOR_TEST_KAFKA_CONTROLLER_PORT "$CONTROLLER_PORT"
require_number PRAETOR_TEST_KAFKA_START_TIMEOUT "$START_TIMEOUT"

# Print the pid of the broker that this script started, or fail when it is not
# running. The command line must name kafka.Kafka with this config file, so a
# recycled pid that now belongs to another process is never reported or signalled.
running_pid() {
    pid_file_process "kafka.Kafka $CONFIG_FILE"
}

# Print the client port of the running broker. start rewrites the config file
# only while no broker runs, so the file matches the running broker.
running_port() {
    sed -n 's|^listeners=PLAINTEXT://127\.0\.0\.1:\([0-9]*\),.*|\1|p' "$CONFIG_FILE"
}

print_env() {
    echo "export PRAETOR_TEST_KAFKA_BOOTSTRAP=127.0.0.1:$PORT"
}

APT_UPDATED=false
apt_install() {
    [ "$(id -u)" = 0 ] || die "missing $*: install it, or run this script as root so it can use apt-get"
    if [ "$APT_UPDATED" = false ]; then
        log "running apt-get update"
        apt-get update >&2
        APT_UPDATED=true
    fi
    log "installing $* with apt-get"
    DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends "$@" >&2
}

java_major_version() {
    local version
    version=$("$1" -XshowSettings:properties -version 2>&1 | sed -n 's/^ *java\.specification\.version = //p')
    echo "${version%%.*}"
}

# Set JAVA to the java command that runs the broker, installing Java when it is missing.
find_java() {
    local java major
    if [ -n "${JAVA_HOME:-}" ]; then
        java="$JAVA_HOME/bin/java"
        [ -x "$java" ] || die "JAVA_HOME is set to '$JAVA_HOME', but $java is not an executable"
    else
        command -v java >/dev/null || apt_install openjdk-17-jre-headless
        java=$(command -v java)
    fi
    major=$(java_major_version "$java")
    [[ $major =~ ^[0-9]+$ ]] && [ "$major" -ge "$MIN_JAVA_MAJOR" ] ||
        die "Kafka $KAFKA_VERSION needs Java $MIN_JAVA_MAJOR or newer, but $java is version '${major:-unknown}'; set JAVA_HOME"
    JAVA=$java
}

# Copy the broker's runtime jars into LIB_DIR unless this Kafka version is there.
# The local Maven repository also lives under .services, so ~/.m2 stays untouched.
fetch_jars() {
    if [ "$(cat "$LIB_DIR/.version" 2>/dev/null)" = "$KAFKA_VERSION" ]; then
        return 0
    fi
    command -v mvn >/dev/null || apt_install maven

    log "downloading Apache Kafka $KAFKA_VERSION and its dependencies with Maven into $LIB_DIR"
    rm -rf "$LIB_DIR.partial"
    # Debian's Maven 3.8.7 prints bare colour-reset codes even in quiet batch
    # mode, so sed drops them.
    mvn -q -B \
        -f "$SCRIPT_DIR/kafka-pom.xml" \
        -Dmaven.repo.local="$STATE_DIR/m2" \
        -Dkafka.version="$KAFKA_VERSION" \
        dependency:copy-dependencies \
        -DincludeScope=runtime \
        -DoutputDirectory="$LIB_DIR.partial" 2>&1 | sed $'s/\e\\[0m//g' >&2 ||
        die "Maven failed to download the Kafka jars (see its output above)"

    # The version stamp marks a complete download. A copy cut short leaves
    # only LIB_DIR.partial, which the next start replaces.
    echo "$KAFKA_VERSION" >"$LIB_DIR.partial/.version"
    rm -rf "$LIB_DIR"
    mv "$LIB_DIR.partial" "$LIB_DIR"
}

write_config() {
    cat >"$CONFIG_FILE" <<EOF
# Written by scripts/services/kafka.sh on every start, so edits here are lost.
# Single-node KRaft broker for tests, reachable on 127.0.0.1 only.
process.roles=broker,controller
node.id=1
# A static voter set keeps the controller address out of the formatted storage,
# so a changed PRAETOR_TEST_KAFKA_CONTROLLER_PORT needs no reformat.
controller.quorum.voters=1@127.0.0.1:$CONTROLLER_PORT
listeners=PLAINTEXT://127.0.0.1:$PORT,CONTROLLER://127.0.0.1:$CONTROLLER_PORT
advertised.listeners=PLAINTEXT://127.0.0.1:$PORT
listener.security.protocol.map=PLAINTEXT:PLAINTEXT,CONTROLLER:PLAINTEXT
controller.listener.names=CONTROLLER
inter.broker.listener.name=PLAINTEXT
log.dirs=$DATA_DIR

num.partitions=3
auto.create.topics.enable=true
# A single broker can store only one replica of each internal topic.
offsets.topic.replication.factor=1
transaction.state.log.replication.factor=1
transaction.state.log.min.isr=1
share.coordinator.state.topic.replication.factor=1
share.coordinator.state.topic.min.isr=1
# Tests should not wait for more group members to join before the first rebalance.
group.initial.rebalance.delay.ms=0
EOF

    cat >"$LOG4J_CONFIG" <<'EOF'
# Written by scripts/services/kafka.sh on every start. The broker logs to stdout,
# which the script sends to .services/kafka/log.
rootLogger.level = INFO
rootLogger.appenderRef.stdout.ref = stdout
appender.stdout.type = Console
appender.stdout.name = stdout
appender.stdout.layout.type = PatternLayout
appender.stdout.layout.pattern = [%d] %p %m (%c)%n
EOF
}

# Format DATA_DIR with a new cluster id unless an earlier start already did.
format_storage() {
    local cluster_id
    if [ -f "$DATA_DIR/meta.properties" ]; then
        return 0
    fi
    rm -rf "$DATA_DIR"
    mkdir -p "$DATA_DIR"

    cluster_id=$("$JAVA" -cp "$LIB_DIR/*" kafka.tools.StorageTool random-uuid 2>>"$LOG_FILE" | tail -n 1)
    [[ $cluster_id =~ ^[A-Za-z0-9_-]{22}$ ]] ||
        die "kafka.tools.StorageTool random-uuid returned '$cluster_id', not a cluster id; see $LOG_FILE"

    log "formatting $DATA_DIR for cluster id $cluster_id"
    "$JAVA" -cp "$LIB_DIR/*" -Dlog4j2.configurationFile="file:$LOG4J_CONFIG" \
        kafka.tools.StorageTool format -t "$cluster_id" -c "$CONFIG_FILE" >>"$LOG_FILE" 2>&1 ||
        die "formatting the Kafka storage in $DATA_DIR failed; see $LOG_FILE"
}

# Succeed when a Kafka client can list topics. Without kafka-python in .venv,
# an open client port has to do.
HAVE_KAFKA_PYTHON=
client_ready() {
    if [ -z "$HAVE_KAFKA_PYTHON" ]; then
        if [ -x "$VENV_PYTHON" ] && "$VENV_PYTHON" -c 'import kafka' 2>/dev/null; then
            HAVE_KAFKA_PYTHON=true
        else
            HAVE_KAFKA_PYTHON=false
            log "kafka-python is not installed in .venv, so start checks only that port $PORT accepts TCP connections"
        fi
    fi
    port_open "$PORT" || return 1
    [ "$HAVE_KAFKA_PYTHON" = true ] || return 0

    timeout 30 "$VENV_PYTHON" - "127.0.0.1:$PORT" >/dev/null 2>&1 <<'EOF'
import sys

from kafka import KafkaAdminClient

admin = KafkaAdminClient(bootstrap_servers=sys.argv[1], request_timeout_ms=5000)
try:
    admin.list_topics()
finally:
    admin.close()
EOF
}

cmd_start() {
    local pid port running started_at=$EPOCHREALTIME
    mkdir -p "$STATE_DIR"
    if pid=$(running_pid); then
        running=$(running_port)
        [ "$running" = "$PORT" ] ||
            die "Kafka is already running (pid $pid) on port $running, not $PORT; run '$0 stop' first"
        log "already running (pid $pid) on 127.0.0.1:$PORT"
        write_env
        return 0
    fi
    rm -f "$PID_FILE" "$ENV_FILE"
    for port in "$PORT" "$CONTROLLER_PORT"; do
        port_open "$port" &&
            die "port $port on 127.0.0.1 is in use by another process; stop it or set PRAETOR_TEST_KAFKA_PORT and PRAETOR_TEST_KAFKA_CONTROLLER_PORT"
    done

    find_java
    fetch_jars
    write_config
    : >"$LOG_FILE"
    format_storage

    log "starting Apache Kafka $KAFKA_VERSION on 127.0.0.1:$PORT (log: $LOG_FILE)"
    # setsid detaches the broker from the caller's terminal, so a closing terminal
    # sends it no SIGHUP. The inner shell writes its own pid and then execs java,
    # so the pid file contains the JVM's pid even when setsid has to fork.
    setsid bash -c 'echo $$ >"$0"; exec "$@"' "$PID_FILE" \
        "$JAVA" -Xms256m -Xmx512m -XX:+ExitOnOutOfMemoryError -Djava.awt.headless=true \
        -Dlog4j2.configurationFile="file:$LOG4J_CONFIG" \
        -cp "$LIB_DIR/*" kafka.Kafka "$CONFIG_FILE" \
        >>"$LOG_FILE" 2>&1 </dev/null &

    wait_until_ready 0.5 "serve clients on 127.0.0.1:$PORT" client_ready
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
        echo "kafka: running (pid $pid) on 127.0.0.1:$(running_port)"
        return 0
    fi
    echo "kafka: not running"
    return 3
}

run_command "$@"
