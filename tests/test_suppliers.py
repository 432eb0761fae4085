"""Supplier management: the green-specification scorecard, compliance by count and by spend, the engagement target,
the all-or-nothing supplier import, campaigns with submissions and review, and the reduction programme's
double-counting guard.

The worked examples are small enough to check by hand; each states its arithmetic.
"""
from __future__ import annotations

from datetime import date

import pytest
import yaml
from sqlalchemy import func, select

from zerocarbon.core.supply import reductions as red
from zerocarbon.core.supply import scorecard as sc
from zerocarbon.errors import InputError, NotFoundError, StateError
from zerocarbon.services import suppliers as svc
from zerocarbon.store import suppliers as store
from zerocarbon.store.tables import AuditRow

AS_OF = date(2026, 6, 30)
SPEC = sc.shipped_spec()


def full_answers(**over) -> dict[str, sc.Answer]:
    """A supplier meeting every indicator of the shipped specification, answered on 2026-03-01."""
    on = date(2026, 3, 1)
    base = {
        "iso14001": sc.Answer("iso14001", "CN-14001-77", "", "cert.pdf", None, date(2027, 5, 1), on),
        "iso50001": sc.Answer("iso50001", "CN-50001-12", "", "cert50001.pdf", None, date(2027, 5, 1), on),
        "substances": sc.Answer("substances", "yes", "", "rohs.pdf", None, None, on),
        "sbti": sc.Answer("sbti", "validated", "", None, None, None, on),
        "renewable_share": sc.Answer("renewable_share", "45", "%", "ppa.pdf", None, None, on),
        "scope12_disclosed": sc.Answer("scope12_disclosed", "1200", "tCO2e", "ghg.pdf", None, None, on),
        "env_audit": sc.Answer("env_audit", "pass", "", "audit.pdf", None, None, on),
    }
    for k, v in over.items():
        if v is None:
            base.pop(k)
        else:
            base[k] = v
    return base


# --- the scorecard ---------------------------------------------------------------------------------------------

def test_a_supplier_meeting_everything_scores_100_and_passes():
    card = sc.evaluate(SPEC, "S1", full_answers(), AS_OF)
    assert card.score == pytest.approx(100.0)
    assert card.passed and card.reasons == ()


def test_score_is_the_weighted_share_of_points():
    # Weights 20,10,15,15,15,15,10 = 100. Without ISO 50001 (10) and with sbti committed (0.5 x 15 = 7.5) and a
    # renewable share of 15% against a 30% threshold (0.5 x 15 = 7.5): 100 - 10 - 7.5 - 7.5 = 75.
    card = sc.evaluate(SPEC, "S1", full_answers(
        iso50001=None, sbti=sc.Answer("sbti", "committed", answered_on=date(2026, 3, 1)),
        renewable_share=sc.Answer("renewable_share", "15", "%", "ppa.pdf", answered_on=date(2026, 3, 1))), AS_OF)
    assert card.score == pytest.approx(75.0)
    assert card.passed  # 75 >= pass mark 70, every mandatory indicator met
    by = {r.key: r for r in card.results}
    assert by["renewable_share"].points == pytest.approx(0.5) and not by["renewable_share"].met
    assert by["iso50001"].reason == "no accepted answer"


def test_a_high_score_fails_when_a_mandatory_certificate_has_expired():
    # ISO 14001 expired on 2026-05-31: score 80 (above the pass mark) but a mandatory indicator is not met.
    card = sc.evaluate(SPEC, "S1", full_answers(iso14001=sc.Answer(
        "iso14001", "CN-14001-77", "", "cert.pdf", None, date(2026, 5, 31), date(2025, 6, 1))), AS_OF)
    assert card.score == pytest.approx(80.0)
    assert not card.passed
    assert card.reasons == ("mandatory iso14001 not met: expired on 2026-05-31",)


def test_an_answer_older_than_its_validity_no_longer_counts():
    # The substance declaration is valid 12 months: answered 2025-06-01, it counts until 2026-06-01.
    old = sc.Answer("substances", "yes", "", "rohs.pdf", None, None, date(2025, 6, 1))
    card = sc.evaluate(SPEC, "S1", full_answers(substances=old), AS_OF)
    assert not card.passed
    assert "mandatory substances not met: expired on 2026-06-01" in card.reasons
    assert sc.evaluate(SPEC, "S1", full_answers(substances=old), date(2026, 6, 1)).passed


