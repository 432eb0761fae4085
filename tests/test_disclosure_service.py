"""Disclosure through the service, on SQLite and PostgreSQL: inputs imported all or nothing (problems named by
file, row and column), a key entered again superseding the old value (kept), publishing refused while a report
has an error and stored when none has, the prior year restated after one of its batches is replaced, the
verification, and migration 0019.

The catalogue and the fact builder here are small stand-ins (three data points; Scope 1 and 2 read from the
stored inventory): the service is tested on its own, whatever the shipped catalogue asks for.
"""
from __future__ import annotations

from pathlib import Path
from types import SimpleNamespace

import pytest
import yaml

from zerocarbon.core.disclosure.model import (COMPLY_OR_EXPLAIN, MANDATORY, REPORTED, VOLUNTARY, DataPoint,
                                              Fact, Framework, missing)
from zerocarbon.core.disclosure.report import facts_fingerprint
from zerocarbon.errors import InputError, NotFoundError
from zerocarbon.io.disclosure_inputs import read_inputs
from zerocarbon.services import accounting, disclosure
from tests.conftest import BACKENDS, blank_engine, check_migration_round_trip

ORG = "ORG"
EXAMPLE = Path(__file__).parent.parent / "examples" / "disclosure" / "acme_2025_inputs.yaml"
TOTALS = {"ghg.scope1": "scope1_t", "ghg.scope2_location": "scope2_location_t",
          "ghg.scope2_market": "scope2_market_t"}


# --- stand-ins for the catalogue and the fact builder ----------------------------------------------------------

def _framework(fid: str) -> Framework:
    return Framework(fid, f"Framework {fid}", f"框架{fid}", "2025", "test")


def _points(fid: str) -> list[DataPoint]:
    return [DataPoint(fid, "1.a", "GHG", "Gross Scope 1", "范围一", "tCO2e", "ghg.scope1", MANDATORY),
            DataPoint(fid, "1.b", "GHG", "Scope 2 (location)", "范围二(位置)", "tCO2e", "ghg.scope2_location",
                      MANDATORY),
            DataPoint(fid, "1.c", "GHG", "Scope 2 (market)", "范围二(市场)", "tCO2e", "ghg.scope2_market",
                      MANDATORY),
            DataPoint(fid, "2.a", "Water", "Water withdrawal", "取水量", "m**3", "input.water.withdrawal",
                      COMPLY_OR_EXPLAIN),
            DataPoint(fid, "3.a", "Governance", "Climate governance", "气候治理", "text", "text.climate.governance",
                      VOLUNTARY)]


CATALOGUE = SimpleNamespace(
    load_frameworks=lambda: {f: _framework(f) for f in disclosure.FRAMEWORKS},
    points_of=_points,
    load_catalogue=lambda: [p for f in disclosure.FRAMEWORKS for p in _points(f)])


def _totals(sessions, org, year):
    try:
        return accounting.inventory_meta(sessions, org, year)["totals"]
    except NotFoundError:
        return None


def build_facts(sessions, org, year, *, inputs=None, keys=None, boundary=None):
    totals = _totals(sessions, org, year)
    facts = {}
    for key in keys:
        if key in TOTALS:
            facts[key] = (Fact(key, totals[TOTALS[key]], "tCO2e", lineage={"source": "ledger", "filter": {}})
                          if totals else missing(key, "tCO2e", f"no stored inventory of {year}", f"{year}年无清单"))
        elif key in (inputs or {}):
            i = inputs[key]
            facts[key] = Fact(key, i.value, i.unit, lineage={"source": "inputs", "input_source": i.source})
        else:
            facts[key] = missing(key, "", "not known to the stand-in", "无")
    return facts


def recompute(sessions, org, year, fact):
    totals = _totals(sessions, org, year)
    return totals[TOTALS[fact.key]] if totals and fact.key in TOTALS else None


FACTS = SimpleNamespace(build_facts=build_facts, recompute=recompute)


@pytest.fixture(autouse=True)
def stand_ins(monkeypatch):
    monkeypatch.setattr(disclosure, "_catalogue", lambda: CATALOGUE)
    monkeypatch.setattr(disclosure, "_facts", lambda: FACTS)


# --- helpers ---------------------------------------------------------------------------------------------------

def inputs_file(tmp: Path, items: list, org: str = ORG, year: int = 2025, name: str = "inputs.yaml") -> Path:
    path = tmp / name
    path.write_text(yaml.safe_dump({"organisation": org, "year": year, "inputs": items}, allow_unicode=True),
                    encoding="utf-8")
    return path


WATER = {"key": "input.water.withdrawal", "value": 48200, "unit": "m**3", "source": "example: water bills 2025"}
GOVERNANCE = {"key": "text.climate.governance", "en": "The board reviews climate risks.",
              "zh": "董事会审阅气候风险。", "source": "example: board charter"}


