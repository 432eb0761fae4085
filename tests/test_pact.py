"""PACT (Pathfinder) ProductFootprint JSON in and out.

Sources: WBCSD, Technical Specifications for PCF Data Exchange, v2.3.3 (github.com/wbcsd/data-exchange-protocol,
commit cf4ebedb, spec/v2/index.bs and spec/v2/examples/list-footprints-response.json). The published example is
not copied into this repository (the WBCSD licence allows sharing only the whole, unaltered specification): the test
that uses it reads it from a checkout of that repository (``$ZC_PACT_SPEC_REPO``) and is skipped without one. The
file tests/data/pact/coil.json is our own footprint, written for these tests, with the same structure.
"""
from __future__ import annotations

import copy
import json
import os
import subprocess
from pathlib import Path

import pytest

from tests.api_support import YEAR, electricity, import_bytes
from zerocarbon.errors import InputError
from zerocarbon.io import pact
from zerocarbon.services import accounting, footprints

DATA = Path(__file__).parent / "data" / "pact"
SPEC_COMMIT = "cf4ebedb18d42f3453bcc868e01159321297c09a"
SPEC_EXAMPLE = "spec/v2/examples/list-footprints-response.json"
SPEC_REPO = os.environ.get("ZC_PACT_SPEC_REPO", "/work/.mirror/wbcsd+data-exchange-protocol/repo")


def published_example() -> dict:
    try:
        text = subprocess.run(["git", f"--git-dir={SPEC_REPO}", "show", f"{SPEC_COMMIT}:{SPEC_EXAMPLE}"],
                              capture_output=True, check=True, text=True).stdout
    except (OSError, subprocess.CalledProcessError):
        pytest.skip(f"no checkout of wbcsd/data-exchange-protocol at {SPEC_REPO} (set ZC_PACT_SPEC_REPO)")
    return json.loads(text)


def coil() -> dict:
    return json.loads((DATA / "coil.json").read_text(encoding="utf-8"))


def write(tmp_path, name: str, doc) -> Path:
    path = tmp_path / name
    path.write_text(json.dumps(doc), encoding="utf-8")
    return path


def stored(sessions, org="ORG") -> int:
    from sqlalchemy import func, select

    from zerocarbon.store.footprints import FootprintRow

    with sessions.begin() as s:
        return s.scalar(select(func.count()).select_from(FootprintRow))


def test_shipped_schema_is_a_valid_json_schema():
    from jsonschema import Draft202012Validator

    Draft202012Validator.check_schema(pact.schema())
    assert pact.schema()["properties"]["specVersion"]["pattern"] == r"^2\.\d+\.\d+(-\d{8})?$"


def test_published_example_validates_with_its_figures():
    """The spec's ListFootprints example: Bio-Ethanol 98 %, 1.63 kgCO2e per liter excl. biogenic, 1.85 incl.,
    primary data share 12.9 %, DQRs 1.6, 2.6, 1.8, 1.7, 2.1."""
    found = pact.validate(published_example(), "list-footprints-response.json")
    assert len(found) == 1
    f = found[0]
    assert (f.pf_id, f.version, f.spec_version) == ("91715e5e-fd0b-4d1c-8fab-76290c46e6ed", 1, "2.0.0")
    assert (f.declared_unit, f.unit, f.pcf_excl, f.pcf_incl) == ("liter", "L", 1.63, 1.85)
    assert f.primary_data_share == 12.9
    assert f.dqr == pytest.approx((1.6 + 2.6 + 1.8 + 1.7 + 2.1) / 5)


def test_published_example_round_trips(db, tmp_path):
    doc = published_example()
    path = write(tmp_path, "list.json", doc)
    rep = footprints.import_file(db, "ORG", path, actor="test")
    assert [i.pf_id for i in rep.stored] == ["91715e5e-fd0b-4d1c-8fab-76290c46e6ed"]
    assert footprints.show(db, "ORG", "91715e5e-fd0b-4d1c-8fab-76290c46e6ed") == doc["data"][0]


