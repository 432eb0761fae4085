"""Hostile requests against the served application: the security headers, an oversize body, a file with too many
rows, a forged state-changing request (no or a wrong CSRF token), a planted session id, password guessing from one
address across many e-mails, and the password policy.

Login, the per-e-mail rate limit, API CSRF on one endpoint, logout of a kept cookie and token scopes are in
tests/test_api_auth.py; the role x endpoint matrix and cross-organisation ids in tests/test_api_permissions.py.
"""
from __future__ import annotations

import base64
import hashlib
import re

import pytest
from fastapi import APIRouter
from fastapi.testclient import TestClient
from sqlalchemy import func, select

from tests.api_support import (BASE_URL, PASSWORD, YEAR, app_with, client, electricity, login_client, person,
                               web_login_client)
from tests.test_api_permissions import served_routes
from zerocarbon import limits
from zerocarbon.api import security
from zerocarbon.errors import AuthenticationError, InputError, RateLimitedError
from zerocarbon.services import accounting, auth, users
from zerocarbon.store import users as store
from zerocarbon.store.tables import ImportBatchRow
from zerocarbon.web import create_app

pytestmark = pytest.mark.usefixtures("cheap_passwords")

UPLOAD = "/api/v1/orgs/ACME/batches"


def _batches(sessions) -> int:
    with sessions() as s:
        return s.scalar(select(func.count()).select_from(ImportBatchRow))


def _upload(content: bytes, name: str = "e.csv") -> dict:
    return {"files": {"file": (name, content)}, "data": {"kind": "electricity", "year": str(YEAR)}}


# -- headers ---------------------------------------------------------------------------------------------------

def test_every_answer_carries_the_security_headers_and_hsts_only_over_https(acme):
    app = create_app(acme)
    over_https, over_http = TestClient(app, base_url=BASE_URL), TestClient(app, base_url="http://testserver")
    for path in ("/web/login", "/api/v1/schemas", "/api/v1/orgs", "/api/v1/nowhere", "/web/orgs/ACME/nowhere",
                 "/api/v1/docs", "/web/static/app.js"):
        r = over_https.get(path)
        csp = r.headers["content-security-policy"]
        assert "frame-ancestors 'none'" in csp and "object-src 'none'" in csp, path
        assert re.search(r"script-src 'self'[^;]*", csp) and "unsafe-inline" not in csp.split("script-src")[1].split(";")[0]
        assert r.headers["x-content-type-options"] == "nosniff" and r.headers["x-frame-options"] == "DENY"
        assert r.headers["referrer-policy"] == "no-referrer" and "camera=()" in r.headers["permissions-policy"]
        assert r.headers["strict-transport-security"].startswith("max-age=31536000"), path
        assert "strict-transport-security" not in over_http.get(path).headers
    assert over_https.get("/api/v1/schemas").headers["content-disposition"] == 'attachment; filename="api.json"'
    assert "content-disposition" not in over_https.get("/web/login").headers


def test_an_unexpected_error_answer_carries_the_headers_too(acme):
    broken = APIRouter()

    @broken.get("/broken")
    def fail():
        raise RuntimeError("boom")

    c = TestClient(app_with(acme, (broken, "/api/v1")), base_url=BASE_URL, raise_server_exceptions=False)
    r = c.get("/api/v1/broken")
    assert r.status_code == 500 and r.headers["x-frame-options"] == "DENY"
    assert "content-security-policy" in r.headers


def test_logged_in_answers_are_kept_by_no_cache_unless_the_endpoint_chose_revalidation(acme):
    alice = login_client(create_app(acme), "alice@acme.cn")
    assert alice.get("/api/v1/auth/me").headers["cache-control"] == "no-store"
    assert alice.get("/api/v1/orgs").headers["cache-control"] == "no-store"
    # A kept read: private to the browser and revalidated by ETag on every use (tests/test_read_cache.py).
    assert alice.get("/api/v1/orgs/ACME/batches").headers["cache-control"] in ("no-store", "private, no-cache")
    assert alice.get("/web/static/app.css").headers["cache-control"].startswith("public")
    anonymous = client(acme)
    r = anonymous.post("/api/v1/auth/login", json={"email": "alice@acme.cn", "password": PASSWORD})
    assert r.headers["cache-control"] == "no-store"  # it sets the session cookie
    assert "cache-control" not in client(acme).get("/api/v1/schemas").headers


