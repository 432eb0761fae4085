"""The carbon-credit register and claims service: credits files are imported all or nothing with every problem's
row and column, a serial range already held by a stored credit is refused (double counting across files), a claim
takes its emissions from the stored inventory, is checked, gets its statement only when every test passes, and is
signed off by someone other than its creator."""
from __future__ import annotations

import pytest

from tests.api_support import YEAR, electricity, import_bytes, load_org
from zerocarbon.errors import InputError, NotFoundError, PermissionDeniedError, StateError
from zerocarbon.services import accounting
from zerocarbon.services import claims as svc

ORG = "ORG"
HEADER = ("credit_id,programme,project_id,project_type,vintage,serial_start,serial_end,quantity_t,verified_by,"
          "verification_date,issued_date,additionality,storage_years,reversal_provision,corresponding_adjustment,"
          "retirement_date,retirement_beneficiary,retired_for_subject,retired_for_period\n")
ROWS = {
    "C1": f"C1,CCER,CCER-1001,avoidance,{YEAR - 1},1,300,300,CQC,{YEAR}-03-01,{YEAR}-04-01,CCER-01-001 PV,,,"
          f"not_applicable,{YEAR + 1}-02-01,ORG,ORG/TJ01,{YEAR}",
    "R1": f"R1,PURO,PURO-77,removal,{YEAR},5001,5100,100,DNV,{YEAR}-10-01,{YEAR}-11-01,biochar,100,buffer 10%,"
          f"unknown,{YEAR + 1}-01-10,ORG,ORG/TJ01,{YEAR}",
    "U1": f"U1,GS,GS-42,avoidance,{YEAR},1,50,50,SGS,{YEAR}-06-01,{YEAR}-07-01,cookstoves,,,unknown,,,,",
}


def credits_file(*ids: str) -> bytes:
    return (HEADER + "\n".join(ROWS[i] for i in ids) + "\n").encode()


PLAN = f"""
commitment_date: {YEAR}-01-15
base_year: {YEAR - 1}
interim_targets: ["{YEAR + 2}: -30%"]
long_term_target: "{YEAR + 10}: -90%, removals only"
reduction_measures: [rooftop_pv, led_lighting]
removal_strategy: biochar removals
offset_types: [CCER, removals]
monitoring_indicators: [tCO2e, kWh per unit]
approved_by: General manager
public_url: https://example.org/plan
first_period: true
credits: [C1, R1]
""".encode()


def inventory(sessions, tmp_path):
    """The test organisation with a computed inventory of YEAR (200 MWh of electricity at TJ01)."""
    load_org(sessions, ORG)
    import_bytes(sessions, ORG, "e.csv", electricity("M1", 200_000), tmp_path)
    accounting.compute(sessions, ORG, YEAR, "CN-2025.1", actor="test")
    return sessions


@pytest.fixture
def world(sessions, tmp_path):
    return inventory(sessions, tmp_path)


def test_import_is_all_or_nothing_with_row_and_column(world):
    bad = (credits_file("C1", "R1").replace(b"PURO-77,removal", b"PURO-77,sequestration")
           .replace(b",300,300,", b",300,30x,"))
    with pytest.raises(InputError) as e:
        svc.import_credits(world, ORG, "credits.csv", bad, actor="alice")
    got = {(p.source, p.row, p.column) for p in e.value.problems}
    assert got == {("credits.csv", 2, "quantity_t"), ("credits.csv", 3, "project_type")}
    assert svc.list_credits(world, ORG) == []
    # Quantity must equal the serials counted; unknown columns and missing required ones are named.
    with pytest.raises(InputError) as e:
        svc.import_credits(world, ORG, "c.csv", credits_file("C1").replace(b",300,300,", b",300,299,"), actor="a")
    assert "the serials count 300 credits" in str(e.value)
    with pytest.raises(InputError) as e:
        svc.import_credits(world, ORG, "c.csv", b"credit_id,colour\nX,red\n", actor="a")
    assert {p.column for p in e.value.problems} >= {"colour", "programme", "quantity_t"}


