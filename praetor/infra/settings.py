"""Process settings, read from `PRAETOR_*` environment variables.

Every process (API server, scheduler, executor launcher) builds one `Settings` at start and
passes it down; nothing reads the environment later.
"""

from __future__ import annotations

from enum import StrEnum
from pathlib import Path

from pydantic import Field
from pydantic_settings import BaseSettings, SettingsConfigDict


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

    scheduler_interval_seconds: float = 0.5
    default_execution_pool: str = "default"

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
