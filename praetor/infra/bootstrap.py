"""Wiring: builds every adapter from the settings, in one place.

Nothing connects at import time. `build_container` opens stores and runs migrations;
`Container.start` starts the background loops (projection runner, log consumer,
scheduler); `Container.stop` stops them and every executor it launched.
"""

from __future__ import annotations

import logging
import secrets
import subprocess
import sys
from dataclasses import dataclass
from typing import TYPE_CHECKING

from eventsourcing.application import AggregateNotFoundError
from eventsourcing.persistence import IntegrityError
from sqlalchemy import Engine
from sqlalchemy.orm import Session, sessionmaker

import praetor.commands  # noqa: F401  (registers the command handlers)
import praetor.projections  # noqa: F401  (registers the projections)
from praetor.commands.base import CommandBus
from praetor.commands.organizations import CreateUser
from praetor.domain.user import User
from praetor.infra.database import create_read_model_engine, migrate, session_factory
from praetor.infra.event_log import EventLog, SqliteEventLog
from praetor.infra.event_store import PraetorApplication, open_postgres_event_store, open_sqlite_event_store
from praetor.infra.kafka_log import KafkaEventLog
from praetor.infra.local_launcher import LocalLauncher
from praetor.infra.log_consumer import EmbeddedLogConsumer
from praetor.infra.object_store import ObjectStore, open_object_store
from praetor.infra.passwords import hash_password
from praetor.infra.project_sources import FilesystemProjectSources
from praetor.infra.projection_runner import EmbeddedProjectionRunner
from praetor.infra.scheduler import Scheduler
from praetor.infra.settings import ConfigurationError, Mode, Settings
from praetor.infra.tokens import TokenSigner, load_or_create_key
from praetor.infra.version_waiter import AggregateVersionWaiter

if TYPE_CHECKING:
    from praetor.infra.relay import Relay

logger = logging.getLogger(__name__)

ADMIN_USERNAME = "admin"
ADMIN_USER_ID = User.create_id(ADMIN_USERNAME)


@dataclass
class Container:
    settings: Settings
    app: PraetorApplication
    engine: Engine
    sessions: sessionmaker[Session]
    event_log: EventLog
    object_store: ObjectStore
    bus: CommandBus
    signer: TokenSigner
    runner: EmbeddedProjectionRunner | None = None
    log_consumer: EmbeddedLogConsumer | None = None
    scheduler: Scheduler | None = None
    launcher: LocalLauncher | None = None
    relay: "Relay | None" = None
    worker: subprocess.Popen | None = None

    def start(self, *, api_url: str | None = None, scheduler: bool = True, all_in_one: bool = False) -> None:
        """Start the background loops of this process.

        Embedded mode always runs its projection runner and log consumer here. With
        `scheduler`, the process also schedules runs and starts their executors. With
        `all_in_one` (distributed mode), it also runs a relay and a stream worker.
        """
        if self.runner is not None:
            self.runner.start()
        if self.log_consumer is not None:
            self.log_consumer.start()
        if all_in_one and self.settings.mode is Mode.DISTRIBUTED:
            from praetor.infra.relay import run_relay  # Kafka clients load only in the distributed mode.

            database_url, brokers = self.settings.require_distributed()
            self.relay = run_relay(
                self.app,
                database_url,
                brokers,
                topic_prefix=self.settings.kafka_topic_prefix,
                topic_partitions=self.settings.kafka_topic_partitions,
            )
            self.worker = start_worker_process(self.settings)
        if scheduler:
            executor_api_url = self.settings.api_url or api_url
            if not executor_api_url:
                raise ConfigurationError("the scheduler needs the API URL for executors; set PRAETOR_API_URL")
            self.launcher = LocalLauncher(
                api_url=executor_api_url,
                object_store_url=self.settings.resolved_object_store_url,
                spool_dir=self.settings.spool_dir,
                s3_endpoint_url=self.settings.s3_endpoint_url,
                kafka_bootstrap_servers=self.settings.kafka_bootstrap_servers if self.settings.mode is Mode.DISTRIBUTED else None,
                kafka_topic_prefix=self.settings.kafka_topic_prefix,
            )
            self.scheduler = Scheduler(
                self.bus, self.sessions, self.launcher, self.signer, interval_seconds=self.settings.scheduler_interval_seconds
            )
            self.scheduler.start()

    def wake_log_consumer(self) -> None:
        if self.log_consumer is not None:
            self.log_consumer.wake()

    def stop(self) -> None:
        if self.scheduler is not None:
            self.scheduler.stop()
        if self.launcher is not None:
            self.launcher.stop_all()
        if self.relay is not None:
            self.relay.stop()
        if self.worker is not None:
            stop_worker_process(self.worker)
        if self.log_consumer is not None:
            self.log_consumer.stop()
        if self.runner is not None:
            self.runner.stop()
        self.event_log.close()
        self.engine.dispose()


