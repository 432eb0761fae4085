"""Every role against every endpoint: allowed (2xx) exactly when the permission table gives the role the endpoint's
action, refused with 403 otherwise.

The expectation comes from ``core.access.PERMISSIONS``, not from a copy: a role that gains or loses an action
changes the expected answers, and an endpoint guarded by the wrong action (or by none) fails here. A route
missing from ENDPOINTS fails ``test_every_route_is_in_the_matrix``.
"""
from __future__ import annotations

import itertools
from dataclasses import dataclass
from typing import Callable

import pytest
from fastapi.routing import APIRoute

from tests.api_support import (YEAR, electricity, fast_passwords, import_bytes, load_org, logged_in, person)
from tests.conftest import BACKENDS, blank_engine
from zerocarbon.api.app import ROUTERS
from zerocarbon.core.access import ACTIONS, PERMISSIONS, Role
from zerocarbon.services import accounting, jobs, users
from zerocarbon.store.db import session_factory, upgrade

ORG = "ORG"


@dataclass
class World:
    sessions: object
    tmp: object
    clients: dict
    counter: itertools.count

    def fresh(self, prefix: str) -> str:
        return f"{prefix}{next(self.counter)}"


@dataclass(frozen=True)
class Endpoint:
    action: str
    method: str
    path: str  # {org} and names in braces are filled by ``prepare``
    prepare: Callable[[World], dict] = lambda w: {}  # -> {"path": {...}, "json"|"files"|"data": ...}


def _batch(w: World, prefix: str) -> dict:
    meter = w.fresh(prefix)
    return {"path": {"batch_id": import_bytes(w.sessions, ORG, f"{meter}.csv", electricity(meter), w.tmp)}}


def _upload(w: World) -> dict:
    meter = w.fresh("UP")
    return {"files": {"file": (f"{meter}.csv", electricity(meter))}, "data": {"kind": "electricity", "year": YEAR}}


def _replace(w: World) -> dict:
    out = _batch(w, "RP")
    meter = w.fresh("RPnew")
    return dict(out, files={"file": (f"{meter}.csv", electricity(meter, 2000))}, data={"reason": "corrected"})


def _member(w: World) -> dict:
    email = f"{w.fresh('m')}@example.org"
    users.add_member(w.sessions, email, ORG, "viewer", "a long enough password", actor="test")
    return {"path": {"email": email}, "json": {"role": "viewer"}}


def _others_job(w: World) -> dict:
    """A queued job someone else submitted: cancelling it needs jobs.cancel."""
    info = jobs.submit(w.sessions, ORG, "inventory.compute", {"year": YEAR}, actor="user:someone-else@example.org")
    return {"path": {"job_id": info.id}}


def _token(w: World) -> dict:
    name = w.fresh("t")
    users.create_token(w.sessions, ORG, name, ["factors.read"], actor="test")
    return {"path": {"name": name}}


ENDPOINTS = [
    Endpoint("inventory.read", "GET", "/orgs/{org}/inventories/%d" % YEAR),
    Endpoint("inventory.read", "GET", "/orgs/{org}/inventories/%d/explain" % YEAR),
    Endpoint("inventory.compute", "POST", "/orgs/{org}/inventories/%d/compute" % YEAR, lambda w: {"json": {}}),
    Endpoint("import.read", "GET", "/orgs/{org}/batches"),
    Endpoint("import.read", "GET", "/orgs/{org}/batches/{batch_id}", lambda w: _batch(w, "RD")),
    Endpoint("import.write", "POST", "/orgs/{org}/batches", _upload),
    Endpoint("import.replace", "POST", "/orgs/{org}/batches/{batch_id}/replace", _replace),
    Endpoint("batch.undo", "POST", "/orgs/{org}/batches/{batch_id}/undo",
             lambda w: dict(_batch(w, "UN"), json={"reason": "entered twice"})),
    Endpoint("inventory.compute", "POST", "/orgs/{org}/jobs/inventory", lambda w: {"json": {"year": YEAR}}),
    Endpoint("import.write", "POST", "/orgs/{org}/jobs/import", _upload),
    Endpoint("jobs.cancel", "POST", "/orgs/{org}/jobs/{job_id}/cancel", _others_job),
    Endpoint("factors.read", "GET", "/orgs/{org}/factor-sets"),
    Endpoint("factors.read", "GET", "/orgs/{org}/factor-sets/CN-2025.1/factors"),
    Endpoint("audit.read", "GET", "/orgs/{org}/audit"),
    Endpoint("audit.read", "GET", "/orgs/{org}/audit/verify"),
    Endpoint("users.manage", "GET", "/orgs/{org}/members"),
    Endpoint("users.manage", "PUT", "/orgs/{org}/members/{email}", _member),
    Endpoint("users.manage", "DELETE", "/orgs/{org}/members/{email}", _member),
    Endpoint("users.manage", "GET", "/orgs/{org}/tokens"),
    Endpoint("users.manage", "POST", "/orgs/{org}/tokens",
             lambda w: {"json": {"name": w.fresh("new"), "scopes": ["import.write"]}}),
    Endpoint("users.manage", "DELETE", "/orgs/{org}/tokens/{name}", _token),
]


