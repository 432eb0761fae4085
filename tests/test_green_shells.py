"""The green supply chain's command line, API and pages over one stored example (tests/test_green_service.py):
the same numbers everywhere, zh and en pages, and a supplier refused."""
from __future__ import annotations

import json

import pytest
from typer.testing import CliRunner

from tests.api_support import PASSWORD, client, fast_passwords, load_org, logged_in, person
from tests.test_green_service import PACKAGING_2024, PACKAGING_2025, SHIPMENT_2025, TAKEBACK_2025
from zerocarbon.cli import app
from zerocarbon.core.access import Role
from zerocarbon.services import accounting
from zerocarbon.errors import InputError
from zerocarbon.io.tables import read_table, validate
from zerocarbon.services.database import open_sessions
from zerocarbon.store import repos

ORG = "ORG"
DESNZ = "UK-DESNZ-2025.1"


def _store(sessions, tmp_path) -> None:
    load_org(sessions, ORG)
    for kind, year, text in (("packaging", 2025, PACKAGING_2025), ("packaging", 2024, PACKAGING_2024),
                             ("takeback", 2025, TAKEBACK_2025), ("shipment", 2025, SHIPMENT_2025)):
        path = tmp_path / f"{kind}_{year}.csv"
        path.write_text(text, encoding="utf-8")
        accounting.import_file(sessions, ORG, kind, path, year, DESNZ, actor="test")


@pytest.fixture
def db_url(tmp_path):
    url = f"sqlite:///{tmp_path / 'green.sqlite'}"
    sessions = open_sessions(url)
    _store(sessions, tmp_path)
    sessions.kw["bind"].dispose()
    return url


def _cli(*args):
    return CliRunner().invoke(app, list(args))


def test_cli_reports_as_json(db_url):
    r = _cli("packaging", "report", "--org", ORG, "--year", "2025", "--base-year", "2024", "--db", db_url, "--json")
    assert r.exit_code == 0, r.output
    out = json.loads(r.stdout)
    assert out["kg_per_unit"] == pytest.approx(11.5 / 12) and out["base"]["total_t"]["base"] == pytest.approx(8.8)
    r = _cli("recycling", "report", "--org", ORG, "--year", "2025", "--factors", DESNZ, "--db", db_url, "--json")
    assert r.exit_code == 0, r.output
    assert json.loads(r.stdout)["without_factors"] == ["wood"]
    r = _cli("logistics", "modal-shift", "--org", ORG, "--year", "2025", "--from", "road", "--to", "rail",
             "--min-km", "500", "--factors", DESNZ, "--db", db_url, "--json")
    assert r.exit_code == 0, r.output
    assert json.loads(r.stdout)["change_t"] == pytest.approx(-1.38256)
    r = _cli("supply-chain", "overview", "--org", ORG, "--year", "2025", "--factors", DESNZ, "--db", db_url, "--json")
    assert r.exit_code == 0, r.output
    assert {"production", "suppliers", "logistics", "recycling", "packaging", "scope3"} <= set(json.loads(r.stdout))


def test_cli_tables_and_a_bad_mode_is_a_usage_error(db_url, monkeypatch):
    from zerocarbon.cli.common import console

    monkeypatch.setattr(console, "width", 200)  # a narrow pseudo-terminal would fold product names
    r = _cli("logistics", "report", "--org", ORG, "--year", "2025", "--factors", DESNZ, "--db", db_url)
    assert r.exit_code == 0 and "road" in r.stdout and "121.1" in r.stdout
    r = _cli("packaging", "report", "--org", ORG, "--year", "2025", "--base-year", "2024", "--db", db_url)
    assert r.exit_code == 0 and "LAPTOP-A" in r.stdout and "-22.7 %" in r.stdout
    r = _cli("logistics", "modal-shift", "--org", ORG, "--year", "2025", "--to", "hovercraft", "--db", db_url)
    assert r.exit_code == 2 and "hovercraft" in r.output


