"""Fixtures that run the real executor program against the in-memory run API, Kafka and S3."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import threading
import time
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from kafka import KafkaAdminClient, KafkaConsumer, TopicPartition
from kafka.admin import NewTopic
from kafka.consumer.fetcher import ConsumerRecord

# The stub API is shared with the unit tests, and tcp_proxy lives next to this file. The path
# entries make both importable whatever pytest's import mode is.
sys.path.insert(0, str(Path(__file__).parents[2] / "unit" / "executor"))
sys.path.insert(0, str(Path(__file__).parent))

from run_api_stub import StubRunApi  # noqa: E402
from tcp_proxy import TcpProxy  # noqa: E402

from praetor.infra.event_log import JOB_EVENTS_TOPIC, LOG_CHUNKS_TOPIC  # noqa: E402
from praetor.infra.object_store import ObjectStore, open_object_store  # noqa: E402

PLAYBOOKS = Path(__file__).parent / "playbooks"
TOKEN = "integration-run-token"

HOST_VARS = {"ansible_connection": "local", "ansible_python_interpreter": "{{ ansible_playbook_python }}"}


def make_manifest(run_id: str, playbook: str, **changes: Any) -> dict[str, Any]:
    manifest = {
        "run_id": run_id,
        "job_id": str(uuid.uuid4()),
        "attempt_number": 1,
        "project": {"id": "p1", "name": "executor tests", "scm_type": "local", "local_path": str(PLAYBOOKS), "scm_url": None, "scm_branch": None},
        "playbook": playbook,
        "inventory": {
            "all": {
                "hosts": {"web-1": dict(HOST_VARS), "web-2": dict(HOST_VARS)},
                "vars": {},
                "children": {"web": {"hosts": {"web-1": {}, "web-2": {}}, "vars": {}}},
            }
        },
        "extra_vars": {"greeting": "grüße"},
        "limit": None,
        "forks": 5,
        "verbosity": 0,
        "timeout_seconds": 0,
    }
    manifest.update(changes)
    return manifest


@dataclass
class ExecutorRun:
    run_id: str
    stub: StubRunApi
    spool_dir: Path
    store: ObjectStore
    process: subprocess.Popen[str] | None = None

    @property
    def run_dir(self) -> Path:
        return self.spool_dir / self.run_id

    def start(self, extra_env: dict[str, str] | None = None) -> subprocess.Popen[str]:
        env = dict(os.environ)
        env.update(extra_env or {})
        env.update(
            {
                "RUN_ID": self.run_id,
                "PRAETOR_API_URL": self.stub.url,
                "PRAETOR_RUN_TOKEN": TOKEN,
                "PRAETOR_OBJECT_STORE_URL": self.store.url,
                "PRAETOR_SPOOL_DIR": str(self.spool_dir),
            }
        )
        log_file = open(self.spool_dir / f"{self.run_id}.executor.log", "w")  # noqa: SIM115 - closed after wait
        self.process = subprocess.Popen(
            [sys.executable, "-m", "praetor.executor"], env=env, stdout=log_file, stderr=subprocess.STDOUT, text=True
        )
        log_file.close()
        return self.process

    def wait(self, timeout: float) -> int:
        if self.process is None:
            raise RuntimeError("the executor was not started")
        return self.process.wait(timeout)

    def log_text(self) -> str:
        return (self.spool_dir / f"{self.run_id}.executor.log").read_text()


@pytest.fixture
def executor_run(tmp_path: Path) -> Iterator[Any]:
    """Return a factory that prepares an executor run of a playbook against a fresh stub API."""
    runs: list[ExecutorRun] = []

    def prepare(playbook: str, *, store: ObjectStore | None = None, **manifest_changes: Any) -> ExecutorRun:
        run_id = str(uuid.uuid4())
        stub = StubRunApi(run_id, TOKEN, make_manifest(run_id, playbook, **manifest_changes)).start()
        spool_dir = tmp_path / "spool"
        spool_dir.mkdir(exist_ok=True)
        if store is None:
            store = open_object_store((tmp_path / "objects").as_uri())
        run = ExecutorRun(run_id, stub, spool_dir, store)
        runs.append(run)
        return run

    yield prepare

    for run in runs:
        if run.process is not None and run.process.poll() is None:
            run.process.kill()
            run.process.wait()
        run.stub.stop()


def require_env(name: str, script: str) -> str:
    """Return the environment variable `name`, or fail the test naming the script that sets it."""
    value = os.environ.get(name)
    if not value:
        pytest.fail(f'{name} is not set; start the service with: eval "$(scripts/services/{script} start)"')
    return value


@dataclass
class S3Store:
    store: ObjectStore
    endpoint_url: str
    key: str
    secret: str

    def executor_env(self) -> dict[str, str]:
        return {"PRAETOR_S3_ENDPOINT_URL": self.endpoint_url, "AWS_ACCESS_KEY_ID": self.key, "AWS_SECRET_ACCESS_KEY": self.secret}


@pytest.fixture
def s3_store() -> Iterator[S3Store]:
    """Return an object store in a new bucket of the S3 server that scripts/services/moto.sh started."""
    import s3fs

    endpoint_url = require_env("PRAETOR_TEST_S3_ENDPOINT_URL", "moto.sh")
    key = require_env("AWS_ACCESS_KEY_ID", "moto.sh")
    secret = require_env("AWS_SECRET_ACCESS_KEY", "moto.sh")
    bucket = f"praetor-executor-{uuid.uuid4().hex[:12]}"
    filesystem = s3fs.S3FileSystem(endpoint_url=endpoint_url, key=key, secret=secret, skip_instance_cache=True)
    filesystem.mkdir(bucket)
    store = open_object_store(f"s3://{bucket}/objects", s3_endpoint_url=endpoint_url, s3_key=key, s3_secret=secret)

    yield S3Store(store, endpoint_url, key, secret)

    filesystem.rm(bucket, recursive=True)


@dataclass
class KafkaTopics:
    """The executor's two topics under a prefix that no other test uses."""

    bootstrap: str
    prefix: str

    @property
    def job_events(self) -> str:
        return self.prefix + JOB_EVENTS_TOPIC

    @property
    def log_chunks(self) -> str:
        return self.prefix + LOG_CHUNKS_TOPIC

    def executor_env(self, bootstrap: str | None = None) -> dict[str, str]:
        return {"PRAETOR_KAFKA_BOOTSTRAP_SERVERS": bootstrap or self.bootstrap, "PRAETOR_KAFKA_TOPIC_PREFIX": self.prefix}


