"""The executor program: runs one run of a job with ansible-runner and reports it to the API.

Steps: fetch the manifest, mark the run started, prepare the private data dir, run the playbook
while spooling, sending and chunking its events, then report the result. The program exits 0
once the API accepted the result, whatever that result is, and non-zero when it could not report.
"""

from __future__ import annotations

import logging
import os
import shutil
import signal
import sys
import time
from dataclasses import dataclass
from types import FrameType
from typing import Any

import ansible_runner

from praetor.executor.api import ApiUnavailableError, RunApiClient, RunApiError
from praetor.executor.cancel import TERMINATE_GRACE_SECONDS, StopWatcher, kill_process_tree
from praetor.executor.chunks import ChunkPublisher
from praetor.executor.environment import ExecutorEnvironment, InvalidEnvironment, read_environment
from praetor.executor.events import EventRecorder
from praetor.executor.kafka_sink import KafkaRunSink
from praetor.executor.logs import RunLogAdapter, RunLogContext
from praetor.executor.manifest import ManifestError, RunManifest, parse_manifest
from praetor.executor.private_data import PrivateDataError, prepare_private_data_dir
from praetor.executor.sender import EventSender
from praetor.executor.sink import EventSink
from praetor.executor.spool import SPOOL_FILE_NAME, SpoolWriter
from praetor.infra.object_store import ObjectStore, open_object_store

logger = logging.getLogger(__name__)

EXIT_REPORTED = 0
EXIT_NOT_REPORTED = 1
EXIT_BAD_ENVIRONMENT = 2

# Time allowed, after ansible ends, to send the remaining events and chunks and the finish call.
REPORT_DEADLINE_SECONDS = 300.0

# The API stores error reasons of up to 4000 characters; API responses quoted in a reason are long.
MAX_ERROR_REASON_CHARS = 1000


@dataclass(frozen=True)
class RunOutcome:
    state: str
    exit_code: int | None = None
    error_reason: str | None = None

    @classmethod
    def error(cls, reason: str) -> RunOutcome:
        """Build an `error` outcome whose reason is one line of at most MAX_ERROR_REASON_CHARS."""
        one_line = " ".join(reason.split())
        if len(one_line) > MAX_ERROR_REASON_CHARS:
            one_line = one_line[: MAX_ERROR_REASON_CHARS - 1] + "…"
        return cls("error", None, one_line)


