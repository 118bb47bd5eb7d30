"""Process settings, read from `PRAETOR_*` environment variables.

Every process (API server, scheduler, executor launcher) builds one `Settings` at start and
passes it down; nothing reads the environment later.
"""

from __future__ import annotations

import os
from enum import StrEnum
from pathlib import Path

from pydantic import Field
from pydantic_settings import BaseSettings, SettingsConfigDict


class ConfigurationError(Exception):
    """A setting that is missing, or that points at something Praetor cannot use."""


class Mode(StrEnum):
    EMBEDDED = "embedded"
    DISTRIBUTED = "distributed"


class Settings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="PRAETOR_", extra="ignore")

    mode: Mode = Mode.EMBEDDED
    home: Path = Field(default=Path(".praetor"), description="Data directory of the embedded mode.")
    projects_root: Path | None = Field(
        default=None, description="Directory that local projects must live in; default $PRAETOR_HOME/projects."
    )
    admin_password: str | None = None
    secret_key: str | None = Field(
        default=None, description="Key that signs API tokens; default a random key kept in $PRAETOR_HOME/secret.key."
    )
    token_ttl_seconds: int = 12 * 3600

    api_url: str | None = Field(
        default=None, description="URL that executors use to reach the API; default the address `serve` listens on."
    )
    object_store_url: str | None = Field(
        default=None, description="fsspec URL for run output, e.g. s3://bucket/prefix; default $PRAETOR_HOME/objects."
    )
    s3_endpoint_url: str | None = None

    database_url: str | None = Field(
        default=None,
        description="Distributed mode: PostgreSQL URL for the event store and the read models, "
        "e.g. postgresql://praetor:secret@db:5432/praetor.",
    )
    read_model_schema: str = Field(default="praetor_read", description="Distributed mode: schema of the read-model tables.")
    kafka_bootstrap_servers: str | None = Field(
        default=None, description="Distributed mode: Kafka brokers as host:port, comma-separated."
    )
    kafka_topic_prefix: str = Field(default="", description="Prepended to every topic name.")
    kafka_topic_partitions: int = Field(default=8, ge=1, description="Partitions of the topics Praetor creates.")
    worker_group_id: str = "praetor-worker"

    scheduler_interval_seconds: float = 0.5

    @property
    def resolved_home(self) -> Path:
        return self.home.expanduser().resolve()

    @property
    def resolved_projects_root(self) -> Path:
        root = self.projects_root if self.projects_root is not None else self.resolved_home / "projects"
        return root.expanduser().resolve()

    @property
    def resolved_object_store_url(self) -> str:
        if self.object_store_url:
            return self.object_store_url
        return (self.resolved_home / "objects").as_uri()

    @property
    def spool_dir(self) -> Path:
        return self.resolved_home / "spool"

    def require_distributed(self) -> tuple[str, str]:
        """Return the database URL and the Kafka brokers, or raise naming the missing setting."""
        missing = [
            name
            for name, value in (("PRAETOR_DATABASE_URL", self.database_url), ("PRAETOR_KAFKA_BOOTSTRAP_SERVERS", self.kafka_bootstrap_servers))
            if not value
        ]
        if missing:
            raise ConfigurationError(
                f"PRAETOR_MODE=distributed needs {' and '.join(missing)}; set them to the PostgreSQL URL and the Kafka brokers"
            )
        return self.database_url, self.kafka_bootstrap_servers  # type: ignore[return-value]


def load_settings() -> Settings:
    """Read the settings from the environment, and from the file PRAETOR_CONFIG_FILE names.

    The file contains `PRAETOR_NAME=value` lines (dotenv format). The environment wins over it.
    """
    config_file = os.environ.get("PRAETOR_CONFIG_FILE")
    if config_file and not Path(config_file).is_file():
        raise ConfigurationError(f"PRAETOR_CONFIG_FILE names {config_file}, which is not a file; fix the path or unset it")
    return Settings(_env_file=config_file or None)
