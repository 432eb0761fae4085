"""What the API tests share: a client on a database, people with roles, small activity files."""
from __future__ import annotations

import tempfile
from contextlib import contextmanager
from pathlib import Path

from argon2 import PasswordHasher
from fastapi.testclient import TestClient

from zerocarbon.web import create_app
from zerocarbon.services import accounting, auth, users

DATA = Path(__file__).parent / "data"
PASSWORD = "correct horse battery staple"
YEAR = 2023
# The cookies are Secure, so the client speaks HTTPS as a browser would.
BASE_URL = "https://testserver"


@contextmanager
def fast_passwords():
    """Argon2id at its cheapest for speed; the production cost is checked by its own test."""
    saved, saved_dummy = users.hasher, auth._dummy_hash
    users.hasher, auth._dummy_hash = PasswordHasher(time_cost=1, memory_cost=8, parallelism=1), None
    try:
        yield
    finally:
        users.hasher, auth._dummy_hash = saved, saved_dummy


def client(sessions, **kwargs) -> TestClient:
    return TestClient(create_app(sessions), base_url=BASE_URL, **kwargs)


def load_org(sessions, code: str = "ORG") -> None:
    """The test organisation of tests/data/organisation.yaml, under the code given."""
    text = (DATA / "organisation.yaml").read_text(encoding="utf-8")
    text = text.replace("code: ORG", f"code: {code}").replace("name: Test org", f"name: Test org {code}")
    path = Path(tempfile.mkdtemp()) / "organisation.yaml"
    path.write_text(text, encoding="utf-8")
    accounting.load_organisation_file(sessions, path, actor="test")


def person(sessions, email: str, org: str, role: str) -> None:
    users.add_member(sessions, email, org, role, PASSWORD, actor="test")


def person_per_role(sessions, org: str) -> None:
    """One member of ``org`` in each role, ``<role>@acme.cn``."""
    from zerocarbon.core.access import Role

    for role in Role:
        person(sessions, f"{role.value}@acme.cn", org, role.value)


def app_with(sessions, *routers):
    """The application with ``(router, prefix)`` pairs included, as the integrated application registers them."""
    app = create_app(sessions)
    for router, prefix in routers:
        app.include_router(router, prefix=prefix)
    return app


def login_client(app, email: str, password: str = PASSWORD) -> TestClient:
    """A client of ``app`` holding the login-session cookie and sending the CSRF token, as the web pages will."""
    c = TestClient(app, base_url=BASE_URL)
    r = c.post("/api/v1/auth/login", json={"email": email, "password": password})
    assert r.status_code == 200, r.text
    c.headers["X-CSRF-Token"] = r.json()["csrf_token"]
    return c


def web_login_client(app, email: str) -> TestClient:
    """A client of ``app`` logged in through the login form, not following redirects, as a browser's pages."""
    c = TestClient(app, base_url=BASE_URL, follow_redirects=False)
    r = c.post("/web/login", data={"email": email, "password": PASSWORD, "next": "/web/"})
    assert r.status_code == 303, r.text
    return c


def logged_in(sessions, email: str, password: str = PASSWORD) -> TestClient:
    """A logged-in client of the application on ``sessions``."""
    return login_client(create_app(sessions), email, password)


def with_token(sessions, secret: str) -> TestClient:
    c = client(sessions)
    c.headers["Authorization"] = f"Bearer {secret}"
    return c


def electricity(meter: str, kwh: float = 1000, site: str = "TJ01", month: int = 1) -> bytes:
    return (f"site,meter,period_start,period_end,quantity,unit\n"
            f"{site},{meter},{YEAR}-{month:02d}-01,{YEAR}-{month:02d}-28,{kwh},kWh\n").encode()


def import_bytes(sessions, org: str, name: str, content: bytes, tmp: Path) -> int:
    path = tmp / name
    path.write_bytes(content)
    return accounting.import_file(sessions, org, "electricity", path, YEAR, "CN-2025.1", actor="setup").batch_id