@pytest.fixture
def kafka_topics() -> Iterator[KafkaTopics]:
    """Create both topics, with 3 partitions like the test broker's default, under a new prefix, and delete them after the test."""
    bootstrap = require_env("PRAETOR_TEST_KAFKA_BOOTSTRAP", "kafka.sh")
    topics = KafkaTopics(bootstrap, f"test-{uuid.uuid4().hex[:12]}.")
    names = [topics.job_events, topics.log_chunks]
    admin = KafkaAdminClient(bootstrap_servers=bootstrap, request_timeout_ms=30_000)
    admin.create_topics([NewTopic(name, num_partitions=3, replication_factor=1) for name in names])

    yield topics

    admin.delete_topics(names)
    admin.close()


class TopicReader:
    """Reads both topics from their start on a thread, as the API's worker would.

    With a stub, it also stores what it reads into the stub, because the stub responds to a finish
    call with 409 until it has every event that the call counts.
    """

    def __init__(self, topics: KafkaTopics, stub: StubRunApi | None = None) -> None:
        self.topics = topics
        self.stub = stub
        self._lock = threading.Lock()
        self._records: list[ConsumerRecord] = []
        self._stop = threading.Event()
        self._consumer = KafkaConsumer(
            bootstrap_servers=topics.bootstrap, group_id=None, enable_auto_commit=False, allow_auto_create_topics=False
        )
        self._consumer.assign(self._partitions())
        self._consumer.seek_to_beginning()
        self._thread = threading.Thread(target=self._read, name="test-topic-reader", daemon=True)

    def __enter__(self) -> TopicReader:
        self._thread.start()
        return self

    def __exit__(self, *exc_info: object) -> None:
        self._stop.set()
        self._thread.join(10)
        self._consumer.close()

    def records(self, topic: str, run_id: str) -> list[ConsumerRecord]:
        """Return the records of `run_id` in `topic` read so far, in partition and offset order."""
        with self._lock:
            found = [record for record in self._records if record.topic == topic and record.key == run_id.encode()]
        return sorted(found, key=lambda record: (record.partition, record.offset))

    def wait_for(self, run_id: str, *, events: int, chunks: int, timeout: float) -> bool:
        """Wait until the distinct seqs and chunk indexes of `run_id` reach the given counts."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            seqs = {json.loads(record.value)["seq"] for record in self.records(self.topics.job_events, run_id)}
            indexes = {json.loads(record.value)["index"] for record in self.records(self.topics.log_chunks, run_id)}
            if len(seqs) >= events and len(indexes) >= chunks:
                return True
            time.sleep(0.1)
        return False

    def _partitions(self) -> list[TopicPartition]:
        deadline = time.monotonic() + 30
        partitions: list[TopicPartition] = []
        for topic in (self.topics.job_events, self.topics.log_chunks):
            numbers = self._consumer.partitions_for_topic(topic)
            while not numbers and time.monotonic() < deadline:
                time.sleep(0.1)
                numbers = self._consumer.partitions_for_topic(topic)
            if not numbers:
                raise RuntimeError(f"topic {topic} has no partitions after 30 s")
            partitions.extend(TopicPartition(topic, number) for number in sorted(numbers))
        return partitions

    def _read(self) -> None:
        while not self._stop.is_set():
            batches = self._consumer.poll(timeout_ms=200)
            for records in batches.values():
                with self._lock:
                    self._records.extend(records)
                if self.stub is not None:
                    self._store_in_stub(records)

    def _store_in_stub(self, records: list[ConsumerRecord]) -> None:
        assert self.stub is not None
        with self.stub.lock:
            for record in records:
                if record.key != self.stub.run_id.encode():
                    continue
                message = json.loads(record.value)
                if record.topic == self.topics.job_events:
                    self.stub.events.setdefault(message["seq"], message["payload"])
                else:
                    self.stub.chunks.setdefault(message["index"], message)


@pytest.fixture
def tcp_proxy() -> Iterator[TcpProxy]:
    proxy = TcpProxy()
    yield proxy
    proxy.close()


@pytest.fixture
def run_id() -> str:
    return str(uuid.uuid4())
