"""The pathway's base read from the organisation's stored inventory (on SQLite and PostgreSQL): a small inventory
checked by hand (electricity by end use through the meter mapping, PV used, fuel MWh through the factor set's
heating value, totals equal to the ledger's), stored targets used when the scenario has none or when asked,
a reduction target resolved against the stored base-year inventory, a year without an inventory refused naming
the command that computes it, the command line, and the demo step on the demo group's stored data."""
from __future__ import annotations

import copy
import json
from pathlib import Path

import pytest
import typer
import yaml
from typer.testing import CliRunner

from zerocarbon.cli import pathway as cli_pathway
from zerocarbon.cli.common import ErrorHandlingGroup, console
from zerocarbon.errors import InputError
from zerocarbon.services import accounting, pathway, targets

ORG = "ORG"
SCENARIO = {
    "name": "own", "base": {"year": 2025, "assets": {"roof_kw": 100}},
    "end_year": 2030, "grid_factor": {2025: 0.5306}, "electricity_price": 635.2,
    "fuel_prices": {"natural_gas": 323.7}, "discount_rate": 0.08,
}


def _csv(tmp: Path, name: str, lines: list[str]) -> Path:
    path = tmp / name
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path


def _year(sessions, tmp: Path, year: int, hvac_kwh: float) -> None:
    """Grid electricity on three meters (one not named <site>-M-<END_USE>), PV at TJ01, natural gas."""
    d = f"{year}-01-01,{year}-12-31"
    files = {
        "electricity": _csv(tmp, f"e{year}.csv", ["site,meter,period_start,period_end,quantity,unit",
                                                  f"TJ01,TJ01-M-HVAC,{d},{hvac_kwh},kWh",
                                                  f"TJ01,TJ01-M-AIR,{d},50000,kWh",
                                                  f"HF01,HF01-X9,{d},20000,kWh"]),
        "generation": _csv(tmp, f"g{year}.csv", ["site,period_start,period_end,technology,generated,exported,unit",
                                                 f"TJ01,{d},pv,10,1,MWh"]),
        "fuel": _csv(tmp, f"f{year}.csv", ["site,period_start,period_end,fuel,use,quantity,unit,basis,biogenic",
                                           f"TJ01,{d},natural_gas,stationary,10,万Nm3,,false"]),
    }
    for kind, path in files.items():
        accounting.import_file(sessions, ORG, kind, path, year, "CN-2025.1", actor="test")
    accounting.compute(sessions, ORG, year, "CN-2025.1", actor="test")


@pytest.fixture
def stored(db, tmp_path):
    _year(db, tmp_path, 2024, 150_000)
    _year(db, tmp_path, 2025, 100_000)
    return db


def text(**changes) -> str:
    sc = copy.deepcopy(SCENARIO)
    sc.update(changes)
    return yaml.safe_dump(sc, allow_unicode=True)


def test_base_from_a_small_stored_inventory_by_hand(stored):
    p = pathway.prepare(text(targets=[{"year": 2030, "reduction_vs_base": 0.2}]), "own.yaml", sessions=stored,
                        org_code=ORG)
    b, lin = p.scenario.base, p.base
    assert p.scenario.base_source == "inventory" and b.year == 2025
    # grid 100 + 50 + 20 = 170 MWh; PV used 10 - 1 = 9 MWh, spread pro rata: x 179/170
    assert lin["grid_mwh"] == pytest.approx(170.0) and b.onsite_re_mwh == pytest.approx(9.0)
    assert b.electricity_mwh == pytest.approx({"HVAC": 100 * 179 / 170, "AIR": 50 * 179 / 170,
                                               "OTHER": 20 * 179 / 170})
    assert lin["unmapped_meters"] == {"HF01-X9": pytest.approx(20.0)}
    assert b.re_purchased_mwh == pytest.approx(0.0)  # no certificate or contract
    # 10 x 10^4 Nm3 x 389.31 GJ/10^4 Nm3 (GB/T 32151-2015 default NCV of natural gas) / 3.6 GJ/MWh
    gas = b.fuels["natural_gas_stationary"]
    assert gas.mwh == pytest.approx(10 * 389.31 / 3.6, rel=1e-6)
    meta = accounting.inventory_meta(stored, ORG, 2025)["totals"]
    for k in ("scope1_t", "scope2_market_t", "scope2_location_t"):
        assert lin["totals"][k] == pytest.approx(meta[k])  # the ledger's sums are the stored totals
    assert gas.tco2e == pytest.approx(meta["scope1_t"])  # the only Scope 1 source
    assert lin["year"] == 2025 and lin["factor_set"] == "CN-2025.1"
    assert lin["ledger_rows_by_category"]["purchased_electricity"] > 0
    # reduction_vs_base resolves against the stored inventory of the base year (market-based)
    assert p.scenario.targets[0].max_scope12_t == pytest.approx(0.8 * meta["total_market_t"])


