"""What a user meets when a target is refused or checked, the same in the command line, the API and the page:
an intensity target without its output figure is refused with the command that stores it (exit 2, HTTP 400,
the problem on the page); the reduction and renewable share are fractions in (0, 1] on the command line and in
the API and a percentage in (0, 100] on the page, refused outside that range everywhere and confirmed as
"-42 % by 2030"; the check names the rules that fail instead of a bare "passed"; every option has help text and
errors name options as options."""
from __future__ import annotations

from datetime import date

import pytest
import typer
from typer.testing import CliRunner

from tests.api_support import login_client, web_login_client
from tests.test_targets_api import API, make_world
from tests.test_targets_service import _cli
from zerocarbon.cli import targets as cli_targets
from zerocarbon.cli.common import console
from zerocarbon.errors import InputError
from zerocarbon.services import targets
from zerocarbon.store import targets as store

PAGE = "/web/orgs/ORG/targets"


@pytest.fixture
def world(sessions, tmp_path):
    yield from make_world(sessions, tmp_path)


@pytest.fixture
def cli(world, monkeypatch):
    sessions, _ = world
    if sessions.kw["bind"].url.get_backend_name() != "sqlite":
        pytest.skip("the command line is exercised on the SQLite database")
    monkeypatch.setattr(console, "width", 200)
    db = str(sessions.kw["bind"].url)
    app = _cli()

    def run(*args):
        return CliRunner().invoke(app, ["targets", *args, "--org", "ORG", "--db", db])

    return run


def english(app, email: str):
    c = web_login_client(app, email)
    c.get(f"/web/lang/en?next={PAGE}")  # the language toggle sets its cookie
    return c


def _ids(sessions) -> list[str]:
    return [t["id"] for t in targets.list_targets(sessions, "ORG")]


# --- an intensity target without an output figure ---------------------------------------------------------------

def test_intensity_without_output_figure_is_refused_with_the_command_to_store_it(world, cli):
    sessions, app = world
    with pytest.raises(InputError) as e:
        targets.set_target(sessions, "ORG", kind="intensity", scopes="s1s2", base_year=2023, target_year=2030,
                           reduction=0.4, actor="t")
    [p] = e.value.problems
    assert p.column == "denominator" and "zerocarbon targets output set --org ORG --year 2023" in p.reason
    r = cli("set", "--kind", "intensity", "--base-year", "2023", "--target-year", "2030", "--reduction", "0.4")
    assert r.exit_code == 2 and "targets output set" in r.output and "--denominator" in r.output, r.output
    assert "internal error" not in r.output
    c = login_client(app, "energy_manager@acme.cn")
    r = c.post(API, json={"kind": "intensity", "base_year": 2023, "target_year": 2030, "reduction": 0.4})
    assert r.status_code == 400 and "targets output set" in r.text
    w = web_login_client(app, "energy_manager@acme.cn")
    r = w.post(PAGE, data={"kind": "intensity", "base_year": 2023, "target_year": 2030, "amount": "40",
                           "csrf": w.cookies.get("zc_csrf")})
    assert r.status_code == 400 and 'id="problems"' in r.text and "targets output set" in r.text
    assert _ids(sessions) == ["A"]


# --- one rule for the reduction and the renewable share ----------------------------------------------------------

def test_page_takes_a_percentage_and_confirms_what_was_stored(world):
    sessions, app = world
    w = english(app, "energy_manager@acme.cn")
    token = w.cookies.get("zc_csrf")
    page = w.get(PAGE).text
    assert 'name="amount"' in page and 'id="amount-unit">%<' in page  # the unit is visible beside the field
    for amount in ("150", "0", "-5", "1e9"):
        r = w.post(PAGE, data={"kind": "absolute", "base_year": 2023, "target_year": 2030, "amount": amount,
                               "csrf": token})
        assert r.status_code == 400 and "(0, 100]" in r.text, amount
    assert _ids(sessions) == ["A"]
    r = w.post(PAGE, data={"kind": "absolute", "base_year": 2023, "target_year": 2030, "amount": "1.5",
                           "csrf": token})
    assert r.status_code == 303
    [t] = [t for t in targets.list_targets(sessions, "ORG") if t["id"] != "A"]
    assert t["reduction"] == pytest.approx(0.015)  # 1.5 on the page is 1.5 %, never 150 %
    page = w.get(r.headers["location"]).text
    assert 'id="target-stored"' in page and "−1.5 % by 2030" in page


