"""Supply-chain files go through the ordinary import (all-or-nothing, double-counting checks) into the inventory:
Scope 3 rows land in the ledger beside Scope 1 and 2 (SQLite, fast)."""
from __future__ import annotations

import pandas as pd
import pytest

from tests.helpers import database_with_org
from zerocarbon.errors import InputError
from zerocarbon.io.schemas import SCHEMAS
from zerocarbon.services import accounting
from zerocarbon.services.database import open_sessions


def write(tmp_path, name, rows):
    path = tmp_path / name
    pd.DataFrame(rows, dtype=str).to_csv(path, index=False)
    return path


def example(kind, **cells):
    return {c.name: c.example for c in SCHEMAS[kind]} | {"period_start": "2025-01-01", "period_end": "2025-12-31"} \
        | cells


def test_import_and_compute_scope3(tmp_path):
    sessions = open_sessions(database_with_org(tmp_path))
    shipment = example("shipment", fuel="", fuel_quantity="", fuel_unit="", carrier_co2e="", carrier_co2e_unit="")
    accounting.import_file(sessions, "ORG", "shipment", write(tmp_path, "legs.csv", [shipment]), 2025, "CN-2025.1",
                           actor="t")
    # The same leg in another file is a double count: refused, nothing written.
    with pytest.raises(InputError) as exc:
        accounting.import_file(sessions, "ORG", "shipment", write(tmp_path, "again.csv", [shipment | {"mass": "13"}]),
                               2025, "CN-2025.1", actor="t")
    assert exc.value.problems[0].row == 2 and "shipment leg" in exc.value.problems[0].reason
    waste = example("waste")
    accounting.import_file(sessions, "ORG", "waste", write(tmp_path, "waste.csv", [waste]), 2025, "CN-2025.1",
                           actor="t")
    # Blank optional numbers (price_year, an integer column) round-trip through the store.
    no_spend = {"spend": "", "currency": "", "price_year": "", "eeio_code": "", "exchange_rate": "", "pcf_id": ""}
    purchases = [example("purchase", **no_spend),
                 example("purchase", **no_spend, item="steel", supplier_co2e="", supplier_co2e_unit="",
                         supplier_scope12_co2e="", evidence="")]
    accounting.import_file(sessions, "ORG", "purchase", write(tmp_path, "buy.csv", purchases), 2025, "CN-2025.1",
                           actor="t")
    result = accounting.compute(sessions, "ORG", 2025, "CN-2025.1", actor="t")
    s3 = result.ledger[result.ledger["scope"] == "3"]
    assert set(s3["category"]) == {"c1_purchased_goods", "c4_upstream_transport", "c5_waste"}
    assert s3["activity_id"].astype(str).str.endswith(("legs.csv:2", "waste.csv:2", "buy.csv:2", "buy.csv:3")).all()
    methods = {aid.rsplit("buy.csv", 1)[1]: m for aid, m in zip(s3["activity_id"].astype(str), s3["calc_method"])
               if "buy.csv" in aid}
    assert methods == {":2": "supplier_specific", ":3": "average_data"}
    table = result.scope3_by_category().set_index("category")
    assert table.at["c1_purchased_goods", "status"] == "reported"
    assert table.at["c7_commuting", "status"] == "no data"
    assert result.totals()["scope3_t"] == pytest.approx(s3["co2e_t"].sum())
    assert result.totals()["total_location_t"] == 0.0