def test_overlap_with_stored_credits_is_refused(world):
    rep = svc.import_credits(world, ORG, "a.csv", credits_file("C1"), actor="alice")
    assert rep.created == ["C1"] and rep.quantity_t == 300
    again = ROWS["C1"].replace("C1,", "C9,", 1).replace(",1,300,300,", ",250,349,100,")
    with pytest.raises(InputError) as e:
        svc.import_credits(world, ORG, "b.csv", (HEADER + again + "\n").encode(), actor="alice")
    [p] = e.value.problems
    assert (p.source, p.row, p.column) == ("b.csv", 2, "serials")
    assert "serials 250-300" in p.reason and "stored credit C1 (from a.csv): double counting" in p.reason
    # Within one file too.
    with pytest.raises(InputError, match="also in row 2"):
        svc.import_credits(world, ORG, "c.csv", (HEADER + ROWS["U1"] + "\n" + ROWS["U1"].replace("U1,", "U2,", 1)
                                                 + "\n").encode(), actor="alice")
    assert [c["credit_id"] for c in svc.list_credits(world, ORG)] == ["C1"]


def test_claim_from_the_inventory_check_statement_and_review(world):
    svc.import_credits(world, ORG, "a.csv", credits_file("C1", "R1", "U1"), actor="alice")
    c = svc.create_claim(world, ORG, YEAR, "plan.yaml", PLAN, site="TJ01", actor="alice")
    [tj] = [t for t in accounting.site_totals(world, ORG, YEAR) if t.site == "TJ01"]
    assert c["residual_t"] == pytest.approx(tj.scope1 + tj.scope2_market) and c["residual_t"] > 0
    assert "factor set CN-2025.1" in c["emissions"]["source"]
    with pytest.raises(StateError, match="not been checked"):
        svc.statement(world, ORG, c["id"])
    d = svc.check(world, ORG, c["id"], actor="alice")
    assert d["passed"] and d["status"] == "checked", [f for f in d["findings"] if not f["passed"]]
    assert d["removals_share"] == pytest.approx(0.25)  # 100 of 400 t
    assert "site TJ01" in svc.statement(world, ORG, c["id"], "en")
    assert "碳中和" in svc.statement(world, ORG, c["id"], "zh")
    with pytest.raises(PermissionDeniedError, match="may not review"):
        svc.review(world, ORG, c["id"], True, actor="alice")
    done = svc.review(world, ORG, c["id"], True, actor="bob")
    assert done["status"] == "signed_off" and done["reviewed_by"] == "bob"
    entries = accounting.audit_trail(world, ORG)
    assert {"claims.credits_import", "claims.create", "claims.check", "claims.review"} <= {e.action for e in entries}
    m = svc.assessment_metrics(world, ORG, YEAR, "TJ01")
    assert m["claim.credit_quality_share"]["value"] == 1.0 and m["claim.offset_coverage"]["value"] == 1.0
    assert m["claim.offset_coverage"]["unit"] == "fraction" and m["claim.offset_coverage"]["lineage"]["claim_id"]
    assert svc.assessment_metrics(world, ORG, YEAR, "HF01")["claim.offset_coverage"]["value"] is None


