"""`zerocarbon demo --serve`: one demo login per role with a password of this run, and a busy port named."""
from __future__ import annotations

import os
import socket
from pathlib import Path

import pytest
from typer.testing import CliRunner

from zerocarbon.cli import app
from zerocarbon.core.access import Role
from zerocarbon.services import accounting, users
from zerocarbon.services.database import open_sessions
from zerocarbon.services.demo_users import DEMO_ORG, create_demo_users
from tests.api_support import fast_passwords

ROOT = Path(__file__).resolve().parents[1]
runner = CliRunner()


@pytest.fixture
def demo_db(tmp_path):
    """A small database holding only an organisation coded like the demo group."""
    org = (ROOT / "examples" / "organisation.yaml").read_text(encoding="utf-8").replace(
        "code: ACME", f"code: {DEMO_ORG}", 1)
    (tmp_path / "organisation.yaml").write_text(org, encoding="utf-8")
    url = f"sqlite:///{tmp_path / 'zerocarbon.sqlite'}"
    sessions = open_sessions(url)
    accounting.load_organisation_file(sessions, tmp_path / "organisation.yaml", actor="test")
    with fast_passwords():
        yield url, sessions, tmp_path / "zerocarbon.sqlite"


def test_demo_users_one_member_per_role_with_distinct_hashed_passwords(demo_db):
    """Defect: the demo served no one who could log in; a fixed demo password would be a known credential."""
    from zerocarbon.store import users as store

    url, sessions, path = demo_db
    logins = create_demo_users(sessions, DEMO_ORG, actor="test")
    members = {u.email: dict(u.memberships) for u in users.list_users(sessions, DEMO_ORG)}
    assert sorted(login.role for login in logins) == sorted(r.value for r in Role)
    for login in logins:
        assert members[login.email] == {DEMO_ORG: login.role}
    passwords = [login.password for login in logins]
    assert len(set(passwords)) == len(passwords) and all(len(p) >= users.PASSWORD_MIN_LENGTH for p in passwords)
    with sessions.begin() as s:
        hashes = {login.email: store.user_by_email(s, login.email).password_hash for login in logins}
    stored = path.read_bytes()
    for login in logins:
        assert hashes[login.email].startswith("$argon2id$")
        assert users.hasher.verify(hashes[login.email], login.password)
        assert login.password.encode() not in stored


def test_demo_users_get_new_passwords_on_every_run(demo_db):
    """Defect: a second run would have printed passwords that no longer (or never) matched the stored ones."""
    from zerocarbon.store import users as store

    _, sessions, _ = demo_db
    first = {login.email: login.password for login in create_demo_users(sessions, DEMO_ORG, actor="test")}
    second = {login.email: login.password for login in create_demo_users(sessions, DEMO_ORG, actor="test")}
    assert first.keys() == second.keys()
    with sessions.begin() as s:
        for email, password in second.items():
            assert password != first[email]
            assert users.hasher.verify(store.user_by_email(s, email).password_hash, password)


def test_demo_serve_on_a_busy_port_exits_2_naming_the_port_before_building(tmp_path):
    """Defect: a taken port would surface as a uvicorn log line after a minute of building, or as a traceback."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as busy:
        busy.bind(("127.0.0.1", 0))
        busy.listen()
        port = busy.getsockname()[1]
        r = runner.invoke(app, ["demo", "--serve", "--port", str(port), "--out", str(tmp_path / "out")])
    assert r.exit_code == 2, r.output
    assert f"port {port}" in r.output and "--port" in r.output and "Traceback" not in r.output
    assert not (tmp_path / "out").exists()  # refused before the demo was built


def test_serve_demo_prints_the_address_and_working_logins_then_serves_the_demo_database(demo_db, monkeypatch):
    """Defect: the demo ended without a served dashboard, an address or a way to log in."""
    import uvicorn

    from zerocarbon.cli import demo as cli_demo

    url, sessions, _ = demo_db
    served = {}

    def run(self, sockets=None):
        served.update(app=self.config.app, db=os.environ.get("ZEROCARBON_DB"), sockets=sockets)

    monkeypatch.setattr(uvicorn.Server, "run", run)
    monkeypatch.delenv("ZEROCARBON_DB", raising=False)
    monkeypatch.setenv("COLUMNS", "200")
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
        with cli_demo.console.capture() as captured:
            cli_demo.serve_demo(url, sock)
        assert served["sockets"] == [sock]
    out = captured.get()
    assert served["app"] == "zerocarbon.web:create_app" and served["db"] == url
    assert f"http://127.0.0.1:{port}/web/" in out and "DEMO-ONLY CREDENTIALS" in out
    for u in users.list_users(sessions, DEMO_ORG):
        assert u.email in out
    printed = [line.split() for line in out.splitlines() if "@demo.zerocarbon" in line]
    assert len(printed) == len(Role)
    from zerocarbon.store import users as store

    with sessions.begin() as s:
        for cells in printed:
            email, password = [c for c in cells if "@" in c][0], [c for c in cells if c not in "│┃|"][-1]
            assert users.hasher.verify(store.user_by_email(s, email).password_hash, password)


def test_serve_demo_points_the_energy_page_at_the_demo_meter_data(demo_db, monkeypatch, tmp_path):
    """Defect: `make demo` wrote a year of meter data but its dashboard said energy data was not configured."""
    import uvicorn

    from zerocarbon.cli import demo as cli_demo
    from zerocarbon.services import energy_report

    url, _, _ = demo_db
    seen = {}
    monkeypatch.setattr(uvicorn.Server, "run", lambda self, sockets=None: seen.update(
        {env: os.environ.get(env) for env in (energy_report.LAKE_ENV, energy_report.METERS_ENV,
                                              energy_report.PRODUCTION_ENV)}))
    for env in (energy_report.LAKE_ENV, energy_report.METERS_ENV, energy_report.PRODUCTION_ENV):
        # set, then removed: monkeypatch then removes what serve_demo sets at teardown, so no later test in this
        # process reads this test's (deleted) meter data
        monkeypatch.setenv(env, "")
        monkeypatch.delenv(env)
    data = {"lake": tmp_path / "lake", "meters": tmp_path / "meters.csv", "production": tmp_path / "production.csv"}
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        with cli_demo.console.capture():
            cli_demo.serve_demo(url, sock, data)
    assert seen == {energy_report.LAKE_ENV: str(data["lake"]), energy_report.METERS_ENV: str(data["meters"]),
                    energy_report.PRODUCTION_ENV: str(data["production"])}
    assert energy_report.source().configured


@pytest.mark.slow
def test_demo_run_names_its_meter_data(tmp_path):
    from zerocarbon.services.demo import run_demo

    run = run_demo(tmp_path / "demo", schedule_seconds=0)
    assert run.meter_data["lake"].is_dir() and (run.meter_data["lake"] / "org=DEMO-LAPTOP").is_dir()
    assert run.meter_data["meters"].is_file() and run.meter_data["production"].is_file()
