"""Reads of stored inventories (API inventory and explain, the overview page) are rendered once per server
process and data version: they carry an ETag (304 to If-None-Match), are answered again only after the
permission check, and follow every change made by any process at once."""
from pathlib import Path

import pytest
from tests.api_support import client, load_org, logged_in, person, with_token
from zerocarbon.services import accounting, factor_sets, users

EXAMPLES = Path(__file__).parents[1] / "examples"
INVENTORY = "/api/v1/orgs/ACME/inventories/2025"
EXPLAIN = INVENTORY + "/explain?site=TJ01&limit=5"
OVERVIEW = "/web/orgs/ACME/overview?year=2025"


@pytest.fixture
def computed(sessions, cheap_passwords):
    accounting.load_organisation_file(sessions, EXAMPLES / "organisation.yaml", actor="test")
    batch = accounting.import_file(sessions, "ACME", "electricity", EXAMPLES / "electricity_2025.csv", 2025,
                                   "CN-2025.1", actor="test").batch_id
    accounting.compute(sessions, "ACME", 2025, "CN-2025.1", actor="test")
    return sessions, batch


def test_answers_carry_an_etag_and_a_matching_request_gets_304(computed):
    sessions, _ = computed
    _, token = users.create_token(sessions, "ACME", "reader", ["inventory.read"], actor="test")
    c = with_token(sessions, token)
    for url in (INVENTORY, EXPLAIN):
        first = c.get(url)
        assert first.status_code == 200 and first.headers["cache-control"] == "private, no-cache"
        etag = first.headers["etag"]
        assert etag.startswith('"') and first.headers["content-type"] == "application/json"
        again = c.get(url, headers={"If-None-Match": etag})
        assert again.status_code == 304 and again.content == b"" and again.headers["etag"] == etag
        assert c.get(url, headers={"If-None-Match": f'"other", W/{etag}'}).status_code == 304
        other = c.get(url, headers={"If-None-Match": '"something-else"'})
        assert other.status_code == 200 and other.content == first.content and other.headers["etag"] == etag
    assert c.get(INVENTORY).json()["organisation"] == "ACME"
    assert len(c.get(EXPLAIN).json()["rows"]) == 5


def test_kept_answers_follow_changes_made_by_another_process(computed):
    sessions, batch = computed
    _, token = users.create_token(sessions, "ACME", "reader", ["inventory.read"], actor="test")
    c = with_token(sessions, token)
    before, explained = c.get(INVENTORY), c.get(EXPLAIN)
    assert explained.json()["batches"][str(batch)]["status"] == "active"
    assert c.get(INVENTORY).headers["etag"] == before.headers["etag"]
    # The changes below are made through the services, as another server process or the command line makes
    # them: the application learns of them only from the database.
    # The batch is withdrawn: the ledger still cites it, now with its new status.
    accounting.undo_batch(sessions, "ACME", batch, "wrong meter", actor="test")
    after = c.get(EXPLAIN)
    assert after.json()["batches"][str(batch)]["status"] == "withdrawn"
    assert after.headers["etag"] != explained.headers["etag"]
    assert c.get(EXPLAIN, headers={"If-None-Match": explained.headers["etag"]}).status_code == 200
    # Computed again with other data: the other totals at once.
    accounting.import_file(sessions, "ACME", "fuel", EXAMPLES / "fuel_2025.csv", 2025, "CN-2025.1", actor="test")
    accounting.compute(sessions, "ACME", 2025, "CN-2025.1", actor="test")
    now = c.get(INVENTORY)
    assert now.json()["totals"] == accounting.inventory_meta(sessions, "ACME", 2025)["totals"]
    assert now.json()["totals"] != before.json()["totals"]
    assert c.get(EXPLAIN).json()["total"] == accounting.ledger_page(sessions, "ACME", 2025, site="TJ01").total


def test_a_kept_answer_is_given_only_to_who_may_read_it(computed):
    sessions, _ = computed
    _, reader = users.create_token(sessions, "ACME", "reader", ["inventory.read"], actor="test")
    _, importer = users.create_token(sessions, "ACME", "importer", ["import.read"], actor="test")
    assert with_token(sessions, reader).get(EXPLAIN).status_code == 200
    denied = with_token(sessions, importer)
    assert denied.get(EXPLAIN).status_code == 403 and denied.get(INVENTORY).status_code == 403
    assert client(sessions).get(INVENTORY).status_code == 401
    load_org(sessions, "OTHER")
    person(sessions, "eve@other.cn", "OTHER", "admin")
    outsider = logged_in(sessions, "eve@other.cn")
    assert outsider.get(INVENTORY).status_code == 404 and outsider.get(EXPLAIN).status_code == 404
    assert outsider.get(OVERVIEW).status_code == 404


def test_the_overview_page_is_kept_per_person_and_language(computed):
    sessions, _ = computed
    person(sessions, "alice@acme.cn", "ACME", "energy_manager")
    person(sessions, "bob@acme.cn", "ACME", "viewer")
    alice, bob = logged_in(sessions, "alice@acme.cn"), logged_in(sessions, "bob@acme.cn")
    page = alice.get(OVERVIEW)
    # The forms of a page echo the caller's own CSRF token: a page kept for one person is not another's.
    mine, bobs = alice.cookies["zc_csrf"], bob.cookies["zc_csrf"]
    assert page.status_code == 200 and mine in page.text and page.headers["etag"]
    assert page.headers["content-type"] == "text/html; charset=utf-8"
    assert alice.get(OVERVIEW).text == page.text
    theirs = bob.get(OVERVIEW)
    assert bobs in theirs.text and mine not in theirs.text
    assert alice.get(OVERVIEW, headers={"If-None-Match": page.headers["etag"]}).status_code == 304
    alice.cookies.set("zc_lang", "en" if 'lang="zh-CN"' in page.text else "zh-CN")
    switched = alice.get(OVERVIEW)
    assert switched.status_code == 200 and switched.headers["etag"] != page.headers["etag"]
    # A person with no page role in ACME gets no kept page.
    person(sessions, "carol@else.cn", "ACME", "supplier")
    assert logged_in(sessions, "carol@else.cn").get(OVERVIEW).status_code == 403
    outsider = client(sessions)
    assert outsider.get(OVERVIEW, follow_redirects=False).status_code == 303


def test_the_factor_set_list_shows_a_set_stored_since(computed):
    sessions, _ = computed
    _, token = users.create_token(sessions, "ACME", "reader", ["factors.read"], actor="test")
    c = with_token(sessions, token)
    first = c.get("/api/v1/orgs/ACME/factor-sets")
    assert first.status_code == 200 and first.headers["etag"]
    assert all(s["origin"] == "shipped" for s in first.json())
    assert c.get("/api/v1/orgs/ACME/factor-sets", headers={"If-None-Match": first.headers["etag"]}).status_code == 304
    factor_sets.import_set(sessions, EXAMPLES / "factors" / "supplier_grid.csv", "ACME-supplier", org="ACME",
                           actor="test")
    now = c.get("/api/v1/orgs/ACME/factor-sets", headers={"If-None-Match": first.headers["etag"]})
    assert now.status_code == 200 and now.headers["etag"] != first.headers["etag"]
    stored = [s for s in now.json() if s["origin"] == "stored"]
    assert [s["name"] for s in stored] == ["ACME-supplier"] and stored[0]["organisation"] == "ACME"
    assert now.json()[:len(first.json())] == first.json()