class RunExecution:
    """One executor process's work on one run."""

    def __init__(self, env: ExecutorEnvironment) -> None:
        self.env = env
        self.context = RunLogContext(env.run_id)
        self.log = RunLogAdapter(logger, self.context)
        self.client = RunApiClient(env.api_url, env.run_id, env.token, self.context)
        self.watcher = StopWatcher(self.client, self.context)
        self.run_dir = env.spool_dir / env.run_id
        self.private_dir = self.run_dir / "private"
        self.spool: SpoolWriter | None = None
        self.sender: EventSender | None = None
        self.publisher: ChunkPublisher | None = None
        self.kafka_sink: KafkaRunSink | None = None

    def execute(self) -> int:
        self.log.info("executor started with pid %d", os.getpid())
        signal.signal(signal.SIGTERM, self._on_sigterm)
        try:
            try:
                outcome = self._run()
            except Exception as error:  # noqa: BLE001 - an executor bug still gets reported as the run's error
                self.log.exception("executor failed")
                outcome = RunOutcome.error(f"executor failed: {type(error).__name__}: {error}")
            exit_code = self._report(outcome)
        finally:
            self._clean_up()
            self.client.close()
        self.log.info("executor stopped with exit code %d", exit_code)
        return exit_code

    def _on_sigterm(self, signum: int, frame: FrameType | None) -> None:
        self.watcher.request_stop("the executor received SIGTERM")

    def _run(self) -> RunOutcome:
        try:
            manifest = parse_manifest(self.client.get_manifest())
        except (RunApiError, ApiUnavailableError, ManifestError) as error:
            self.log.error("fetching the manifest failed: %s", error)
            return RunOutcome.error(f"fetching the manifest failed: {error}")
        if manifest.run_id != self.env.run_id:
            self.log.error("the manifest is for run %s", manifest.run_id)
            return RunOutcome.error(f"the manifest is for run {manifest.run_id}, not {self.env.run_id}")
        self.context.job_id = manifest.job_id
        self.log.info("fetched manifest: attempt %d of playbook %s", manifest.attempt_number, manifest.playbook)

        try:
            self.client.start()
        except (RunApiError, ApiUnavailableError) as error:
            self.log.error("marking the run as started failed: %s", error)
            return RunOutcome.error(f"marking the run as started failed: {error}")

        try:
            store = open_object_store(
                self.env.object_store_url,
                s3_endpoint_url=self.env.s3_endpoint_url,
                s3_key=self.env.s3_key,
                s3_secret=self.env.s3_secret,
                s3_token=self.env.s3_token,
            )
        except (ValueError, OSError, ImportError) as error:
            self.log.error("opening the object store failed: %s", error)
            return RunOutcome.error(f"opening the object store failed: {error}")

        spool_path = self.run_dir / SPOOL_FILE_NAME
        try:
            self.run_dir.mkdir(parents=True, exist_ok=True)
            self.spool = SpoolWriter(spool_path)
        except FileExistsError:
            self.log.error("spool %s already exists", spool_path)
            return RunOutcome.error(f"spool {spool_path} already exists, so another executor ran this run")
        except OSError as error:
            self.log.error("creating spool %s failed: %s", spool_path, error)
            return RunOutcome.error(f"creating spool {spool_path} failed: {error}")

        try:
            prepare_private_data_dir(self.private_dir, manifest, self.context)
        except PrivateDataError as error:
            self.log.error("preparing the private data dir failed: %s", error)
            return RunOutcome.error(str(error))
        except OSError as error:
            self.log.error("preparing the private data dir failed: %s", error)
            return RunOutcome.error(f"preparing the private data dir failed: {error}")

        # A cancel request that arrived during the clone stops the run before ansible starts.
        if self.watcher():
            return self._stopped_outcome()

        return self._run_ansible(manifest, store, self.spool)

    def _run_ansible(self, manifest: RunManifest, store: ObjectStore, spool: SpoolWriter) -> RunOutcome:
        sink = select_event_sink(self.env, self.client, manifest.job_id, self.context)
        if isinstance(sink, KafkaRunSink):
            self.kafka_sink = sink
            self.log.info("publishing events to Kafka topics %s and %s", sink.job_events_topic, sink.log_chunks_topic)
        self.sender = EventSender(sink, spool, self.context, on_fatal=self.watcher.request_stop)
        self.publisher = ChunkPublisher(sink, store, self.env.run_id, self.context, on_fatal=self.watcher.request_stop)
        recorder = EventRecorder(spool, self.context, on_stdout=self.publisher.add, on_fatal=self.watcher.request_stop)
        self.sender.start()
        self.publisher.start()

        # ansible-runner returns rc 127 when ansible-playbook is not on PATH, so the executor's
        # own environment, which has ansible-core installed, comes first.
        path = os.pathsep.join([os.path.dirname(sys.executable), os.environ.get("PATH", "")])
        timeout = manifest.timeout_seconds or None
        self.log.info("starting ansible-runner: playbook %s, forks %d, timeout %s s", manifest.playbook, manifest.forks, timeout)
        self.watcher.start_timer(timeout)
        try:
            runner = ansible_runner.run(
                private_data_dir=str(self.private_dir),
                ident=self.env.run_id,
                playbook=manifest.playbook,
                limit=manifest.limit,
                forks=manifest.forks,
                verbosity=manifest.verbosity,
                envvars={"PATH": path},
                event_handler=recorder,
                status_handler=self._on_status,
                cancel_callback=self.watcher,
                quiet=True,
                timeout=timeout,
            )
        except Exception as error:  # noqa: BLE001 - any runner failure becomes the run's error reason
            self.log.exception("ansible-runner failed")
            return RunOutcome.error(f"ansible-runner failed: {type(error).__name__}: {error}")
        finally:
            # No process that the run started may outlive it, also after a timeout, where
            # ansible-runner only kills ansible-playbook's process group.
            leftover = kill_process_tree(TERMINATE_GRACE_SECONDS, self.log)
            if leftover:
                self.log.warning("killed %d processes left over after ansible-runner returned", leftover)

        self.log.info("ansible-runner ended with status %s and rc %s after %d events", runner.status, runner.rc, recorder.last_seq)
        if self.watcher.stopping:
            return self._stopped_outcome()
        if runner.status == "timeout" or self.watcher.timed_out:
            # ansible-runner reports rc 254 here, which is its own value, not ansible-playbook's.
            return RunOutcome("failed", None, f"timed out after {manifest.timeout_seconds} s")
        if runner.status == "successful" and runner.rc == 0:
            return RunOutcome("successful", 0, None)
        return RunOutcome("failed", runner.rc, None)

    def _stopped_outcome(self) -> RunOutcome:
        if self.watcher.stop_reason is not None:
            return RunOutcome.error(self.watcher.stop_reason)
        return RunOutcome("canceled", None, None)

    def _on_status(self, status_data: dict[str, Any], runner_config: Any = None) -> None:
        self.log.info("ansible-runner status: %s", status_data.get("status"))

    def _report(self, outcome: RunOutcome) -> int:
        deadline = time.monotonic() + REPORT_DEADLINE_SECONDS
        if self.spool is not None:
            self.spool.close()
        if not self._drain(deadline):
            return EXIT_NOT_REPORTED

        # A sender or publisher failure that happened after ansible ended still makes the run an error.
        failure = (self.sender and self.sender.failure) or (self.publisher and self.publisher.failure)
        if failure and outcome.state != "error":
            outcome = RunOutcome.error(failure)

        body = {
            "state": outcome.state,
            "exit_code": outcome.exit_code,
            "error_reason": outcome.error_reason,
            "event_count": self.sender.acked_seq if self.sender else 0,
            "chunk_count": self.publisher.announced_count if self.publisher else 0,
        }
        self.log.info(
            "finishing run as %s with %d events and %d chunks, error reason: %s",
            outcome.state, body["event_count"], body["chunk_count"], outcome.error_reason,
        )
        try:
            self.client.finish(body, deadline_seconds=_remaining(deadline))
        except (RunApiError, ApiUnavailableError) as error:
            self.log.error("reporting the result failed: %s", error)
            return EXIT_NOT_REPORTED
        return EXIT_REPORTED

    def _drain(self, deadline: float) -> bool:
        """Wait until the event sink acknowledged every event and chunk, and return False when it stayed unreachable.

        The finish call counts the acknowledged events and chunks, and the API rejects it with 409
        until it has stored that many, so it is not sent while some are missing. A sender or
        publisher that the sink rejected has nothing more to send, which counts as drained.
        """
        if self.sender is not None and not self.sender.drain(_remaining(deadline)) and self.sender.failure is None:
            self.log.error("not reporting the result, because events after seq %d are not sent, and the spool keeps them for a replay", self.sender.acked_seq)
            return False
        if self.publisher is not None and not self.publisher.drain(_remaining(deadline)) and self.publisher.failure is None:
            self.log.error("not reporting the result, because log chunks after index %d are not announced", self.publisher.announced_count - 1)
            return False
        return True

    def _clean_up(self) -> None:
        if self.spool is not None:
            self.spool.close()
        if self.kafka_sink is not None:
            self.kafka_sink.close()
        if self.private_dir.exists():
            try:
                shutil.rmtree(self.private_dir)
            except OSError as error:
                self.log.warning("removing private data dir %s failed: %s", self.private_dir, error)


