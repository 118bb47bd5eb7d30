"""Starts executors as local subprocesses, one per run, for the embedded mode."""

from __future__ import annotations

import logging
import os
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path

import psutil

from praetor.infra.scheduler import Launcher

logger = logging.getLogger(__name__)

EXECUTOR_LOG_NAME = "executor.log"


class LocalLauncher(Launcher):
    """Runs `python -m praetor.executor` for a run, with the run's variables in its environment.

    Each executor leads its own session, so `stop_all` can signal it and its process group.
    The executor's output is appended to `{spool_dir}/{run_id}/executor.log`.
    """

    def __init__(
        self,
        api_url: str,
        object_store_url: str,
        spool_dir: Path,
        s3_endpoint_url: str | None = None,
        kafka_bootstrap_servers: str | None = None,
        kafka_topic_prefix: str = "",
    ) -> None:
        self.api_url = api_url
        self.object_store_url = object_store_url
        # The executor requires an absolute spool dir, and its working directory may differ.
        self.spool_dir = Path(spool_dir).absolute()
        self.s3_endpoint_url = s3_endpoint_url
        # With brokers, executors publish their events to Kafka; without, they post them to the API.
        self.kafka_bootstrap_servers = kafka_bootstrap_servers
        self.kafka_topic_prefix = kafka_topic_prefix
        self._lock = threading.Lock()
        self._processes: dict[str, subprocess.Popen[bytes]] = {}

    def launch(self, run_id: str, token: str) -> int:
        """Start the executor of `run_id` and return its pid.

        Raises ValueError when `run_id` is not a single path component, or when an executor that
        this launcher started for `run_id` is still running.
        """
        if not run_id or "/" in run_id or run_id in (".", ".."):
            raise ValueError(f"run id {run_id!r} is invalid, because it must name one directory under the spool dir")
        self.reap()
        with self._lock:
            running = self._processes.get(run_id)
        if running is not None:
            raise ValueError(f"an executor for run {run_id} is already running with pid {running.pid}")

        run_dir = self.spool_dir / run_id
        run_dir.mkdir(parents=True, exist_ok=True)

        env = dict(os.environ)
        env.update(
            {
                "RUN_ID": run_id,
                "PRAETOR_API_URL": self.api_url,
                "PRAETOR_RUN_TOKEN": token,
                "PRAETOR_OBJECT_STORE_URL": self.object_store_url,
                "PRAETOR_SPOOL_DIR": str(self.spool_dir),
            }
        )
        if self.s3_endpoint_url:
            env["PRAETOR_S3_ENDPOINT_URL"] = self.s3_endpoint_url
        env.pop("PRAETOR_KAFKA_BOOTSTRAP_SERVERS", None)
        env.pop("PRAETOR_KAFKA_TOPIC_PREFIX", None)
        if self.kafka_bootstrap_servers:
            env["PRAETOR_KAFKA_BOOTSTRAP_SERVERS"] = self.kafka_bootstrap_servers
            env["PRAETOR_KAFKA_TOPIC_PREFIX"] = self.kafka_topic_prefix

        with open(run_dir / EXECUTOR_LOG_NAME, "ab") as log_file:
            process = subprocess.Popen(
                [sys.executable, "-m", "praetor.executor"],
                env=env,
                stdin=subprocess.DEVNULL,
                stdout=log_file,
                stderr=subprocess.STDOUT,
                start_new_session=True,
            )
        with self._lock:
            self._processes[run_id] = process
        logger.info("launched executor for run_id=%s with pid %d", run_id, process.pid)
        return process.pid

    def running(self) -> dict[str, int]:
        """Return the pid of each executor that is still running, by run id."""
        self.reap()
        with self._lock:
            return {run_id: process.pid for run_id, process in self._processes.items()}

    def reap(self) -> dict[str, int]:
        """Forget the executors that exited and return their exit codes, by run id."""
        exited: dict[str, int] = {}
        with self._lock:
            for run_id, process in list(self._processes.items()):
                returncode = process.poll()
                if returncode is None:
                    continue
                exited[run_id] = returncode
                del self._processes[run_id]

        for run_id, returncode in exited.items():
            if returncode == 0:
                logger.info("executor for run_id=%s exited with code 0", run_id)
            else:
                logger.warning("executor for run_id=%s exited with code %d; see %s", run_id, returncode, self.spool_dir / run_id / EXECUTOR_LOG_NAME)
        return exited

    def stop_all(self, timeout: float = 10) -> None:
        """Send SIGTERM to every running executor's process group, then SIGKILL what is left after `timeout` seconds.

        An executor that gets SIGTERM stops its run as `error`. ansible-playbook runs in a
        session of its own, so the executor's descendants are also killed at the end.
        """
        with self._lock:
            processes = dict(self._processes)
        if not processes:
            return
        logger.info("stopping %d executors", len(processes))

        descendants: list[psutil.Process] = []
        for run_id, process in processes.items():
            descendants += _descendants(process.pid)
            logger.info("sending SIGTERM to executor for run_id=%s with pid %d", run_id, process.pid)
            _signal_group(process.pid, signal.SIGTERM)

        deadline = time.monotonic() + timeout
        for run_id, process in processes.items():
            try:
                process.wait(max(deadline - time.monotonic(), 0.0))
            except subprocess.TimeoutExpired:
                logger.warning("executor for run_id=%s with pid %d did not stop within %.0f s; sending SIGKILL", run_id, process.pid, timeout)
                descendants += _descendants(process.pid)
                _signal_group(process.pid, signal.SIGKILL)
                process.wait()

        for child in descendants:
            try:
                child.kill()
            except psutil.NoSuchProcess:
                continue
        self.reap()


def _descendants(pid: int) -> list[psutil.Process]:
    try:
        return psutil.Process(pid).children(recursive=True)
    except psutil.NoSuchProcess:
        return []


def _signal_group(pid: int, signum: signal.Signals) -> None:
    # The executor leads its own process group (start_new_session), so its pgid is its pid.
    try:
        os.killpg(pid, signum)
    except ProcessLookupError:
        return
    except PermissionError as error:
        logger.warning("sending %s to process group %d failed: %s", signum.name, pid, error)
