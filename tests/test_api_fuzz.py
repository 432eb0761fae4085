"""Requests generated from the OpenAPI document (schemathesis) never get a 5xx answer.

Every operation is called with an admin's token, so the requests reach the services, with values the
document allows and values it does not; each answer must be below 500 (a problem-details 4xx for bad input).
"""
from __future__ import annotations

import pytest

schemathesis = pytest.importorskip("schemathesis")
from hypothesis import HealthCheck, settings  # noqa: E402

from tests.api_support import YEAR, electricity, fast_passwords, import_bytes, load_org  # noqa: E402
from zerocarbon.api import create_app  # noqa: E402
from zerocarbon.core.access import ACTIONS  # noqa: E402
from zerocarbon.services import accounting, users  # noqa: E402
from zerocarbon.services.database import open_sessions  # noqa: E402

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def api(tmp_path_factory):
    tmp = tmp_path_factory.mktemp("fuzz")
    with fast_passwords():
        sessions = open_sessions(f"sqlite:///{tmp / 'z.sqlite'}")
        load_org(sessions, "ORG")
        import_bytes(sessions, "ORG", "e.csv", electricity("M1"), tmp)
        accounting.compute(sessions, "ORG", YEAR, "CN-2025.1", actor="test")
        users.add_member(sessions, "root@example.org", "ORG", "admin", "a long enough password", actor="test")
        _, secret = users.create_token(sessions, "ORG", "fuzz", list(ACTIONS), actor="test")
        yield create_app(sessions), secret


def test_no_request_gets_a_server_error(api):
    from collections import Counter

    from hypothesis import given

    app, secret = api
    schema = schemathesis.openapi.from_asgi("/api/v1/openapi.json", app)
    failures, seen = [], Counter()
    operations = [result.ok() for result in schema.get_all_operations()]
    assert len(operations) >= 20

    for operation in operations:
        @settings(max_examples=15, deadline=None, database=None, suppress_health_check=list(HealthCheck))
        @given(case=operation.as_strategy())
        def call(case):
            if case.path_parameters and "org" in case.path_parameters and sum(seen.values()) % 4:
                case.path_parameters["org"] = "ORG"  # most requests act in the organisation that has data
            response = case.call(headers={"Authorization": f"Bearer {secret}"})
            seen[response.status_code // 100] += 1
            if response.status_code >= 500:
                failures.append((case.method, case.formatted_path, response.status_code, response.text[:300]))

        call()
    assert failures == []
    assert seen[2] > 50 and seen[4] > 50, seen  # the requests reached the services, not only the validation


def test_an_offset_beyond_any_list_is_a_400_naming_it(api):
    """Defect found by the fuzzer: an offset of 2**63 reached SQLite as an integer it cannot hold (500)."""
    from fastapi.testclient import TestClient

    app, secret = api
    api = TestClient(app, headers={"Authorization": f"Bearer {secret}"})
    for path in ("schedules", "jobs", f"inventories/{YEAR}/explain", "factor-sets/CN-2025.1/factors"):
        r = api.get(f"/api/v1/orgs/ORG/{path}", params={"offset": 2**63})
        assert r.status_code == 400 and "offset" in r.text, (path, r.status_code, r.text[:200])