def test_mandatory_indicator_without_required_evidence_is_not_met():
    card = sc.evaluate(SPEC, "S1", full_answers(scope12_disclosed=sc.Answer(
        "scope12_disclosed", "1200", "tCO2e", None, answered_on=date(2026, 3, 1))), AS_OF)
    assert not card.passed
    assert "mandatory scope12_disclosed not met: evidence is required and none was given" in card.reasons


def test_score_below_the_pass_mark_fails_with_the_reason():
    # Only the three mandatory indicators: 20 + 15 + 15 = 50 < 70.
    answers = {k: v for k, v in full_answers().items() if k in ("iso14001", "substances", "scope12_disclosed")}
    card = sc.evaluate(SPEC, "S1", answers, AS_OF)
    assert card.score == pytest.approx(50.0)
    assert card.reasons == ("score 50.0 is below the pass mark 70",)


@pytest.mark.parametrize("key,value,unit,reason", [
    ("renewable_share", "120", "%", "a share of 120% is impossible; it must be from 0 to 100%"),
    ("renewable_share", "1.2", "", "a share of 1.2 is impossible; it must be from 0 to 100%"),
    ("renewable_share", "40", "kWh", "unit 'kWh' is not a share"),
    ("scope12_disclosed", "-5", "tCO2e", "a negative amount (-5 tCO2e) is impossible"),
    ("scope12_disclosed", "1200", "t", "unit 't' (mass) cannot be converted to tCO2e (CO2e)"),
    ("scope12_disclosed", "1200", "", "a unit is required (e.g. tCO2e)"),
    ("sbti", "maybe", "", "'maybe' is not one of none, committed, validated"),
    ("substances", "perhaps", "", "'perhaps' is not yes or no"),
])
def test_impossible_values_and_wrong_units_are_refused(key, value, unit, reason):
    got, why = sc.check_value(SPEC.indicator(key), value, unit)
    assert got is None and why.startswith(reason)


def test_values_are_normalised_to_the_indicator_unit():
    assert sc.check_value(SPEC.indicator("scope12_disclosed"), "1200000", "kgCO2e") == ("1200", None)
    assert sc.check_value(SPEC.indicator("renewable_share"), "0.45", "") == ("45", None)


def test_own_specification_is_checked_with_every_problem():
    doc = yaml.safe_load(sc.shipped_text())
    doc["pass_mark"] = 150
    doc["indicators"][0]["type"] = "colour"
    doc["indicators"][3]["threshold"] = "platinum"
    doc["indicators"].append(dict(doc["indicators"][1]))  # iso50001 twice
    with pytest.raises(InputError) as e:
        sc.parse_spec(doc, "own.yaml")
    reasons = {(p.column, p.reason.split(";")[0]) for p in e.value.problems}
    assert ("pass_mark", "must be a number from 0 to 100, not 150") in reasons
    assert any(c == "indicators[iso14001].type" for c, _ in reasons)
    assert any(c == "indicators[sbti].threshold" for c, _ in reasons)
    assert ("indicators[iso50001].key", "is defined twice") in reasons


# --- compliance of a supplier base -----------------------------------------------------------------------------

def test_compliance_by_count_and_by_spend():
    # Four suppliers, three pass; the failing one buys 40 of 100 million CNY: 75% by count, 60% by spend.
    facts = [sc.SupplierFacts("A", 30e6, "CNY", 100.0), sc.SupplierFacts("B", 20e6, "CNY", 50.0),
             sc.SupplierFacts("C", 10e6, "CNY", 10.0), sc.SupplierFacts("D", 40e6, "CNY", 840.0)]
    cards = {c: sc.evaluate(SPEC, c, full_answers(), AS_OF) for c in "ABC"}
    cards["D"] = sc.evaluate(SPEC, "D", {}, AS_OF)
    c = sc.compliance(cards, facts)
    assert (c.suppliers, c.passing) == (4, 3)
    assert c.share_by_count == pytest.approx(0.75)
    assert c.share_by_spend == pytest.approx(0.60)


