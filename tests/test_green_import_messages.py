"""What an import of a supply-chain file says when it refuses a row: one message per problem, the problem itself
(not a consequence of it), the supported choices named, and the problems of a file in row order."""
from __future__ import annotations

import pandas as pd
import pytest

from zerocarbon.core.factors import load_factor_set
from zerocarbon.errors import InputError
from zerocarbon.io.schemas import SCHEMAS
from zerocarbon.io.tables import validate

SITES = {"TJ01"}


@pytest.fixture(scope="module")
def fs():
    return load_factor_set("CN-2025.1")


def example(kind: str) -> dict:
    return {c.name: c.example for c in SCHEMAS[kind]}


def problems(kind: str, rows: list[dict], fs) -> list:
    with pytest.raises(InputError) as exc:
        validate(kind, pd.DataFrame(rows, dtype=str), f"{kind}.csv", SITES, 2025, fs)
    return exc.value.problems


def test_an_unknown_vehicle_is_named_once_not_once_per_ttw_and_wtt(fs):
    found = problems("shipment", [example("shipment") | {"vehicle": "hovercraft"}], fs)
    assert [(p.row, p.column) for p in found] == [(2, "vehicle")]
    assert "no freight factor" in found[0].reason


def test_an_unknown_takeback_treatment_is_named_as_such_without_an_empty_factor_list(fs):
    found = problems("takeback", [example("takeback") | {"treatment": "melting"}], fs)
    assert [(p.row, p.column) for p in found] == [(2, "treatment")]
    assert found[0].reason.startswith("'melting' is not one of landfill, recycling_closed_loop")
    assert not any("subjects with use" in p.reason for p in found)


def test_a_negative_collected_mass_is_refused_for_its_sign_only(fs):
    found = problems("takeback", [example("takeback") | {"collected": "-5", "recycled": "3"}], fs)
    assert [(p.row, p.column, p.reason) for p in found] == [(2, "collected", "negative value -5.0 is not allowed")]


def test_an_unsupported_currency_names_the_supported_ones(fs):
    row = example("purchase") | {"currency": "JPY", "spend": "1000", "price_year": "2024", "eeio_code": "334111"}
    found = problems("purchase", [row], fs)
    reasons = [p.reason for p in found if p.column == "currency"]
    assert reasons == ["'JPY' is not a supported currency: the supported currencies are CNY, USD, HKD, EUR, GBP and "
                       "万元 (10,000 CNY)"]


def test_a_packaging_material_without_a_material_factor_is_refused_like_a_takeback_material(fs):
    found = problems("packaging", [example("packaging") | {"material": "kryptonite"}], fs)
    assert [(p.row, p.column) for p in found] == [(2, "material")]
    assert "no material factor" in found[0].reason and "kryptonite" in found[0].reason
    validate("packaging", pd.DataFrame([example("packaging")], dtype=str), "ok.csv", SITES, 2025, fs)


def test_problems_of_a_file_are_listed_in_row_order(fs):
    # Row 2 breaks a rule between columns (found late), row 3 a number (found early): listed 2 then 3.
    rows = [example("takeback") | {"recycled": "9", "collected": "4"},
            example("takeback") | {"collected": "many"},
            example("takeback") | {"unit": "kWh", "material": "kryptonite"}]
    found = problems("takeback", rows, fs)
    assert [p.row for p in found] == sorted(p.row for p in found) and {p.row for p in found} == {2, 3, 4}
    order = [c.name for c in SCHEMAS["takeback"]]
    row4 = [p.column for p in found if p.row == 4]
    assert row4 == sorted(row4, key=order.index)
