"""Stopping a run: cancel requests from the API, internal stop requests, and killing ansible's processes."""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable

import httpx
import psutil

from praetor.executor.api import RunApiClient
from praetor.executor.logs import RunLogAdapter, RunLogContext

logger = logging.getLogger(__name__)

CONTROL_POLL_INTERVAL_SECONDS = 1.0
TERMINATE_GRACE_SECONDS = 3.0
KILL_ROUNDS = 3


class StopWatcher:
    """The `cancel_callback` for ansible-runner.

    ansible-runner calls it on its event loop and kills ansible-playbook's process group once it
    returns True. Before that, the watcher kills every process below the executor, because
    ansible-core 2.19 starts each worker process in a session of its own, so the workers and
    their commands are outside ansible-playbook's process group. The run stops when the API
    reports `cancel_requested` (polled at most once per `poll_interval` seconds) or when another
    part of the executor calls `request_stop`.

    The watcher also enforces the job timeout that ansible-runner is given. ansible-runner only
    kills ansible-playbook's process group on timeout, which leaves commands that ansible
    started in other groups running, so the watcher kills the tree first and returns False, and
    ansible-runner then reports the timeout as usual.
    """

    def __init__(
        self,
        client: RunApiClient,
        log_context: RunLogContext,
        *,
        poll_interval: float = CONTROL_POLL_INTERVAL_SECONDS,
        grace_seconds: float = TERMINATE_GRACE_SECONDS,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self._client = client
        self._log = RunLogAdapter(logger, log_context)
        self._timeout_seconds: float | None = None
        self._poll_interval = poll_interval
        self._grace_seconds = grace_seconds
        self._clock = clock
        # Reentrant because request_stop also runs as a SIGTERM handler on the main thread,
        # which may hold the lock at that moment.
        self._lock = threading.RLock()
        self._last_poll: float | None = None
        self._failed_polls = 0
        self._started_at: float | None = None
        self.cancel_requested = False
        self.stop_reason: str | None = None
        self.timed_out = False

    @property
    def stopping(self) -> bool:
        with self._lock:
            return self.cancel_requested or self.stop_reason is not None

    def request_stop(self, reason: str) -> None:
        """Stop the run as `error` with `reason`. Safe to call from any thread and from signal handlers."""
        with self._lock:
            if self.stop_reason is None and not self.cancel_requested:
                self.stop_reason = reason
        self._log.warning("stop requested: %s", reason)

    def start_timer(self, timeout_seconds: float | None) -> None:
        """Start counting the job timeout (None for no timeout), just before ansible-runner starts.

        Starting before ansible-runner's own clock means the watcher's timeout fires no later
        than ansible-runner's.
        """
        self._timeout_seconds = timeout_seconds
        self._started_at = self._clock()

    def __call__(self) -> bool:
        if not self.stopping:
            self._poll_control()
        if not self.stopping:
            self._check_timeout()
            return False

        # ansible-runner keeps calling until ansible-playbook exits, so the kill runs on every
        # call and catches processes that were forked after the previous one.
        kill_process_tree(self._grace_seconds, self._log)
        return True

    def _check_timeout(self) -> None:
        if self.timed_out or not self._timeout_seconds or self._started_at is None:
            return
        if self._clock() - self._started_at < self._timeout_seconds:
            return
        self.timed_out = True
        self._log.warning("run timed out after %s s; killing its processes", self._timeout_seconds)
        kill_process_tree(self._grace_seconds, self._log)

    def _poll_control(self) -> None:
        now = self._clock()
        if self._last_poll is not None and now - self._last_poll < self._poll_interval:
            return
        self._last_poll = now

        try:
            requested = self._client.get_cancel_requested()
        except (httpx.HTTPError, ValueError, AttributeError) as error:
            self._failed_polls += 1
            # One line per failure would repeat every second during an outage.
            if self._failed_polls == 1 or self._failed_polls % 30 == 0:
                self._log.warning("control request failed %d times in a row, treating as not canceled: %s", self._failed_polls, error)
            return

        self._failed_polls = 0
        if requested:
            with self._lock:
                self.cancel_requested = True
            self._log.info("cancel requested by the API")


def kill_process_tree(grace_seconds: float, log: logging.LoggerAdapter | logging.Logger = logger) -> int:
    """Terminate every descendant of this process, then kill the survivors, and return how many were signaled.

    NOTE: a process that daemonized (its parent exited, so it was reparented to init) is no
    longer a descendant and is not found.
    """
    signaled = 0
    for _ in range(KILL_ROUNDS):
        # Zombies are dead already and wait for their parent to reap them.
        children = [child for child in psutil.Process().children(recursive=True) if _is_running(child)]
        if not children:
            break
        signaled += len(children)
        log.info("terminating %d processes: %s", len(children), ", ".join(str(child.pid) for child in children))

        for child in children:
            try:
                child.terminate()
            except psutil.NoSuchProcess:
                continue
        alive = _wait_until_exited(children, grace_seconds)

        for child in alive:
            log.warning("killing process %d, which outlived SIGTERM by %.0f s", child.pid, grace_seconds)
            try:
                child.kill()
            except psutil.NoSuchProcess:
                continue
        _wait_until_exited(alive, grace_seconds)
    return signaled


def _wait_until_exited(processes: list[psutil.Process], timeout: float) -> list[psutil.Process]:
    """Wait until each process has exited or is a zombie, and return those still running at `timeout`.

    psutil.wait_procs would reap our direct children, and then pexpect could not read the exit
    status of ansible-playbook, so this polls instead and leaves reaping to each parent.
    """
    deadline = time.monotonic() + timeout
    alive = processes
    while True:
        alive = [process for process in alive if _is_running(process)]
        if not alive or time.monotonic() >= deadline:
            return alive
        time.sleep(0.05)


def _is_running(process: psutil.Process) -> bool:
    try:
        return process.is_running() and process.status() != psutil.STATUS_ZOMBIE
    except psutil.NoSuchProcess:
        return False