def _hash(text: str) -> str:
    return "'sha256-" + base64.b64encode(hashlib.sha256(text.encode()).digest()).decode() + "'"


def test_the_policy_allows_the_shipped_inline_scripts_by_hash_and_nothing_with_template_code(acme):
    app = create_app(acme)
    c = TestClient(app, base_url=BASE_URL)
    docs = c.get("/api/v1/docs")
    csp = docs.headers["content-security-policy"]
    inline = [m.group(2) for m in re.finditer(r"<script([^>]*)>(.*?)</script>", docs.text, re.S) if "src=" not in m.group(1)]
    assert inline and all(_hash(body) in csp for body in inline)
    assert _hash("this.form.submit()") in csp and "'unsafe-hashes'" in csp
    assert _hash("alert(1)") not in csp
    with pytest.raises(ValueError, match="template code"):
        security.inline_hashes(['<script>var id = "{{ chart_id }}";</script>'])
    # JSON data blocks and scripts from files need no hash.
    assert security.inline_hashes(['<script type="application/json">{"a": 1}</script><script src="/x.js"></script>']) \
        == ([], [])


# -- cookies ---------------------------------------------------------------------------------------------------

def test_the_login_forms_cookies_are_httponly_secure_and_samesite_strict(acme):
    browser = TestClient(create_app(acme), base_url=BASE_URL, follow_redirects=False)
    r = browser.post("/web/login", data={"email": "alice@acme.cn", "password": PASSWORD, "next": "/web/"})
    assert r.status_code == 303
    cookies = {c.split("=", 1)[0]: c.lower() for c in r.headers.get_list("set-cookie")}
    assert all(flag in cookies["zc_session"] for flag in ("httponly", "secure", "samesite=strict", "path=/"))
    assert "secure" in cookies["zc_csrf"] and "samesite=strict" in cookies["zc_csrf"]
    assert "httponly" not in cookies["zc_csrf"]  # the pages' script echoes it


# -- request body and row limits ---------------------------------------------------------------------------------

def test_a_body_over_the_limit_is_refused_with_413_and_nothing_is_written(acme, monkeypatch):
    monkeypatch.setenv(limits.MAX_UPLOAD_ENV, "1")
    alice = login_client(create_app(acme), "alice@acme.cn")
    before = _batches(acme)
    big = electricity("BIG") + b"#" * (2 * 2**20)
    r = alice.post(UPLOAD, **_upload(big))
    assert r.status_code == 413 and r.headers["content-type"] == "application/problem+json"
    assert "larger than 1 MB" in r.json()["detail"] and limits.MAX_UPLOAD_ENV in r.json()["detail"]
    assert r.headers["x-content-type-options"] == "nosniff"
    # Sent in chunks without a Content-Length: refused once the bytes read pass the limit.
    chunks = (b"x" * 2**16 for _ in range(40))
    r = alice.post(UPLOAD, content=chunks, headers={"content-type": "multipart/form-data; boundary=b"})
    assert r.status_code == 413 and "larger than 1 MB" in r.json()["detail"]
    # The pages answer with their error page.
    browser = web_login_client(create_app(acme), "alice@acme.cn")
    r = browser.post("/web/orgs/ACME/data/upload", files={"file": ("e.csv", big)},
                     data={"kind": "electricity", "year": str(YEAR), "csrf": browser.cookies["zc_csrf"]})
    assert r.status_code == 413 and r.headers["content-type"].startswith("text/html") and "1 MB" in r.text
    assert "文件过大" in r.text and "请拆分文件" in r.text and "error.413" not in r.text  # the page in its language
    assert _batches(acme) == before
    # Under the limit the same upload goes through.
    assert alice.post(UPLOAD, **_upload(electricity("SMALL"))).status_code == 201


