"""Pages of a stored ledger come from the database (filter, count, sum, LIMIT/OFFSET) instead of loading the
whole ledger for each page: they must be the stored ledger in ledger-row order, row for row. The checks made on
every request (token, login session, membership) cost one query each."""
from pathlib import Path

import pytest
from sqlalchemy import event

from tests.api_support import PASSWORD
from zerocarbon.errors import NotFoundError
from zerocarbon.services import accounting, auth, users

EXAMPLES = Path(__file__).parents[1] / "examples"
FILTERS = [{}, {"site": "TJ01"}, {"scope": "2", "method": "market"}, {"scope": "2", "method": "location"},
           {"category": "stationary_combustion"}, {"site": "CD01", "scope": "1"}, {"category": "process_fgases"}]


def _import(sessions, kinds) -> None:
    for kind in kinds:
        accounting.import_file(sessions, "ACME", kind, EXAMPLES / f"{kind}_2025.csv", 2025, "CN-2025.1", actor="test")


def _memo_free_sum(ledger) -> float:
    return float(ledger.loc[ledger["memo"] == "", "co2e_t"].sum())


def test_pages_are_the_stored_ledger_in_row_order(sessions):
    accounting.load_organisation_file(sessions, EXAMPLES / "organisation.yaml", actor="test")
    _import(sessions, ("electricity", "generation", "fuel", "refrigerant", "instrument"))
    accounting.compute(sessions, "ACME", 2025, "CN-2025.1", actor="test")
    for filters in FILTERS:
        meta, whole = accounting.stored_ledger(sessions, "ACME", 2025, **filters)
        expected = whole.sort_values("id").to_dict("records")
        size, got = 3, []
        for offset in range(0, len(expected) + 2 * size, size):
            page = accounting.ledger_page(sessions, "ACME", 2025, limit=size, offset=offset, **filters)
            assert page.total == len(expected), filters
            assert page.co2e_t == pytest.approx(_memo_free_sum(whole), rel=1e-12, abs=1e-12)
            assert set(page.batches) == {r["batch_id"] for r in page.rows}
            assert all(page.batches[b] == meta["batches"][b] for b in page.batches)
            assert page.sites == ["CD01", "TJ01"]
            got += page.rows
        assert [r["id"] for r in got] == [r["id"] for r in expected], filters
        for g, e in zip(got, expected):
            # A page gives None where the whole ledger has NaN (no data-quality score: Scope 1 and 2 rows).
            assert g == {k: (int(v) if k == "batch_id" else None if k == "dq" and v != v else v)
                         for k, v in e.items()}
    assert len(accounting.stored_ledger(sessions, "ACME", 2025, category="process_fgases")[1]) == 0


def test_a_page_refuses_what_the_whole_ledger_refuses(sessions):
    accounting.load_organisation_file(sessions, EXAMPLES / "organisation.yaml", actor="test")
    with pytest.raises(NotFoundError, match="no inventory"):
        accounting.ledger_page(sessions, "ACME", 2025)
    _import(sessions, ("electricity",))
    accounting.compute(sessions, "ACME", 2025, "CN-2025.1", actor="test")
    with pytest.raises(NotFoundError, match="no site 'XX'"):
        accounting.ledger_page(sessions, "ACME", 2025, site="XX")
    with pytest.raises(NotFoundError, match="no ledger category"):
        accounting.ledger_page(sessions, "ACME", 2025, category="nope")
    with pytest.raises(NotFoundError, match="not in the database"):
        accounting.ledger_page(sessions, "NOPE", 2025)


def test_a_recomputed_inventory_is_read_afresh(sessions):
    """Aggregates of a stored ledger are kept by inventory and time of computation; a new computation of the
    same year must show its own numbers at once."""
    accounting.load_organisation_file(sessions, EXAMPLES / "organisation.yaml", actor="test")
    _import(sessions, ("electricity",))
    accounting.compute(sessions, "ACME", 2025, "CN-2025.1", actor="test")
    first = accounting.ledger_page(sessions, "ACME", 2025, scope="1")
    assert first.total == 0 and sum(s.scope1 for s in accounting.site_totals(sessions, "ACME", 2025)) == 0
    _import(sessions, ("fuel",))
    totals = accounting.compute(sessions, "ACME", 2025, "CN-2025.1", actor="test").totals()
    assert totals["scope1_t"] > 0
    _, whole = accounting.stored_ledger(sessions, "ACME", 2025, scope="1")
    again = accounting.ledger_page(sessions, "ACME", 2025, scope="1")
    assert again.total == len(whole) > 0 and again.co2e_t == pytest.approx(totals["scope1_t"])
    meta, sites = accounting.inventory_summary(sessions, "ACME", 2025)
    assert sum(s.scope1 for s in sites) == pytest.approx(totals["scope1_t"])
    assert meta == accounting.inventory_meta(sessions, "ACME", 2025) and meta["totals"] == totals
    assert sites == accounting.site_totals(sessions, "ACME", 2025)


def _statements(sessions) -> list[str]:
    seen: list[str] = []
    event.listen(sessions.kw["bind"], "before_cursor_execute",
                 lambda conn, cursor, statement, *args: seen.append(statement))
    return seen


def test_a_token_a_login_session_and_a_membership_are_each_checked_with_one_query(acme):
    _, token = users.create_token(acme, "ACME", "gateway", ["inventory.read"], actor="test")
    login = auth.login(acme, "alice@acme.cn", PASSWORD, "127.0.0.1")
    auth.from_token(acme, token)  # the first use is written down
    seen = _statements(acme)
    machine = auth.from_token(acme, token)
    assert (machine.organisation, machine.scopes, len(seen)) == ("ACME", frozenset({"inventory.read"}), 1)
    seen.clear()
    person = auth.from_session(acme, login.session_secret)
    assert (person.name, person.locale, len(seen)) == ("alice@acme.cn", login.user.locale, 1)
    seen.clear()
    assert auth.access(acme, person, "ACME").role == "energy_manager" and len(seen) == 1
    with pytest.raises(NotFoundError):
        auth.access(acme, person, "OTHER")
