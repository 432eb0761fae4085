"""`zerocarbon users`, `zerocarbon serve`, the OpenAPI document and docs/api.md.

Defects these tests pin down: a user created with a default or empty password; a token secret stored or shown
again after creation; the documented permission table drifting from the one enforced; `zerocarbon --help`
slowed by loading the web stack.
"""
from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import pytest
from typer.testing import CliRunner

from tests.api_support import (DATA, PASSWORD, client, with_token)
from zerocarbon.cli import app
from zerocarbon.core.access import permission_table_markdown
from zerocarbon.services import users
from zerocarbon.services.database import open_sessions

ROOT = Path(__file__).resolve().parents[1]


pytestmark = pytest.mark.usefixtures("cheap_passwords")


@pytest.fixture
def db_url(tmp_path):
    url = f"sqlite:///{tmp_path / 'z.sqlite'}"
    assert CliRunner().invoke(app, ["org", "load", str(DATA / "organisation.yaml"), "--db", url]).exit_code == 0
    return url


def _run(*args, env=None, input=None):
    return CliRunner().invoke(app, list(args), env=env, input=input)


def test_users_add_takes_the_password_from_the_environment_and_never_has_a_default(db_url):
    r = _run("users", "add", "alice@acme.cn", "--org", "ORG", "--role", "energy_manager", "--db", db_url,
             env={"ZEROCARBON_PASSWORD": ""}, input="")
    assert r.exit_code != 0  # no password given: asked for, nothing typed, refused
    assert users.list_users(open_sessions(db_url)) == []
    r = _run("users", "add", "alice@acme.cn", "--org", "ORG", "--role", "energy_manager", "--db", db_url,
             env={"ZEROCARBON_PASSWORD": "short"})
    assert r.exit_code == 2 and "at least 12 characters" in r.output
    r = _run("users", "add", "alice@acme.cn", "--org", "ORG", "--role", "energy_manager", "--db", db_url,
             env={"ZEROCARBON_PASSWORD": PASSWORD})
    assert r.exit_code == 0, r.output
    listed = json.loads(_run("users", "list", "--db", db_url, "--json").output)
    assert listed == [{"email": "alice@acme.cn", "display_name": "alice", "active": True, "locale": "zh-CN",
                       "memberships": [{"organisation": "ORG", "role": "energy_manager"}]}]
    r = client(open_sessions(db_url)).post("/api/v1/auth/login", json={"email": "alice@acme.cn", "password": PASSWORD})
    assert r.status_code == 200


def test_users_add_prompts_twice_for_a_new_user_and_not_at_all_for_an_existing_one(db_url):
    r = _run("users", "add", "bob@acme.cn", "--org", "ORG", "--role", "viewer", "--db", db_url,
             input=f"{PASSWORD}\n{PASSWORD}\n")
    assert r.exit_code == 0, r.output
    r = _run("users", "add", "bob@acme.cn", "--org", "ORG", "--role", "auditor", "--db", db_url, input="")
    assert r.exit_code == 0 and "auditor in ORG" in r.output
    assert users.list_users(open_sessions(db_url))[0].memberships == (("ORG", "auditor"),)


def test_a_new_user_without_a_password_is_refused_by_the_service_and_over_http(db_url):
    from zerocarbon.errors import InputError

    sessions = open_sessions(db_url)
    with pytest.raises(InputError, match="needs a password"):
        users.add_member(sessions, "carol@acme.cn", "ORG", "viewer", actor="test")
    users.add_member(sessions, "root@acme.cn", "ORG", "admin", PASSWORD, actor="test")
    admin = client(sessions)
    csrf = admin.post("/api/v1/auth/login", json={"email": "root@acme.cn", "password": PASSWORD}).json()["csrf_token"]
    r = admin.put("/api/v1/orgs/ORG/members/carol@acme.cn", json={"role": "viewer"}, headers={"X-CSRF-Token": csrf})
    assert r.status_code == 400 and r.json()["problems"][0]["column"] is None
    assert [u.email for u in users.list_users(sessions)] == ["root@acme.cn"]


def test_unknown_role_or_organisation_is_refused(db_url):
    env = {"ZEROCARBON_PASSWORD": PASSWORD}
    assert _run("users", "add", "a@b.cn", "--org", "ORG", "--role", "overlord", "--db", db_url, env=env).exit_code == 2
    r = _run("users", "add", "a@b.cn", "--org", "NOPE", "--role", "viewer", "--db", db_url, env=env)
    assert r.exit_code == 2 and "NOPE" in r.output