def test_spend_in_two_currencies_is_never_added_up():
    facts = [sc.SupplierFacts("A", 100.0, "CNY", None), sc.SupplierFacts("B", 100.0, "USD", None)]
    cards = {"A": sc.evaluate(SPEC, "A", full_answers(), AS_OF), "B": sc.evaluate(SPEC, "B", {}, AS_OF)}
    c = sc.compliance(cards, facts)
    assert c.share_by_spend is None
    assert c.spend_by_currency["CNY"]["share"] == 1.0 and c.spend_by_currency["USD"]["share"] == 0.0
    assert "2 currencies" in c.note


def test_engagement_share_of_supplier_emissions_with_validated_targets():
    # Emissions 600 (validated) + 300 (committed) + 100 (none) = 1000 t: 60% validated, target 67% -> not on track.
    facts = [sc.SupplierFacts("A", None, None, 600.0), sc.SupplierFacts("B", None, None, 300.0),
             sc.SupplierFacts("C", None, None, 100.0)]
    on = date(2026, 3, 1)
    cards = {"A": sc.evaluate(SPEC, "A", full_answers(), AS_OF),
             "B": sc.evaluate(SPEC, "B", full_answers(sbti=sc.Answer("sbti", "committed", answered_on=on)), AS_OF),
             "C": sc.evaluate(SPEC, "C", full_answers(sbti=None), AS_OF)}
    e = sc.engagement(SPEC, facts, cards)
    assert e["share"] == pytest.approx(0.6)
    assert e["by_status_t"] == {"validated": 600.0, "committed": 300.0, "none": 100.0}
    assert e["target_share"] == 0.67 and e["on_track"] is False


def test_trend_rescores_each_quarter_with_what_was_accepted_by_then():
    facts = [sc.SupplierFacts("A", 1.0, "CNY", None), sc.SupplierFacts("B", 3.0, "CNY", None)]
    a = list(full_answers().values())  # answered 2026-03-01 (Q1)
    b = [x.__class__(**{**x.__dict__, "answered_on": date(2026, 5, 1)}) for x in a]  # Q2
    rows = sc.trend(SPEC, facts, {"A": a, "B": b}, sc.periods(date(2025, 12, 1), date(2026, 6, 30)))
    assert [(r["period"], r["passing"], r["share_by_spend"]) for r in rows] == [
        ("2025Q4", 0, 0.0), ("2026Q1", 1, 0.25), ("2026Q2", 2, 1.0)]


# --- reduction projects ----------------------------------------------------------------------------------------

def P(pid, sup="S1", t=100.0, base=None, sha=None, status="accepted", year=2022):
    return red.Project(pid, sup, "LED retrofit", "energy_efficiency", year, t, base, None, sha, status)


def test_chinese_titles_are_optional_fields_of_a_specification():
    """The shipped spec gives every indicator a title_zh and itself a name_zh; an organisation's own spec may
    leave them out, and one that is not a text is refused with its place."""
    spec = sc.shipped_spec()
    assert spec.name_zh == "zerocarbon 默认绿色供应链规范"
    assert all(i.title_zh for i in spec.indicators)
    assert spec.indicator("iso14001").title_zh == "ISO 14001 环境管理体系认证证书"
    doc = yaml.safe_load(sc.shipped_text())
    del doc["name_zh"]
    for item in doc["indicators"]:
        del item["title_zh"]
    own = sc.parse_spec(doc, "own.yaml")
    assert own.name_zh is None and all(i.title_zh is None for i in own.indicators)
    card = sc.evaluate(spec, "S1", {}, date(2026, 11, 27))
    assert card.results[0].title_zh == "ISO 14001 环境管理体系认证证书"
    doc["indicators"][0]["title_zh"] = 7
    with pytest.raises(InputError) as e:
        sc.parse_spec(doc, "own.yaml")
    assert [(p.column, p.reason) for p in e.value.problems] == [
        ("indicators[iso14001].title_zh", "must be a text (the indicator's Chinese title), or left out")]


def test_the_same_project_claimed_again_is_refused_whoever_claims_it():
    existing = [P("P-001", "S1", sha="aa")]
    problems = red.guard([(2, P("p 001", "S2")), (3, P("P-002", "S1", sha="aa")), (4, P("P-003", "S2")),
                          (5, P("P003", "S2"))], existing, "projects.csv")
    got = [(p.row, p.column, p.reason) for p in problems]
    assert got == [
        # Another supplier's project is never named (docs/suppliers.md).
        (2, "project_id", "project 'p 001' is already claimed by another supplier; a project is counted once"),
        (3, "evidence_file", "the evidence file already backs project 'P-001' of this supplier; one piece of "
                             "evidence supports one project"),
        (5, "project_id", "project 'P003' is claimed twice in this file (row 4)")]


