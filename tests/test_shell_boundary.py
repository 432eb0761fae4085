"""The boundary every shell stands on: one exception tree with structured fields, services that require the
actor, and a CLI that records who it acts as."""
import getpass
import inspect
import json

import pandas as pd
import pytest
from typer.testing import CliRunner

from zerocarbon.cli import app
from zerocarbon.core.energy.intervals import Rejected
from zerocarbon.core.factors import load_factor_set
from zerocarbon.core.ghg.combustion import fuel_route
from zerocarbon.errors import (ConflictError, FactorNotFoundError, InputError, MessageError, NotFoundError, Problem,
                               ZerocarbonError)
from zerocarbon.io.mqtt import PayloadError, parse_message
from zerocarbon.services import accounting, factor_sets, meter_import, users
from zerocarbon.store.lake import LakeConflict
from zerocarbon.store.lake_import import BulkRejected

from tests.conftest import DATA


def test_stray_error_classes_join_the_tree_and_keep_their_builtin_base():
    """Defect: Rejected, BulkRejected, LakeConflict and PayloadError were bare ValueErrors, so a shell catching
    ZerocarbonError turned them into internal errors."""
    for cls in (Rejected, BulkRejected, LakeConflict, PayloadError):
        assert issubclass(cls, ZerocarbonError) and issubclass(cls, ValueError), cls
    assert issubclass(Rejected, InputError) and issubclass(BulkRejected, InputError)
    assert issubclass(LakeConflict, ConflictError) and issubclass(PayloadError, MessageError)


def test_rejected_rows_carry_row_column_reason_and_take_the_file_name_from_the_caller():
    exc = Rejected([(7, "timestamp", "not a time")])
    assert exc.problems == [Problem("", 7, "timestamp", "not a time")]
    named = exc.in_file("meters.csv", lambda c: {"timestamp": "Zeit"}[c])
    assert named.problems == [Problem("meters.csv", 7, "Zeit", "not a time")]
    assert str(named.problems[0]) == "meters.csv, row 7, column 'Zeit': not a time"


def test_lake_conflict_and_payload_error_carry_column_and_reason():
    rows = pd.DataFrame({"meter": ["M1"], "ts": [pd.Timestamp("2025-01-01")], "value": [2.0], "value_old": [1.0]})
    exc = LakeConflict(rows)
    assert exc.column == "value" and exc.reason.startswith("1 reading(s) differ") and exc.rows is rows
    with pytest.raises(PayloadError) as bad:
        parse_message("zc/O1/S1/-/-/M1", b"not json")
    assert bad.value.reason.startswith("payload is not UTF-8 JSON")


def test_fuel_route_errors_name_their_column_instead_of_leaving_it_to_message_parsing():
    """Defect: importers guessed the column from words in the message ("basis" in text ...)."""
    fs = load_factor_set("CN-2025.1")
    with pytest.raises(FactorNotFoundError) as use:
        fuel_route(fs, "natural_gas", "flying", "t")
    assert use.value.column == "use"
    with pytest.raises(FactorNotFoundError) as fuel:
        fuel_route(fs, "unobtainium", "stationary", "t")
    assert fuel.value.column == "fuel"
    with pytest.raises(ZerocarbonError) as basis:
        fuel_route(fs, "natural_gas", "stationary", "GJ")
    assert basis.value.column == "basis"


def test_unknown_site_of_an_organisation_is_a_not_found_error_naming_the_site(tmp_path):
    from zerocarbon.io.org import read_organisation

    with pytest.raises(NotFoundError) as exc:
        read_organisation(DATA / "organisation.yaml").site("NOPE")
    assert exc.value.entity == "NOPE"


@pytest.mark.parametrize("fn", [
    accounting.load_organisation_file, accounting.import_file, accounting.replace_batch, accounting.undo_batch,
    accounting.reopen_inventory, accounting.compute, accounting.close_inventory, accounting.record_base_year_change,
    factor_sets.import_set, meter_import.register_meters, users.add_member, users.remove_member, users.set_password,
    users.set_active, users.create_token, users.revoke_token])
def test_services_that_change_data_require_an_explicit_actor(fn):
    """Defect: every service defaulted to actor="cli", so a second shell that forgot it wrote 'cli' in the
    audit trail."""
    p = inspect.signature(fn).parameters["actor"]
    assert p.default is inspect.Parameter.empty and p.kind is inspect.Parameter.KEYWORD_ONLY


def test_cli_records_cli_and_the_os_user_as_actor(tmp_path):
    """Defect: `org load` wrote 'cli' and `import` the bare OS user; now both say cli:<OS user>."""
    db = f"sqlite:///{tmp_path / 'zc.sqlite'}"
    runner = CliRunner()
    r = runner.invoke(app, ["org", "load", str(DATA / "organisation.yaml"), "--db", db])
    assert r.exit_code == 0, r.output
    r = runner.invoke(app, ["audit", "log", "--db", db, "--json"])
    assert r.exit_code == 0, r.output
    actors = {e["actor"] for e in json.loads(r.stdout)}
    assert actors == {f"cli:{getpass.getuser()}"}