@pytest.fixture
def world(sessions, tmp_path):
    with fast_passwords():
        _store(sessions, tmp_path)
        for role in Role:
            person(sessions, f"{role.value}@acme.cn", ORG, role.value)
        yield sessions


def test_api_serves_the_same_numbers(world):
    with fast_passwords():
        c = logged_in(world, "viewer@acme.cn")
    r = c.get(f"/api/v1/orgs/{ORG}/packaging/2025", params={"base_year": 2024})
    assert r.status_code == 200 and r.json()["total_t"] == pytest.approx(11.5)
    r = c.get(f"/api/v1/orgs/{ORG}/logistics/2025/modal-shift",
              params={"from": "road", "to": "rail", "min_km": 500, "factor_set": DESNZ})
    assert r.status_code == 200 and r.json()["tkm_moved"] == pytest.approx(16000)
    r = c.get(f"/api/v1/orgs/{ORG}/recycling/2025", params={"factor_set": DESNZ})
    assert r.json()["avoided_tco2e_memo"] == pytest.approx(15 * (3164.78049 - 1566.38638) / 1000
                                                          + 9 * (1193.96586 - 1092.35486) / 1000)
    assert c.get(f"/api/v1/orgs/{ORG}/supply-chain/2025").json()["packaging"]["status"] == "ok"
    r = c.get(f"/api/v1/orgs/{ORG}/logistics/2025/modal-shift", params={"to": "hovercraft"})
    assert r.status_code == 400 and '"column":"to"' in r.text
    with fast_passwords():
        supplier = logged_in(world, "supplier@acme.cn")
    assert supplier.get(f"/api/v1/orgs/{ORG}/supply-chain/2025").status_code == 403


def _browser(sessions, role: str, lang: str):
    with fast_passwords():
        c = client(sessions, follow_redirects=False)
        r = c.post("/web/login", data={"email": f"{role}@acme.cn", "password": PASSWORD, "next": "/web/"})
    assert r.status_code == 303, r.text
    assert c.get(f"/web/lang/{lang}").status_code == 303
    return c


@pytest.mark.parametrize("lang,words", [("en", ("Green supply chain", "Green packaging", "Recycling rate")),
                                        ("zh-CN", ("绿色供应链", "绿色包装", "再利用率"))])
def test_pages_render_in_both_languages(world, lang, words):
    c = _browser(world, "viewer", lang)
    hub = c.get(f"/web/orgs/{ORG}/supply", params={"year": 2025, "base_year": 2024})
    assert hub.status_code == 200 and words[0] in hub.text and words[1] in hub.text
    assert 'id="chart-packaging"' in hub.text and 'id="chart-logistics"' in hub.text
    assert 'id="supply-tabs"' in hub.text and f'href="/web/orgs/{ORG}/supply/suppliers?year=2025"' in hub.text
    data = json.loads(hub.text.split('id="green-data">', 1)[1].split("</script>", 1)[0])
    assert data["packaging"]["current"] == [0.85, 1.5] and data["packaging"]["base"] == [1.1, None]
    pack = c.get(f"/web/orgs/{ORG}/supply/packaging", params={"year": 2025, "base_year": 2024})
    assert pack.status_code == 200 and 'data-kg-per-unit="0.850000"' in pack.text and "-22.7 %" in pack.text
    rec = c.get(f"/web/orgs/{ORG}/supply/recycling", params={"year": 2025})
    assert rec.status_code == 200 and words[2] in rec.text and 'id="recycling-memo"' in rec.text
    empty = c.get(f"/web/orgs/{ORG}/supply/recycling", params={"year": 2020})
    assert 'id="recycling-no-data"' in empty.text


