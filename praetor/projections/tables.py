"""Read-model tables: what the REST GET endpoints query.

Only projections write these tables. Each row can be rebuilt from the event store (domain
tables) or from the job-event log (job events, host summaries, log chunks).
"""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any

from sqlalchemy import JSON, BigInteger, Boolean, DateTime, Index, Integer, String, Text, UniqueConstraint, Uuid
from sqlalchemy.dialects.postgresql import JSONB
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column

JsonDocument = JSON().with_variant(JSONB(), "postgresql")


class ReadModel(DeclarativeBase):
    type_annotation_map = {dict[str, Any]: JsonDocument, datetime: DateTime(timezone=True)}


class ProjectionPosition(ReadModel):
    """How far a projection has read its source: a notification id or a log offset."""

    __tablename__ = "projection_positions"

    name: Mapped[str] = mapped_column(String(200), primary_key=True)
    position: Mapped[int] = mapped_column(BigInteger)
    updated_at: Mapped[datetime]


class AggregateVersion(ReadModel):
    """The newest version of each aggregate that the read models include.

    A writer that saved version N of an aggregate waits for this row to reach N, which works
    however the domain events are partitioned on their way to the read models.
    """

    __tablename__ = "aggregate_versions"

    aggregate_id: Mapped[uuid.UUID] = mapped_column(Uuid, primary_key=True)
    version: Mapped[int] = mapped_column(Integer)


class User(ReadModel):
    __tablename__ = "users"

    id: Mapped[uuid.UUID] = mapped_column(Uuid, primary_key=True)
    username: Mapped[str] = mapped_column(String(150), unique=True)
    password_hash: Mapped[str] = mapped_column(String(400))
    is_superuser: Mapped[bool] = mapped_column(Boolean)
    created_at: Mapped[datetime]
    modified_at: Mapped[datetime]


class Organization(ReadModel):
    __tablename__ = "organizations"

    id: Mapped[uuid.UUID] = mapped_column(Uuid, primary_key=True)
    name: Mapped[str] = mapped_column(String(512), index=True)
    description: Mapped[str] = mapped_column(Text)
    created_at: Mapped[datetime]
    modified_at: Mapped[datetime]


class Project(ReadModel):
    __tablename__ = "projects"

    id: Mapped[uuid.UUID] = mapped_column(Uuid, primary_key=True)
    name: Mapped[str] = mapped_column(String(512), index=True)
    description: Mapped[str] = mapped_column(Text)
    organization_id: Mapped[uuid.UUID] = mapped_column(Uuid, index=True)
    scm_type: Mapped[str] = mapped_column(String(20))
    local_path: Mapped[str | None] = mapped_column(Text)
    scm_url: Mapped[str | None] = mapped_column(Text)
    scm_branch: Mapped[str | None] = mapped_column(String(256))
    created_at: Mapped[datetime]
    modified_at: Mapped[datetime]


class Inventory(ReadModel):
    __tablename__ = "inventories"

    id: Mapped[uuid.UUID] = mapped_column(Uuid, primary_key=True)
    name: Mapped[str] = mapped_column(String(512), index=True)
    description: Mapped[str] = mapped_column(Text)
    organization_id: Mapped[uuid.UUID] = mapped_column(Uuid, index=True)
    variables: Mapped[dict[str, Any]]
    total_hosts: Mapped[int] = mapped_column(Integer, default=0)
    total_groups: Mapped[int] = mapped_column(Integer, default=0)
    created_at: Mapped[datetime]
    modified_at: Mapped[datetime]


class Host(ReadModel):
    __tablename__ = "hosts"

    id: Mapped[uuid.UUID] = mapped_column(Uuid, primary_key=True)
    inventory_id: Mapped[uuid.UUID] = mapped_column(Uuid, index=True)
    name: Mapped[str] = mapped_column(String(512), index=True)
    description: Mapped[str] = mapped_column(Text)
    variables: Mapped[dict[str, Any]]
    enabled: Mapped[bool] = mapped_column(Boolean)
    created_at: Mapped[datetime]
    modified_at: Mapped[datetime]


class Group(ReadModel):
    __tablename__ = "groups"

    id: Mapped[uuid.UUID] = mapped_column(Uuid, primary_key=True)
    inventory_id: Mapped[uuid.UUID] = mapped_column(Uuid, index=True)
    name: Mapped[str] = mapped_column(String(512), index=True)
    description: Mapped[str] = mapped_column(Text)
    variables: Mapped[dict[str, Any]]
    created_at: Mapped[datetime]
    modified_at: Mapped[datetime]


class GroupHost(ReadModel):
    __tablename__ = "group_hosts"

    group_id: Mapped[uuid.UUID] = mapped_column(Uuid, primary_key=True)
    host_id: Mapped[uuid.UUID] = mapped_column(Uuid, primary_key=True, index=True)


class JobTemplate(ReadModel):
    __tablename__ = "job_templates"

    id: Mapped[uuid.UUID] = mapped_column(Uuid, primary_key=True)
    name: Mapped[str] = mapped_column(String(512), index=True)
    description: Mapped[str] = mapped_column(Text)
    organization_id: Mapped[uuid.UUID] = mapped_column(Uuid, index=True)
    project_id: Mapped[uuid.UUID] = mapped_column(Uuid, index=True)
    inventory_id: Mapped[uuid.UUID] = mapped_column(Uuid, index=True)
    playbook: Mapped[str] = mapped_column(Text)
    extra_vars: Mapped[dict[str, Any]]
    limit: Mapped[str] = mapped_column(Text)
    forks: Mapped[int] = mapped_column(Integer)
    verbosity: Mapped[int] = mapped_column(Integer)
    timeout_seconds: Mapped[int] = mapped_column(Integer)
    created_at: Mapped[datetime]
    modified_at: Mapped[datetime]


