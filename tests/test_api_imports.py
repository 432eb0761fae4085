"""Uploading, replacing and withdrawing batches, computing and explaining over HTTP; errors as problem details.

Defects these tests pin down: a file with a bad row partly stored, or refused without saying which row and
column; the audit trail naming the server instead of the person or token that acted; an internal error
leaking a trace or internals to the client; a closed year changed through the API.
"""
from __future__ import annotations

import pytest
from sqlalchemy import select

from tests.api_support import (DATA, YEAR, client, electricity, import_bytes, logged_in, with_token)
from tests.conftest import stored_activities
from zerocarbon.services import accounting, audit, users
from zerocarbon.store.tables import ImportBatchRow

BATCHES = "/api/v1/orgs/ACME/batches"


pytestmark = pytest.mark.usefixtures("cheap_passwords")


def _upload(c, name: str, content: bytes, kind: str = "electricity", year: int = YEAR):
    return c.post(BATCHES, files={"file": (name, content)}, data={"kind": kind, "year": year})


def test_a_bad_row_is_reported_by_file_row_and_column_and_nothing_is_written(acme):
    alice = logged_in(acme, "alice@acme.cn")
    content = (b"site,meter,period_start,period_end,quantity,unit\n"
               b"TJ01,M1,2023-01-01,2023-01-31,1000,kWh\n"
               b"TJ01,M2,2023-01-01,2023-01-31,-5,kWh\n"
               b"XX99,M3,2023-01-01,2023-01-31,10,kWh\n")
    entries = audit.verify(acme).entries
    r = _upload(alice, "electricity.csv", content)
    assert r.status_code == 400 and r.headers["content-type"] == "application/problem+json"
    body = r.json()
    assert body["type"].endswith(":input") and body["status"] == 400 and "nothing was written" in body["detail"]
    where = {(p["file"], p["row"], p["column"]) for p in body["problems"]}
    assert ("electricity.csv", 3, "quantity") in where and ("electricity.csv", 4, "site") in where
    assert stored_activities(acme) == 0 and accounting.list_batches(acme, "ACME") == []
    assert audit.verify(acme).entries == entries


def test_upload_name_keeps_only_its_last_component(acme):
    alice = logged_in(acme, "alice@acme.cn")
    r = _upload(alice, "../../etc/electricity.csv", electricity("M1"))
    assert r.status_code == 201 and r.json()["source"] == "electricity.csv"
    # the batch records the upload's name, not the server's temporary file
    shown = alice.get(f"{BATCHES}/{r.json()['batch_id']}").json()
    assert "upload:electricity.csv" in str(shown) and "zerocarbon-upload" not in str(shown)


def test_upload_without_a_usable_name_or_of_an_unknown_kind_is_refused(acme):
    alice = logged_in(acme, "alice@acme.cn")
    r = _upload(alice, "..", electricity("M1"))
    assert r.status_code == 400 and r.json()["problems"][0]["file"] == "file"
    r = _upload(alice, "e.csv", electricity("M1"), kind="moonbeams")
    assert r.status_code == 400 and "unknown activity kind" in r.json()["problems"][0]["reason"]
    assert stored_activities(acme) == 0