def electricity(sessions, tmp: Path, year: int, kwh: float, name: str | None = None) -> int:
    path = tmp / (name or f"electricity_{year}.csv")
    path.write_text(f"site,meter,period_start,period_end,quantity,unit\nTJ01,M1,{year}-01-01,{year}-12-31,{kwh},kWh\n",
                    encoding="utf-8")
    return accounting.import_file(sessions, ORG, "electricity", path, year, "CN-2025.1", actor="test").batch_id


def compute(sessions, year: int) -> dict:
    return accounting.compute(sessions, ORG, year, "CN-2025.1", actor="test").totals()


def actions(sessions) -> list[str]:
    return [e.action for e in accounting.audit_trail(sessions, ORG)]


# --- inputs ----------------------------------------------------------------------------------------------------

def test_inputs_with_problems_are_refused_with_row_and_column_and_nothing_is_written(db, tmp_path):
    items = [WATER,
             {"key": "water.withdrawal", "value": 1, "unit": "m**3", "source": "x"},          # 2: key shape
             {"key": "input.nox", "value": 3.2, "source": "stack test"},                     # 3: no unit
             {"key": "input.sox", "value": 1.1, "unit": "tonnes of sox", "source": "x"},     # 4: bad unit
             {"key": "text.strategy", "source": "x"},                                        # 5: no en, no zh
             {"key": "input.revenue", "value": 1e9, "unit": "CNY"},                          # 6: no source
             {"key": "input.water.withdrawal", "value": 1, "unit": "m**3", "source": "x"},   # 7: duplicate
             {"key": "input.waste", "value": "12,000", "unit": "t", "source": "x"},          # 8: not a number
             {"key": "input.water.discharge", "value": 10, "unit": "m3", "source": "x"}]     # 9: m3 is not pint's
    path = inputs_file(tmp_path, items, org="OTHER", year=2024)
    with pytest.raises(InputError) as e:
        disclosure.import_inputs(db, ORG, 2025, path, actor="test")
    found = {(p.row, p.column) for p in e.value.problems}
    assert found == {(None, "organisation"), (None, "year"), (2, "key"), (3, "unit"), (4, "unit"), (5, "en"),
                     (6, "source"), (7, "key"), (8, "value"), (9, "unit")}
    assert all(p.source == "inputs.yaml" for p in e.value.problems)
    by_row = {p.row: p.reason for p in e.value.problems}
    assert "'input.'" in by_row[2] and "first at row 1" in by_row[7] and "m**3" in by_row[9]
    assert disclosure.list_inputs(db, ORG, 2025) == []
    assert "disclosure.inputs" not in actions(db)


def test_entering_a_key_again_supersedes_it_and_keeps_the_old_value(db, tmp_path):
    first = disclosure.import_inputs(db, ORG, 2025, inputs_file(tmp_path, [WATER, GOVERNANCE]), actor="alice")
    assert (first.count, first.keys, first.replaced) == (2, ["input.water.withdrawal", "text.climate.governance"], [])
    corrected = dict(WATER, value=47.9, unit="megaliter", source="example: corrected water bills 2025")
    second = disclosure.import_inputs(db, ORG, 2025, inputs_file(tmp_path, [corrected], name="fix.yaml"),
                                      actor="bob")
    assert second.replaced == ["input.water.withdrawal"]
    now = {i.key: i for i in disclosure.list_inputs(db, ORG, 2025)}
    assert now["input.water.withdrawal"].value == 47.9 and now["input.water.withdrawal"].unit == "megaliter"
    assert now["input.water.withdrawal"].entered_by == "bob"
    assert now["text.climate.governance"].value_zh == "董事会审阅气候风险。"
    history = disclosure.input_history(db, ORG, 2025, "input.water.withdrawal")
    assert [(h.input.value, h.superseded_at is not None) for h in history] == [(48200.0, True), (47.9, False)]
    assert actions(db).count("disclosure.inputs") == 2
    # Another year is untouched; the water line reads the new value in the data point's unit.
    assert disclosure.list_inputs(db, ORG, 2024) == []
    [report] = disclosure.build(db, ORG, 2025, ["gri"])
    water = next(line for line in report.lines if line.point.fact == "input.water.withdrawal")
    assert water.status == REPORTED and water.value == pytest.approx(47_900.0)


def test_an_input_in_an_incompatible_unit_or_negative_or_read_by_no_point_is_refused(db, tmp_path):
    bad = [dict(WATER, unit="t", value=-5), dict(WATER, key="input.water.withdrawl")]
    with pytest.raises(InputError) as refused:
        disclosure.import_inputs(db, ORG, 2025, inputs_file(tmp_path, bad), actor="test")
    found = {(p.row, p.column): p.reason for p in refused.value.problems}
    assert "m**3" in found[(1, "unit")]
    assert "negative" in found[(1, "value")]
    assert "did you mean input.water.withdrawal" in found[(2, "key")]
    assert disclosure.list_inputs(db, ORG, 2025) == []