def test_impossible_reductions_are_refused():
    problems = red.guard([(2, P("A", t=-1)), (3, P("B", t=200, base=150))], [], "f.csv")
    assert [p.reason for p in problems] == ["a negative reduction (-1 tCO2e) is impossible",
                                            "the reduction (200 tCO2e/a) exceeds the baseline (150 tCO2e/a)"]


def test_programme_progress_is_cumulative_from_each_start_year():
    # A: 100 t/a from 2021; B: 50 t/a from 2022; C is under review. 2021: 100; 2022: 100+150=250; 2023: 400.
    prog = red.progress([P("A", t=100, year=2021), P("B", t=50, year=2022), P("C", t=999, status="submitted")],
                        1000.0, 2021, 2023)
    assert [(y["year"], y["annual_t"], y["cumulative_t"]) for y in prog["years"]] == [
        (2021, 100, 100), (2022, 150, 250), (2023, 150, 400)]
    assert prog["progress"] == pytest.approx(0.4)
    assert prog["years"][-1]["pipeline_cumulative_t"] == pytest.approx(999 * 2)  # 2022 and 2023


# --- services on a database ------------------------------------------------------------------------------------

SUPPLIERS = (
    "supplier code,name,tier,category,country,region,site,annual_spend,currency,parts supplied,emissions_t,"
    "emissions_source,contact\n"
    "S1,Shenzhen Boards,1,PCBA,CN,Guangdong,Shenzhen,60000000,CNY,mainboards,600,reported,a@s1.cn\n"
    "S2,Suzhou Panels,1,display,CN,Jiangsu,Suzhou,30000000,CNY,LCD panels,300,estimated,b@s2.cn\n"
    "S3,Hefei Packaging,2,packaging,CN,Anhui,Hefei,10000000,CNY,cartons,100,estimated,c@s3.cn\n").encode()


@pytest.fixture
def sup(db):
    svc.import_suppliers(db, "ORG", "suppliers.csv", SUPPLIERS, actor="test")
    return db


def count(sessions, table) -> int:
    with sessions() as s:
        return s.scalar(select(func.count()).select_from(table))


def test_import_creates_then_updates_by_code(sup):
    changed = SUPPLIERS.replace(b"60000000,CNY", b"65000000,CNY")
    rep = svc.import_suppliers(sup, "ORG", "suppliers-2.csv", changed, actor="test")
    assert (rep.created, rep.updated, rep.unchanged) == ([], ["S1"], ["S2", "S3"])
    rows = svc.list_suppliers(sup, "ORG", svc.Viewer("test"))
    assert [(r["code"], r["annual_spend"]) for r in rows][0] == ("S1", 65e6)
    with sup() as s:
        details = list(s.scalars(select(AuditRow.detail).where(AuditRow.action == "supplier.import")
                                 .order_by(AuditRow.seq)))
    assert [(d["created"], d["updated"]) for d in details] == [(["S1", "S2", "S3"], []), ([], ["S1"])]


@pytest.mark.parametrize("row,column,reason", [
    ("S9,X,4,c,CN,r,s,1,CNY,p,1,reported,x", "tier", "'4' is not 1, 2 or 3"),
    ("S9,X,1,c,China,r,s,1,CNY,p,1,reported,x", "country", "'China' is not a two-letter country code"),
    ("S9,X,1,c,CN,r,s,-5,CNY,p,1,reported,x", "annual_spend", "a negative spend (-5) is impossible"),
    ("S9,X,1,c,CN,r,s,5,,p,1,reported,x", "currency", "is required with annual_spend"),
    ("S9,X,1,c,CN,r,s,5,CNY,p,-1,reported,x", "emissions_t", "negative emissions (-1 tCO2e) are impossible"),
    ("S9,X,1,c,CN,r,s,5,CNY,p,10,guessed,x", "emissions_source", "'guessed' is not reported or estimated"),
    ("S1,Again,1,c,CN,r,s,5,CNY,p,10,reported,x", "code", "supplier S1 is listed twice (row 2)"),
    (",X,1,c,CN,r,s,5,CNY,p,10,reported,x", "code", "is empty"),
])
def test_import_refuses_a_bad_row_and_stores_nothing(db, row, column, reason):
    data = SUPPLIERS + row.encode() + b"\n"
    with pytest.raises(InputError) as e:
        svc.import_suppliers(db, "ORG", "suppliers.csv", data, actor="test")
    [p] = e.value.problems
    assert (p.source, p.row, p.column) == ("suppliers.csv", 5, column)
    assert p.reason.startswith(reason)
    assert count(db, store.SupplierRow) == 0