def test_fraction_outside_the_range_is_refused_alike_in_cli_and_api(world, cli):
    sessions, app = world
    r = cli("set", "--kind", "absolute", "--base-year", "2023", "--target-year", "2030", "--reduction", "1.5")
    assert r.exit_code == 2 and "--reduction: 1.5 is outside (0, 1]" in r.output, r.output
    c = login_client(app, "energy_manager@acme.cn")
    r = c.post(API, json={"kind": "absolute", "base_year": 2023, "target_year": 2030, "reduction": 1.5})
    assert r.status_code == 400 and "1.5 is outside (0, 1]" in r.text
    r = cli("set", "--kind", "renewable_electricity", "--base-year", "2023", "--target-year", "2030",
            "--re-share", "90")
    assert r.exit_code == 2 and "--re-share: 90 is outside (0, 1]" in r.output, r.output
    assert _ids(sessions) == ["A"]
    r = cli("set", "--kind", "absolute", "--base-year", "2023", "--target-year", "2030", "--reduction", "0.42")
    assert r.exit_code == 0 and "-42 % by 2030" in r.output, r.output
    r = cli("set", "--kind", "renewable_electricity", "--base-year", "2023", "--target-year", "2030",
            "--re-share", "0.9")
    assert r.exit_code == 0 and "90 % renewable electricity by 2030" in r.output, r.output


# --- the check says what fails ----------------------------------------------------------------------------------

@pytest.fixture
def material_scope3(monkeypatch):
    """Every stored inventory with Scope 3 at four times Scopes 1+2 (the test inventories hold electricity only)."""
    real = store.inventory_years

    def with_scope3(s, org_id, boundary):
        years = real(s, org_id, boundary)
        for totals in years.values():
            totals["scope3_t"] = 4 * (totals["scope1_t"] + totals["scope2_market_t"])
        return years

    monkeypatch.setattr(store, "inventory_years", with_scope3)


def test_check_names_the_failing_rules(world, cli, material_scope3):
    sessions, app = world
    targets.delete_target(sessions, "ORG", "A", actor="t")  # set in 2026, 2030 is too near: timeframe fails
    targets.set_target(sessions, "ORG", kind="absolute", scopes="s1s2", base_year=2023, target_year=2030,
                       reduction=0.5, code="A", submitted=date(2024, 3, 1), actor="t")
    rep = targets.check(sessions, "ORG", "A")
    assert rep["ambition"] == "1.5C" and rep["failing"] == ["scope3_required"] and rep["passed"] is False
    r = cli("check", "A")
    assert r.exit_code == 0 and "passed: yes" not in r.output
    assert "ambition: 1.5 °C aligned" in r.output and "rules failing: scope3_required" in r.output, r.output
    page = english(app, "viewer@acme.cn").get(PAGE).text
    assert '<li data-rule="scope3_required" data-passed="False">[fails]' in page
    assert 'id="failing-A"' in page
    # a near-term Scope 3 target stored: the requirement is met, nothing fails
    targets.set_target(sessions, "ORG", kind="absolute", scopes="s3", base_year=2023, target_year=2030,
                       reduction=0.3, code="S3", actor="t")
    rep = targets.check(sessions, "ORG", "A")
    assert rep["failing"] == [] and rep["passed"] is True
    assert "rules failing: none" in cli("check", "A").output


# --- help and option names ----------------------------------------------------------------------------------------

def test_every_option_and_argument_has_help():
    command = typer.main.get_command(cli_targets.app)
    missing = []

    def walk(cmd, path):
        if hasattr(cmd, "commands"):  # a group (typer's own, not a click.Group subclass)
            for name, sub in cmd.commands.items():
                walk(sub, f"{path} {name}")
            return
        for p in cmd.params:
            if not (getattr(p, "help", None) or "").strip():
                missing.append(f"{path} {p.name}")

    walk(command, "targets")
    assert missing == []


def test_errors_name_options_and_say_what_is_missing(world, cli):
    r = cli("set", "--kind", "absolute", "--base-year", "2023", "--target-year", "2023", "--reduction", "0.5")
    assert r.exit_code == 2 and "--target-year: target year 2023 must come after" in r.output, r.output
    assert "column 'target_year'" not in r.output
    r = cli("set", "--kind", "absolute", "--base-year", "2023", "--target-year", "2030")
    assert r.exit_code == 2 and "--reduction: required for kind absolute" in r.output, r.output
    assert "None" not in r.output
    r = cli("output", "set", "--year", "2023", "--metric", "pieces", "--value", "5", "--unit", "unit")
    assert r.exit_code == 2 and "--metric: 'pieces' is not one of units, revenue" in r.output, r.output
