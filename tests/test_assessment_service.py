"""The assessment workflow through the service: own index systems (malformed ones refused with the JSON path and
nothing stored), an assessment of a site and of a workshop, manual entries that score 0 until another person
accepts them, review by the person who entered a value refused, gaps with their measures, finalisation."""
from __future__ import annotations

import pytest

from tests.api_support import load_org
from tests.assessment_fixtures import MINI_SYSTEM
from tests.test_assessment_metrics import ORG, YEAR, stored_year
from zerocarbon.errors import ConflictError, InputError, NotFoundError, PermissionDeniedError, StateError
from zerocarbon.services import assessment as svc
from zerocarbon.store import assessments as store
from zerocarbon.store import repos

NO_METERS = svc.EnergyData()
ENTERER, REVIEWER = "user:em@org.cn", "user:auditor@org.cn"


@pytest.fixture
def stored(sessions, tmp_path):
    stored_year(sessions, tmp_path)
    svc.add_system(sessions, ORG, "mini.yaml", MINI_SYSTEM.encode(), actor="test")
    return sessions


def _count(sessions, what) -> int:
    with sessions.begin() as s:
        org_id = repos.organisation_id(s, ORG)
        return len(what(s, org_id))


def test_malformed_own_system_is_refused_with_its_path_and_nothing_stored(sessions):
    load_org(sessions, ORG)
    bad = MINI_SYSTEM.replace("leading: 0.5", "leading: high").replace("points: 30\n    status", "points: 30\n"
                                                                                                 "    status")
    with pytest.raises(InputError) as e:
        svc.add_system(sessions, ORG, "bad.yaml", bad.encode(), actor="test")
    assert any(p.column == "dimensions[0].indicators[0].rule.leading" for p in e.value.problems), e.value.problems
    assert all(p.source == "bad.yaml" for p in e.value.problems)
    assert _count(sessions, store.systems) == 0
    with pytest.raises(InputError):
        svc.add_system(sessions, ORG, "bad.yaml", b"id: [unclosed", actor="test")
    assert _count(sessions, store.systems) == 0


def test_own_system_listed_and_a_changed_text_needs_a_new_version(stored):
    own = [s for s in svc.list_systems(stored, ORG) if s.origin == "own"]
    assert [(s.id, s.version, s.indicators, s.manual) for s in own] == [("mini_factory", "1", 3, 1)]
    again = svc.add_system(stored, ORG, "mini.yaml", MINI_SYSTEM.encode(), actor="test")
    assert again.sha256 == own[0].sha256
    with pytest.raises(ConflictError):
        svc.add_system(stored, ORG, "mini.yaml", MINI_SYSTEM.replace("Test system", "Changed").encode(), actor="t")
    svc.add_system(stored, ORG, "mini2.yaml", MINI_SYSTEM.replace('version: "1"', 'version: "2"').encode(), actor="t")
    assert svc.get_system(stored, ORG, "mini_factory").system.version == "2"


def test_site_assessment_scores_computed_and_reviewed_manual_values(stored):
    steps = []
    a = svc.create(stored, ORG, "mini_factory", YEAR, "TJ01", energy=NO_METERS, actor=ENTERER,
                   progress=lambda key, i, n: steps.append((key, i, n)))
    assert steps[-1] == ("", 2, 2) and {k for k, _, _ in steps[:-1]} == {"energy.kwh_per_unit",
                                                                          "energy.renewable_electricity_share"}
    r = a["result"]
    re = 48_000 / 118_000  # tests/test_assessment_metrics.py
    kwh = 118_000 / 12_000
    expected = 40 * min(re / 0.5, 1) + 30 * (10 - kwh) / (10 - 2)
    assert r["total"] == pytest.approx(expected)
    plan = next(i for i in r["indicators"] if i["id"] == "plan")
    assert plan["status"] == "missing" and plan["points"] == 0
    assert r["gates"][0]["passed"] is None and r["grade"] is None

    svc.enter(stored, ORG, a["id"], "manual.plan_items", 2, evidence_name="plan.txt", evidence=b"plan v1",
              note="board approved", actor=ENTERER)
    svc.enter(stored, ORG, a["id"], "manual.compliance_3y", 1, evidence_name="permits.txt", evidence=b"ok",
              actor=ENTERER)
    pending = svc.get(stored, ORG, a["id"])["result"]
    plan = next(i for i in pending["indicators"] if i["id"] == "plan")
    assert plan["status"] == "awaiting_review" and plan["points"] == 0  # unreviewed manual scores 0
    assert pending["total"] == pytest.approx(expected)

    with pytest.raises(PermissionDeniedError):
        svc.review(stored, ORG, a["id"], "manual.plan_items", True, actor=ENTERER)
    with pytest.raises(InputError):
        svc.review(stored, ORG, a["id"], "manual.plan_items", False, "", actor=REVIEWER)
    with pytest.raises(StateError):
        svc.finalise(stored, ORG, a["id"], actor=REVIEWER)
    svc.review(stored, ORG, a["id"], "manual.plan_items", True, "seen the minutes", actor=REVIEWER)
    svc.review(stored, ORG, a["id"], "manual.compliance_3y", True, actor=REVIEWER)
    done = svc.get(stored, ORG, a["id"])
    assert done["result"]["total"] == pytest.approx(expected + 30)
    assert done["result"]["gates"][0]["passed"] is True and done["result"]["grade"]["id"] == "bronze"
    assert done["current_entries"]["manual.plan_items"]["reviewed_by"] == REVIEWER

    gaps = svc.gaps(stored, ORG, a["id"])
    # biggest gain first: kWh/unit is 29.4 points short, the renewable share 7.5
    assert [g["indicator"] for g in gaps] == ["kwh_unit", "re_share"]
    assert gaps[0]["gain"] == pytest.approx(30 - 30 * (10 - kwh) / 8) and gaps[0]["needed"] == pytest.approx(2.0)
    assert gaps[1]["measures"] == ["rooftop_pv", "green_certificates"] and gaps[1]["needed"] == pytest.approx(0.5)

    name, sha, data = svc.evidence_file(stored, ORG, a["id"], done["current_entries"]["manual.plan_items"]["id"])
    assert (name, data) == ("plan.txt", b"plan v1") and len(sha) == 64

    final = svc.finalise(stored, ORG, a["id"], actor=REVIEWER)
    assert final["status"] == "final"
    with pytest.raises(StateError):
        svc.enter(stored, ORG, a["id"], "manual.plan_items", 1, evidence_name="x.txt", evidence=b"x", actor=ENTERER)
    with stored.begin() as s:
        actions = [r.action for r in repos.audit_rows(s, repos.organisation_id(s, ORG), "assessment:")]
    assert actions == ["assess.create", "assess.enter", "assess.enter", "assess.review", "assess.review",
                       "assess.finalise"]


