"""Exception handlers that turn errors into `{detail}` responses with the right 4xx status."""

from __future__ import annotations

import logging

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from eventsourcing.persistence import IntegrityError
from fastapi.responses import JSONResponse
from starlette.exceptions import HTTPException as StarletteHTTPException

from praetor.domain.errors import Conflict, DomainError, InvalidValue, NotFound

logger = logging.getLogger(__name__)


class ApiError(Exception):
    """An error response raised from a router: `status` and a `detail` that names the fix."""

    def __init__(self, status: int, detail: str, headers: dict[str, str] | None = None) -> None:
        super().__init__(detail)
        self.status = status
        self.detail = detail
        self.headers = headers


def install_error_handlers(app: FastAPI) -> None:
    app.add_exception_handler(ApiError, _api_error)
    app.add_exception_handler(DomainError, _domain_error)
    app.add_exception_handler(RequestValidationError, _validation_error)
    app.add_exception_handler(TimeoutError, _timeout)
    app.add_exception_handler(IntegrityError, _concurrent_change)
    app.add_exception_handler(StarletteHTTPException, _http_error)


async def _api_error(_request: Request, error: ApiError) -> JSONResponse:
    return JSONResponse({"detail": error.detail}, status_code=error.status, headers=error.headers)


async def _domain_error(_request: Request, error: DomainError) -> JSONResponse:
    if isinstance(error, NotFound):
        return JSONResponse({"detail": str(error)}, status_code=404)
    if isinstance(error, Conflict):
        return JSONResponse({"detail": str(error)}, status_code=409)
    field = error.field if isinstance(error, InvalidValue) else None
    return JSONResponse({"detail": str(error), "field": field}, status_code=400)


async def _validation_error(_request: Request, error: RequestValidationError) -> JSONResponse:
    messages = []
    for problem in error.errors():
        # The generic resource routes call their path parameter `row_id`; clients know it as the id.
        parts = ["id" if part == "row_id" else str(part) for part in problem["loc"] if part not in ("body", "query", "path")]
        location = ".".join(parts)
        messages.append(f"{location or 'body'}: {_describe(problem)}")
    return JSONResponse({"detail": "; ".join(messages), "errors": _plain(error.errors())}, status_code=422)


async def _http_error(request: Request, error: StarletteHTTPException) -> JSONResponse:
    detail = error.detail
    if error.status_code == 404 and detail == "Not Found":
        detail = f"no endpoint at {request.url.path}; /api/v1/docs lists the endpoints (collections use dashes, as in /api/v1/job-templates)"
    elif error.status_code == 405:
        detail = f"{request.method} is not allowed on {request.url.path}; /api/v1/docs lists the methods of each endpoint"
    return JSONResponse({"detail": detail}, status_code=error.status_code, headers=getattr(error, "headers", None))


async def _concurrent_change(request: Request, error: IntegrityError) -> JSONResponse:
    logger.warning("Request %s %s lost a race with other writers: %s", request.method, request.url.path, error)
    return JSONResponse({"detail": "the object changed under concurrent requests; send the request again"}, status_code=409)


async def _timeout(request: Request, error: TimeoutError) -> JSONResponse:
    logger.error("Request %s %s timed out: %s", request.method, request.url.path, error)
    return JSONResponse({"detail": f"timed out: {error}"}, status_code=503, headers={"Retry-After": "1"})


def _describe(problem: dict) -> str:
    kind = problem.get("type", "")
    if kind == "missing":
        return "field required; add it to the request"
    if kind == "extra_forbidden":
        return "unknown field; remove it or check its spelling"
    if kind == "json_invalid":
        error = (problem.get("ctx") or {}).get("error", "invalid JSON")
        return f"the body is not valid JSON ({error} at character {problem['loc'][-1]}); fix the JSON syntax"
    if kind in ("model_attributes_type", "dict_type") and len(problem.get("loc", ())) == 1:
        return "expected a JSON object; send one with the header Content-Type: application/json"
    if kind == "uuid_parsing":
        return f"{problem.get('input')!r} is not a valid id; ids are UUIDs such as 5d1c3c1e-0a7e-4a53-9d2b-6f0f2f2c6b1a"
    return f"{problem.get('msg', 'invalid value')}; send a value of the documented type"


def _plain(errors: list[dict]) -> list[dict]:
    # pydantic puts exception objects in `ctx`; keep only what JSON can carry.
    return [{"loc": list(problem["loc"]), "msg": problem["msg"], "type": problem["type"]} for problem in errors]
