"""The interactive API documentation (Swagger UI) at /api/v1/docs, served from files shipped in the package.

FastAPI's default page loads Swagger UI from a CDN, which a plant network without internet cannot reach; the
bundle and its stylesheet (swagger-ui-dist, Apache-2.0, pinned in web/package-lock.json) are committed in
``api/static`` and served here, so the page loads nothing from another host.
"""
from __future__ import annotations

from importlib.resources import files

from fastapi import APIRouter, Response
from fastapi.openapi.docs import get_swagger_ui_html, get_swagger_ui_oauth2_redirect_html
from fastapi.responses import HTMLResponse

from zerocarbon.errors import NotFoundError

ASSETS = {"swagger-ui-bundle.js": "text/javascript", "swagger-ui.css": "text/css"}


def pages(prefix: str, openapi_url: str, title: str) -> tuple[str, str]:
    """The documentation page and Swagger UI's OAuth2 redirect page, as served (the same text every time, so the
    content security policy allows their inline scripts by hash)."""
    # The favicon is inlined too: the default one is fetched from another host.
    page = get_swagger_ui_html(openapi_url=openapi_url, title=f"{title} — docs",
                               swagger_js_url=f"{prefix}/docs/assets/swagger-ui-bundle.js",
                               swagger_css_url=f"{prefix}/docs/assets/swagger-ui.css",
                               swagger_favicon_url="data:,",
                               oauth2_redirect_url=f"{prefix}/docs/oauth2-redirect")
    return page.body.decode(), get_swagger_ui_oauth2_redirect_html().body.decode()


def router(prefix: str, openapi_url: str, title: str) -> APIRouter:
    docs = APIRouter(include_in_schema=False)
    page_html, redirect_html = pages(prefix, openapi_url, title)

    @docs.get(f"{prefix}/docs", response_class=HTMLResponse)
    def page() -> HTMLResponse:
        return HTMLResponse(page_html)

    @docs.get(f"{prefix}/docs/oauth2-redirect", response_class=HTMLResponse)
    def oauth2_redirect() -> HTMLResponse:
        return HTMLResponse(redirect_html)

    @docs.get(f"{prefix}/docs/assets/{{name}}")
    def asset(name: str) -> Response:
        if name not in ASSETS:
            raise NotFoundError(f"no documentation asset '{name}'")
        body = files("zerocarbon.api").joinpath("static", name).read_bytes()
        return Response(body, media_type=ASSETS[name], headers={"Cache-Control": "public, max-age=86400"})

    return docs