def test_import_refuses_missing_and_unknown_columns(db):
    with pytest.raises(InputError) as e:
        svc.import_suppliers(db, "ORG", "s.csv", b"code,name,colour\nS1,A,red\n", actor="test")
    assert {(p.column, p.reason.split(";")[0]) for p in e.value.problems} == {
        ("colour", "unknown column"), ("tier", "required column is missing")}
    assert count(db, store.SupplierRow) == 0


def test_import_reads_xlsx(db, tmp_path):
    import pandas as pd

    path = tmp_path / "s.xlsx"
    pd.read_csv(__import__("io").BytesIO(SUPPLIERS), dtype=str).to_excel(path, index=False)
    rep = svc.import_suppliers(db, "ORG", "s.xlsx", path.read_bytes(), actor="test")
    assert rep.created == ["S1", "S2", "S3"]


GOOD = ("indicator,value,unit,evidence_ref,evidence_file,valid_until\n"
        "iso14001,CN-14001-77,,CQC-1,cert.pdf,2028-05-01\n"
        "substances,yes,,,rohs.pdf,\n"
        "sbti,validated,,,,\n"
        "renewable_share,45,%,,ppa.pdf,\n"
        "scope12_disclosed,600,tCO2e,,ghg.pdf,\n"
        "env_audit,pass,,,audit.pdf,\n"
        "iso50001,CN-50001-1,,,cert50001.pdf,2028-05-01\n").encode()
EVIDENCE = {n: f"evidence {n}".encode() for n in ("cert.pdf", "rohs.pdf", "ppa.pdf", "ghg.pdf", "audit.pdf",
                                                    "cert50001.pdf")}


def test_campaign_submission_review_and_scorecard(sup):
    camp = svc.create_campaign(sup, "ORG", "2026 green spec", [], date(2026, 1, 31), actor="buyer")
    assert camp["suppliers"] == ["S1", "S2", "S3"]
    # Past the due date every request is overdue; a reminder is recorded for each.
    reminded = svc.remind(sup, "ORG", camp["id"], actor="buyer")
    assert [(r["supplier"], r["reminders"]) for r in reminded] == [("S1", 1), ("S2", 1), ("S3", 1)]
    s1 = svc.Viewer("user:s1@s1.cn", "S1", True)
    [req] = svc.list_campaigns(sup, "ORG", s1)[0]["requests"]
    assert req["supplier"] == "S1" and req["overdue"]
    sub = svc.submit(sup, "ORG", "S1", "answers.csv", GOOD, EVIDENCE, s1, req["id"], actor=s1.actor)
    assert sub["status"] == "submitted"
    assert {a["indicator"]: a["evidence_sha256"] for a in sub["answers"]}["iso14001"] == \
        __import__("hashlib").sha256(b"evidence cert.pdf").hexdigest()
    # Not accepted yet: the scorecard does not use it.
    assert svc.get_supplier(sup, "ORG", "S1", s1)["scorecard"]["passed"] is False
    with pytest.raises(InputError):
        svc.review(sup, "ORG", sub["id"], False, "", actor="buyer")  # a return needs a comment
    svc.review(sup, "ORG", sub["id"], True, actor="buyer")
    with pytest.raises(StateError):
        svc.review(sup, "ORG", sub["id"], True, actor="buyer")
    card = svc.get_supplier(sup, "ORG", "S1", s1)["scorecard"]
    assert card["passed"] and card["score"] == pytest.approx(100.0)
    # The reminder list now leaves S1 out (accepted).
    assert [r["supplier"] for r in svc.remind(sup, "ORG", camp["id"], actor="buyer")] == ["S2", "S3"]
    report = svc.compliance_report(sup, "ORG")
    # S1 passes: 1 of 3 by count; 60 of 100 million CNY by spend; 600 of 1000 t with a validated target.
    assert report["share_by_count"] == pytest.approx(1 / 3)
    assert report["share_by_spend"] == pytest.approx(0.6)
    assert report["engagement"]["share"] == pytest.approx(0.6)


