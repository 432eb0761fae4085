"""One declaration per input: the row models and their JSON Schema come from io/schemas.py, and they refuse
exactly the rows the vectorised importer refuses.

Defects these tests pin down: a JSON Schema (API, docs) that lists other columns, required flags or Chinese
headers than the importer accepts; a model that accepts a negative or over-ceiling amount the importer refuses,
or refuses what it accepts; an organisation or scheduling-problem error that does not name the field.
"""
from __future__ import annotations

import json
from pathlib import Path

import pandas as pd
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from typer.testing import CliRunner

from tests.api_support import client
from zerocarbon.cli import app
from zerocarbon.errors import InputError
from zerocarbon.io.models import row_json_schema, row_model, row_problems
from zerocarbon.io.org import read_organisation
from zerocarbon.io.schemas import SCHEMAS
from zerocarbon.io.tables import validate
from zerocarbon.services.database import open_sessions

SITES = {"TJ01"}
SETTINGS = settings(max_examples=100, deadline=None, suppress_health_check=[HealthCheck.too_slow])


def importer_problems(kind: str, row: dict) -> set[tuple]:
    try:
        validate(kind, pd.DataFrame([row], dtype=str), "f.csv", SITES)
    except InputError as exc:
        return {(p.row, p.column, p.reason) for p in exc.problems}
    return set()


def model_problems(kind: str, row: dict) -> set[tuple]:
    return {(p.row, p.column, p.reason) for p in row_problems(kind, row, "f.csv", 2)}


# -- the JSON Schema is the column table ----------------------------------------------------------------------
@pytest.mark.parametrize("kind", list(SCHEMAS))
def test_json_schema_lists_exactly_the_declared_columns(kind):
    schema = row_json_schema(kind)
    columns = SCHEMAS[kind]
    assert list(schema["properties"]) == [c.name for c in columns]
    assert set(schema.get("required", [])) == {c.name for c in columns if c.required}
    assert schema["additionalProperties"] is False
    for c in columns:
        prop = schema["properties"][c.name]
        assert prop["x-aliases"] == list(c.aliases) and all(a for a in c.aliases)
        assert c.description in prop["description"]
        if c.check in ("nonneg", "fraction"):
            assert prop["minimum"] == 0
        if c.check == "fraction":
            assert prop["maximum"] == 1
        assert [m["value"] for m in prop.get("x-ceilings", [])] == [m.value for m in c.max]
        if c.max and not c.unit_column:
            assert prop["maximum"] == c.max[0].value
    json.dumps(schema)  # plain JSON


@pytest.mark.parametrize("kind", list(SCHEMAS))
def test_declared_example_row_is_valid_under_the_chinese_headers_too(kind):
    example = {c.name: c.example for c in SCHEMAS[kind]}
    assert importer_problems(kind, example) == set() and model_problems(kind, example) == set()
    chinese = {c.aliases[0]: c.example for c in SCHEMAS[kind]}
    assert row_model(kind).model_validate(chinese) == row_model(kind).model_validate(example)


def test_model_refuses_what_the_importer_refuses_with_the_same_words():
    row = {c.name: c.example for c in SCHEMAS["electricity"]}
    for cell, column in ((("quantity", "-5"), "quantity"), (("quantity", "2e12"), "quantity"),
                         (("unit", "kg"), "unit"), (("period_end", "2024-12-31"), "period_end"),
                         (("quantity", "1e309"), "quantity"), (("meter", ""), "meter")):
        bad = dict(row, **dict([cell]))
        found = importer_problems("electricity", bad)
        assert found and {p[1] for p in found} == {column}
        assert model_problems("electricity", bad) == found
    # over the ceiling only once the row's own unit is applied: 2e9 MWh = 2e12 kWh
    bad = dict(row, quantity="2000000000", unit="MWh")
    assert model_problems("electricity", bad) == importer_problems("electricity", bad) != set()