def build_container(settings: Settings) -> Container:
    home = settings.resolved_home
    for directory in (home, settings.resolved_projects_root, settings.spool_dir):
        directory.mkdir(parents=True, exist_ok=True)
    key = settings.secret_key or load_or_create_key(home / "secret.key")
    object_store = open_object_store(
        settings.resolved_object_store_url, s3_endpoint_url=settings.s3_endpoint_url, create_bucket=True
    )
    project_sources = FilesystemProjectSources(settings.resolved_projects_root)

    if settings.mode is Mode.DISTRIBUTED:
        database_url, brokers = settings.require_distributed()
        app = open_postgres_event_store(database_url)
        engine = create_read_model_engine(database_url, schema=settings.read_model_schema)
        migrate(engine)
        sessions = session_factory(engine)
        return Container(
            settings=settings,
            app=app,
            engine=engine,
            sessions=sessions,
            event_log=KafkaEventLog(brokers, settings.kafka_topic_prefix),
            object_store=object_store,
            bus=CommandBus(app, project_sources, AggregateVersionWaiter(sessions)),
            signer=TokenSigner(key, settings.token_ttl_seconds),
        )

    app = open_sqlite_event_store(home / "events.sqlite")
    engine = create_read_model_engine(f"sqlite:///{home / 'readmodels.sqlite'}")
    migrate(engine)
    sessions = session_factory(engine)
    runner = EmbeddedProjectionRunner(app, sessions)
    event_log = SqliteEventLog(home / "log.sqlite")
    return Container(
        settings=settings,
        app=app,
        engine=engine,
        sessions=sessions,
        event_log=event_log,
        object_store=object_store,
        bus=CommandBus(app, project_sources, runner),
        signer=TokenSigner(key, settings.token_ttl_seconds),
        runner=runner,
        log_consumer=EmbeddedLogConsumer(event_log, sessions),
    )


def start_worker_process(settings: Settings) -> subprocess.Popen:
    """Start `praetor worker` as a child process (faust runs its own event loop and signals)."""
    log_path = settings.resolved_home / "worker.log"
    with log_path.open("ab") as log:
        process = subprocess.Popen([sys.executable, "-m", "praetor.cli.main", "worker"], stdout=log, stderr=subprocess.STDOUT)
    logger.info("Started the stream worker, pid %s, log %s", process.pid, log_path)
    return process


def stop_worker_process(process: subprocess.Popen) -> None:
    process.terminate()
    try:
        process.wait(timeout=30)
    except subprocess.TimeoutExpired:
        logger.warning("Stream worker pid %s did not stop within 30 s; killing it", process.pid)
        process.kill()
        process.wait()
    logger.info("Stopped the stream worker, pid %s", process.pid)


def ensure_admin(container: Container) -> str | None:
    """Create the admin user unless it exists; return its password when one was generated.

    The admin's id is fixed, so two processes that start at once cannot both create it: the
    event store rejects the second `Created` event of the same aggregate.
    """
    try:
        container.app.repository.get(ADMIN_USER_ID)
        return None
    except AggregateNotFoundError:
        pass

    generated = None
    password = container.settings.admin_password
    if not password:
        password = generated = secrets.token_urlsafe(18)
    try:
        container.bus.handle(
            CreateUser(ADMIN_USERNAME, hash_password(password), is_superuser=True), wait=False
        )
    except IntegrityError:
        logger.info("Another process created the %s user first", ADMIN_USERNAME)
        return None
    if container.runner is not None:
        container.runner.catch_up()
    logger.info("Created the %s user", ADMIN_USERNAME)
    return generated