def test_returned_value_does_not_count_and_can_be_entered_again(stored):
    a = svc.create(stored, ORG, "mini_factory", YEAR, "TJ01", energy=NO_METERS, actor=ENTERER)
    svc.enter(stored, ORG, a["id"], "manual.plan_items", 2, evidence_name="p.txt", evidence=b"p", actor=ENTERER)
    svc.review(stored, ORG, a["id"], "manual.plan_items", False, "minutes missing", actor=REVIEWER)
    got = svc.get(stored, ORG, a["id"])
    plan = next(i for i in got["result"]["indicators"] if i["id"] == "plan")
    assert plan["points"] == 0 and "minutes missing" in plan["note"]
    svc.enter(stored, ORG, a["id"], "manual.plan_items", 1, evidence_name="p2.txt", evidence=b"p2", actor=ENTERER)
    got = svc.get(stored, ORG, a["id"])
    assert len(got["entries"]) == 2 and got["current_entries"]["manual.plan_items"]["review_state"] == "pending"


def test_manual_entry_checks(stored):
    a = svc.create(stored, ORG, "mini_factory", YEAR, "TJ01", energy=NO_METERS, actor=ENTERER)
    with pytest.raises(InputError) as e:
        svc.enter(stored, ORG, a["id"], "energy.kwh_per_unit", float("nan"), evidence_name="x", evidence=b"",
                  actor=ENTERER)
    assert {p.column for p in e.value.problems} == {"value", "evidence", "metric"}
    with pytest.raises(InputError):
        svc.enter(stored, ORG, a["id"], "manual.plan_items", 1, evidence_name="big.bin",
                  evidence=b"x" * (svc.MAX_EVIDENCE_BYTES + 1), actor=ENTERER)
    with pytest.raises(NotFoundError):
        svc.review(stored, ORG, a["id"], "manual.plan_items", True, actor=REVIEWER)


def test_boundary_checks_and_workshop_without_meter_data(stored):
    with pytest.raises(InputError) as e:
        svc.create(stored, ORG, "mini_factory", YEAR, "XX01", energy=NO_METERS, actor=ENTERER)
    assert e.value.problems[0].column == "site"
    with pytest.raises(InputError):
        svc.create(stored, ORG, "mini_factory", YEAR, "TJ01", workshop="W", energy=NO_METERS, actor=ENTERER)
    with pytest.raises(NotFoundError):
        svc.create(stored, ORG, "nope", YEAR, "TJ01", energy=NO_METERS, actor=ENTERER)
    w = svc.create(stored, ORG, "mini_factory", YEAR, "TJ01", workshop="SMT-1", lines=["L1"], energy=NO_METERS,
                   actor=ENTERER)
    assert w["boundary"] == {"kind": "workshop", "site": "TJ01", "workshop": "SMT-1", "lines": ["L1"], "meters": []}
    kwh = next(i for i in w["result"]["indicators"] if i["id"] == "kwh_unit")
    assert kwh["value"] is None and "no meter data configured" in kwh["note"] and kwh["points"] == 0


def test_workshop_assessment_from_the_lake(stored, tmp_path):
    from tests.test_assessment_metrics import make_lake

    lk = make_lake(tmp_path)
    energy = svc.EnergyData(lk["lake"], lk["registry"], lk["production"])
    w = svc.create(stored, ORG, "mini_factory", YEAR, "TJ01", workshop="SMT-1", lines=["L1"], meters=["PV1"],
                   energy=energy, actor=ENTERER)
    kwh = next(i for i in w["result"]["indicators"] if i["id"] == "kwh_unit")
    assert kwh["value"] == pytest.approx(0.3) and kwh["lineage"]["meters"] == ["ML1", "PV1"]
    with pytest.raises(InputError):
        svc.create(stored, ORG, "mini_factory", YEAR, "TJ01", workshop="W", lines=["L9"], energy=energy,
                   actor=ENTERER)
    assert len(svc.list_assessments(stored, ORG)) == 1