def test_submission_without_a_named_request_answers_the_open_request_due_last(sup):
    """S1 has two open requests (due 2026-01-31 and 2026-06-30): a submission naming none answers the later one,
    which is then no longer open; a supplier with no open request gets a submission standing alone."""
    early = svc.create_campaign(sup, "ORG", "H1", [], date(2026, 1, 31), ["S1"], actor="buyer")
    late = svc.create_campaign(sup, "ORG", "FY", [], date(2026, 6, 30), ["S1"], actor="buyer")
    sub = svc.submit(sup, "ORG", "S1", "answers.csv", GOOD, EVIDENCE, actor="user:s1")
    status = {r["campaign"]: (r["id"], r["status"]) for r in svc.get_supplier(sup, "ORG", "S1",
                                                                                svc.Viewer("b"))["requests"]}
    assert sub["request_id"] == status["FY"][0]
    assert status == {"H1": (status["H1"][0], "open"), "FY": (sub["request_id"], "submitted")}
    assert early["id"] != late["id"]
    lone = svc.submit(sup, "ORG", "S2", "answers.csv", GOOD, EVIDENCE, actor="user:s2")
    assert lone["request_id"] is None


def test_returned_submission_keeps_its_comment_for_the_supplier(sup):
    s2 = svc.Viewer("user:b@s2.cn", "S2", True)
    sub = svc.submit(sup, "ORG", "S2", "a.csv", GOOD, EVIDENCE, s2, actor=s2.actor)
    svc.review(sup, "ORG", sub["id"], False, "the ISO 14001 certificate is for another site", actor="buyer")
    detail = svc.get_supplier(sup, "ORG", "S2", s2)
    assert detail["submissions"][0]["status"] == "returned"
    assert detail["submissions"][0]["review_comment"] == "the ISO 14001 certificate is for another site"
    assert detail["scorecard"]["passed"] is False


@pytest.mark.parametrize("row,column,reason", [
    ("renewable_share,140,%,,ppa.pdf,", "value", "a share of 140% is impossible"),
    ("scope12_disclosed,-3,tCO2e,,ghg.pdf,", "value", "a negative amount (-3 tCO2e) is impossible"),
    ("scope12_disclosed,600,kWh,,ghg.pdf,", "unit", "unit 'kWh' (energy) cannot be converted to tCO2e (CO2e)"),
    ("substances,yes,,,,", "evidence_file", "substances requires evidence"),
    ("substances,yes,,,missing.pdf,", "evidence_file", "'missing.pdf' was not uploaded"),
    ("iso14001,CN-1,,,cert.pdf,2025-12-31", "valid_until", "expired on 2025-12-31"),
    ("colour,green,,,,", "indicator", "'colour' is not an indicator"),
])
def test_a_bad_submission_row_is_refused_with_its_reason_and_nothing_is_stored(sup, row, column, reason):
    # The good file with its third row (sbti) replaced by the bad one: the whole file is refused.
    lines = GOOD.decode().splitlines()
    lines = [x for x in lines if not x.startswith(row.split(",")[0] + ",")]
    lines.insert(3, row)
    data = ("\n".join(lines) + "\n").encode()
    with pytest.raises(InputError) as e:
        svc.submit(sup, "ORG", "S1", "answers.csv", data, EVIDENCE, actor="user:s1", as_of=date(2026, 6, 30))
    [p] = e.value.problems
    assert (p.source, p.row, p.column) == ("answers.csv", 4, column)
    assert reason in p.reason
    for table in (store.SubmissionRow, store.AnswerRow, store.EvidenceRow):
        assert count(sup, table) == 0


def test_a_submission_naming_another_supplier_is_refused(sup):
    data = b"supplier,indicator,value,unit,evidence_file\nS2,substances,yes,,rohs.pdf\n"
    with pytest.raises(InputError) as e:
        svc.submit(sup, "ORG", "S1", "a.csv", data, EVIDENCE, actor="user:s1")
    assert e.value.problems[0].reason.startswith("names supplier 'S2'; this submission is for S1")
    assert count(sup, store.SubmissionRow) == 0


