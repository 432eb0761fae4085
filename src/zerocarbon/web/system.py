"""The server's startup checks as a page (/web/system/checks): the findings of GET /api/v1/doctor in the page's
language, for a person with the admin role in any organisation, the same rule as the endpoint.

The checks concern the whole server (its database, folders, secrets and broker), not one organisation, so the
page lives outside /web/orgs/{org}. It never runs the active queue probe, which publishes a burst to the broker.
"""
from __future__ import annotations

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse

from zerocarbon.errors import PermissionDeniedError
from zerocarbon.services import doctor
from zerocarbon.web.routes import PREFIX, PageRoute, _language, _principal, render

router = APIRouter(prefix=PREFIX, route_class=PageRoute, include_in_schema=False)

# Severity -> the badge colour of app.css (red, amber, green, grey).
BADGE = {doctor.ERROR: "rejected", doctor.WARNING: "pending", doctor.OK: "active", doctor.SKIPPED: "skipped"}


@router.get("/system/checks")
def checks(request: Request) -> HTMLResponse:
    principal = _principal(request)
    sessions = request.app.state.sessions
    if not doctor.is_admin_anywhere(sessions, principal):
        raise PermissionDeniedError("the server's checks are for a person with the admin role in an organisation")
    lang = _language(request, principal)
    report = doctor.server_report(sessions)
    text_lang = "zh" if lang.startswith("zh") else "en"
    rows = [dict(check=f.check, severity=f.severity, badge=BADGE[f.severity],
                 **dict(zip(("title", "found", "fix"), f.text(text_lang)))) for f in report.findings]
    return render(request, "system/checks.html", lang=lang, principal=principal, report=report, rows=rows)