def test_audit_entries_name_the_person_or_token_that_acted(acme):
    alice = logged_in(acme, "alice@acme.cn")
    first = _upload(alice, "jan.csv", electricity("M1")).json()["batch_id"]
    assert alice.post(f"{BATCHES}/{first}/undo", json={"reason": "entered twice"}).status_code == 200
    assert alice.post("/api/v1/orgs/ACME/inventories/%d/compute" % YEAR, json={}).status_code == 200
    # A gateway delivering meter data needs import.approve for its batches to count without a person approving.
    _, secret = users.create_token(acme, "ACME", "gateway-1", ["import.write", "import.replace", "import.approve"],
                                   actor="test")
    gateway = with_token(acme, secret)
    second = _upload(gateway, "feb.csv", electricity("M2", month=2)).json()["batch_id"]
    r = gateway.post(f"{BATCHES}/{second}/replace", files={"file": ("feb-fixed.csv", electricity("M2", 5, month=2))},
                     data={"reason": "meter read again"})
    assert r.status_code == 201 and r.json()["replaces"] == second
    actors = {(e.action, e.entity): e.actor for e in audit.log(acme, "ACME", 100)}
    assert actors[("import", f"batch:{first}")] == "user:alice@acme.cn"
    assert actors[("import.undo", f"batch:{first}")] == "user:alice@acme.cn"
    assert actors[("inventory.compute", f"ACME:{YEAR}")] == "user:alice@acme.cn"
    assert actors[("import", f"batch:{second}")] == "token:gateway-1"
    assert actors[("import.replace", f"batch:{second}")] == "token:gateway-1"
    assert accounting.show_batch(acme, "ACME", second).batch.imported_by == "token:gateway-1"
    assert audit.verify(acme).intact


def test_a_closed_year_refuses_uploads_with_409(acme, tmp_path):
    import_bytes(acme, "ACME", "jan.csv", electricity("M1"), tmp_path)
    accounting.compute(acme, "ACME", YEAR, "CN-2025.1", actor="test")
    accounting.close_inventory(acme, "ACME", YEAR, actor="test")
    r = _upload(logged_in(acme, "alice@acme.cn"), "feb.csv", electricity("M2", month=2))
    assert r.status_code == 409 and r.json()["type"].endswith(":closed-inventory") and "Reopen" in r.json()["detail"]
    assert len(accounting.list_batches(acme, "ACME")) == 1


def test_undo_needs_a_reason_and_an_active_batch(acme, tmp_path):
    batch = import_bytes(acme, "ACME", "jan.csv", electricity("M1"), tmp_path)
    alice = logged_in(acme, "alice@acme.cn")
    assert alice.post(f"{BATCHES}/{batch}/undo", json={"reason": ""}).status_code == 400
    assert alice.post(f"{BATCHES}/{batch}/undo", json={"reason": "wrong month"}).json()["status"] == "withdrawn"
    r = alice.post(f"{BATCHES}/{batch}/undo", json={"reason": "again"})
    assert r.status_code == 409 and "withdrawn" in r.json()["detail"]


def test_inventory_and_its_explained_ledger_page_by_page(acme, tmp_path):
    import_bytes(acme, "ACME", "electricity.csv", (DATA / "electricity_ok.csv").read_bytes(), tmp_path)
    alice = logged_in(acme, "alice@acme.cn")
    computed = alice.post("/api/v1/orgs/ACME/inventories/%d/compute" % YEAR, json={"gwp_set": "AR5"}).json()
    stored = alice.get("/api/v1/orgs/ACME/inventories/%d" % YEAR).json()
    assert stored["totals"] == computed["totals"] and stored["status"] == "draft"
    assert set(stored["report_lines"]) == {"TJ01", "HF01"}
    whole = alice.get("/api/v1/orgs/ACME/inventories/%d/explain" % YEAR, params={"limit": 1000}).json()
    assert whole["total"] == len(whole["rows"]) == 6  # 3 rows x 2 Scope 2 methods
    pages = [alice.get("/api/v1/orgs/ACME/inventories/%d/explain" % YEAR, params={"limit": 4, "offset": o}).json()
             for o in (0, 4)]
    assert [len(p["rows"]) for p in pages] == [4, 2] and all(p["total"] == 6 for p in pages)
    assert [r["id"] for p in pages for r in p["rows"]] == [r["id"] for r in whole["rows"]]
    located = alice.get("/api/v1/orgs/ACME/inventories/%d/explain" % YEAR,
                        params={"method": "location", "site": "TJ01"}).json()
    assert located["total"] == 2 and located["co2e_t"] == pytest.approx(computed["totals"]["scope2_location_t"]
                                                                         - _hf01_location(whole))
    assert set(located["batches"]) == {str(located["rows"][0]["batch_id"])}