# -- generated rows: the model and the importer give the same verdict ------------------------------------------
NUMBER_TEXT = st.one_of(
    st.floats(allow_nan=True, allow_infinity=True).map(repr),
    st.floats(min_value=-1e3, max_value=1e3).map(lambda v: f"{v:.3f}"),
    st.integers(min_value=-10 ** 20, max_value=10 ** 20).map(str),
    st.sampled_from(["", " 7 ", "abc", "1e309", "-1e309", "inf", "-0", "1_000", "1e3", "0x10", "1,000", "0.5",
                     "1", "1e12", "1.0000001e12", "1e8", "2025", "2025.0", "9007199254740991", "9007199254740993",
                     "1e-320", "NaN", "none"]))
DATE_TEXT = st.one_of(st.dates().map(str), st.sampled_from(["", "2025-1-1", "20250101", "2025/01/01", "someday",
                                                            "2025-02-30", "2025-01-01T00:00:00"]))
BOOL_TEXT = st.sampled_from(["", "true", "FALSE", "yes", "N", "1", "0", "maybe", "on", "T"])
UNITS = {
    "fuel": ["t", "kg", "GJ", "TJ", "L", "m3", "Nm3", "万Nm3", "kWh", "mmBtu", "xyz", "kg/GJ"],
    "energy": ["kWh", "MWh", "GWh", "TWh", "GJ", "J", "kg", "xyz"],
    "mass": ["kg", "t", "g", "lb", "kWh", "xyz"],
    "factor": ["t/GJ", "kg/GJ", "kg/kWh", "kg", "xyz"],
}


def base_row(kind: str) -> dict:
    """The declared example row, made so that no rule between columns ties the mutated cells together."""
    row = {c.name: c.example for c in SCHEMAS[kind]}
    if kind == "instrument":
        row["serial_start"] = row["serial_end"] = ""  # the serial range is tied to the volume and other rows
    return row


def cell_strategy(kind: str, name: str):
    c = next(c for c in SCHEMAS[kind] if c.name == name)
    if c.type in ("float", "int"):
        return NUMBER_TEXT
    if c.type == "date":
        return DATE_TEXT
    if c.type == "bool":
        return BOOL_TEXT
    if name == "unit":
        return st.sampled_from(UNITS["fuel" if kind == "fuel" else "mass" if kind in ("refrigerant", "process_gas")
                                     else "energy"])
    if name == "supplier_factor_unit":
        return st.sampled_from(UNITS["factor"])
    if (kind, name) in TEXT:
        return st.sampled_from(TEXT[(kind, name)])
    return st.sampled_from([c.example, ""])


TEXT = {
    ("fuel", "use"): ["stationary", "mobile", "nonroad.industrial_commercial_equipment", "nonroad", "Stationary",
                      "boiler", ""],
    ("fuel", "basis"): ["NCV", "lhv", "GCV", "HHV", "", "net", "NCV/GCV"],
    ("refrigerant", "method"): ["mass_balance", "screening", "Screening", "estimate", ""],
    ("instrument", "type"): ["GEC", "I-REC", "PPA", "green_power_contract", "gec", "REC", ""],
    ("instrument", "technology"): ["solar", "wind", "hydro", "coal", "Solar", "fusion", ""],
    ("purchase", "category"): ["1", "2", "3", ""],
    ("purchase", "currency"): ["CNY", "USD", "万元", "JPY", "kg", ""],
    ("purchase", "eeio_code"): ["334111", "33411", "abcdef", ""],
    ("purchase", "supplier_co2e_unit"): ["kgCO2e", "tCO2e", "kgCO2e/kg", "kgCO2e/kWh", "kg", ""],
    ("purchase", "evidence"): ["EPD S-P-01234", ""],
    ("purchase", "material"): ["aluminium_cans_foil", ""],
    ("shipment", "category"): ["4", "9", "1", ""],
    ("shipment", "mode"): ["road", "rail", "sea", "air", "Road", "pipeline", ""],
    ("shipment", "distance_unit"): ["km", "mi", "kg", ""],
    ("shipment", "fuel_unit"): ["L", "t", "GJ", "xyz", ""],
    ("shipment", "carrier_co2e_unit"): ["kgCO2e", "tCO2e", "kg", ""],
    ("waste", "treatment"): ["landfill", "combustion", "incineration", ""],
    ("travel", "hotel"): ["GB", "CN", "gb", ""],
    ("product_use", "market"): ["CN", "GB", "cn", "China", ""],
    ("product_use", "energy_unit"): ["kWh", "MWh", "kg", ""],
}