def test_a_limited_viewer_cannot_submit_for_or_read_another_supplier(sup):
    s1 = svc.Viewer("user:s1", "S1", True)
    with pytest.raises(NotFoundError):
        svc.submit(sup, "ORG", "S2", "a.csv", GOOD, EVIDENCE, s1, actor=s1.actor)
    with pytest.raises(NotFoundError):
        svc.get_supplier(sup, "ORG", "S2", s1)
    other = svc.submit(sup, "ORG", "S2", "a.csv", GOOD, EVIDENCE, actor="buyer")
    with pytest.raises(NotFoundError):
        svc.get_submission(sup, "ORG", other["id"], s1)
    ev = other["answers"][0]["evidence_id"]
    with pytest.raises(NotFoundError):
        svc.evidence_file(sup, "ORG", ev, s1)
    assert [r["code"] for r in svc.list_suppliers(sup, "ORG", s1)] == ["S1"]
    assert svc.list_submissions(sup, "ORG", s1) == []


PROJECTS = ("project_id,description,type,start_year,annual_reduction_t,baseline_t,evidence_ref,evidence_file\n"
            "S1-PV-01,rooftop PV 2 MW,renewable_electricity,2022,1500,6000,,pv.pdf\n"
            "S1-EE-02,compressed-air leaks,energy_efficiency,2023,300,6000,AUD-7,\n").encode()


def test_reduction_projects_double_counting_is_refused_and_nothing_stored(sup):
    svc.submit_projects(sup, "ORG", "S1", "p.csv", PROJECTS, {"pv.pdf": b"pv contract"}, actor="user:s1")
    # S2 claims the same project under a slightly different id, and backs another with S1's evidence file.
    again = ("project_id,description,type,start_year,annual_reduction_t,baseline_t,evidence_ref,evidence_file\n"
             "s1 pv 01,rooftop PV,renewable_electricity,2022,1500,6000,,x.pdf\n"
             "S2-NEW,new chiller,energy_efficiency,2024,100,500,,pv.pdf\n").encode()
    with pytest.raises(InputError) as e:
        svc.submit_projects(sup, "ORG", "S2", "p2.csv", again, {"x.pdf": b"x", "pv.pdf": b"pv contract"},
                            actor="user:s2")
    assert [(p.row, p.column) for p in e.value.problems] == [(2, "project_id"), (3, "evidence_file")]
    # docs/suppliers.md: a clash with another supplier says "another supplier", never which project.
    assert e.value.problems[0].reason == "project 's1 pv 01' is already claimed by another supplier; a project is " \
                                         "counted once"
    assert e.value.problems[1].reason == "the evidence file already backs a project of another supplier; one " \
                                         "piece of evidence supports one project"
    assert not any("S1-PV-01" in p.reason for p in e.value.problems)
    with sup() as s:
        assert s.scalar(select(func.count()).select_from(store.ProjectRow)) == 2
        assert s.scalar(select(func.count()).select_from(store.EvidenceRow)) == 1


def test_programme_counts_accepted_projects_towards_the_goal(sup):
    rows = svc.submit_projects(sup, "ORG", "S1", "p.csv", PROJECTS, {"pv.pdf": b"pv"}, actor="user:s1")
    svc.review_project(sup, "ORG", rows[0]["id"], True, actor="buyer")
    svc.review_project(sup, "ORG", rows[1]["id"], False, "no metering of the savings", actor="buyer")
    prog = svc.programme(sup, "ORG", svc.Viewer("buyer"), until=2024)["progress"]
    # 1500 t/a from 2022: 2021 0, 2022 1500, 2023 3000, 2024 4500 of 1,000,000 t.
    assert [(y["year"], y["cumulative_t"]) for y in prog["years"]] == [(2021, 0), (2022, 1500), (2023, 3000),
                                                                       (2024, 4500)]
    assert prog["progress"] == pytest.approx(0.0045)
    # The returned project may be submitted again, corrected.
    fixed = PROJECTS.decode().splitlines()
    svc.submit_projects(sup, "ORG", "S1", "p3.csv", (fixed[0] + "\n" + fixed[2] + "\n").encode(), {}, actor="user:s1")
    mine = svc.programme(sup, "ORG", svc.Viewer("user:s1", "S1", True))
    assert "progress" not in mine
    assert sorted(p["status"] for p in mine["projects"]) == ["accepted", "submitted"]