@pytest.mark.parametrize("shape", ["single", "list", "response"])
def test_own_example_in_every_file_shape_round_trips(db, tmp_path, shape):
    doc = coil()
    given = {"single": doc, "list": [doc], "response": {"data": [doc]}}[shape]
    rep = footprints.import_file(db, "ORG", write(tmp_path, "coil.json", given), actor="test")
    assert len(rep.stored) == 1 and rep.superseded == []
    assert footprints.show(db, "ORG", doc["id"]) == doc
    assert pact.canonical(footprints.show(db, "ORG", doc["id"].upper())) == pact.canonical(doc)


def test_frame_for_scope3_category1(db, tmp_path):
    footprints.import_file(db, "ORG", DATA / "coil.json", actor="test", supplier_code="ESW")
    frame = footprints.frame(db, "ORG")
    row = frame.iloc[0].to_dict()
    assert list(frame.columns[:9]) == ["pf_id", "company_name", "product_id", "declared_unit", "pcf_kg_per_unit",
                                       "primary_data_share", "dqr", "period_start", "period_end"]
    assert row["pf_id"] == "3f6d2b1e-8c4a-4e27-9b1d-5a0c7e9f2d41"
    assert row["declared_unit"] == "kg" and row["pcf_kg_per_unit"] == 2.1
    assert row["primary_data_share"] == 62.5
    assert row["dqr"] == pytest.approx((1.2 + 1.0 + 1.4 + 1.6 + 1.8) / 5)
    assert str(row["period_start"]) == "2023-01-01 00:00:00" and str(row["period_end"]) == "2024-01-01 00:00:00"
    assert row["product_id"] == "urn:pact:steel.example.com:supplier-id:HRC-200" and row["supplier_code"] == "ESW"


def _broken(change) -> dict:
    doc = coil()
    change(doc)
    return doc


def _set(path: str, value):
    def change(doc):
        *head, last = path.split(".")
        target = doc
        for k in head:
            target = target[k]
        if value is KeyError:
            del target[last]
        else:
            target[last] = value
    return change


BAD = [
    ("missing required field", _set("pcf.declaredUnit", KeyError), "$.pcf.declaredUnit", "required field is missing"),
    ("negative pcf", _set("pcf.pCfExcludingBiogenic", "-0.5"), "$.pcf.pCfExcludingBiogenic", "must be >= 0"),
    ("bad URN", _set("productIds", ["HRC-200"]), "$.productIds[0]", "is not a URN"),
    ("wrong specVersion", _set("specVersion", "1.0.1"), "$.specVersion", "not supported"),
    ("3.0 draft", _set("specVersion", "3.0.0"), "$.specVersion", "PACT 3.x footprints are not read yet"),
    ("period end before start", _set("pcf.referencePeriodEnd", "2022-06-30T00:00:00Z"), "$.pcf.referencePeriodEnd",
     "before or when it starts"),
    ("declared unit not in PACT v2", _set("pcf.declaredUnit", "piece"), "$.pcf.declaredUnit", "is not one of"),
    ("not a UUID v4", _set("id", "not-a-uuid"), "$.id", "UUID version 4"),
    ("DQR out of range", _set("pcf.dqi.temporalDQR", 4), "$.pcf.dqi.temporalDQR", "at most 3"),
    ("two geographies", _set("pcf.geographyRegionOrSubregion", "Eastern Asia"), "$.pcf.geographyCountry",
     "at most one of"),
    ("packaging emissions not included", _set("pcf.packagingGhgEmissions", "0.1"), "$.pcf.packagingGhgEmissions",
     "packagingEmissionsIncluded is false"),
    ("2025 period without biogenic fields", lambda d: (d["pcf"].update(referencePeriodStart="2025-01-01T00:00:00Z",
                                                                        referencePeriodEnd="2026-01-01T00:00:00Z")),
     "$.pcf.dLucGhgEmissions", "required for a reference period including 2025"),
    ("time not in UTC", _set("created", "2024-03-15T08:00:00+08:00"), "$.created", "in UTC"),
]


