"""The web dashboard: server-rendered pages (Jinja2, htmx, ECharts) in Chinese and English under /web.

Pages use the API's login session and check the same actions of ``core.access`` as the API endpoints.
"""
from zerocarbon.web.routes import router

__all__ = ["router"]
