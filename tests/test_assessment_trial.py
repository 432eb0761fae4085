"""What a first user of the assessment meets: gate values entered and reviewed on the page, out-of-range manual
values refused at entry (service, CLI, page), the CLI saying when a dimension is zeroed and wrapping its notes,
the Chinese page in Chinese, unknown measure ids refused against the shipped catalogue, and the CLI's help."""
from __future__ import annotations

import re

import pytest
import typer
from typer.testing import CliRunner

from tests.assessment_fixtures import MINI_SYSTEM
from tests.test_assessment_metrics import ORG, YEAR, stored_year
from tests.test_assessment_web import app_with_pages, browser
from tests.api_support import person_per_role
from zerocarbon.cli import assess
from zerocarbon.cli.common import ErrorHandlingGroup
from zerocarbon.errors import InputError
from zerocarbon.services import assessment as svc

NO_METERS = svc.EnergyData()
ENTERER = "user:admin@acme.cn"
# A mandatory indicator the scoring can never fill without meter data, so its dimension is zeroed.
ZEROING = MINI_SYSTEM.replace("        points: 30\n", "        points: 30\n        mandatory: true\n", 1).replace(
    "metric: energy.kwh_per_unit\n        unit: kWh/unit\n        rule: {kind: linear, direction: lower, baseline: 10.0, "
    "leading: 2.0}", "metric: energy.metered_share\n        unit: fraction\n        rule: {kind: linear, baseline: 0, "
    "leading: 1}")
PAGES = app_with_pages  # the autouse fixture that registers the pages, used here by its name
runner = CliRunner()
cli = typer.Typer(cls=ErrorHandlingGroup)
cli.add_typer(assess.app, name="assess")


@cli.command("noop")
def _noop() -> None:
    """Keeps the test app a group."""


@pytest.fixture
def world(sessions, tmp_path):
    stored_year(sessions, tmp_path)
    person_per_role(sessions, ORG)
    svc.add_system(sessions, ORG, "mini.yaml", ZEROING.encode(), actor="setup")
    a = svc.create(sessions, ORG, "mini_factory", YEAR, "TJ01", energy=NO_METERS, actor=ENTERER)
    return sessions, a["id"]


def _entries(sessions, aid) -> int:
    return len(svc.get(sessions, ORG, aid)["entries"])


# --- 1: gate metrics on the page ----------------------------------------------------------------------------------

def test_page_offers_gate_metrics_and_a_review_form_for_every_pending_entry(world):
    sessions, aid = world
    em = browser(sessions, "energy_manager@acme.cn")
    page = em.get(f"/web/orgs/{ORG}/assessments/{aid}").text
    form = re.search(r'id="entry-form".*?</form>', page, re.S).group(0)
    assert 'value="manual.compliance_3y"' in form and 'value="manual.plan_items"' in form
    r = em.post(f"/web/orgs/{ORG}/assessments/{aid}/entries",
                data={"csrf": em.cookies.get("zc_csrf"), "metric": "manual.compliance_3y", "value": "1"},
                files={"evidence": ("permits.pdf", b"permits")})
    assert r.status_code == 303
    aud = browser(sessions, "auditor@acme.cn")
    page = aud.get(f"/web/orgs/{ORG}/assessments/{aid}").text
    assert f"/assessments/{aid}/entries/manual.compliance_3y/review" in page
    gates = re.search(r'id="gates".*?</section>', page, re.S).group(0)
    assert "permits.pdf" in gates and "review-form" in gates
    r = aud.post(f"/web/orgs/{ORG}/assessments/{aid}/entries/manual.compliance_3y/review",
                 data={"csrf": aud.cookies.get("zc_csrf"), "decision": "accept"})
    assert r.status_code == 303
    assert svc.get(sessions, ORG, aid)["result"]["gates"][0]["passed"] is True


# --- 3: out-of-range manual values --------------------------------------------------------------------------------

FRACTION_SYSTEM = ZEROING.replace("metric: energy.renewable_electricity_share", "metric: manual.pv_share")


@pytest.mark.parametrize("metric,value,why", [
    ("manual.plan_items", 99, "between 0 and 2"),
    ("manual.plan_items", 1.5, "between 0 and 2"),
    ("manual.compliance_3y", 5, "0 (no) or 1 (yes)"),
    ("manual.pv_share", 2.5, "between 0 and 1"),
])
def test_out_of_range_manual_values_are_refused_at_entry(sessions, tmp_path, metric, value, why):
    stored_year(sessions, tmp_path)
    svc.add_system(sessions, ORG, "f.yaml", FRACTION_SYSTEM.replace("mini_factory", "frac").encode(), actor="t")
    aid = svc.create(sessions, ORG, "frac", YEAR, "TJ01", energy=NO_METERS, actor=ENTERER)["id"]
    with pytest.raises(InputError) as e:
        svc.enter(sessions, ORG, aid, metric, value, evidence_name="e.txt", evidence=b"e", actor=ENTERER)
    assert any(p.column == "value" and why in p.reason for p in e.value.problems), e.value.problems
    assert _entries(sessions, aid) == 0
    svc.enter(sessions, ORG, aid, metric, 1, evidence_name="e.txt", evidence=b"e", actor=ENTERER)


def test_physical_manual_value_below_zero_is_refused(sessions, tmp_path):
    stored_year(sessions, tmp_path)
    phys = MINI_SYSTEM.replace("metric: energy.kwh_per_unit", "metric: manual.kwh_per_unit").replace("mini_factory", "ph")
    svc.add_system(sessions, ORG, "p.yaml", phys.encode(), actor="t")
    aid = svc.create(sessions, ORG, "ph", YEAR, "TJ01", energy=NO_METERS, actor=ENTERER)["id"]
    with pytest.raises(InputError, match="must not be negative"):
        svc.enter(sessions, ORG, aid, "manual.kwh_per_unit", -3, evidence_name="e", evidence=b"e", actor=ENTERER)