def _hf01_location(page) -> float:
    return sum(r["co2e_t"] for r in page["rows"] if r["site"] == "HF01" and r["method"] == "location")


def test_missing_inventory_is_404_and_bad_query_is_400_with_the_parameter_named(acme):
    alice = logged_in(acme, "alice@acme.cn")
    assert alice.get("/api/v1/orgs/ACME/inventories/%d" % YEAR).status_code == 404
    r = alice.get("/api/v1/orgs/ACME/inventories/%d/explain" % YEAR, params={"limit": 0})
    assert r.status_code == 400 and r.json()["problems"][0]["column"] == "limit"


def test_factors_are_filtered_and_paged_and_an_unknown_set_is_404(acme):
    alice = logged_in(acme, "alice@acme.cn")
    sets = alice.get("/api/v1/orgs/ACME/factor-sets").json()
    assert "CN-2025.1" in {s["name"] for s in sets}
    page = alice.get("/api/v1/orgs/ACME/factor-sets/CN-2025.1/factors",
                     params={"kind": "gwp", "limit": 5, "offset": 5}).json()
    assert page["total"] > 10 and len(page["factors"]) == 5 and {f["kind"] for f in page["factors"]} == {"gwp"}
    assert all(f["issuer"] and f["edition"] and f["licence"] for f in page["factors"])
    assert alice.get("/api/v1/orgs/ACME/factor-sets/NOPE-1/factors").status_code == 404


def test_an_internal_error_is_a_500_problem_without_trace_or_internals(acme, monkeypatch):
    def broken(*args, **kwargs):
        raise RuntimeError("connection string postgres://secret@db")

    monkeypatch.setattr(accounting, "list_batches", broken)
    alice = logged_in(acme, "alice@acme.cn")
    alice = client(acme, raise_server_exceptions=False, cookies=dict(alice.cookies))
    r = alice.get(BATCHES)
    assert r.status_code == 500 and r.headers["content-type"] == "application/problem+json"
    assert "secret" not in r.text and "Traceback" not in r.text and "RuntimeError" not in r.text
    assert "reference" in r.json()["detail"]


def test_batches_are_listed_and_shown_with_their_versions(acme, tmp_path):
    old = import_bytes(acme, "ACME", "jan.csv", electricity("M1"), tmp_path)
    alice = logged_in(acme, "alice@acme.cn")
    r = alice.post(f"{BATCHES}/{old}/replace", files={"file": ("jan2.csv", electricity("M1", 1200))})
    new = r.json()["batch_id"]
    listed = alice.get(BATCHES).json()
    assert [(b["id"], b["status"]) for b in listed] == [(old, "superseded"), (new, "active")]
    assert [b["id"] for b in alice.get(BATCHES, params={"status": "active"}).json()] == [new]
    shown = alice.get(f"{BATCHES}/{old}").json()
    assert [v["id"] for v in shown["versions"]] == [old, new] and shown["batch"]["superseded_by"] == new
    with acme() as s:
        assert s.scalar(select(ImportBatchRow.imported_by).where(ImportBatchRow.id == new)) == "user:alice@acme.cn"