def test_meter_patterns_and_explicit_year(stored):
    p = pathway.prepare(text(targets=[{"year": 2030, "min_re_share": 0.5}], end_uses={"PROCESS": ["HF01-X*"]}),
                        "own.yaml", sessions=stored, org_code=ORG, year=2024)
    assert p.scenario.base.year == 2024 and p.base["unmapped_meters"] == {}
    assert set(p.scenario.base.electricity_mwh) == {"HVAC", "AIR", "PROCESS"}
    assert sum(p.scenario.base.electricity_mwh.values()) == pytest.approx(150 + 50 + 20 + 9)


def test_missing_inventory_and_missing_organisation_are_refused(stored):
    with pytest.raises(InputError) as e:
        pathway.prepare(text(targets=[{"year": 2030, "min_re_share": 0.5}]), "own.yaml", sessions=stored,
                        org_code=ORG, year=2019)
    assert "zerocarbon inventory compute --org ORG --year 2019" in str(e.value)
    with pytest.raises(InputError) as e:
        pathway.prepare(text(targets=[{"year": 2030, "reduction_vs_base": 0.5, "base_year": 2020}]), "own.yaml",
                        sessions=stored, org_code=ORG)
    assert "--year 2020" in str(e.value)
    with pytest.raises(InputError) as e:
        pathway.prepare(text(targets=[{"year": 2030, "min_re_share": 0.5}]), "own.yaml")
    assert "source: scenario" in str(e.value)
    with pytest.raises(InputError) as e:  # no targets in the file and none stored
        pathway.prepare(text(), "own.yaml", sessions=stored, org_code=ORG)
    assert "zerocarbon targets set" in str(e.value)


def test_stored_targets_used_and_said(stored):
    targets.set_target(stored, ORG, kind="absolute", scopes="s1s2", scope2_method="market", base_year=2024,
                       target_year=2030, reduction=0.3, actor="t")
    base_2024 = accounting.inventory_meta(stored, ORG, 2024)["totals"]["total_market_t"]
    own = text(targets=[{"year": 2030, "reduction_vs_base": 0.1, "base_year": 2024}])
    for data, mode, source, cap in ((text(), "auto", "stored", 0.7), (own, "stored", "stored", 0.7),
                                    (own, "auto", "scenario", 0.9)):
        p = pathway.prepare(data, "own.yaml", sessions=stored, org_code=ORG, targets=mode)
        assert p.targets["source"] == source
        assert p.scenario.targets[-1].max_scope12_t == pytest.approx(cap * base_2024)
    info = pathway.optimise(stored, ORG, text(), "own.yaml", actor="t", time_limit=30)
    r = info.result
    assert r["base"]["source"] == "inventory" and r["scenario"]["targets_source"] == "stored"
    assert r["base"]["lineage"]["year"] == 2025 and info.summary["targets_source"] == "stored"
    assert r["scenario"]["targets"][-1]["cap_t"] == pytest.approx(0.7 * base_2024)
    assert r["years"][-1]["scope12_t"] <= 0.7 * base_2024 + 1e-6


def test_nested_typo_on_an_inventory_base_is_refused(stored):
    bad = text(base={"year": 2025, "asets": {"roof_kw": 100}}, targets=[{"year": 2030, "min_re_share": 0.3}])
    with pytest.raises(InputError) as exc:
        pathway.optimise(stored, ORG, bad, "own.yaml", actor="t", time_limit=30)
    assert [p.column for p in exc.value.problems] == ["base.asets"]
    assert pathway.list_runs(stored, ORG)["total"] == 0


def test_stored_target_binds_along_its_trajectory(stored):
    """-30 % from 2024 to 2030: the cap of year y is base x (1 - 0.3 (y - 2024) / 6), the line `targets progress`
    judges against; every year of the plan keeps under it, and the output says which years bind and by what."""
    targets.set_target(stored, ORG, kind="absolute", scopes="s1s2", scope2_method="market", base_year=2024,
                       target_year=2030, reduction=0.3, actor="t")
    base_2024 = accounting.inventory_meta(stored, ORG, 2024)["totals"]["total_market_t"]
    p = pathway.prepare(text(), "own.yaml", sessions=stored, org_code=ORG)
    assert [t.year for t in p.scenario.targets] == [2026, 2027, 2028, 2029, 2030]
    for t in p.scenario.targets:
        assert t.max_scope12_t == pytest.approx(base_2024 * (1 - 0.3 * (t.year - 2024) / 6))
    r = pathway.optimise(stored, ORG, text(), "own.yaml", actor="t", time_limit=30).result
    for y in r["years"]:
        assert y["scope12_t"] <= base_2024 * (1 - 0.3 * (y["year"] - 2024) / 6) + 1e-6
    hows = {c["year"]: c["by"][0]["how"] for c in r["constraints"]}
    assert hows == {2026: "trajectory", 2027: "trajectory", 2028: "trajectory", 2029: "trajectory",
                    2030: "target_year"}
    assert r["constraints"][0]["by"][0]["targets"] == ["T1"]
    lines = pathway.constraint_lines(r)
    assert lines[0].startswith("constrained 2026-2029: Scope 1+2 <=") and "linear trajectory of T1" in lines[0]
    only = pathway.prepare(text(trajectory="target_years_only"), "own.yaml", sessions=stored, org_code=ORG)
    assert [t.year for t in only.scenario.targets] == [2030]
    with pytest.raises(InputError, match="trajectory"):
        pathway.prepare(text(trajectory="sometimes"), "own.yaml", sessions=stored, org_code=ORG)