@pytest.mark.parametrize("case,change,path,reason", BAD, ids=[b[0] for b in BAD])
def test_bad_footprint_is_refused_with_its_json_path_and_nothing_is_stored(db, tmp_path, case, change, path, reason):
    good = coil()
    good["id"] = "0b5e8f7a-1d2c-4e3f-8a9b-0c1d2e3f4a5b"
    bad = _broken(change)
    target = write(tmp_path, "two.json", [good, bad])
    with pytest.raises(InputError) as err:
        footprints.import_file(db, "ORG", target, actor="test")
    hits = [p for p in err.value.problems if p.column == path.replace("$", "$[1]", 1)]
    assert hits, [str(p) for p in err.value.problems]
    assert all(p.source == "two.json" and p.row == 2 for p in hits)
    assert any(reason in p.reason for p in hits), [p.reason for p in hits]
    assert stored(db) == 0  # the good footprint of the file was not stored either


def test_error_message_names_file_footprint_and_path(tmp_path):
    with pytest.raises(InputError) as err:
        pact.read(write(tmp_path, "neg.json", {"data": [_broken(_set("pcf.pCfExcludingBiogenic", "-1"))]}))
    assert str(err.value.problems[0]) == ("neg.json, row 1, column '$.data[0].pcf.pCfExcludingBiogenic': footprint "
                                          "3f6d2b1e-8c4a-4e27-9b1d-5a0c7e9f2d41: -1 must be >= 0 (kg per declared "
                                          "unit)")


def test_not_json_is_refused(tmp_path):
    path = tmp_path / "x.json"
    path.write_text("{\"id\": ", encoding="utf-8")
    with pytest.raises(InputError, match="not JSON"):
        pact.read(path)


def test_higher_version_supersedes_and_history_is_kept(db, tmp_path):
    doc = coil()
    footprints.import_file(db, "ORG", write(tmp_path, "v1.json", doc), actor="test")
    doc2 = copy.deepcopy(doc)
    doc2.update(version=2, updated="2024-06-01T00:00:00Z")
    doc2["pcf"]["pCfExcludingBiogenic"] = "1.9"
    rep = footprints.import_file(db, "ORG", write(tmp_path, "v2.json", doc2), actor="test")
    assert rep.superseded == [(doc["id"], 1)]
    assert [(i.version, i.current) for i in footprints.history(db, "ORG", doc["id"])] == [(1, False), (2, True)]
    assert footprints.frame(db, "ORG")["pcf_kg_per_unit"].tolist() == [1.9]
    assert footprints.show(db, "ORG", doc["id"], version=1) == doc
    for again in (doc, doc2):  # the same or an older version again: refused
        with pytest.raises(InputError, match="version"):
            footprints.import_file(db, "ORG", write(tmp_path, "again.json", again), actor="test")


def test_deprecated_footprint_is_not_used(db, tmp_path):
    doc = coil()
    doc["status"] = "Deprecated"
    footprints.import_file(db, "ORG", write(tmp_path, "d.json", doc), actor="test")
    assert footprints.frame(db, "ORG").empty


def test_supplier_cannot_touch_another_owners_footprint(db, tmp_path):
    doc = coil()
    footprints.import_file(db, "ORG", write(tmp_path, "a.json", doc), actor="test", supplier_code="ESW")
    doc2 = dict(doc, version=2)
    with pytest.raises(InputError, match="not one of your footprints"):
        footprints.import_file(db, "ORG", write(tmp_path, "b.json", doc2), actor="user:s@x", own="supplier:OTHER")
    assert footprints.list_footprints(db, "ORG", own="supplier:OTHER") == []
    assert [i.version for i in footprints.list_footprints(db, "ORG", own="supplier:ESW")] == [1]


# --- export of our own product --------------------------------------------------------------------------------

def _inventory(db, tmp_path, kwh: float = 100_000):
    import_bytes(db, "ORG", "e.csv", electricity("M1", kwh), tmp_path)
    accounting.compute(db, "ORG", YEAR, "CN-2025.1", actor="test")