def test_programme_counts_only_past_years_as_achieved_later_years_are_a_projection(sup):
    """On 2026-11-27 a 1500 t/a project from 2022 has achieved 2022..2026 = 5 x 1500 = 7500 t (0.75 % of
    1,000,000 t); 2027-2030 add 4 x 1500 a year to a projected 13,500 t, never to the achieved total."""
    rows = svc.submit_projects(sup, "ORG", "S1", "p.csv", PROJECTS, {"pv.pdf": b"pv"}, actor="user:s1")
    svc.review_project(sup, "ORG", rows[0]["id"], True, actor="buyer")
    prog = svc.programme(sup, "ORG", svc.Viewer("buyer"), until=2030, as_of=date(2026, 11, 27))["progress"]
    assert prog["achieved_year"] == 2026 and prog["achieved_t"] == 7500
    assert prog["progress"] == pytest.approx(0.0075)
    assert prog["projected_t"] == 13500
    assert [y["year"] for y in prog["years"] if y["projected"]] == [2027, 2028, 2029, 2030]
    assert all(y["progress"] is None for y in prog["years"] if y["projected"])
    # Before the programme starts nothing is achieved.
    early = svc.programme(sup, "ORG", svc.Viewer("buyer"), until=2030, as_of=date(2020, 6, 1))["progress"]
    assert early["achieved_year"] is None and early["achieved_t"] == 0 and early["progress"] == 0


def test_link_user_ties_a_supplier_member_and_the_viewer_follows(sup, cheap_passwords):
    from tests.api_support import person

    person(sup, "s1@s1.cn", "ORG", "supplier")
    person(sup, "viewer@org.cn", "ORG", "viewer")
    with pytest.raises(InputError):
        svc.link_user(sup, "ORG", "viewer@org.cn", "S1", actor="admin")
    with pytest.raises(NotFoundError):
        svc.link_user(sup, "ORG", "s1@s1.cn", "S9", actor="admin")
    svc.link_user(sup, "ORG", "s1@s1.cn", "S1", actor="admin")
    v = svc.viewer(sup, "ORG", "user:s1@s1.cn", {"supply.submit_own"})
    assert (v.only, v.limited) == ("S1", True)
    unlinked = svc.viewer(sup, "ORG", "token:x", {"supply.submit_own"})
    assert svc.list_suppliers(sup, "ORG", unlinked) == []


def test_own_specification_replaces_the_shipped_one(sup):
    doc = yaml.safe_load(sc.shipped_text())
    doc["pass_mark"] = 40
    doc["name"] = "ORG spec"
    info = svc.set_spec(sup, "ORG", "own.yaml", yaml.safe_dump(doc).encode(), actor="admin")
    assert svc.get_spec(sup, "ORG").spec.pass_mark == 40 and info.origin == "own"
    with pytest.raises(InputError):
        svc.set_spec(sup, "ORG", "bad.yaml", b"pass_mark: 500\nindicators: []\n", actor="admin")
    assert svc.get_spec(sup, "ORG").spec.name == "ORG spec"


def test_demo_suppliers_bought_from_indirectly_have_no_spend_not_zero(sup, tmp_path):
    """The demo's tier-2/3 suppliers have no purchase rows: their annual spend is left blank (shown "–"), never
    booked as 0 CNY."""
    import csv

    from zerocarbon.services import demo_supply

    files = demo_supply.generate(tmp_path)
    rows = list(csv.DictReader(files["suppliers"].open(encoding="utf-8")))
    deeper = [r for r in rows if r["tier"] != "1"]
    assert deeper and all(r["annual_spend"] == "" and r["currency"] == "" for r in deeper)
    svc.import_suppliers(sup, "ORG", files["suppliers"].name, files["suppliers"].read_bytes(), actor="demo")
    listed = svc.list_suppliers(sup, "ORG", svc.Viewer("b"), tier=2)
    demo = [r for r in listed if r["code"].startswith("S0")]  # the fixture's S3 is a tier-2 supplier with a spend
    assert demo and all(r["annual_spend"] is None for r in demo)
