"""The web dashboard: server-rendered pages (Jinja2, htmx, ECharts) in Chinese and English under /web.

Pages use the API's login session and check the same actions of ``core.access`` as the API endpoints.
"""
from fastapi import FastAPI
from sqlalchemy.orm import sessionmaker

from zerocarbon.api import create_app as create_api
from zerocarbon.web import system
from zerocarbon.web import assessment, claims, disclosure, energy, factors, footprints, green, jobs, pathway, schedule, scope3, supply, targets
from zerocarbon.web.routes import install, router


def create_app(sessions: sessionmaker | None = None) -> FastAPI:
    """What `zerocarbon serve` runs: the API under /api/v1 and the dashboard under /web, on one database."""
    app = create_api(sessions)
    app.include_router(router)
    app.include_router(energy.router)
    app.include_router(schedule.router)
    app.include_router(factors.router)
    app.include_router(jobs.router)
    app.include_router(footprints.router)
    app.include_router(green.router)
    app.include_router(supply.router)
    app.include_router(scope3.router)
    app.include_router(targets.router)
    app.include_router(pathway.router)
    app.include_router(claims.router)
    app.include_router(assessment.router)
    app.include_router(disclosure.router)
    app.include_router(system.router)
    install(app)
    return app


__all__ = ["create_app", "router"]