def test_a_claim_reusing_credits_and_an_unretired_one_is_refused_with_reasons(world):
    svc.import_credits(world, ORG, "a.csv", credits_file("C1", "R1", "U1"), actor="alice")
    first = svc.create_claim(world, ORG, YEAR, "plan.yaml", PLAN, site="TJ01", actor="alice")
    svc.check(world, ORG, first["id"], actor="alice")
    second = svc.create_claim(world, ORG, YEAR, "plan.yaml", PLAN.replace(b"[C1, R1]", b"[C1, U1]"), site="TJ01",
                              actor="alice")
    d = svc.check(world, ORG, second["id"], actor="alice")
    failing = {(f["test"], f["credit"]) for f in d["findings"] if not f["passed"]}
    assert ("credit.not_double_counted", "C1") in failing and ("credit.retired", "U1") in failing
    with pytest.raises(InputError) as e:
        svc.statement(world, ORG, second["id"])
    assert any(f"also used by claim {first['id']}" in p.reason for p in e.value.problems)
    with pytest.raises(StateError, match="cannot be signed off"):
        svc.review(world, ORG, second["id"], True, actor="bob")
    with pytest.raises(InputError, match="say why"):
        svc.review(world, ORG, second["id"], False, actor="bob")
    assert svc.review(world, ORG, second["id"], False, "credits reused", actor="bob")["status"] == "returned"
    q = svc.assessment_metrics(world, ORG, YEAR, "TJ01")["claim.credit_quality_share"]
    # A returned claim does not count: the metric is the first claim's, whose credits all pass.
    assert q["value"] == pytest.approx(1.0) and q["lineage"]["claim_id"] == first["id"]
    # The first claim, checked again, is not blocked by the later claim that reused its credit.
    assert svc.check(world, ORG, first["id"], actor="alice")["passed"]


def test_bad_plan_and_unknown_credit_are_refused(world):
    with pytest.raises(InputError) as e:
        svc.create_claim(world, ORG, YEAR, "plan.yaml", PLAN + b"colour: red\nbase_year: soon\n", site="TJ01",
                         actor="alice")
    assert {p.column for p in e.value.problems} >= {"colour"}
    with pytest.raises(InputError, match="credit C1 is not in the register"):
        svc.create_claim(world, ORG, YEAR, "plan.yaml", PLAN, site="TJ01", actor="alice")
    svc.import_credits(world, ORG, "a.csv", credits_file("C1", "R1"), actor="alice")
    with pytest.raises(NotFoundError, match="no inventory"):
        svc.create_claim(world, ORG, YEAR + 1, "plan.yaml", PLAN, site="TJ01", actor="alice")
    with pytest.raises(InputError, match="workshop_emissions"):
        svc.create_claim(world, ORG, YEAR, "plan.yaml", PLAN, site="TJ01", workshop="SMT", lines=["L1"],
                         actor="alice")
    ws = svc.create_claim(world, ORG, YEAR, "plan.yaml", PLAN + b"workshop_emissions: {scope1_t: 0, "
                          b"scope2_market_t: 12.5, source: sub-meter SMT-1}\n", site="TJ01", workshop="SMT",
                          lines=["L1", "L2"], actor="alice")
    assert ws["subject"] == "workshop" and ws["residual_t"] == 12.5


def test_demo_claims_one_passes_one_is_refused_with_reasons(sessions, tmp_path):
    import json

    from zerocarbon.services import demo_claims

    load_org(sessions, ORG)
    path = tmp_path / "e2025.csv"
    path.write_text("site,meter,period_start,period_end,quantity,unit\n"
                    "TJ01,M1,2025-01-01,2025-12-31,300000,kWh\nHF01,M2,2025-01-01,2025-12-31,100000,kWh\n")
    accounting.import_file(sessions, ORG, "electricity", path, 2025, "CN-2025.1", actor="setup")
    files = demo_claims.run(sessions, ORG, tmp_path / "claims")  # computes the 2025 inventory first
    tj = json.loads(files["claim_TJ01"].read_text(encoding="utf-8"))
    hf = json.loads(files["claim_HF01"].read_text(encoding="utf-8"))
    assert tj["passed"] and tj["status"] == "signed_off" and tj["credits_t"] >= tj["residual_t"] > 0
    assert "carbon neutrality" in files["statement_TJ01_en"].read_text(encoding="utf-8")
    assert "碳中和" in files["statement_TJ01_zh"].read_text(encoding="utf-8")
    reasons = " ".join(hf["refusal_reasons"])
    assert not hf["passed"] and "statement_HF01_en" not in files
    assert "also used by claim" in reasons and "DEMO-GS-02: not retired" in reasons
    assert any("double counting" in r for r in hf["double_counted_import_refused"])
    assert files["chart_TJ01"].read_bytes()[:4] == b"\x89PNG"
    assert all(c["note"].startswith("demo data") for c in svc.list_credits(sessions, ORG))