def test_logistics_page_runs_the_modal_shift_form(world):
    c = _browser(world, "energy_manager", "en")
    r = c.get(f"/web/orgs/{ORG}/supply/logistics", params={"year": 2025})
    assert r.status_code == 200 and 'id="modal-shift-form"' in r.text and 'id="modal-shift-result"' not in r.text
    # Category 4: the two road legs, 17,500 t.km x 0.12111 kg = 2.119 t; category 9: the sea leg, 9.885 t.
    assert "(C4): 2.119 tCO2e" in r.text and "(C9): 9.885 tCO2e" in r.text
    r = c.get(f"/web/orgs/{ORG}/supply/logistics", params={"year": 2025, "from": "road", "to": "sea", "min_km": 0})
    assert r.status_code == 200 and 'id="modal-shift-result"' in r.text and "sea.container_ship_average" in r.text


@pytest.mark.parametrize("path", ["/supply", "/supply/logistics", "/supply/packaging", "/supply/recycling"])
def test_supplier_is_refused_every_green_page(world, path):
    c = _browser(world, "supplier", "en")
    r = c.get(f"/web/orgs/{ORG}{path}", params={"year": 2025})
    assert r.status_code == 403
    assert "LAPTOP-A" not in r.text


def test_every_message_the_green_pages_use_is_in_both_catalogues():
    import re
    from pathlib import Path

    from zerocarbon.services import green_supply
    from zerocarbon.web import i18n

    en, zh = i18n.catalogue("en"), i18n.catalogue("zh-CN")
    templates = Path(i18n.__file__).parent / "templates"
    used = set()
    for path in [*templates.glob("green/*.html"), templates / "supply" / "_tabs.html"]:
        used |= set(re.findall(r"""t\(["']([a-z0-9_.-]+)["']\s*[),]""", path.read_text(encoding="utf-8")))
    # Keys built from values: statuses, modes, tabs, Scope 3 categories and methods.
    used |= {f"green.status.{s}" for s in (green_supply.OK, green_supply.NO_DATA, green_supply.NOT_AVAILABLE,
                                           green_supply.INVALID, "reported", "not evaluated")}
    used |= {f"green.mode.{m}" for m in ("road", "rail", "sea", "inland_waterway", "air")}
    used |= {f"green.tab.{k}" for k in ("overview", "scope3", "suppliers", "campaigns", "reductions", "logistics",
                                        "packaging", "recycling", "footprints")}
    # Scope 3 categories and methods are named once, by the Scope 3 page's area (locales/scope3).
    from zerocarbon.core.ghg.scope3 import CATEGORIES, METHOD_DQ
    used |= {f"category.{c}" for c in CATEGORIES} | {f"scope3.method.{m}" for m in METHOD_DQ}
    used |= {f"green.recycling.use.{u}" for u in ("primary", "closed_loop", "open_loop")}
    assert used - set(en) == set() and used - set(zh) == set()
    assert {k for k in en if k.startswith("green.")} == {k for k in zh if k.startswith("green.")}


def test_material_names_in_both_languages_for_every_material_of_the_shipped_set():
    """Every material and waste subject of the shipped DESNZ 2024 file has a name in English (DESNZ's, from
    docs/scope3-data.md) and in Chinese; an unknown key is shown as it is."""
    import csv
    from pathlib import Path

    from zerocarbon.web import i18n
    from zerocarbon.web.green import _material

    path = Path(i18n.__file__).parents[1] / "data" / "factors" / "scope3_desnz2024.csv"
    with path.open(encoding="utf-8") as f:
        keys = {r["subject"] for r in csv.DictReader(f) if r["kind"] in ("material", "waste")}
    assert len(keys) == 48
    en, zh = i18n.translator("en"), i18n.translator("zh-CN")
    for k in keys:
        assert _material(en, k) != k and _material(zh, k) != k, k
    assert _material(en, "paper_board") == "Paper and board: board" and _material(zh, "paper_board") == "纸和纸板：纸板"
    assert _material(en, "electrical_items_small") == "Electrical items - small"
    assert _material(zh, "electrical_items_small") == "电器：小型"
    assert _material(zh, "kryptonite") == "kryptonite"