def test_token_secret_is_printed_once_works_and_stops_after_revoke(db_url):
    r = _run("users", "token", "create", "--org", "ORG", "--name", "gateway-1", "--scope", "import.write",
             "--scope", "factors.read", "--db", db_url)
    assert r.exit_code == 0, r.output
    secret = r.output.strip().splitlines()[-1]
    assert secret.startswith("zct_")
    listed = _run("users", "token", "list", "--org", "ORG", "--db", db_url, "--json").output
    assert secret not in listed and json.loads(listed)[0]["scopes"] == ["import.write", "factors.read"]
    sessions = open_sessions(db_url)
    assert with_token(sessions, secret).get("/api/v1/orgs/ORG/factor-sets").status_code == 200
    assert _run("users", "token", "revoke", "--org", "ORG", "--name", "gateway-1", "--db", db_url).exit_code == 0
    assert with_token(sessions, secret).get("/api/v1/orgs/ORG/factor-sets").status_code == 401
    r = _run("users", "token", "revoke", "--org", "ORG", "--name", "gateway-1", "--db", db_url)
    assert r.exit_code == 2 and "no active token" in r.output


def test_help_loads_neither_the_web_stack_nor_argon2():
    code = ("import sys; from zerocarbon.cli import app; "
            "print(','.join(m for m in ('fastapi', 'starlette', 'uvicorn', 'argon2') if m in sys.modules))")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True,
                         env=dict(os.environ, PYTHONPATH=str(ROOT / "src"))).stdout.strip()
    assert out == ""


def test_docs_permission_table_is_the_enforced_one():
    text = (ROOT / "docs" / "api.md").read_text(encoding="utf-8")
    start, end = "<!-- permission table: start -->\n", "<!-- permission table: end -->"
    documented = text[text.index(start) + len(start):text.index(end)]
    assert documented == permission_table_markdown(), "regenerate with zerocarbon.core.access.permission_table_markdown()"


def test_openapi_document_is_served_and_errors_are_problem_details(tmp_path):
    doc = client(open_sessions(f"sqlite:///{tmp_path / 'z.sqlite'}")).get("/api/v1/openapi.json").json()
    assert doc["openapi"].startswith("3.")
    for path, operations in doc["paths"].items():
        for method, op in operations.items():
            assert "422" not in op["responses"], (method, path)
            for status, response in op["responses"].items():
                if status.startswith(("4", "5")):
                    assert list(response["content"]) == ["application/problem+json"], (method, path, status)
    assert "Problem" in doc["components"]["schemas"]


def test_serve_refuses_a_database_it_cannot_open(tmp_path):
    r = _run("serve", "--db", f"sqlite:///{tmp_path / 'missing' / 'z.sqlite'}")
    assert r.exit_code == 2 and "does not exist" in r.output


@pytest.mark.slow
def test_serve_answers_on_loopback(tmp_path):
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    url = f"sqlite:///{tmp_path / 'z.sqlite'}"
    proc = subprocess.Popen([sys.executable, "-m", "zerocarbon.cli", "serve", "--port", str(port), "--db", url],
                            env=dict(os.environ, PYTHONPATH=str(ROOT / "src")), stdout=subprocess.PIPE,
                            stderr=subprocess.STDOUT)
    try:
        # a readiness wait, not a timing: a machine busy with other tests may take long to start the server
        deadline = time.monotonic() + 120
        while True:
            try:
                with urllib.request.urlopen(f"http://127.0.0.1:{port}/api/v1/openapi.json", timeout=5) as r:
                    assert json.load(r)["info"]["title"] == "zerocarbon API"
                    break
            except OSError:
                if proc.poll() is not None:
                    pytest.fail(proc.stdout.read().decode())
                if time.monotonic() > deadline:
                    pytest.fail("the server did not answer")
                time.sleep(0.2)
        req = urllib.request.Request(f"http://127.0.0.1:{port}/api/v1/orgs")
        with pytest.raises(urllib.error.HTTPError) as refused:
            urllib.request.urlopen(req, timeout=2)
        assert refused.value.code == 401 and refused.value.headers["Content-Type"] == "application/problem+json"
    finally:
        proc.terminate()
        proc.wait(timeout=20)


def test_api_docs_page_loads_nothing_from_another_host(sessions):
    """Defect guarded: FastAPI's default docs page fetched Swagger UI from a CDN, so it was blank on a plant
    network without internet."""
    import re

    c = client(sessions)
    page = c.get("/api/v1/docs")
    assert page.status_code == 200
    urls = re.findall(r'(?:src|href|url)\s*[=:]\s*["\']([^"\']+)["\']', page.text)
    assert urls and all(u.startswith("/api/v1/") or u.startswith("data:") for u in urls), urls
    for u in urls:
        if u.startswith("/api/v1/docs/assets/"):
            r = c.get(u)
            assert r.status_code == 200 and len(r.content) > 100_000, u
    assert c.get("/api/v1/docs/assets/app.py").status_code == 404
