"""Distributed ingestion rate: job events from Kafka to PostgreSQL, against a raw COPY ceiling.

The script produces `--events` job-event messages (a recorded ansible-runner event repeated
with fresh seqs, over 100 runs) to a fresh `praetor.job-events` topic, starts one
`praetor worker` on a fresh database, and measures how fast the rows become queryable in
`job_events`. It then COPYs the same rows into an empty table of the same definition (same
indexes and unique constraint) as the ceiling, and prints the ratio.

Needs the services of `scripts/test.sh` (PRAETOR_TEST_PG_DSN, PRAETOR_TEST_KAFKA_BOOTSTRAP).
Run: `.venv/bin/python benchmarks/stream_ingest.py --events 1000000`.
"""

from __future__ import annotations

import argparse
import io
import json
import os
import platform
import secrets
import subprocess
import sys
import tempfile
import time
import uuid
from pathlib import Path

import orjson
import psycopg
from kafka import KafkaProducer

SAMPLE_EVENT = {
    "event_type": "runner_on_ok",
    "uuid": "4f6e3b1c-5d2a-4c8e-9f1a-2b3c4d5e6f70",
    "parent_uuid": "0a1b2c3d-4e5f-6a7b-8c9d-0e1f2a3b4c5d",
    "counter": 7,
    "created": "2026-12-04T12:00:00.123456",
    "stdout": "ok: [web-1] => {\n    \"msg\": \"item 3 on web-1\"\n}",
    "start_line": 10,
    "end_line": 13,
    "event_data": {
        "host": "web-1", "task": "Loop over items", "play": "Emit many events", "playbook": "many.yml",
        "res": {"msg": "item 3 on web-1", "changed": False, "_ansible_verbose_always": True, "_ansible_no_log": False},
        "task_action": "ansible.builtin.debug", "resolved_action": "ansible.builtin.debug", "remote_addr": "web-1",
        "start": "2026-12-04T12:00:00.1", "end": "2026-12-04T12:00:00.2", "duration": 0.01, "event_loop": None,
    },
}
RUNS = 100


def message(run_id: str, job_id: str, seq: int) -> bytes:
    payload = {**SAMPLE_EVENT, "seq": seq}
    return orjson.dumps({"run_id": run_id, "job_id": job_id, "seq": seq, "event_type": payload["event_type"],
                         "timestamp": payload["created"], "payload": payload})