def test_a_file_with_more_rows_than_allowed_is_refused_naming_the_file_and_the_limit(acme, monkeypatch, tmp_path):
    monkeypatch.setenv(limits.MAX_ROWS_ENV, "3")
    rows = "".join(f"TJ01,M{i},{YEAR}-01-01,{YEAR}-01-31,10,kWh\n" for i in range(4))
    content = ("site,meter,period_start,period_end,quantity,unit\n" + rows).encode()
    alice = login_client(create_app(acme), "alice@acme.cn")
    before = _batches(acme)
    r = alice.post(UPLOAD, **_upload(content, "four-rows.csv"))
    assert r.status_code == 400
    problem = r.json()["problems"][0]
    assert problem["file"].endswith("four-rows.csv") and "more than 3 data rows" in problem["reason"]
    assert limits.MAX_ROWS_ENV in problem["reason"]
    # The same file from the command line's service call, and as a workbook.
    path = tmp_path / "four-rows.xlsx"
    import pandas as pd

    pd.read_csv(__import__("io").BytesIO(content), dtype=str).to_excel(path, index=False)
    with pytest.raises(InputError, match="more than 3 data rows"):
        accounting.import_file(acme, "ACME", "electricity", path, YEAR, "CN-2025.1", actor="test")
    assert _batches(acme) == before
    monkeypatch.setenv(limits.MAX_ROWS_ENV, "4")
    assert alice.post(UPLOAD, **_upload(content, "four-rows.csv")).status_code == 201


def test_a_limit_that_is_not_a_positive_number_is_refused_with_what_to_set(monkeypatch):
    for bad in ("lots", "0", "-5"):
        monkeypatch.setenv(limits.MAX_UPLOAD_ENV, bad)
        with pytest.raises(ValueError, match=limits.MAX_UPLOAD_ENV):
            limits.max_upload_bytes()
    monkeypatch.delenv(limits.MAX_UPLOAD_ENV)
    monkeypatch.delenv(limits.MAX_ROWS_ENV, raising=False)
    assert limits.max_upload_bytes() == 200 * 2**20 and limits.max_rows() == 1_000_000


def test_an_unusable_limit_stops_the_server_at_start_and_the_startup_checks_name_it(acme, monkeypatch):
    """Set to 'abc', a limit used to pass the start and then fail every upload and login with a 500."""
    from zerocarbon.errors import SettingError
    from zerocarbon.services import doctor

    monkeypatch.setenv(limits.MAX_ROWS_ENV, "abc")
    with pytest.raises(SettingError, match=limits.MAX_ROWS_ENV):
        create_app(acme)
    found = {f.check: f for f in doctor.limit_findings({limits.MAX_ROWS_ENV: "abc", limits.MAX_UPLOAD_ENV: "50"})}
    assert found["settings.zerocarbon_max_rows"].severity == doctor.ERROR
    assert found["settings.zerocarbon_max_upload_mb"].severity == doctor.OK


# -- CSRF ------------------------------------------------------------------------------------------------------

def _fill(path: str) -> str:
    return re.sub(r"{(\w+)(:path)?}", lambda m: "ACME" if m.group(1) == "org" else "1", path)


