"""The scheduler loop: turns pending jobs into runs and starts an executor for each.

Any number of schedulers may run against one event store. Each loads the pending job and
records `RunScheduled`. When two race for one job, the event store accepts the first save
and rejects the second, because its aggregate version is taken. The loser moves on, and
only the winner starts an executor.
"""

from __future__ import annotations

import logging
import threading
import uuid
from abc import ABC, abstractmethod

from eventsourcing.persistence import IntegrityError, OperationalError
from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from praetor.commands.base import CommandBus
from praetor.commands.jobs import ScheduleRun
from praetor.domain.errors import Conflict, NotFound
from praetor.domain.statuses import JobStatus
from praetor.infra.tokens import TokenSigner
from praetor.projections import tables

logger = logging.getLogger(__name__)

# The id of the execution pool every run goes to until pools can be configured.
DEFAULT_EXECUTION_POOL_ID = str(uuid.uuid5(uuid.NAMESPACE_URL, "praetor:execution-pool:default"))


class Launcher(ABC):
    @abstractmethod
    def launch(self, run_id: str, token: str) -> int:
        """Start an executor for the run; return an id of what was started (a process id)."""

    def reap(self) -> dict[str, int]:
        """Collect executors that ended; return their exit codes by run id."""
        return {}


class Scheduler:
    def __init__(
        self,
        bus: CommandBus,
        sessions: sessionmaker[Session],
        launcher: Launcher | None,
        signer: TokenSigner,
        *,
        interval_seconds: float = 0.5,
        batch_size: int = 50,
        name: str = "scheduler",
    ) -> None:
        self._bus = bus
        self._sessions = sessions
        self._launcher = launcher
        self._signer = signer
        self._interval_seconds = interval_seconds
        self._batch_size = batch_size
        self._name = name
        self._wake = threading.Event()
        self._stopping = threading.Event()
        self._thread: threading.Thread | None = None

    def start(self) -> None:
        self._thread = threading.Thread(target=self._loop, name=self._name, daemon=True)
        self._thread.start()
        logger.info("%s started (every %s s)", self._name, self._interval_seconds)

    def stop(self) -> None:
        self._stopping.set()
        self._wake.set()
        if self._thread is not None:
            self._thread.join(timeout=30)
        logger.info("%s stopped", self._name)

    def wake(self) -> None:
        self._wake.set()

    def schedule_pending(self) -> list[str]:
        """Schedule and launch the oldest pending jobs; return the run ids this call created."""
        with self._sessions() as session:
            job_ids = session.scalars(
                select(tables.Job.id)
                .where(tables.Job.status == JobStatus.PENDING.value)
                .order_by(tables.Job.created_at)
                .limit(self._batch_size)
            ).all()

        run_ids = []
        for job_id in job_ids:
            try:
                run_id = self._bus.handle(ScheduleRun(job_id=job_id, execution_pool=DEFAULT_EXECUTION_POOL_ID))
            except (IntegrityError, Conflict, NotFound) as error:
                # Another scheduler recorded a run first, or the job was cancelled meanwhile.
                logger.debug("%s skipped job %s: %s", self._name, job_id, error)
                continue
            except OperationalError as error:
                # The event store was busy (SQLite allows one writer); the next round retries.
                logger.warning("%s could not schedule job %s this round: %s", self._name, job_id, error)
                continue
            logger.info("%s scheduled run %s of job %s", self._name, run_id, job_id)
            run_ids.append(str(run_id))
            if self._launcher is not None:
                self._launch(str(job_id), str(run_id))
        return run_ids

    def _launch(self, job_id: str, run_id: str) -> None:
        try:
            pid = self._launcher.launch(run_id, self._signer.issue_run_token(run_id))
        except (OSError, ValueError):
            # NOTE: the run stays pending; a reconciler that restarts lost runs is not built yet.
            logger.exception("%s could not start the executor of run %s (job %s)", self._name, run_id, job_id)
            return
        logger.info("%s started executor pid %s for run %s (job %s)", self._name, pid, run_id, job_id)

    def _loop(self) -> None:
        while not self._stopping.is_set():
            self._wake.clear()
            try:
                self.schedule_pending()
                if self._launcher is not None:
                    self._launcher.reap()
            except Exception:
                logger.exception("%s failed a scheduling round; retrying in %s s", self._name, self._interval_seconds)
            self._wake.wait(self._interval_seconds)
