"""Routers for launching and following jobs: jobs, runs, job events, host summaries, logs."""

from __future__ import annotations

import logging
import re
from typing import Any
from uuid import UUID

from fastapi import APIRouter, Depends, Request
from fastapi.responses import PlainTextResponse
from sqlalchemy import select

from praetor.api import schemas
from praetor.api.crud import get_row, handle_command
from praetor.api.errors import ApiError
from praetor.api.query import list_rows
from praetor.api.security import Principal, current_user, get_container
from praetor.api.serialize import row_to_json
from praetor.commands.jobs import CancelJob, LaunchJob, RelaunchJob
from praetor.infra.bootstrap import Container
from praetor.projections import tables

# CSI sequences (colours, cursor moves) and OSC sequences (titles, links) of ANSI terminals.
ANSI_ESCAPE = re.compile(r"\x1b\[[0-?]*[ -/]*[@-~]|\x1b\][^\x07\x1b]*(?:\x07|\x1b\\)")

router = APIRouter(tags=["job"])
logger = logging.getLogger(__name__)


def _launch(container: Container, user: Principal, template_id: UUID, body: schemas.LaunchBody) -> dict[str, Any]:
    job_id = handle_command(
        container, LaunchJob(job_template_id=template_id, launched_by=user.username, extra_vars=body.extra_vars, limit=body.limit)
    )
    if container.scheduler is not None:
        container.scheduler.wake()
    return row_to_json(get_row(container, tables.Job, job_id, "job"))


@router.post("/job-templates/{template_id}/launch", status_code=201, summary="Launch a job from a template", tags=["job template"])
def launch(
    template_id: UUID,
    body: schemas.LaunchBody | None = None,
    user: Principal = Depends(current_user),
    container: Container = Depends(get_container),
) -> dict[str, Any]:
    get_row(container, tables.JobTemplate, template_id, "job template")
    return _launch(container, user, template_id, body or schemas.LaunchBody())


@router.post("/jobs", status_code=201, summary="Launch a job")
def create_job(
    body: schemas.JobCreate, user: Principal = Depends(current_user), container: Container = Depends(get_container)
) -> dict[str, Any]:
    return _launch(container, user, body.job_template_id, body)


@router.get("/jobs", summary="List jobs")
def list_jobs(
    request: Request, _user: Principal = Depends(current_user), container: Container = Depends(get_container)
) -> dict[str, Any]:
    with container.sessions() as session:
        return list_rows(session, tables.Job, request.query_params, search_fields=("name", "playbook")).to_json()


@router.get("/jobs/{job_id}", summary="Read a job")
def read_job(job_id: UUID, _user: Principal = Depends(current_user), container: Container = Depends(get_container)) -> dict[str, Any]:
    return row_to_json(get_row(container, tables.Job, job_id, "job"))


@router.post("/jobs/{job_id}/cancel", status_code=202, summary="Cancel a job")
def cancel_job(job_id: UUID, _user: Principal = Depends(current_user), container: Container = Depends(get_container)) -> dict[str, Any]:
    get_row(container, tables.Job, job_id, "job")
    container.bus.handle(CancelJob(job_id))
    return row_to_json(get_row(container, tables.Job, job_id, "job"))


@router.post("/jobs/{job_id}/relaunch", status_code=201, summary="Launch a job again with the same parameters")
def relaunch_job(job_id: UUID, user: Principal = Depends(current_user), container: Container = Depends(get_container)) -> dict[str, Any]:
    get_row(container, tables.Job, job_id, "job")
    new_job_id = handle_command(container, RelaunchJob(job_id=job_id, launched_by=user.username))
    if container.scheduler is not None:
        container.scheduler.wake()
    return row_to_json(get_row(container, tables.Job, new_job_id, "job"))


@router.get("/jobs/{job_id}/events", summary="List a job's events in seq order")
def job_events(
    job_id: UUID, request: Request, _user: Principal = Depends(current_user), container: Container = Depends(get_container)
) -> dict[str, Any]:
    get_row(container, tables.Job, job_id, "job")
    with container.sessions() as session:
        page = list_rows(
            session, tables.JobEvent, request.query_params, search_fields=("stdout", "task", "host"),
            default_order="seq", scope=[tables.JobEvent.job_id == job_id],
        )
    return page.to_json()