def test_every_state_changing_route_refuses_a_cookie_without_or_with_a_wrong_csrf_token(acme):
    """Each POST/PUT/DELETE of the API and the pages, called with a valid login cookie, as a forged form from another
    site would: 403 before the form is even validated, and nothing changes."""
    app = create_app(acme)
    api = login_client(app, "alice@acme.cn")
    good = api.headers.pop("X-CSRF-Token")
    pages = web_login_client(app, "alice@acme.cn")
    unsafe = sorted((m, p) for m, p in served_routes(app) if m not in ("GET", "HEAD", "OPTIONS")
                    and p not in ("/api/v1/auth/login", "/web/login"))
    assert len(unsafe) > 80
    before = accounting.data_version(acme)
    for method, path in unsafe:
        for token in (None, good[:-2] + "xx"):
            if path.startswith("/web/"):
                data = {} if token is None else {"csrf": token}
                r = pages.request(method, _fill(path), data=data)
                assert r.status_code == 403 and "CSRF" in r.text, (method, path, token, r.status_code)
            else:
                headers = {} if token is None else {"X-CSRF-Token": token}
                r = api.request(method, _fill(path), headers=headers)
                assert r.status_code == 403 and "CSRF" in r.json()["detail"], (method, path, token, r.status_code)
    assert accounting.data_version(acme) == before
    # The right token from the form field goes through (the page then judges the form itself).
    r = pages.post("/web/orgs/ACME/data/upload", files={"file": ("ok.csv", electricity("OK"))},
                   data={"kind": "electricity", "year": str(YEAR), "csrf": pages.cookies["zc_csrf"]})
    assert r.status_code == 303


# -- session fixation and logout ---------------------------------------------------------------------------------

def _session_rows(sessions) -> int:
    with sessions() as s:
        return s.scalar(select(func.count()).select_from(store.LoginSessionRow))


def test_a_session_id_planted_before_login_is_neither_kept_nor_accepted_after_it(acme):
    app = create_app(acme)
    person(acme, "eve@acme.cn", "ACME", "viewer")
    # An id the attacker made up, and the attacker's own real session, planted in the victim's browser.
    eve = TestClient(app, base_url=BASE_URL)
    assert eve.post("/api/v1/auth/login", json={"email": "eve@acme.cn", "password": PASSWORD}).status_code == 200
    eves_session = eve.cookies["zc_session"]
    for planted in ("zcs_attacker.chosen", eves_session):
        victim = TestClient(app, base_url=BASE_URL, follow_redirects=False)
        victim.cookies.set("zc_session", planted)
        r = victim.post("/web/login", data={"email": "alice@acme.cn", "password": PASSWORD, "next": "/web/"})
        assert r.status_code == 303
        issued = re.search(r"zc_session=([^;]+)", r.headers["set-cookie"]).group(1)
        assert issued != planted
        stale = TestClient(app, base_url=BASE_URL)
        stale.cookies.set("zc_session", planted)
        assert stale.get("/api/v1/auth/me").status_code == 401
        fresh = TestClient(app, base_url=BASE_URL)
        fresh.cookies.set("zc_session", issued)
        assert fresh.get("/api/v1/auth/me").json()["name"] == "alice@acme.cn"
    # The API's login does the same.
    c = TestClient(app, base_url=BASE_URL)
    first = c.post("/api/v1/auth/login", json={"email": "alice@acme.cn", "password": PASSWORD})
    old = c.cookies["zc_session"]
    c.post("/api/v1/auth/login", json={"email": "alice@acme.cn", "password": PASSWORD})
    assert first.status_code == 200 and c.cookies["zc_session"] != old
    assert auth_fails(acme, old)


def auth_fails(sessions, secret: str) -> bool:
    try:
        auth.from_session(sessions, secret)
    except AuthenticationError:
        return True
    return False


def test_logging_out_of_the_pages_ends_the_session_on_the_server(acme):
    app = create_app(acme)
    pages = web_login_client(app, "alice@acme.cn")
    secret, rows = pages.cookies["zc_session"], _session_rows(acme)
    r = pages.post("/web/logout", data={"csrf": pages.cookies["zc_csrf"]})
    assert r.status_code == 303 and _session_rows(acme) == rows - 1
    assert auth_fails(acme, secret)
    kept = TestClient(app, base_url=BASE_URL, follow_redirects=False)
    kept.cookies.set("zc_session", secret)
    assert kept.get("/web/orgs/ACME/overview").status_code == 303  # to the login page


# -- brute force -------------------------------------------------------------------------------------------------