@pytest.fixture(scope="module", params=BACKENDS)
def world(request, tmp_path_factory):
    tmp = tmp_path_factory.mktemp("matrix")
    with fast_passwords(), blank_engine(request.param, tmp) as engine, pytest.MonkeyPatch.context() as env:
        env.setenv(jobs.DATA_ENV, str(tmp / "data"))  # uploads of import jobs are spooled there
        env.delenv(jobs.REDIS_ENV, raising=False)
        upgrade(engine)
        sessions = session_factory(engine)
        load_org(sessions, ORG)
        import_bytes(sessions, ORG, "base.csv", electricity("BASE"), tmp)
        accounting.compute(sessions, ORG, YEAR, "CN-2025.1", actor="test")
        clients = {}
        for role in Role:
            person(sessions, f"{role.value}@example.org", ORG, role.value)
            clients[role] = logged_in(sessions, f"{role.value}@example.org")
        yield World(sessions, tmp, clients, itertools.count(1))


def _call(w: World, role: Role, e: Endpoint):
    given = e.prepare(w)
    url = "/api/v1" + e.path.format(org=ORG, **given.get("path", {}))
    kwargs = {k: v for k, v in given.items() if k in ("json", "files", "data")}
    return w.clients[role].request(e.method, url, **kwargs)


@pytest.mark.parametrize("endpoint", ENDPOINTS, ids=lambda e: f"{e.method} {e.path}")
@pytest.mark.parametrize("role", list(Role), ids=lambda r: r.value)
def test_role_may_call_endpoint_exactly_when_the_table_allows(world, role, endpoint):
    r = _call(world, role, endpoint)
    if endpoint.action in PERMISSIONS[role]:
        assert 200 <= r.status_code < 300, (role, endpoint, r.text)
    else:
        assert r.status_code == 403, (role, endpoint, r.text)
        assert r.headers["content-type"] == "application/problem+json"
        assert endpoint.action in r.json()["detail"]


def test_every_route_is_in_the_matrix_with_the_action_it_checks():
    """A new endpoint without a row here, or guarded by another action than its row says, fails."""
    guarded = {}
    for route in (r for router in ROUTERS for r in router.routes):
        if not isinstance(route, APIRoute) or not route.path.startswith("/orgs/{org}"):
            continue
        actions = {d.call.action for d in route.dependant.dependencies if hasattr(d.call, "action")}
        for method in route.methods:
            guarded[(method, route.path)] = actions
    # Any member; what each one sees is checked per job kind (tests/test_jobs.py).
    member_only = {("GET", "/orgs/{org}"), ("GET", "/orgs/{org}/jobs"), ("GET", "/orgs/{org}/jobs/{job_id}")}
    rows = {(e.method, e.path.replace(str(YEAR), "{year}").replace("CN-2025.1", "{name}")): {e.action}
            for e in ENDPOINTS}
    assert {k: v for k, v in guarded.items() if k not in member_only} == rows
    assert all(guarded[k] == set() for k in member_only)
    # Actions that guard no API endpoint yet (energy.read guards the dashboard's energy page, tests/test_web_energy.py).
    without_endpoint = {"factors.import", "energy.read", "import.read_own", "import.approve", "schedule.read",
                        "schedule.run"}
    assert {e.action for e in ENDPOINTS} == set(ACTIONS) - without_endpoint, \
        f"every action but {sorted(without_endpoint)} guards an API endpoint"


@pytest.mark.parametrize("role", list(Role), ids=lambda r: r.value)
def test_every_member_sees_its_organisation_and_its_allowed_actions(world, role):
    r = world.clients[role].get(f"/api/v1/orgs/{ORG}")
    assert r.status_code == 200
    assert r.json()["role"] == role.value and set(r.json()["actions"]) == PERMISSIONS[role]
