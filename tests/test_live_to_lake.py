"""Live readings (the database's readings table) reach the lake, where roll-ups and energy reports read them.

Before, the readings table was written by the MQTT ingest and read by nothing in the product."""
from datetime import datetime

import pytest

from zerocarbon.core.energy.intervals import Meter
from zerocarbon.errors import InputError
from tests.api_support import load_org
from zerocarbon.io.mqtt import LiveReading
from zerocarbon.services import energy_data
from zerocarbon.services.ingest import live_to_lake
from zerocarbon.store import repos

METER = Meter("TJ01-MAIN", "TJ01", revenue=True)


def _store(sessions, values, org="ORG"):
    load_org(sessions, org)
    with sessions.begin() as s:
        org_id = repos.organisation_id(s, org)
        repos.save_meters(s, org_id, [METER])
        repos.insert_readings(s, org_id, [LiveReading(METER.id, datetime(2025, 3, 1, 0, 15 * i), v, "kWh", "")
                                  for i, v in enumerate(values)])


def test_live_readings_reach_the_lake_once(sessions, tmp_path):
    _store(sessions, [10.0, 12.5, 7.25])
    first = live_to_lake(sessions, tmp_path / "lake", "ORG")
    assert (first.readings, first.new, first.already_stored) == (3, 3, 0)
    again = live_to_lake(sessions, tmp_path / "lake", "ORG")
    assert (again.new, again.already_stored) == (0, 3)
    daily = energy_data.rollup(tmp_path / "lake", "ORG", {METER.id: METER}, by="meter", freq="day")
    assert daily["value"].sum() == pytest.approx(29.75) and set(daily["unit"]) == {"kWh"}


def test_a_changed_value_is_refused_and_nothing_written(sessions, tmp_path):
    _store(sessions, [10.0])
    live_to_lake(sessions, tmp_path / "lake", "ORG")
    with sessions.begin() as s:
        s.connection().exec_driver_sql("UPDATE readings SET value = 11")
    with pytest.raises(InputError, match="differ from what the lake holds"):
        live_to_lake(sessions, tmp_path / "lake", "ORG")