def mutable(kind: str) -> list[str]:
    """Columns a generated row may change: not those whose rule needs the organisation, the factor set or other
    rows (site, fuel, gas), nor the serial range, tied to the volume."""
    tied = {"site", "retired_for_site", "fuel", "gas", "serial_start", "serial_end"}
    return [c.name for c in SCHEMAS[kind] if c.name not in tied
            and (c.type != "str" or c.required or c.name in ("unit", "supplier_factor_unit") or (kind, c.name) in TEXT)]


def test_supply_kinds_refuse_each_rule_between_columns_in_model_and_importer_alike():
    """Each rule between the columns of a supply-chain row, at its column, in the importer's and the model's words."""
    purchase = {c.name: c.example for c in SCHEMAS["purchase"]}
    spend_only = dict(purchase, quantity="", unit="", material="", supplier_co2e="", supplier_co2e_unit="",
                      supplier_scope12_co2e="", pcf_id="", evidence="")
    shipment = {c.name: c.example for c in SCHEMAS["shipment"]}
    cases = [
        ("purchase", dict(spend_only, eeio_code=""), "eeio_code", "required with the spend-based method"),
        ("purchase", dict(spend_only, spend="", currency="", price_year="", eeio_code=""), "spend",
         "no complete method"),
        ("purchase", dict(purchase, evidence=""), "evidence", "supplier figures need evidence"),
        ("purchase", dict(purchase, category="3"), "category", "'3' is not one of 1, 2"),
        ("purchase", dict(spend_only, currency="JPY"), "currency", "'JPY' is not a supported currency"),
        ("purchase", dict(spend_only, material="steel"), "quantity", "required with material"),
        ("shipment", dict(shipment, distance="", origin_lat=""), "origin_lat", "required when no distance is given"),
        ("shipment", dict(shipment, category="1"), "category", "'1' is not one of 4, 9"),
        ("shipment", dict(shipment, origin_lat="95"), "origin_lat", "beyond the ceiling of 90"),
        ("shipment", dict(shipment, fuel_unit=""), "fuel_unit", "required with the fuel-based method"),
        ("packaging", dict({c.name: c.example for c in SCHEMAS["packaging"]}, recycled_share="1.4"),
         "recycled_share", "is not a fraction between 0 and 1"),
        ("takeback", dict({c.name: c.example for c in SCHEMAS["takeback"]}, recycled="5"), "recycled",
         "recycled 5 is more than collected 4.1"),
    ]
    for kind, row, column, words in cases:
        found = importer_problems(kind, row)
        assert any(p[0] == 2 and p[1] == column and words in p[2] for p in found), (kind, column, found)
        assert model_problems(kind, row) <= found and model_problems(kind, row)


@st.composite
def rows(draw, one_cell: bool):
    kind = draw(st.sampled_from(list(SCHEMAS)))
    row = base_row(kind)
    names = mutable(kind)
    chosen = [draw(st.sampled_from(names))] if one_cell else draw(st.lists(st.sampled_from(names), unique=True))
    for name in chosen:
        row[name] = draw(cell_strategy(kind, name))
    return kind, row, chosen