def test_the_example_inputs_file_is_valid(acme, monkeypatch):
    from zerocarbon.core.disclosure import catalogue

    monkeypatch.setattr(disclosure, "_catalogue", lambda: catalogue)  # the shipped catalogue reads every key
    parsed = read_inputs(EXAMPLE, organisation="ACME", year=2025)
    assert len(parsed.inputs) >= 10 and all("xample" in i.source for i in parsed.inputs)
    keys = {i.key for i in parsed.inputs}
    assert {"input.water.withdrawal", "input.finance.revenue", "input.air.nox", "text.governance"} <= keys
    done = disclosure.import_inputs(acme, "ACME", 2025, EXAMPLE, actor="alice@acme.cn")
    assert done.count == len(parsed.inputs)


def test_unknown_organisation_and_framework(db, tmp_path):
    with pytest.raises(NotFoundError):
        disclosure.import_inputs(db, "NOPE", 2025, inputs_file(tmp_path, [WATER], org="NOPE"), actor="test")
    with pytest.raises(NotFoundError, match="choose from"):
        disclosure.build(db, ORG, 2025, ["gri", "tcfd"])
    with pytest.raises(NotFoundError):
        disclosure.build(db, "NOPE", 2025)
    with pytest.raises(NotFoundError):
        disclosure.catalogue("tcfd")
    assert [f.id for f in disclosure.frameworks()] == list(disclosure.FRAMEWORKS)
    assert len(disclosure.catalogue("gri")) == 5


# --- build, publish ------------------------------------------------------------------------------------------

def test_build_calls_progress_per_framework_and_fills_meta(db, tmp_path):
    electricity(db, tmp_path, 2025, 1_000_000)
    compute(db, 2025)
    seen = []
    reports = disclosure.build(db, ORG, 2025, ["hkex", "gri"], progress=lambda *a: seen.append(a))
    assert seen == [("hkex", 0, 2), ("gri", 1, 2), ("", 2, 2)]
    assert [r.framework.id for r in reports] == ["hkex", "gri"]
    meta = reports[0].meta
    assert meta["organisation"] == "Test org" and meta["factor_set"] == "CN-2025.1" and meta["gwp_set"] == "AR5"
    assert meta["consolidation_approach"] == "operational_control" and "2025" in meta["period"]
    assert reports[0].lines[1].value > 0 and reports[0].lines[1].prior is None


def test_publish_is_refused_while_a_report_has_an_error(db):
    with pytest.raises(InputError) as e:
        disclosure.publish(db, ORG, 2025, actor="test", frameworks=["ghgp"])
    assert {(p.source, p.column) for p in e.value.problems} == {("ghgp 2025", "1.a"), ("ghgp 2025", "1.b"),
                                                               ("ghgp 2025", "1.c")}
    assert "no stored inventory of 2025" in e.value.problems[0].reason
    assert disclosure.publications(db, ORG) == []
    assert "disclosure.publish" not in actions(db)


def test_publish_stores_the_facts_and_their_fingerprint(db, tmp_path):
    electricity(db, tmp_path, 2025, 1_000_000)
    totals = compute(db, 2025)
    disclosure.import_inputs(db, ORG, 2025, inputs_file(tmp_path, [WATER, GOVERNANCE]), actor="test")
    publication = disclosure.publish(db, ORG, 2025, actor="carol")
    assert publication.frameworks == list(disclosure.FRAMEWORKS) and publication.published_by == "carol"
    assert disclosure.publications(db, ORG) == [publication]
    stored = disclosure.published_facts(db, ORG, publication.id)
    assert stored["ghg.scope2_location"] == {"value": pytest.approx(totals["scope2_location_t"]), "unit": "tCO2e",
                                             "status": REPORTED}
    assert stored["input.water.withdrawal"] == {"value": 48200.0, "unit": "m**3", "status": REPORTED}
    assert stored["_meta"]["inventories"]["2025"]["factor_set"] == "CN-2025.1"
    assert stored["_meta"]["inventories"]["2024"] is None
    facts = build_facts(db, ORG, 2025, inputs={i.key: i for i in disclosure.list_inputs(db, ORG, 2025)},
                        keys=disclosure._keys(_points("ghgp")))
    assert publication.fingerprint == facts_fingerprint(facts)
    assert "disclosure.publish" in actions(db)
    again = disclosure.publish(db, ORG, 2025, actor="dave")  # the same figures: the same publication, nothing new
    assert again.unchanged and again.id == publication.id and len(disclosure.publications(db, ORG)) == 1
    disclosure.import_inputs(db, ORG, 2025, inputs_file(tmp_path, [dict(WATER, value=50000)]), actor="test")
    changed = disclosure.publish(db, ORG, 2025, actor="dave")
    assert not changed.unchanged and changed.id != publication.id
    entry = [e for e in accounting.audit_trail(db, ORG) if e.action == "disclosure.publish"][0]
    assert entry.detail["fingerprint"] == publication.fingerprint


