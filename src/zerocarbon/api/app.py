"""The FastAPI application: routers under /api/v1, the OpenAPI document at /api/v1/openapi.json."""
from __future__ import annotations

from contextlib import asynccontextmanager

from fastapi import FastAPI
from fastapi.openapi.utils import get_openapi
from sqlalchemy.orm import sessionmaker

from zerocarbon import __version__, limits
from zerocarbon.api import docs_page, problems, security
from zerocarbon.api.routes import (assessments, audit, auth, batches, claims, disclosure, energy, factors,
                                   footprints, green, inventory, jobs, orgs, pathways, schedules, schemas, scope3, suppliers, system,
                                   targets)
from zerocarbon.services import jobs as job_service

PREFIX = "/api/v1"
ROUTERS = tuple(m.router for m in (auth, orgs, inventory, batches, jobs, factors, audit, energy, schedules, schemas,
                                   scope3, footprints, suppliers, green, targets, pathways, claims, assessments,
                                   disclosure, system))


def create_app(sessions: sessionmaker | None = None) -> FastAPI:
    """The API over ``sessions`` (default: the database of $ZEROCARBON_DB, migrated on start)."""
    limits.check()  # an unusable upload or row limit stops the server at start, not on every upload
    if sessions is None:
        from zerocarbon.services.database import open_sessions

        sessions = open_sessions()

    @asynccontextmanager
    async def lifespan(app: FastAPI):
        # Background jobs run in this process unless a Redis queue hands them to `zerocarbon worker`.
        executor = job_service.start_server_executor(sessions)
        try:
            yield
        finally:
            if executor is not None:
                executor.stop()

    app = FastAPI(title="zerocarbon API", version=__version__, openapi_url=f"{PREFIX}/openapi.json",
                  docs_url=None, redoc_url=None, lifespan=lifespan,
                  description="GHG accounting of a factory: inventories, imported batches, factors, audit trail. "
                              "Errors are RFC 9457 problem details (application/problem+json).")
    app.state.sessions = sessions
    problems.install(app)
    for router in ROUTERS:
        app.include_router(router, prefix=PREFIX)
    app.include_router(docs_page.router(PREFIX, app.openapi_url, app.title))
    security.install(app, docs_page.pages(PREFIX, app.openapi_url, app.title))

    def openapi() -> dict:
        if app.openapi_schema is None:
            app.openapi_schema = batches.document_rows(problems.document(get_openapi(
                title=app.title, version=app.version, description=app.description, routes=app.routes)))
        return app.openapi_schema

    app.openapi = openapi
    return app
