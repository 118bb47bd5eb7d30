"""Wiring: builds every adapter from the settings, in one place.

Nothing connects at import time. `build_container` opens stores and runs migrations;
`Container.start` starts the background loops (projection runner, log consumer,
scheduler); `Container.stop` stops them and every executor it launched.
"""

from __future__ import annotations

import logging
import secrets
from dataclasses import dataclass, field

from sqlalchemy import Engine, select
from sqlalchemy.orm import Session, sessionmaker

import praetor.commands  # noqa: F401  (registers the command handlers)
import praetor.projections  # noqa: F401  (registers the projections)
from praetor.commands.base import CommandBus
from praetor.commands.organizations import CreateUser
from praetor.infra.database import create_read_model_engine, migrate, session_factory
from praetor.infra.event_log import EventLog, SqliteEventLog
from praetor.infra.event_store import PraetorApplication, open_sqlite_event_store
from praetor.infra.local_launcher import LocalLauncher
from praetor.infra.log_consumer import EmbeddedLogConsumer
from praetor.infra.object_store import ObjectStore, open_object_store
from praetor.infra.passwords import hash_password
from praetor.infra.project_sources import FilesystemProjectSources
from praetor.infra.projection_runner import EmbeddedProjectionRunner
from praetor.infra.scheduler import Scheduler
from praetor.infra.settings import Mode, Settings
from praetor.infra.tokens import TokenSigner, load_or_create_key
from praetor.projections import tables

logger = logging.getLogger(__name__)

ADMIN_USERNAME = "admin"


@dataclass
class Container:
    settings: Settings
    app: PraetorApplication
    engine: Engine
    sessions: sessionmaker[Session]
    runner: EmbeddedProjectionRunner
    event_log: EventLog
    log_consumer: EmbeddedLogConsumer
    object_store: ObjectStore
    bus: CommandBus
    signer: TokenSigner
    scheduler: Scheduler | None = None
    launcher: LocalLauncher | None = None
    started: list[str] = field(default_factory=list)

    def start(self, *, api_url: str | None = None, scheduler: bool = True) -> None:
        """Start the background loops; with `scheduler`, also schedule runs and start executors."""
        self.runner.start()
        self.log_consumer.start()
        if scheduler:
            executor_api_url = self.settings.api_url or api_url
            if not executor_api_url:
                raise ValueError("the scheduler needs the API URL for executors; set PRAETOR_API_URL")
            self.launcher = LocalLauncher(
                api_url=executor_api_url,
                object_store_url=self.settings.resolved_object_store_url,
                spool_dir=self.settings.spool_dir,
                s3_endpoint_url=self.settings.s3_endpoint_url,
            )
            self.scheduler = Scheduler(
                self.bus, self.sessions, self.launcher, self.signer, interval_seconds=self.settings.scheduler_interval_seconds
            )
            self.scheduler.start()

    def stop(self) -> None:
        if self.scheduler is not None:
            self.scheduler.stop()
        if self.launcher is not None:
            self.launcher.stop_all()
        self.log_consumer.stop()
        self.runner.stop()
        self.event_log.close()
        self.engine.dispose()


def build_container(settings: Settings) -> Container:
    if settings.mode is not Mode.EMBEDDED:
        raise NotImplementedError(f"PRAETOR_MODE={settings.mode} is not available yet; use embedded")
    home = settings.resolved_home
    for directory in (home, settings.resolved_projects_root, settings.spool_dir):
        directory.mkdir(parents=True, exist_ok=True)

    app = open_sqlite_event_store(home / "events.sqlite")
    engine = create_read_model_engine(f"sqlite:///{home / 'readmodels.sqlite'}")
    migrate(engine)
    sessions = session_factory(engine)
    runner = EmbeddedProjectionRunner(app, sessions)
    event_log = SqliteEventLog(home / "log.sqlite")
    key = settings.secret_key or load_or_create_key(home / "secret.key")
    return Container(
        settings=settings,
        app=app,
        engine=engine,
        sessions=sessions,
        runner=runner,
        event_log=event_log,
        log_consumer=EmbeddedLogConsumer(event_log, sessions),
        object_store=open_object_store(settings.resolved_object_store_url, s3_endpoint_url=settings.s3_endpoint_url),
        bus=CommandBus(app, FilesystemProjectSources(settings.resolved_projects_root), runner),
        signer=TokenSigner(key, settings.token_ttl_seconds),
    )


def ensure_admin(container: Container) -> str | None:
    """Create the admin user when there is none; return its password when one was generated."""
    container.runner.catch_up()
    with container.sessions() as session:
        exists = session.scalar(select(tables.User.id).where(tables.User.username == ADMIN_USERNAME))
    if exists is not None:
        return None

    generated = None
    password = container.settings.admin_password
    if not password:
        password = generated = secrets.token_urlsafe(18)
    container.bus.handle(CreateUser(ADMIN_USERNAME, hash_password(password), is_superuser=True), wait=False)
    container.runner.catch_up()
    logger.info("Created the %s user", ADMIN_USERNAME)
    return generated