def _remaining(deadline: float) -> float:
    return max(deadline - time.monotonic(), 1.0)


def select_event_sink(env: ExecutorEnvironment, client: RunApiClient, job_id: str, log_context: RunLogContext) -> EventSink:
    """Return the Kafka sink when the environment names Kafka brokers, and else the API client.

    The Kafka sink connects on its first send, so selecting it does no I/O.
    """
    if env.kafka is None:
        return client
    return KafkaRunSink(env.kafka, env.run_id, job_id, log_context)


def main() -> int:
    """Execute the run named by the environment and return the process exit code."""
    logging.basicConfig(
        level=logging.INFO,
        format="%(asctime)s %(levelname)s %(name)s: %(message)s",
        stream=sys.stderr,
    )
    # httpx logs every request at INFO, which would be one line per second for control polling.
    logging.getLogger("httpx").setLevel(logging.WARNING)
    # kafka-python 3.0.12 logs about four lines per failed connection, which is over ten lines per
    # attempt while Kafka is down. The Kafka sink logs each failed attempt with kafka-python's error.
    logging.getLogger("kafka").setLevel(logging.CRITICAL)
    try:
        env = read_environment(os.environ)
    except InvalidEnvironment as error:
        logger.error("executor cannot start: %s", error)
        return EXIT_BAD_ENVIRONMENT
    return RunExecution(env).execute()