def test_page_refuses_out_of_range_value_with_400(world):
    sessions, aid = world
    em = browser(sessions, "energy_manager@acme.cn")
    r = em.post(f"/web/orgs/{ORG}/assessments/{aid}/entries",
                data={"csrf": em.cookies.get("zc_csrf"), "metric": "manual.compliance_3y", "value": "5"},
                files={"evidence": ("e.txt", b"e")})
    assert r.status_code == 400 and "0 (no) or 1 (yes)" in r.text
    assert _entries(sessions, aid) == 0


# --- 6 and 8: the CLI shows zeroed dimensions and wraps notes -----------------------------------------------------

def _cli_world(tmp_path, monkeypatch):
    from zerocarbon.cli.common import console
    from zerocarbon.services.database import open_sessions

    monkeypatch.setattr(console, "width", 160)
    for var in ("ZEROCARBON_LAKE", "ZEROCARBON_METERS", "ZEROCARBON_PRODUCTION"):
        monkeypatch.delenv(var, raising=False)
    db = f"sqlite:///{tmp_path / 'z.sqlite'}"
    sessions = open_sessions(db, create=True)
    stored_year(sessions, tmp_path)
    svc.add_system(sessions, ORG, "mini.yaml", ZEROING.encode(), actor="setup")
    aid = svc.create(sessions, ORG, "mini_factory", YEAR, "TJ01", energy=NO_METERS, actor=ENTERER)["id"]
    return db, aid, sessions


def test_cli_show_says_when_and_why_a_dimension_is_zeroed_and_wraps_notes(tmp_path, monkeypatch):
    db, aid, _ = _cli_world(tmp_path, monkeypatch)
    r = runner.invoke(cli, ["assess", "show", str(aid), "--org", ORG, "--db", db])
    assert r.exit_code == 0, r.output
    assert re.search(r"Performance.*zeroed: mandatory indicator kwh_unit scored 0", r.output), r.output
    flat = " ".join(r.output.replace("│", " ").split())
    assert "ZEROCARBON_LAKE and ZEROCARBON_METERS" in flat
    assert "the server's" not in r.output
    assert not re.search(r"ZEROCA\s", r.output)


def test_cli_manual_out_of_range_exits_2_and_stores_nothing(tmp_path, monkeypatch):
    db, aid, sessions = _cli_world(tmp_path, monkeypatch)
    ev = tmp_path / "e.txt"
    ev.write_text("e", encoding="utf-8")
    r = runner.invoke(cli, ["assess", "manual", str(aid), "manual.plan_items", "99", "--org", ORG, "--evidence",
                            str(ev), "--db", db, "--actor", "em"])
    assert r.exit_code == 2 and "between 0 and 2" in r.output
    assert _entries(sessions, aid) == 0


# --- 7: the Chinese page ------------------------------------------------------------------------------------------

def test_chinese_page_names_grades_and_translates_note_phrases(world):
    sessions, aid = world
    c = browser(sessions, "viewer@acme.cn")
    c.get("/web/lang/zh_CN")
    page = c.get(f"/web/orgs/{ORG}/assessments/{aid}").text
    shortfalls = re.search(r'id="missing-for-next".*?</ul>', page, re.S).group(0)
    assert "铜级" in shortfalls and "bronze" not in shortfalls
    assert "not available:" not in page and "no value" not in page
    assert "无法计算" in page


# --- 9: unknown measure ids ---------------------------------------------------------------------------------------

def test_unknown_measure_id_is_refused_with_its_path(sessions, tmp_path):
    bad = MINI_SYSTEM.replace("measures: [rooftop_pv, green_certificates]", "measures: [rooftop_pvv]")
    with pytest.raises(InputError) as e:
        svc.validate_system("bad.yaml", bad)
    assert any(p.column == "dimensions[0].indicators[0].measures[0]" and "rooftop_pvv" in p.reason
               for p in e.value.problems), e.value.problems
    f = tmp_path / "bad.yaml"
    f.write_text(bad, encoding="utf-8")
    r = runner.invoke(cli, ["assess", "validate", str(f)])
    assert r.exit_code == 2 and "measures[0]" in r.output
    stored_year(sessions, tmp_path)
    with pytest.raises(InputError):
        svc.add_system(sessions, ORG, "bad.yaml", bad, actor="t")
    assert not [s for s in svc.list_systems(sessions, ORG) if s.origin == "own"]


# --- 11: help and defaults ----------------------------------------------------------------------------------------

def _options(cmd) -> list:
    return [p for p in cmd.params if p.param_type_name == "option"]


def test_every_assess_option_has_help_and_chart_defaults_to_english():
    from typer.main import get_command

    group = get_command(cli).commands["assess"]
    missing = []
    for name, cmd in group.commands.items():
        subs = getattr(cmd, "commands", None) or {}
        for c in [cmd, *subs.values()]:
            missing += [f"{c.name} {p.opts[0]}" for p in _options(c) if not p.help]
    assert not missing, missing
    lang = next(p for p in _options(group.commands["chart"]) if p.name == "lang")
    assert lang.default == "en"


def test_systems_without_org_lists_the_shipped_systems(monkeypatch):
    from zerocarbon.cli.common import console

    monkeypatch.setattr(console, "width", 200)
    r = runner.invoke(cli, ["assess", "systems"])
    assert r.exit_code == 0, r.output
    for system in svc.list_systems():
        assert system.id in r.output