def test_command_line(stored, monkeypatch, tmp_path):
    if stored.kw["bind"].url.get_backend_name() != "sqlite":
        pytest.skip("the command line is exercised on the SQLite database")
    monkeypatch.setattr(console, "width", 200)
    root = typer.Typer(cls=ErrorHandlingGroup, pretty_exceptions_enable=False)
    root.add_typer(cli_pathway.app, name="pathway")

    @root.callback()
    def _root() -> None:
        pass
    f = tmp_path / "own.yaml"
    f.write_text(text(targets=[{"year": 2030, "min_re_share": 0.3}]), encoding="utf-8")
    db = str(stored.kw["bind"].url)
    r = CliRunner().invoke(root, ["pathway", "optimise", "--org", ORG, "--scenario", str(f), "--year", "2025",
                                  "--db", db])
    assert r.exit_code == 0, r.output
    assert "base (inventory)" in r.output and "ledger rows" in r.output and "HF01-X9" in r.output
    assert "targets: scenario" in r.output
    r = CliRunner().invoke(root, ["pathway", "optimise", "--org", ORG, "--scenario", str(f), "--year", "2021",
                                  "--db", db])
    assert r.exit_code == 2 and "zerocarbon inventory compute" in r.output


def test_demo_step_on_the_stored_inventory_and_targets(sessions, tmp_path):
    from zerocarbon.services import demo_pathway, demo_targets
    from zerocarbon.services.demo_factory import generate

    org = "DEMO-LAPTOP"
    files = generate(tmp_path / "in")
    accounting.load_organisation_file(sessions, files["organisation"], actor="demo")
    for kind in ("electricity", "generation", "fuel", "refrigerant", "instrument"):
        accounting.import_file(sessions, org, kind, files[kind], 2025, "CN-2025.1", actor="demo")
    accounting.compute(sessions, org, 2025, "CN-2025.1", actor="demo")
    demo_targets.run(sessions, org, tmp_path / "targets")
    paths = demo_pathway.run(sessions, org, tmp_path / "pathway")
    body = json.loads(paths["pathway_json"].read_text(encoding="utf-8"))
    r = body["result"]
    assert r["base"]["source"] == "inventory" and r["scenario"]["targets_source"] == "stored"
    # the demo generator's 2025 parameters: grid 18,000 + 62,000 MWh, PV 8,000 MWh less 3 % exported, 34,000 MWh
    # of certificates and contract retired for 2025 (demo_2030.yaml's notes give the arithmetic)
    assert sum(r["base"]["electricity_mwh"].values()) == pytest.approx(87_760, rel=1e-6)
    assert r["base"]["onsite_re_mwh"] == pytest.approx(7_760, rel=1e-6)
    assert r["base"]["re_purchased_mwh"] == pytest.approx(34_000, rel=1e-6)
    assert r["base"]["lineage"]["unmapped_meters"] == {}
    # the model's 2025 Scope 1+2 is the stored one: Scope 2 at the factor the inventory implies on the
    # 80,000 - 34,000 MWh of grid electricity no certificate or contract covers
    assert r["base"]["scope12_t"] == pytest.approx(r["base"]["inventory_scope12_market_t"], rel=1e-6)
    stored_2025 = accounting.inventory_meta(sessions, org, 2025)["totals"]
    assert r["base"]["scope12_t"] == pytest.approx(stored_2025["total_market_t"], rel=1e-6)
    assert r["base"]["lineage"]["implied_grid_factor"]["priced_mwh"] == pytest.approx(46_000, rel=1e-6)
    assert "implied by the inventory; scenario trajectory applied as ratios" in r["base"]["note"]
    # business as usual steps up in 2026 as the 34,000 MWh of 2025 instruments become grid electricity
    step = r["bau_step"]
    assert step["instruments_mwh"] == pytest.approx(34_000, rel=1e-6) and step["year"] == 2026
    assert step["instruments_t"] == pytest.approx(34_000 * step["grid_factor"], rel=1e-9)
    assert "34,000 MWh of certificates and contracts of 2025 count in that year only" in cli_pathway.bau_step_text(step)
    assert [c["year"] for c in r["constraints"]] == [2026, 2027, 2028, 2029, 2030]
    base_2023 = accounting.inventory_meta(sessions, org, 2023)["totals"]["total_market_t"]
    target = r["scenario"]["targets"][-1]
    assert target["year"] == 2030 and target["cap_t"] == pytest.approx(0.5 * base_2023)
    assert target["min_re_share"] == pytest.approx(0.9)
    assert r["years"][-1]["scope12_t"] <= 0.5 * base_2023 + 1e-6 and r["years"][-1]["re_share"] >= 0.9 - 1e-9
    assert paths["pathway_png"].stat().st_size > 10_000