def test_prior_year_restated_after_its_batch_is_replaced(db, tmp_path):
    old = electricity(db, tmp_path, 2024, 1_000_000)
    published = compute(db, 2024)["scope2_location_t"]
    disclosure.publish(db, ORG, 2024, actor="test")
    # Nothing changed since: the prior year is as published.
    electricity(db, tmp_path, 2025, 1_050_000)
    compute(db, 2025)
    [report] = disclosure.build(db, ORG, 2025, ["hkex"])
    s2 = report.lines[1]
    assert s2.published_prior == pytest.approx(published) and not s2.restated
    assert not [c for c in report.checks if c.kind == "change"]
    # The 2024 file read meter M1 twice: replaced by a corrected file, and 2024 computed again.
    fixed = tmp_path / "fixed" / "electricity_2024.csv"
    fixed.parent.mkdir()
    fixed.write_text("site,meter,period_start,period_end,quantity,unit\nTJ01,M1,2024-01-01,2024-12-31,800000,kWh\n",
                     encoding="utf-8")
    accounting.replace_batch(db, ORG, old, fixed, actor="test", reason="meter M1 was read twice in March")
    now = compute(db, 2024)["scope2_location_t"]
    [report] = disclosure.build(db, ORG, 2025, ["hkex"])
    s2 = report.lines[1]
    assert s2.prior == pytest.approx(now) and s2.published_prior == pytest.approx(published) and s2.restated
    assert f"batch {old} (electricity_2024.csv" in s2.restatement
    assert "meter M1 was read twice in March" in s2.restatement
    assert s2.change == pytest.approx(1_050_000 / 800_000 - 1)
    kinds = {(c.kind, c.level, c.point) for c in report.checks}
    assert ("change", "info", "1.b") in kinds and ("change", "warning", "1.b") in kinds
    # Scope 1 is zero both years and as published: not restated.
    assert not report.lines[0].restated


def test_a_base_year_change_and_another_factor_set_are_reasons(db, tmp_path, monkeypatch):
    from zerocarbon.core.ghg.base_year import ChangeKind

    electricity(db, tmp_path, 2024, 1_000_000)
    compute(db, 2024)
    disclosure.publish(db, ORG, 2024, actor="test")
    assert disclosure.restatement_reasons(db, ORG, 2024) == []
    accounting.record_base_year_change(db, ORG, 2024, ChangeKind.STRUCTURAL, 120.0, "acquired the Hefei plant",
                                       actor="test")
    [reason] = disclosure.restatement_reasons(db, ORG, 2024)
    assert "acquired the Hefei plant" in reason and "+120.0 tCO2e" in reason
    publication = disclosure.publications(db, ORG)[0]
    facts = disclosure.published_facts(db, ORG, publication.id)
    facts["_meta"]["inventories"]["2024"]["fingerprint"] = "0" * 64
    row = SimpleNamespace(published_at=publication.published_at, facts=facts)
    reasons = disclosure.restatement_reasons(db, ORG, 2024, row)
    assert any("factor set CN-2025.1" in r and "000000000000" in r for r in reasons)


def test_verify_recomputes_every_reported_number(db, tmp_path):
    electricity(db, tmp_path, 2025, 1_000_000)
    compute(db, 2025)
    disclosure.import_inputs(db, ORG, 2025, inputs_file(tmp_path, [dict(WATER, value=48.2, unit="megaliter")]),
                             actor="test")
    checked = disclosure.verify(db, ORG, 2025)
    assert checked and all(v.ok for v in checked)
    assert {v.fact for v in checked} == {"ghg.scope1", "ghg.scope2_location", "ghg.scope2_market",
                                         "input.water.withdrawal"}
    reports = disclosure.build(db, ORG, 2025, ["gri"])
    water = next(line for line in reports[0].lines if line.point.fact == "input.water.withdrawal")
    object.__setattr__(water, "value", water.value * 1.01)
    bad = [v for v in disclosure.verify(db, ORG, 2025, reports) if not v.ok]
    assert [(v.point, v.recomputed) for v in bad] == [("2.a", pytest.approx(48_200.0))]


@pytest.mark.parametrize("kind", BACKENDS)
def test_0019_matches_the_models_and_downgrades(kind, tmp_path):
    with blank_engine(kind, tmp_path) as engine:
        check_migration_round_trip(engine, {"disclosure_inputs", "disclosure_publications"}, "0018")
