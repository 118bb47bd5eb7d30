"""The FastAPI application: `/api/v1` for users and `/internal/api/v1` for executors."""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager

from fastapi import APIRouter, FastAPI

from praetor.api.errors import install_error_handlers
from praetor.api.routers import auth, internal, jobs
from praetor.api.routers.resources import resource_routers
from praetor.infra.bootstrap import Container


def create_app(
    container: Container,
    *,
    on_startup: Callable[[], None] | None = None,
    on_shutdown: Callable[[], None] | None = None,
) -> FastAPI:
    """Build the application; `on_startup` and `on_shutdown` run in the server's lifespan.

    Stopping background work in the lifespan, and not after the server returns, matters
    because uvicorn re-raises SIGTERM once it has shut down.
    """

    @asynccontextmanager
    async def lifespan(_app: FastAPI) -> AsyncIterator[None]:
        if on_startup is not None:
            on_startup()
        try:
            yield
        finally:
            if on_shutdown is not None:
                on_shutdown()

    app = FastAPI(
        title="Praetor", version="0.1.0", openapi_url="/api/v1/openapi.json", docs_url="/api/v1/docs", lifespan=lifespan
    )
    app.state.container = container
    install_error_handlers(app)

    api = APIRouter(prefix="/api/v1")
    api.include_router(auth.router)
    for router in resource_routers():
        api.include_router(router)
    api.include_router(jobs.router)
    app.include_router(api)
    app.include_router(internal.router)
    return app