@router.get("/jobs/{job_id}/hosts", summary="List a job's per-host summaries")
def job_hosts(
    job_id: UUID, request: Request, _user: Principal = Depends(current_user), container: Container = Depends(get_container)
) -> dict[str, Any]:
    job = get_row(container, tables.Job, job_id, "job")
    scope = [tables.JobHostSummary.job_id == job_id]
    if job.current_run_id is not None:
        scope.append(tables.JobHostSummary.run_id == job.current_run_id)
    with container.sessions() as session:
        page = list_rows(
            session, tables.JobHostSummary, request.query_params, search_fields=("host",), default_order="host", scope=scope
        )
    return page.to_json()


@router.get("/jobs/{job_id}/logs", response_class=PlainTextResponse, summary="Read a job's output as text")
def job_logs(
    job_id: UUID, format: str = "txt", _user: Principal = Depends(current_user), container: Container = Depends(get_container)
) -> PlainTextResponse:
    if format not in ("txt", "ansi"):
        raise ApiError(400, f"format: {format!r} is not a log format; use 'txt' (ANSI codes stripped) or 'ansi'")
    job = get_row(container, tables.Job, job_id, "job")
    if job.current_run_id is None:
        return PlainTextResponse("")
    with container.sessions() as session:
        chunks = session.scalars(
            select(tables.LogChunk).where(tables.LogChunk.run_id == job.current_run_id).order_by(tables.LogChunk.chunk_index)
        ).all()
    text = b"".join(_read_chunk(container, chunk) for chunk in chunks).decode("utf-8", errors="replace")
    if format == "txt":
        text = ANSI_ESCAPE.sub("", text)
    return PlainTextResponse(text, media_type="text/plain; charset=utf-8")


def _read_chunk(container: Container, chunk: tables.LogChunk) -> bytes:
    try:
        return container.object_store.get(chunk.object_key)
    except (FileNotFoundError, ValueError) as error:
        logger.warning("Stdout chunk %s of run %s cannot be read: %s", chunk.chunk_index, chunk.run_id, error)
        return f"[stdout chunk {chunk.chunk_index} ({chunk.size} bytes) is missing from the object store]\n".encode()


@router.get("/runs", summary="List runs", tags=["run"])
def list_runs(
    request: Request, _user: Principal = Depends(current_user), container: Container = Depends(get_container)
) -> dict[str, Any]:
    with container.sessions() as session:
        return list_rows(session, tables.Run, request.query_params, search_fields=("error_reason",)).to_json()


@router.get("/runs/{run_id}", summary="Read a run", tags=["run"])
def read_run(run_id: UUID, _user: Principal = Depends(current_user), container: Container = Depends(get_container)) -> dict[str, Any]:
    return row_to_json(get_row(container, tables.Run, run_id, "run"))


@router.get("/runs/{run_id}/log-chunks", summary="List a run's stdout chunks", tags=["run"])
def run_log_chunks(
    run_id: UUID, request: Request, _user: Principal = Depends(current_user), container: Container = Depends(get_container)
) -> dict[str, Any]:
    get_row(container, tables.Run, run_id, "run")
    with container.sessions() as session:
        page = list_rows(
            session, tables.LogChunk, request.query_params, search_fields=("object_key",),
            default_order="chunk_index", scope=[tables.LogChunk.run_id == run_id],
        )
    return page.to_json()


@router.get("/job-events", summary="List job events across jobs", tags=["job event"])
def all_job_events(
    request: Request, _user: Principal = Depends(current_user), container: Container = Depends(get_container)
) -> dict[str, Any]:
    with container.sessions() as session:
        return list_rows(session, tables.JobEvent, request.query_params, search_fields=("stdout",), default_order="-id").to_json()


@router.get("/job-host-summaries", summary="List host summaries across jobs", tags=["job event"])
def all_host_summaries(
    request: Request, _user: Principal = Depends(current_user), container: Container = Depends(get_container)
) -> dict[str, Any]:
    with container.sessions() as session:
        return list_rows(
            session, tables.JobHostSummary, request.query_params, search_fields=("host",), default_order="-id"
        ).to_json()
