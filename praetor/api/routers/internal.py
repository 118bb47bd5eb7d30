"""The executor's API, `/internal/api/v1/runs/{run_id}/...`, open only to the run's own token.

Events and log chunks are appended to the job-event log and acknowledged with 202. The log
consumer writes them to the read models. `finish` is accepted only once every event the
executor reports is in the read model, so a job never shows a final status with events
still missing. Until then it returns 409 with `Retry-After`.
"""

from __future__ import annotations

import logging
from datetime import UTC, datetime
from typing import Annotated, Any
from uuid import UUID

from fastapi import APIRouter, Depends, Request
from fastapi.concurrency import run_in_threadpool
from pydantic import Field
from sqlalchemy import func, select

from praetor.api.crud import get_row
from praetor.api.errors import ApiError
from praetor.api.event_batches import parse_event_batch
from praetor.api.manifest import build_manifest
from praetor.api.schemas import Body
from praetor.api.security import get_container, run_token
from praetor.api.serialize import row_to_json
from praetor.commands.jobs import FinishRun, StartRun
from praetor.domain.statuses import RunState
from praetor.infra.bootstrap import Container
from praetor.infra.event_log import JOB_EVENTS_TOPIC, LOG_CHUNKS_TOPIC
from praetor.infra.tokens import TokenClaims
from praetor.projections import tables

logger = logging.getLogger(__name__)

router = APIRouter(prefix="/internal/api/v1/runs/{run_id}", tags=["executor"])


class ChunkRecord(Body):
    index: Annotated[int, Field(ge=0)]
    object_key: Annotated[str, Field(min_length=1)]
    first_seq: int | None = None
    last_seq: int | None = None
    byte_offset: Annotated[int, Field(ge=0)]
    size: Annotated[int, Field(ge=0)]


class ChunkBatch(Body):
    chunks: list[ChunkRecord]


class FinishBody(Body):
    state: RunState
    exit_code: int | None = None
    error_reason: Annotated[str, Field(max_length=4000)] | None = None
    event_count: Annotated[int, Field(ge=0)]
    chunk_count: Annotated[int, Field(ge=0)] = 0


def _run(container: Container, run_id: str) -> tables.Run:
    return get_row(container, tables.Run, UUID(run_id), "run")


@router.get("/manifest", summary="Everything an executor needs to carry out the run")
def manifest(run_id: str, _claims: TokenClaims = Depends(run_token), container: Container = Depends(get_container)) -> dict[str, Any]:
    run = _run(container, run_id)
    with container.sessions() as session:
        return build_manifest(session, run)


def _stored_counts(container: Container, run: tables.Run) -> tuple[int, int]:
    """Return how many of the run's events and log chunks the read models hold."""
    with container.sessions() as session:
        events = session.scalar(select(func.count()).select_from(tables.JobEvent).where(tables.JobEvent.run_id == run.id))
        chunks = session.scalar(select(func.count()).select_from(tables.LogChunk).where(tables.LogChunk.run_id == run.id))
    return events or 0, chunks or 0


@router.get("", summary="Read the run as its executor sees it, with what is stored of it")
def read_run(run_id: str, _claims: TokenClaims = Depends(run_token), container: Container = Depends(get_container)) -> dict[str, Any]:
    run = _run(container, run_id)
    job = get_row(container, tables.Job, run.job_id, "job")
    stored_events, stored_chunks = _stored_counts(container, run)
    return {
        "run_id": run_id,
        "job_id": str(run.job_id),
        "state": run.state,
        "cancel_requested": job.cancel_requested,
        "stored_event_count": stored_events,
        "stored_chunk_count": stored_chunks,
    }


@router.get("/control", summary="Whether the executor must stop")
def control(run_id: str, _claims: TokenClaims = Depends(run_token), container: Container = Depends(get_container)) -> dict[str, bool]:
    run = _run(container, run_id)
    job = get_row(container, tables.Job, run.job_id, "job")
    return {"cancel_requested": job.cancel_requested}


@router.post("/start", summary="Mark the run as running")
def start(run_id: str, _claims: TokenClaims = Depends(run_token), container: Container = Depends(get_container)) -> dict[str, str]:
    run = _run(container, run_id)
    container.bus.handle(StartRun(job_id=run.job_id, run_id=run.id))
    logger.info("Run %s of job %s started", run_id, run.job_id)
    return {"state": _run(container, run_id).state}


@router.post(
    "/events",
    status_code=202,
    summary="Append a batch of Ansible events",
    openapi_extra={"requestBody": {"required": True, "content": {"application/json": {"schema": {"type": "object"}}}}},
)
async def append_events(
    run_id: str, request: Request, _claims: TokenClaims = Depends(run_token), container: Container = Depends(get_container)
) -> dict[str, int]:
    records = parse_event_batch(await request.body())
    return await run_in_threadpool(_append_events, container, run_id, records)


def _append_events(container: Container, run_id: str, records: list[dict[str, Any]]) -> dict[str, int]:
    run = _run(container, run_id)
    job_id = str(run.job_id)
    messages = [
        (
            run_id,
            {
                "run_id": run_id,
                "job_id": job_id,
                "seq": record["seq"],
                "event_type": record["event_type"],
                "timestamp": record.get("created"),
                "payload": record,
            },
        )
        for record in records
    ]
    container.event_log.append(JOB_EVENTS_TOPIC, messages)
    container.wake_log_consumer()
    return {"accepted": len(messages)}


@router.post("/log-chunks", status_code=202, summary="Announce stdout chunks written to the object store")
def append_chunks(
    run_id: str, batch: ChunkBatch, _claims: TokenClaims = Depends(run_token), container: Container = Depends(get_container)
) -> dict[str, int]:
    run = _run(container, run_id)
    timestamp = datetime.now(UTC).isoformat()
    messages = [
        (run_id, {"run_id": run_id, "job_id": str(run.job_id), "timestamp": timestamp, **chunk.model_dump()}) for chunk in batch.chunks
    ]
    container.event_log.append(LOG_CHUNKS_TOPIC, messages)
    container.wake_log_consumer()
    return {"accepted": len(messages)}


@router.post("/finish", summary="Record how the run ended")
def finish(
    run_id: str, body: FinishBody, _claims: TokenClaims = Depends(run_token), container: Container = Depends(get_container)
) -> dict[str, Any]:
    if not body.state.is_finished:
        raise ApiError(400, f"state: {body.state} is not a final state; use successful, failed, error or canceled")
    run = _run(container, run_id)
    stored_events, stored_chunks = _stored_counts(container, run)
    if stored_events < body.event_count or stored_chunks < body.chunk_count:
        container.wake_log_consumer()
        raise ApiError(
            409,
            f"run {run_id} has {stored_events} of {body.event_count} events and {stored_chunks} of "
            f"{body.chunk_count} log chunks stored; send the missing ones, or retry once they are applied",
            {"Retry-After": "1"},
        )

    container.bus.handle(
        FinishRun(
            job_id=run.job_id,
            run_id=run.id,
            state=body.state,
            exit_code=body.exit_code,
            error_reason=body.error_reason,
            event_count=body.event_count,
        )
    )
    logger.info("Run %s of job %s finished %s (exit code %s)", run_id, run.job_id, body.state, body.exit_code)
    return row_to_json(get_row(container, tables.Run, run.id, "run"))