def test_export_allocates_the_site_total_by_units_and_validates(db, tmp_path):
    _inventory(db, tmp_path)
    totals = {t.site: t for t in accounting.site_totals(db, "ORG", YEAR)}["TJ01"]
    site_t = totals.scope1 + totals.scope2_market
    assert site_t > 0
    doc = footprints.export_product(db, "ORG", site="TJ01", year=YEAR, product="W-1", units=4000, site_units=10_000,
                                    cpc="4299")
    pact.validate(doc, "export")  # the shipped schema and the specification's rules
    kg = float(doc["pcf"]["pCfExcludingBiogenic"])
    assert kg == pytest.approx(site_t * 1000 / 10_000, rel=1e-6)
    assert doc["pcf"]["primaryDataShare"] == 100.0  # only Scope 1 and 2 here: all primary data
    assert doc["pcf"]["referencePeriodStart"] == f"{YEAR}-01-01T00:00:00Z"
    assert doc["pcf"]["referencePeriodEnd"] == f"{YEAR + 1}-01-01T00:00:00Z"
    assert doc["pcf"]["characterizationFactors"] == "AR5"  # the GWP set the inventory used
    assert doc["productIds"] == ["urn:pact:zerocarbon.local:supplier-id:W-1"]
    # and it can be imported back as it is
    footprints.import_file(db, "ORG", write(tmp_path, "ours.json", doc), actor="test")
    assert footprints.show(db, "ORG", doc["id"]) == doc


def test_export_refuses_what_it_cannot_state(db, tmp_path):
    _inventory(db, tmp_path)
    with pytest.raises(InputError, match="site_units"):
        footprints.export_product(db, "ORG", site="TJ01", year=YEAR, product="W", units=10, site_units=5, cpc="4")
    with pytest.raises(InputError, match="declared unit"):
        footprints.export_product(db, "ORG", site="TJ01", year=YEAR, product="W", units=10, cpc="4",
                                  declared_unit="piece")


def test_export_from_2025_needs_data_quality_indicators(db, tmp_path):
    path = tmp_path / "e2025.csv"
    path.write_bytes(b"site,meter,period_start,period_end,quantity,unit\nTJ01,M9,2025-01-01,2025-01-31,50000,kWh\n")
    accounting.import_file(db, "ORG", "electricity", path, 2025, "CN-2025.1", actor="test")
    accounting.compute(db, "ORG", 2025, "CN-2025.1", actor="test")
    with pytest.raises(InputError, match="dqi"):
        footprints.export_product(db, "ORG", site="TJ01", year=2025, product="W", units=10, cpc="4")
    dqi = {"coveragePercent": 100, "technologicalDQR": 1, "temporalDQR": 1, "geographicalDQR": 1.5,
           "completenessDQR": 1, "reliabilityDQR": 2}
    doc = footprints.export_product(db, "ORG", site="TJ01", year=2025, product="W", units=10, cpc="4", dqi=dqi)
    pact.validate(doc, "export")
    assert doc["pcf"]["dqi"] == dqi and doc["pcf"]["biogenicCarbonWithdrawal"] == "0"


def test_cli_validate_import_show_export(tmp_path):
    from typer.testing import CliRunner

    from zerocarbon.cli import app

    runner = CliRunner()
    db = f"sqlite:///{tmp_path / 'c.sqlite'}"
    r = runner.invoke(app, ["pact", "validate", str(DATA / "coil.json")])
    assert r.exit_code == 0 and "valid:" in r.stdout and "2.1 kgCO2e per kilogram" in r.stdout
    bad = write(tmp_path, "bad.json", _broken(_set("pcf.pCfExcludingBiogenic", "-1")))
    r = runner.invoke(app, ["pact", "validate", str(bad)])
    assert r.exit_code != 0 and "$.pcf.pCfExcludingBiogenic" in r.output
    org_file = Path(__file__).parent / "data" / "organisation.yaml"
    assert runner.invoke(app, ["org", "load", str(org_file), "--db", db]).exit_code == 0
    r = runner.invoke(app, ["pact", "import", str(DATA / "coil.json"), "--org", "ORG", "--db", db,
                            "--supplier", "ESW"])
    assert r.exit_code == 0, r.output
    r = runner.invoke(app, ["pact", "show", "3f6d2b1e-8c4a-4e27-9b1d-5a0c7e9f2d41", "--org", "ORG", "--db", db])
    assert r.exit_code == 0 and json.loads(r.stdout) == coil()
    listed = json.loads(runner.invoke(app, ["pact", "list", "--org", "ORG", "--db", db, "--json"]).stdout)
    assert [(f["pf_id"], f["supplier_code"]) for f in listed] == [("3f6d2b1e-8c4a-4e27-9b1d-5a0c7e9f2d41", "ESW")]