def test_one_address_guessing_across_many_emails_is_stopped_with_429_and_retry_after(acme):
    allowed = auth.LOGIN_FAILURES_PER_ADDRESS
    # Below the per-e-mail limit for each, so only the per-address count stops it.
    for i in range(allowed):
        with pytest.raises(AuthenticationError):
            auth.login(acme, f"guess{i % (allowed // 4)}-{i}@acme.cn", "wrong password!", "203.0.113.9")
    with pytest.raises(RateLimitedError, match="any e-mail from 203.0.113.9") as refused:
        auth.login(acme, "alice@acme.cn", PASSWORD, "203.0.113.9")  # even the right password
    assert 0 < refused.value.retry_after <= 15 * 60
    assert auth.login(acme, "alice@acme.cn", PASSWORD, "198.51.100.7").user.email == "alice@acme.cn"


def test_the_login_form_and_the_api_answer_429_with_retry_after_per_address(acme):
    app = create_app(acme)
    browser = TestClient(app, base_url=BASE_URL, follow_redirects=False)
    for i in range(auth.LOGIN_FAILURES_PER_ADDRESS):
        r = browser.post("/web/login", data={"email": f"nobody{i}@acme.cn", "password": "wrong password!"})
        assert r.status_code == 401
    r = browser.post("/web/login", data={"email": "alice@acme.cn", "password": PASSWORD})
    assert r.status_code == 429 and 0 < int(r.headers["retry-after"]) <= 15 * 60
    r = client(acme).post("/api/v1/auth/login", json={"email": "alice@acme.cn", "password": PASSWORD})
    assert r.status_code == 429 and int(r.headers["retry-after"]) > 0


# -- password policy and storage -----------------------------------------------------------------------------------

@pytest.mark.parametrize("password, reason", [("short pass", "at least 12"), ("x" * 1025, "longer than 1024"),
                                              ("Carol@Acme.cn", "e-mail")])
def test_a_weak_password_is_refused_for_a_new_user_and_a_new_password(acme, password, reason):
    with pytest.raises(InputError, match=reason):
        users.add_member(acme, "carol@acme.cn", "ACME", "viewer", password, actor="test")
    with pytest.raises(InputError, match=reason):
        users.set_password(acme, "alice@acme.cn", password if "e-mail" not in reason else "Alice@Acme.cn",
                           actor="test")


def test_any_long_passphrase_is_accepted_and_a_new_password_ends_open_sessions(acme):
    users.add_member(acme, "carol@acme.cn", "ACME", "viewer", "密码 是 一句 很长的 话 🙂", actor="test")
    session = auth.login(acme, "carol@acme.cn", "密码 是 一句 很长的 话 🙂", "203.0.113.1").session_secret
    users.set_password(acme, "carol@acme.cn", "another long passphrase", actor="test")
    assert auth_fails(acme, session)
    with acme() as s:
        stored = store.user_by_email(s, "carol@acme.cn").password_hash
    assert stored.startswith("$argon2id$") and "another" not in stored



def test_chart_data_cannot_close_its_script_element(acme):
    """A name in a page's chart data (a site, an uploaded scenario's or index system's) holding ``</script>`` stays
    data: the JSON printed into ``<script type="application/json">`` has no ``<``, and parses to the same value."""
    import json

    from starlette.requests import Request

    from zerocarbon.web import routes

    hostile = {"sites": ["</script><script>alert(1)</script>"], "series": [], "unit": "tCO2e"}
    request = Request({"type": "http", "method": "GET", "path": "/web/orgs/ACME/overview", "headers": [],
                       "query_string": b"", "app": create_app(acme)})
    from types import SimpleNamespace

    totals = SimpleNamespace(scope1_t=1.0, scope2_location_t=1.0, scope2_market_t=1.0, total_location_t=2.0,
                             total_market_t=2.0, renewable_share=0.0)
    meta = SimpleNamespace(status="open", factor_set="CN-2025.1", gwp_set="AR6", totals=totals)
    page = routes.render(request, "overview.html", year=YEAR, meta=meta, sites=[], chart=json.dumps(hostile)).body.decode()
    data = re.search(r'<script type="application/json" id="chart-data">(.*?)</script>', page, re.S).group(1)
    assert "<" not in data and json.loads(data) == hostile
    assert "<script>alert(1)" not in page