@SETTINGS
@given(rows(one_cell=True))
def test_one_changed_cell_gives_the_same_problems_in_model_and_importer(case):
    kind, row, (changed,) = case
    by_model, by_importer = model_problems(kind, row), importer_problems(kind, row)
    assert bool(by_model) == bool(by_importer), (row, by_model, by_importer)
    # Word for word. The importer may add consequences the model does not reach once a cell is wrong: "abc" in
    # charge is not a number, and then charge is missing for the screening method; an amount over its ceiling
    # also breaks the mass balance.
    assert by_model <= by_importer, (row, by_model - by_importer)
    at_cell = {p for p in by_importer if p[1] == changed}
    assert bool(at_cell) == any(p[1] == changed for p in by_model), (row, by_model, by_importer)


@SETTINGS
@given(rows(one_cell=False))
def test_model_and_importer_refuse_the_same_rows(case):
    kind, row, _ = case
    by_model, by_importer = model_problems(kind, row), importer_problems(kind, row)
    assert bool(by_model) == bool(by_importer), (row, by_model, by_importer)
    # The model stops before the rules between columns when a cell is wrong; what it says, the importer says.
    assert by_model <= by_importer, (row, by_model - by_importer)


# -- where the schemas are published ----------------------------------------------------------------------------
ROOT = Path(__file__).resolve().parents[1]


@pytest.mark.parametrize("kind", list(SCHEMAS))
def test_published_json_schema_files_are_the_models(kind):
    """docs/schemas/KIND.schema.json is what `zerocarbon schema --json-schema KIND` prints."""
    printed = CliRunner().invoke(app, ["schema", "--json-schema", kind])
    assert printed.exit_code == 0, printed.output
    assert json.loads(printed.stdout) == row_json_schema(kind)
    assert (ROOT / "docs" / "schemas" / f"{kind}.schema.json").read_text(encoding="utf-8") == printed.stdout, \
        f"regenerate: zerocarbon schema --json-schema {kind} > docs/schemas/{kind}.schema.json"


def test_unknown_kind_is_refused_by_the_cli_and_the_api(tmp_path):
    r = CliRunner().invoke(app, ["schema", "--json-schema", "coal"])
    assert r.exit_code == 2 and "no activity kind 'coal'" in r.output
    api = client(open_sessions(f"sqlite:///{tmp_path / 'z.sqlite'}"))
    r = api.get("/api/v1/schemas/coal")
    assert r.status_code == 404 and r.headers["content-type"] == "application/problem+json"


def test_api_serves_the_row_schemas_and_the_upload_operations_point_at_them(tmp_path):
    api = client(open_sessions(f"sqlite:///{tmp_path / 'z.sqlite'}"))
    index = api.get("/api/v1/schemas").json()
    assert [e["kind"] for e in index] == list(SCHEMAS)
    for entry in index:
        kind = entry["kind"]
        assert entry["required"] == [c.name for c in SCHEMAS[kind] if c.required]
        assert entry["aliases"] == {c.name: list(c.aliases) for c in SCHEMAS[kind]}
        served = api.get(entry["href"])
        assert served.headers["content-type"] == "application/schema+json" and served.json() == row_json_schema(kind)
    doc = api.get("/api/v1/openapi.json").json()
    components = doc["components"]["schemas"]
    for path in ("/api/v1/orgs/{org}/batches", "/api/v1/orgs/{org}/batches/{batch_id}/replace"):
        operation = doc["paths"][path]["post"]
        assert "/api/v1/schemas/{kind}" in operation["description"]
        refs = operation["x-row-schemas"]
        assert list(refs) == list(SCHEMAS)
        for kind, ref in refs.items():
            component = components[ref["$ref"].rsplit("/", 1)[1]]
            assert component["properties"] == row_json_schema(kind)["properties"]


# -- structured inputs read through pydantic: every problem, named by its path ---------------------------------
def test_adapter_names_the_path_of_each_error():
    from pydantic import BaseModel, ValidationError

    from zerocarbon.io.models import problems_from

    class Inner(BaseModel):
        share: float

    class Outer(BaseModel):
        items: list[Inner]

    with pytest.raises(ValidationError) as exc:
        Outer.model_validate({"items": [{"share": 1}, {"share": "x"}, {}]})
    problems = problems_from(exc.value, "f.yaml", index_base=1)
    assert [(p.source, p.row, p.column) for p in problems] == [("f.yaml", None, "items[2].share"),
                                                               ("f.yaml", None, "items[3].share")]
    assert problems[1].reason == "required field is missing"
    assert problems_from(exc.value, "f.csv", 7, prefix="rows")[0].column == "rows.items[1].share"


