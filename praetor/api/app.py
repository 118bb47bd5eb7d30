"""The FastAPI application: `/api/v1` for users and `/internal/api/v1` for executors."""

from __future__ import annotations

from fastapi import APIRouter, FastAPI

from praetor.api.errors import install_error_handlers
from praetor.api.routers import auth, internal, jobs
from praetor.api.routers.resources import resource_routers
from praetor.infra.bootstrap import Container


def create_app(container: Container) -> FastAPI:
    app = FastAPI(title="Praetor", version="0.1.0", openapi_url="/api/v1/openapi.json", docs_url="/api/v1/docs")
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