def test_data_entry_upload_waits_until_the_energy_manager_approves_it(acme, tmp_path):
    from tests.api_support import person

    person(acme, "erin@acme.cn", "ACME", "data_entry")
    erin, alice = logged_in(acme, "erin@acme.cn"), logged_in(acme, "alice@acme.cn")
    r = _upload(erin, "jan.csv", electricity("M1"))
    assert r.status_code == 201 and r.json()["status"] == "pending"
    pending = r.json()["batch_id"]
    assert _upload(alice, "feb.csv", electricity("M2", month=2)).json()["status"] == "active"
    assert [b["id"] for b in alice.get(BATCHES, params={"status": "pending"}).json()] == [pending]
    assert erin.post(f"{BATCHES}/{pending}/approve").status_code == 403  # data entry may not approve
    r = alice.post(f"{BATCHES}/{pending}/approve")
    assert r.status_code == 200 and (r.json()["status"], r.json()["status_changed_by"]) == (
        "active", "user:alice@acme.cn")
    assert alice.post(f"{BATCHES}/{pending}/approve").status_code == 409  # no longer pending
    # A replacement by data entry leaves the old batch active until approved, and can be rejected.
    r = erin.post(f"{BATCHES}/{pending}/replace", files={"file": ("jan2.csv", electricity("M1", 1200))},
                  data={"reason": "meter read corrected"})
    assert r.status_code == 201 and r.json()["status"] == "pending"
    replacement = r.json()["batch_id"]
    assert alice.post(f"{BATCHES}/{replacement}/reject", json={}).status_code == 400  # the reason is required
    r = alice.post(f"{BATCHES}/{replacement}/reject", json={"reason": "the utility bill says 1000"})
    assert r.status_code == 200 and r.json()["status"] == "rejected"
    listed = {b["id"]: b["status"] for b in alice.get(BATCHES).json()}
    assert listed[pending] == "active" and listed[replacement] == "rejected"
    trail = [(e.actor, e.action) for e in accounting.audit_trail(acme, "ACME")
             if e.entity in (f"batch:{pending}", f"batch:{replacement}")]
    assert ("user:alice@acme.cn", "import.approve") in trail and ("user:alice@acme.cn", "import.reject") in trail


def test_approval_in_a_closed_year_is_refused_with_409(acme, tmp_path):
    from tests.api_support import person

    person(acme, "erin@acme.cn", "ACME", "data_entry")
    pending = _upload(logged_in(acme, "erin@acme.cn"), "jan.csv", electricity("M1")).json()["batch_id"]
    import_bytes(acme, "ACME", "feb.csv", electricity("M2", month=2), tmp_path)
    accounting.compute(acme, "ACME", YEAR, "CN-2025.1", actor="test")
    accounting.close_inventory(acme, "ACME", YEAR, actor="test")
    r = logged_in(acme, "alice@acme.cn").post(f"{BATCHES}/{pending}/approve")
    assert r.status_code == 409 and "closed" in r.json()["detail"]


def test_a_supplier_sees_only_its_own_submissions_and_404_for_any_other_id(acme, tmp_path):
    from tests.api_support import person

    person(acme, "a@supplier.cn", "ACME", "supplier")
    person(acme, "b@supplier.cn", "ACME", "supplier")
    org = import_bytes(acme, "ACME", "org.csv", electricity("M1"), tmp_path)
    a, b = logged_in(acme, "a@supplier.cn"), logged_in(acme, "b@supplier.cn")
    r = _upload(a, "a.csv", electricity("SA", month=2))
    assert r.status_code == 201 and r.json()["status"] == "pending"
    mine = r.json()["batch_id"]
    theirs = _upload(b, "b.csv", electricity("SB", month=3)).json()["batch_id"]
    assert [x["id"] for x in a.get(BATCHES).json()] == [mine]
    assert [x["id"] for x in a.get(BATCHES, params={"status": "active"}).json()] == []
    shown = a.get(f"{BATCHES}/{mine}").json()
    assert shown["batch"]["imported_by"] == "user:a@supplier.cn" and [v["id"] for v in shown["versions"]] == [mine]
    unknown = a.get(f"{BATCHES}/999")
    assert unknown.status_code == 404
    for other in (org, theirs):
        r = a.get(f"{BATCHES}/{other}")
        # The same answer as for an id that does not exist: ids cannot be probed.
        assert r.status_code == 404 and r.json()["detail"] == unknown.json()["detail"].replace("999", str(other))
    # The energy manager sees all three; a repeated row of the organisation is refused without naming its file.
    assert {x["id"] for x in logged_in(acme, "alice@acme.cn").get(BATCHES).json()} == {org, mine, theirs}
    r = _upload(a, "a2.csv", electricity("M1", 999))
    assert r.status_code == 400 and "org.csv" not in r.text and f"batch {org}" not in r.text