def test_api_and_page_read_the_stored_inventory(stored):
    from tests.api_support import fast_passwords, person
    from tests.test_pathway_api import login
    from tests.test_pathway_web import browser

    with fast_passwords():
        person(stored, "admin@acme.cn", ORG, "admin")
        c = login(stored, "admin@acme.cn")
        own = text(targets=[{"year": 2030, "min_re_share": 0.3}]).encode()
        made = c.post(f"/api/v1/orgs/{ORG}/pathways", files={"scenario": ("own.yaml", own)},
                      data={"year": "2024", "time_limit": "30"})
        assert made.status_code == 201, made.text
        assert made.json()["result"]["base"]["lineage"]["year"] == 2024
        refused = c.post(f"/api/v1/orgs/{ORG}/pathways", files={"scenario": ("own.yaml", own)}, data={"year": "2019"})
        assert refused.status_code == 400 and "zerocarbon inventory compute" in refused.text
        stored_only = c.post(f"/api/v1/orgs/{ORG}/pathways", files={"scenario": ("own.yaml", own)},
                             data={"targets": "stored"})
        assert stored_only.status_code == 400 and "zerocarbon targets set" in stored_only.text
        page = browser(stored, "admin@acme.cn")
        r = page.post(f"/web/orgs/{ORG}/pathway/run", data={"csrf": page.cookies.get("zc_csrf"), "year": "",
                                                            "targets": "scenario"},
                      files={"file": ("own.yaml", own)})
        assert r.status_code == 303, r.text[-2000:]
        shown = page.get(r.headers["location"])
        assert "ledger rows" in shown.text and "stored inventory" in shown.text and "HF01-X9" not in shown.text
        assert "the base has none of" in shown.text and "pathway-bau-step" not in shown.text  # no 2025 certificates
        zh = browser(stored, "admin@acme.cn", "zh_CN").get(r.headers["location"]).text
        base_line = zh[zh.index('id="pathway-base"'):zh.index("</p>", zh.index('id="pathway-base"'))]
        assert f"已存储清单 {ORG} 2025 年(CN-2025.1)" in base_line and "电网排放因子" in base_line
        assert "stored inventory" not in base_line and "implied by" not in base_line
        dropped = zh[zh.index('id="pathway-dropped"'):zh.index("</ul>", zh.index('id="pathway-dropped"'))]
        assert "基准中没有" in dropped and "the base has none" not in dropped
        assert "各示意数据的原因" in zh


def test_model_base_year_equals_the_stored_inventory(stored):
    """Scope 1 streams carry the ledger's tonnes and the base-year grid factor is the one the inventory implies,
    so the model's base-year Scope 1+2 (market-based) is the stored total; later years keep the scenario's ratios."""
    grid = {2025: 0.5306, 2030: 0.4}
    p = pathway.prepare(text(grid_factor=grid, targets=[{"year": 2030, "min_re_share": 0.3}]), "own.yaml",
                        sessions=stored, org_code=ORG)
    meta = accounting.inventory_meta(stored, ORG, 2025)["totals"]
    sc = p.scenario
    problem = pathway.build_problem(pathway.catalogue(), sc)
    assert problem.base_scope12() == pytest.approx(meta["total_market_t"], rel=1e-6)
    # no certificate: grid 170 MWh priced, at the factor set's tCO2e of those MWh
    implied = meta["scope2_market_t"] / 170.0
    assert sc.base.grid_factor == pytest.approx(implied, rel=1e-9)
    assert sc.grid(2030) == pytest.approx(implied * 0.4 / 0.5306, rel=1e-9)
    assert "grid factor 2025: " in sc.base.note and "implied by the inventory; scenario trajectory applied as " \
        "ratios" in sc.base.note
    assert p.base["implied_grid_factor"]["grid_factor"] == pytest.approx(implied)
    r = pathway.solve_scenario(p, time_limit=30)
    assert r["base"]["scope12_t"] == pytest.approx(r["base"]["inventory_scope12_market_t"], rel=1e-6)
