"""The web dashboard: server-rendered pages (Jinja2, htmx, ECharts) in Chinese and English under /web.

Pages use the API's login session and check the same actions of ``core.access`` as the API endpoints.
"""
from fastapi import Depends, FastAPI
from sqlalchemy.orm import sessionmaker

from zerocarbon.api import create_app as create_api
from zerocarbon.api import security
from zerocarbon.web import assessment, claims, disclosure, energy, factors, footprints, green, jobs, pathway, schedule, scope3, supply, system, targets
from zerocarbon.web.routes import install, router

PAGE_ROUTERS = (router, energy.router, schedule.router, factors.router, jobs.router, footprints.router, green.router,
                supply.router, scope3.router, targets.router, pathway.router, claims.router, assessment.router,
                disclosure.router, system.router)


def create_app(sessions: sessionmaker | None = None) -> FastAPI:
    """What `zerocarbon serve` runs: the API under /api/v1 and the dashboard under /web, on one database."""
    app = create_api(sessions)
    # Every page router: a state-changing form with the login cookie must carry its CSRF token.
    for module_router in PAGE_ROUTERS:
        app.include_router(module_router, dependencies=[Depends(security.csrf_guard)])
    install(app)
    security.allow_inline(app, security.template_texts())
    return app


__all__ = ["PAGE_ROUTERS", "create_app", "router"]