class Job(ReadModel):
    __tablename__ = "jobs"

    id: Mapped[uuid.UUID] = mapped_column(Uuid, primary_key=True)
    name: Mapped[str] = mapped_column(String(512), index=True)
    job_template_id: Mapped[uuid.UUID] = mapped_column(Uuid, index=True)
    organization_id: Mapped[uuid.UUID] = mapped_column(Uuid, index=True)
    project_id: Mapped[uuid.UUID] = mapped_column(Uuid)
    inventory_id: Mapped[uuid.UUID] = mapped_column(Uuid)
    playbook: Mapped[str] = mapped_column(Text)
    extra_vars: Mapped[dict[str, Any]]
    limit: Mapped[str] = mapped_column(Text)
    forks: Mapped[int] = mapped_column(Integer)
    verbosity: Mapped[int] = mapped_column(Integer)
    timeout_seconds: Mapped[int] = mapped_column(Integer)
    launched_by: Mapped[str] = mapped_column(String(150))
    relaunch_of: Mapped[uuid.UUID | None] = mapped_column(Uuid)
    status: Mapped[str] = mapped_column(String(20), index=True)
    failed: Mapped[bool] = mapped_column(Boolean)
    cancel_requested: Mapped[bool] = mapped_column(Boolean)
    current_run_id: Mapped[uuid.UUID | None] = mapped_column(Uuid)
    created_at: Mapped[datetime] = mapped_column(index=True)
    modified_at: Mapped[datetime]
    started_at: Mapped[datetime | None]
    finished_at: Mapped[datetime | None]


class Run(ReadModel):
    __tablename__ = "runs"

    id: Mapped[uuid.UUID] = mapped_column(Uuid, primary_key=True)
    job_id: Mapped[uuid.UUID] = mapped_column(Uuid, index=True)
    attempt_number: Mapped[int] = mapped_column(Integer)
    execution_pool_id: Mapped[str] = mapped_column(String(64))
    state: Mapped[str] = mapped_column(String(20), index=True)
    exit_code: Mapped[int | None] = mapped_column(Integer)
    error_reason: Mapped[str | None] = mapped_column(Text)
    event_count: Mapped[int | None] = mapped_column(Integer)
    created_at: Mapped[datetime]
    modified_at: Mapped[datetime]
    started_at: Mapped[datetime | None]
    finished_at: Mapped[datetime | None]


class JobEvent(ReadModel):
    __tablename__ = "job_events"
    __table_args__ = (
        UniqueConstraint("run_id", "seq", name="uq_job_events_run_seq"),
        Index("ix_job_events_job_seq", "job_id", "seq"),
    )

    id: Mapped[int] = mapped_column(BigInteger().with_variant(Integer, "sqlite"), primary_key=True, autoincrement=True)
    run_id: Mapped[uuid.UUID] = mapped_column(Uuid)
    job_id: Mapped[uuid.UUID] = mapped_column(Uuid)
    seq: Mapped[int] = mapped_column(Integer)
    event_type: Mapped[str] = mapped_column(String(100))
    uuid: Mapped[str | None] = mapped_column(String(64))
    parent_uuid: Mapped[str | None] = mapped_column(String(64))
    counter: Mapped[int | None] = mapped_column(Integer)
    host: Mapped[str | None] = mapped_column(String(512))
    play: Mapped[str | None] = mapped_column(Text)
    task: Mapped[str | None] = mapped_column(Text)
    stdout: Mapped[str] = mapped_column(Text)
    start_line: Mapped[int | None] = mapped_column(Integer)
    end_line: Mapped[int | None] = mapped_column(Integer)
    failed: Mapped[bool] = mapped_column(Boolean)
    changed: Mapped[bool] = mapped_column(Boolean)
    created_at: Mapped[datetime]
    event_data: Mapped[dict[str, Any]]


class JobHostSummary(ReadModel):
    __tablename__ = "job_host_summaries"
    __table_args__ = (UniqueConstraint("run_id", "host", name="uq_job_host_summaries_run_host"),)

    id: Mapped[int] = mapped_column(BigInteger().with_variant(Integer, "sqlite"), primary_key=True, autoincrement=True)
    job_id: Mapped[uuid.UUID] = mapped_column(Uuid, index=True)
    run_id: Mapped[uuid.UUID] = mapped_column(Uuid)
    host: Mapped[str] = mapped_column(String(512))
    ok: Mapped[int] = mapped_column(Integer)
    changed: Mapped[int] = mapped_column(Integer)
    failures: Mapped[int] = mapped_column(Integer)
    dark: Mapped[int] = mapped_column(Integer)
    skipped: Mapped[int] = mapped_column(Integer)
    rescued: Mapped[int] = mapped_column(Integer)
    ignored: Mapped[int] = mapped_column(Integer)
    processed: Mapped[int] = mapped_column(Integer)
    failed: Mapped[bool] = mapped_column(Boolean)
    created_at: Mapped[datetime]


class LogChunk(ReadModel):
    __tablename__ = "log_chunks"

    run_id: Mapped[uuid.UUID] = mapped_column(Uuid, primary_key=True)
    chunk_index: Mapped[int] = mapped_column(Integer, primary_key=True)
    job_id: Mapped[uuid.UUID] = mapped_column(Uuid, index=True)
    object_key: Mapped[str] = mapped_column(Text)
    first_seq: Mapped[int | None] = mapped_column(Integer)
    last_seq: Mapped[int | None] = mapped_column(Integer)
    byte_offset: Mapped[int] = mapped_column(BigInteger)
    size: Mapped[int] = mapped_column(Integer)
    created_at: Mapped[datetime]