def count_rows(dsn: str, schema: str) -> int:
    with psycopg.connect(dsn) as connection:
        return connection.execute(f'SELECT count(*) FROM "{schema}".job_events').fetchone()[0]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--events", type=int, default=1_000_000, help="Job events to produce.")
    arguments = parser.parse_args()
    admin_dsn = os.environ["PRAETOR_TEST_PG_DSN"]
    brokers = os.environ["PRAETOR_TEST_KAFKA_BOOTSTRAP"]

    suffix = secrets.token_hex(4)
    database = f"praetor_bench_{suffix}"
    with psycopg.connect(admin_dsn, autocommit=True) as connection:
        connection.execute(f'CREATE DATABASE "{database}"')
    dsn = admin_dsn.rsplit("/", 1)[0] + f"/{database}"
    prefix = f"bench-{suffix}."
    schema = "praetor_read"
    env = {**os.environ, "PRAETOR_MODE": "distributed", "PRAETOR_DATABASE_URL": dsn, "PRAETOR_KAFKA_BOOTSTRAP_SERVERS": brokers,
           "PRAETOR_KAFKA_TOPIC_PREFIX": prefix, "PRAETOR_WORKER_GROUP_ID": f"bench-{suffix}"}

    try:
        runs = [(str(uuid.uuid4()), str(uuid.uuid4())) for _ in range(RUNS)]
        per_run = arguments.events // RUNS
        print(f"Producing {per_run * RUNS:,} job events over {RUNS} runs to {prefix}praetor.job-events ...", flush=True)
        producer = KafkaProducer(bootstrap_servers=brokers, acks="all", linger_ms=20, batch_size=512 * 1024, compression_type=None)
        started = time.perf_counter()
        for seq in range(1, per_run + 1):
            for run_id, job_id in runs:
                producer.send(prefix + "praetor.job-events", key=run_id.encode(), value=message(run_id, job_id, seq))
        producer.flush()
        producer.close()
        total = per_run * RUNS
        print(f"Produced in {time.perf_counter() - started:.1f} s")

        with tempfile.TemporaryDirectory() as home:
            env["PRAETOR_HOME"] = home
            log = Path(home) / "worker.log"
            with log.open("wb") as log_file:
                worker = subprocess.Popen([sys.executable, "-m", "praetor.cli.main", "worker", "--log-level", "warning"], env=env,
                                          stdout=log_file, stderr=subprocess.STDOUT)
            try:
                started = None
                stored = 0
                while stored < total:
                    time.sleep(0.5)
                    if worker.poll() is not None:
                        raise RuntimeError(f"the worker exited: {log.read_text()[-2000:]}")
                    try:
                        stored = count_rows(dsn, schema)
                    except psycopg.errors.UndefinedTable:
                        continue
                    if stored and started is None:
                        started = time.perf_counter()
                        first = stored
                    print(f"\r  {stored:,} of {total:,} rows", end="", flush=True)
                worker_seconds = time.perf_counter() - started
                worker_rate = (total - first) / worker_seconds
            finally:
                worker.terminate()
                worker.wait(timeout=60)
        print()

        copy_rate = copy_ceiling(dsn, schema, runs, per_run)
    finally:
        with psycopg.connect(admin_dsn, autocommit=True) as connection:
            connection.execute(f'DROP DATABASE IF EXISTS "{database}" WITH (FORCE)')

    print(f"Machine: {platform.machine()}, {os.cpu_count()} CPUs, Linux {platform.release()}, Python {platform.python_version()}")
    print(f"Worker: {worker_rate:,.0f} events/s queryable in job_events (measured from the first stored row)")
    print(f"COPY ceiling: {copy_rate:,.0f} rows/s into the same table definition")
    print(f"Ratio: {worker_rate / copy_rate:.2f} of the COPY rate")


def copy_ceiling(dsn: str, schema: str, runs: list[tuple[str, str]], per_run: int) -> float:
    """COPY the same rows into an empty copy of job_events; return rows per second."""
    with psycopg.connect(dsn, autocommit=True) as connection:
        connection.execute(f'CREATE TABLE "{schema}".job_events_copy (LIKE "{schema}".job_events INCLUDING ALL)')
        columns = ("run_id", "job_id", "seq", "event_type", "uuid", "parent_uuid", "counter", "host", "play", "task", "stdout",
                   "start_line", "end_line", "failed", "changed", "created_at", "event_data")
        buffer = io.StringIO()
        data = SAMPLE_EVENT["event_data"]
        event_data = json.dumps(data).replace("\\", "\\\\")
        stdout = SAMPLE_EVENT["stdout"].replace("\\", "\\\\").replace("\n", "\\n")
        for seq in range(1, per_run + 1):
            for run_id, job_id in runs:
                buffer.write("\t".join([run_id, job_id, str(seq), "runner_on_ok", SAMPLE_EVENT["uuid"], SAMPLE_EVENT["parent_uuid"], "7",
                                        "web-1", data["play"], data["task"], stdout, "10", "13", "f", "f",
                                        "2026-12-04 12:00:00.123456+00", event_data]) + "\n")
        text = buffer.getvalue()
        started = time.perf_counter()
        with connection.cursor() as cursor:
            with cursor.copy(f'COPY "{schema}".job_events_copy ({", ".join(columns)}) FROM STDIN') as copy:
                copy.write(text)
        seconds = time.perf_counter() - started
    return per_run * len(runs) / seconds


if __name__ == "__main__":
    main()