def test_organisation_errors_name_each_field_path(tmp_path):
    path = tmp_path / "org.yaml"
    path.write_text("code: X\nsites:\n  - {code: A, equity_share: abc, operational_control: 1}\n  - 5\n"
                    "  - {name: no code, grid_region: east, country: US}\n", encoding="utf-8")
    with pytest.raises(InputError) as exc:
        read_organisation(path)
    got = {p.column: p.reason for p in exc.value.problems}
    assert got == {"sites[1].equity_share": "'abc' is not a fraction between 0 and 1",
                   "sites[1].operational_control": "'1' is not true or false",
                   "sites[2]": "a site must be a mapping of the fields in docs/organisation.md",
                   "sites[3].code": "site needs a 'code'"}
    assert all(p.source == str(path) and p.row is None for p in exc.value.problems)


def test_plant_problem_reports_every_malformed_field_at_once(tmp_path):
    """The reader stopped at the first bad field (and crashed with a KeyError on a changeover without 'to');
    now every field is reported with its path, and a misspelt field is refused instead of ignored."""
    from zerocarbon.io.schedule_files import read_plant_problem
    from zerocarbon.services.demo_plant import laptop_week

    spec = json.loads(json.dumps(laptop_week(seed=3, n_orders=5)))  # a copy: lines of the demo share their rates
    spec["orders"][2]["quantity"] = "lots"
    spec["orders"][0]["release_min"] = -5
    spec["lines"][1]["rates"]["consumer"] = 0
    del spec["lines"][2]["changeover"][0]["to"]
    spec["power_cap"] = 500
    path = tmp_path / "plant.json"
    path.write_text(json.dumps(spec), encoding="utf-8")
    with pytest.raises(InputError) as exc:
        read_plant_problem(path)
    got = {p.column: p.reason for p in exc.value.problems}
    assert got == {"orders[2].quantity": "'lots' is not a number",
                   "orders[0].release_min": "-5.0 must not be negative",
                   "lines[1].rates.consumer": "rate must be positive [units/h]",
                   "lines[2].changeover[0].to": "required field is missing",
                   "power_cap": "unknown field"}
    assert {p.source for p in exc.value.problems} == {"plant.json"}


def test_orders_table_and_meter_registry_name_row_and_column(tmp_path):
    from zerocarbon.io.meter_files import read_registry
    from zerocarbon.io.schedule_files import read_orders_table

    orders = tmp_path / "orders.csv"
    orders.write_text("id,family,quantity,release_min,due_min,customer\nA,consumer,10,,,x\n,consumer,inf,0,9,y\n",
                      encoding="utf-8")
    with pytest.raises(InputError) as exc:
        read_orders_table(orders)
    assert {(p.row, p.column, p.reason) for p in exc.value.problems} == {
        (3, "id", "value is required"), (3, "quantity", "'inf' is not a finite number")}
    registry = tmp_path / "meters.csv"
    registry.write_text("id,site,unit,multiplier,interval_min\nM1,HF01,kWh,,\nM2,HF01,kWh,abc,7.5\nM1,HF01,kWh,1,15\n",
                        encoding="utf-8")
    with pytest.raises(InputError) as exc:
        read_registry(registry)
    # The multiplier used to be reported as "bad value: could not convert string to float" with no column.
    assert {(p.row, p.column, p.reason) for p in exc.value.problems} == {
        (3, "multiplier", "'abc' is not a number"), (3, "interval_min", "'7.5' is not a whole number"),
        (4, "id", "meter 'M1' appears twice")}