def test_hub_chart_names_every_method_the_engine_emits():
    from zerocarbon.core.ghg.scope3 import METHOD_DQ
    from zerocarbon.web import i18n
    from zerocarbon.web.green import _hub_chart

    off = {"status": "no data"}
    o = {"scope3": {"status": "ok", "categories": [
        {"status": "reported", "number": 11, "methods": {"use_phase_energy": 2.5}},
        {"status": "reported", "number": 1, "methods": {m: 1.0 for m in METHOD_DQ if m != "use_phase_energy"}}]},
        "suppliers": off, "logistics": off, "packaging": off, "recycling": off}
    zh = i18n.translator("zh-CN")
    names = {s["name"] for s in _hub_chart(zh, o)["scope3"]["series"]}
    assert names == {zh(f"scope3.method.{m}") for m in METHOD_DQ} and "use_phase_energy" not in names
    assert "使用阶段能耗法" in names


def test_zh_packaging_and_recycling_pages_name_materials_and_the_missing_factor_in_chinese(world):
    c = _browser(world, "viewer", "zh-CN")
    pack = c.get(f"/web/orgs/{ORG}/supply/packaging", params={"year": 2025})
    assert pack.status_code == 200
    assert "<td>纸和纸板：纸板</td>" in pack.text and "<td>塑料：平均</td>" in pack.text
    assert "<td>paper_board</td>" not in pack.text
    rec = c.get(f"/web/orgs/{ORG}/supply/recycling", params={"year": 2025})
    assert rec.status_code == 200 and "<td>paper_board</td>" not in rec.text
    # DESNZ publishes no closed-loop factor for wood: the reason in Chinese, the material by its name.
    assert "因子集中没有木材的闭环回收材料因子" in rec.text and "no closed_loop material factor" not in rec.text
    en = _browser(world, "viewer", "en").get(f"/web/orgs/{ORG}/supply/recycling", params={"year": 2025})
    assert "no closed-loop material factor for Wood in the factor set" in en.text
    hub = c.get(f"/web/orgs/{ORG}/supply", params={"year": 2025})
    data = json.loads(hub.text.split('id="green-data">', 1)[1].split("</script>", 1)[0])
    assert "木材" in data["recycling"]["materials"] and "wood" not in data["recycling"]["materials"]


def test_cli_packaging_report_names_both_conflicting_rows_and_does_not_say_nothing_was_written(tmp_path):
    url = f"sqlite:///{tmp_path / 'p.sqlite'}"
    sessions = open_sessions(url)
    load_org(sessions, ORG)
    path = tmp_path / "pack-2025.csv"
    path.write_text(PACKAGING_2025.replace("LAPTOP-A,10000,plastics_average", "LAPTOP-A,9000,plastics_average"),
                    encoding="utf-8")
    # Imports refuse such rows now; rows stored before that check are what the report must name.
    with pytest.raises(InputError, match="different units produced"):
        accounting.import_file(sessions, ORG, "packaging", path, 2025, DESNZ, actor="test")
    with sessions.begin() as s:
        org_id, org = repos.load_organisation(s, ORG)
        frame = validate("packaging", read_table(path), path.name, {x.code for x in org.sites}, 2025)
        batch = repos.save_batch(s, org_id, "packaging", path.name, str(path), "0" * 64, 2025, frame, "test").id
    sessions.kw["bind"].dispose()
    r = _cli("packaging", "report", "--org", ORG, "--year", "2025", "--db", url)
    assert r.exit_code == 2  # as every refusal of input
    assert "stored rows the report reads" in r.output and "nothing was written" not in r.output
    assert (f"for 2025-01-01..2025-12-31: its packaging rows state different units produced "
            f"(b{batch}:pack-2025.csv:2 has 10000, b{batch}:pack-2025.csv:3 has 9000)") in " ".join(r.output.split())
    assert "00:00:00" not in r.output