def test_versions_of_one_id_in_one_file_are_taken_in_order(db, tmp_path):
    v1 = coil()
    v2 = dict(copy.deepcopy(v1), version=2)
    rep = footprints.import_file(db, "ORG", write(tmp_path, "both.json", {"data": [v2, v1]}), actor="test")
    assert [(i.version, i.current) for i in footprints.history(db, "ORG", v1["id"])] == [(1, False), (2, True)]
    assert rep.superseded == [(v1["id"], 1)]


def test_refusal_by_the_store_names_the_footprint_path(db, tmp_path):
    footprints.import_file(db, "ORG", DATA / "coil.json", actor="test")
    other = dict(coil(), id="0b5e8f7a-1d2c-4e3f-8a9b-0c1d2e3f4a5b")
    with pytest.raises(InputError) as err:
        footprints.import_file(db, "ORG", write(tmp_path, "l.json", [other, coil()]), actor="test")
    assert [(p.row, p.column) for p in err.value.problems] == [(2, "$[1].version")]
    assert stored(db) == 1


def test_implausible_and_deeply_nested_input_is_refused(tmp_path):
    with pytest.raises(InputError, match="not a plausible value"):
        pact.validate(_broken(_set("pcf.pCfExcludingBiogenic", "9" * 400)), "big.json")
    path = tmp_path / "deep.json"
    path.write_text("[" * 100_000 + "]" * 100_000, encoding="utf-8")
    with pytest.raises(InputError, match="nested too deeply"):
        pact.read(path)


def test_cli_export_names_the_dqr_option_and_the_declared_unit(tmp_path):
    """`pact export` for a 2025 period without --dqr names the option to give (not the JSON field dqi); the declared
    unit is a required option and the result line says what the footprint is per."""
    from typer.testing import CliRunner

    from zerocarbon.cli import app

    runner = CliRunner()
    db = f"sqlite:///{tmp_path / 'x.sqlite'}"
    assert runner.invoke(app, ["org", "load", str(Path(__file__).parent / "data" / "organisation.yaml"),
                               "--db", db]).exit_code == 0
    path = tmp_path / "e2025.csv"
    path.write_bytes(b"site,meter,period_start,period_end,quantity,unit\nTJ01,M9,2025-01-01,2025-01-31,50000,kWh\n")
    for args in (["import", "electricity", str(path), "--year", "2025"], ["inventory", "compute", "--year", "2025"]):
        r = runner.invoke(app, [*args, "--org", "ORG", "--factors", "CN-2025.1", "--db", db])
        assert r.exit_code == 0, r.output
    base = ["pact", "export", "--org", "ORG", "--year", "2025", "--site", "TJ01", "--product", "W", "--units", "10",
            "--cpc", "4", "--out", str(tmp_path / "w.json"), "--db", db]
    r = runner.invoke(app, base)
    assert r.exit_code == 2 and "--declared-unit" in r.output  # required: no silent kilogram
    r = runner.invoke(app, [*base, "--declared-unit", "kilogram"])
    assert r.exit_code == 2, r.output
    assert "--dqr: PACT v2 requires data quality indicators" in r.output and "column 'dqi'" not in r.output
    r = runner.invoke(app, [*base, "--declared-unit", "kilogram", "--dqr", "100,1,1,1.5,1,2"])
    assert r.exit_code == 0, r.output
    assert "kgCO2e per kilogram (the declared unit; W: 10 kilogram" in r.stdout
