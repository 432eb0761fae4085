"""The disclosure API per role, on small stand-ins for the disclosure service and the renderers (the real ones are
exercised by their own tests and by the permission matrix): every reader (``disclose.read``) gets the summary, a
report, its files (media type and file name), the inputs, the publications and the verification; only
``disclose.prepare`` uploads inputs, only ``disclose.publish`` publishes; a refused publication and a refused file
are problem details; another organisation's disclosure is not found.

The stand-ins are shared with the command-line and web tests (``fakes``).
"""
from __future__ import annotations

import importlib
import sys
import types
from dataclasses import dataclass, field
from datetime import datetime, timezone

import pytest

from tests.api_support import app_with, load_org, login_client, person, person_per_role
from zerocarbon.core.access import Role, allowed
from zerocarbon.core.disclosure.model import (MISSING, REPORTED, Check, DataPoint, DisclosureInput, Fact, Framework,
                                              Part, Report, ReportLine)
from zerocarbon.errors import ConflictError, InputError, NotFoundError, Problem


def _module(name: str):
    """The module, or an empty stand-in while it does not exist yet (the tests replace what they call)."""
    try:
        return importlib.import_module(name)
    except ModuleNotFoundError as exc:
        if exc.name != name:
            raise
        mod = types.ModuleType(name)
        sys.modules[name] = mod
        parent, _, child = name.rpartition(".")
        setattr(sys.modules[parent], child, mod)
        return mod


SERVICE = _module("zerocarbon.services.disclosure")
FACTS = _module("zerocarbon.services.disclosure_facts")
RENDER = _module("zerocarbon.io.disclosure")

from zerocarbon.api.routes import disclosure as api_disclosure  # noqa: E402 - after the stand-ins exist
from zerocarbon.web import disclosure as web_disclosure  # noqa: E402

ORG = "ORG"
YEAR = 2025
API = f"/api/v1/orgs/{ORG}/disclosure"

HKEX = Framework("hkex", "HKEX ESG Reporting Code", "香港交易所环境、社会及管治报告守则", "2025", "HKEX Appendix C2")
ISSB = Framework("issb_s2", "IFRS S2 Climate-related Disclosures", "国际财务报告可持续披露准则第2号", "2023", "IFRS S2",
                 taxonomy="https://xbrl.ifrs.org/taxonomy/2024-04-26/ifrs-sds_entry_point_2024-04-26.xsd",
                 prefix="ifrs-sds")
FRAMEWORKS = {"hkex": HKEX, "issb_s2": ISSB}


def _point(fw: str, pid: str, label: str, label_zh: str, unit: str, fact: str, req: str = "mandatory") -> DataPoint:
    return DataPoint(fw, pid, "Emissions", label, label_zh, unit, fact, req)


POINTS = [
    _point("hkex", "KPI A1.2a", "Scope 1 emissions", "范围一排放", "tCO2e", "ghg.scope1"),
    _point("hkex", "KPI A1.2b", "Scope 2 emissions (location)", "范围二排放(基于位置)", "tCO2e",
           "ghg.scope2_location"),
    _point("hkex", "KPI A2.2", "Water consumption", "总耗水量", "m3", "input.water.consumption", "comply_or_explain"),
    _point("hkex", "A1", "Emissions policy", "排放政策", "text", "text.emissions_policy", "comply_or_explain"),
    _point("issb_s2", "29(a)(i)", "Scope 1", "范围一", "tCO2e", "ghg.scope1"),
]

LEDGER = {"source": "ledger", "filter": {"scope": "1", "method": "", "site": "TJ01", "category": "", "gas": ""},
          "inventory": {"year": YEAR, "boundary": "operational_control", "factor_set": "CN-2025.1"},
          "batches": {"7": {"source": "fuel_2025.csv", "sha256": "ab" * 32, "kind": "fuel", "rows": 12}},
          "factors": ["CN-2025.1:natural_gas"]}


def _lines(fw: str) -> list[ReportLine]:
    p = {x.id: x for x in POINTS if x.framework == fw}
    if fw == "issb_s2":
        return [ReportLine(p["29(a)(i)"], 1234.5, REPORTED, lineage=LEDGER, prior=1100.0, change=0.1223)]
    return [
        ReportLine(p["KPI A1.2a"], 1234.5, REPORTED, lineage=LEDGER, prior=1100.0, published_prior=1000.0,
                   restated=True, restatement="base-year change: acquisition of CD01", change=0.1223,
                   breakdown=(Part("TJ01", 1000.0), Part("CD01", 234.5))),
        ReportLine(p["KPI A1.2b"], 5678.9, REPORTED, prior=5000.0, change=0.1358,
                   lineage={"source": "ledger", "filter": {"scope": "2", "method": "location", "site": "",
                                                           "category": "", "gas": ""}}),
        ReportLine(p["KPI A2.2"], None, MISSING, "no disclosure input input.water.consumption: enter it with "
                   "`zerocarbon disclose inputs import FILE`", "缺少披露输入 input.water.consumption,请用 "
                   "`zerocarbon disclose inputs import FILE` 录入",
                   lineage={"source": "inputs"}),
        ReportLine(p["A1"], "We cut energy use every year.", REPORTED,
                   lineage={"source": "inputs", "input": {"source": "ESG policy 2025.pdf"}}),
    ]


def _checks(fw: str, errors: bool) -> list[Check]:
    found = [Check("change", "warning", "KPI A1.2a", "Scope 1 changed by +12.2 %: explain why",
                   "范围一变化 +12.2%:请说明原因"),
             Check("change", "info", "KPI A1.2a", "restated: base-year change", "已重述:基准年变更")]
    if errors:
        found.insert(0, Check("completeness", "error", "KPI A2.2", "mandatory data point missing",
                              "强制披露项缺失"))
    return found if fw == "hkex" else []


@dataclass(frozen=True)
class InputsImported:
    count: int
    keys: list[str]
    replaced: list[str]


@dataclass(frozen=True)
class Publication:
    id: int
    year: int
    frameworks: list[str]
    fingerprint: str
    published_at: datetime
    published_by: str


@dataclass(frozen=True)
class Verification:
    framework: str
    point: str
    fact: str
    reported: float | None
    recomputed: float | None
    ok: bool


@dataclass
class Fakes:
    """What the stand-ins answer, and what they were asked."""

    errors: bool = True          # the hkex report has an error check
    differ: bool = False         # verify finds a difference
    calls: list = field(default_factory=list)
    published: list = field(default_factory=list)
    inputs: list = field(default_factory=lambda: [
        DisclosureInput("text.emissions_policy", "We cut energy use every year.", "text", "ESG policy 2025.pdf",
                        "我们每年降低能耗。", "user:data_entry@acme.cn")])


def install(monkeypatch) -> Fakes:
    state = Fakes()

    def frameworks():
        return list(FRAMEWORKS.values())

    def catalogue(framework=None):
        if framework is not None and framework not in FRAMEWORKS:
            raise NotFoundError(f"no framework '{framework}'")
        return [p for p in POINTS if framework in (None, p.framework)]

    def build(sessions, org, year, frameworks=None, *, progress=None):
        state.calls.append(("build", org, year, frameworks))
        chosen = list(frameworks or FRAMEWORKS)
        unknown = [f for f in chosen if f not in FRAMEWORKS]
        if unknown:
            raise NotFoundError(f"no framework '{unknown[0]}'; frameworks: hkex, issb_s2")
        out = []
        for i, fw in enumerate(chosen, 1):
            out.append(Report(FRAMEWORKS[fw], org, "Test org", year, _lines(fw), _checks(fw, state.errors),
                              "2026-03-01T00:00:00Z", "f" * 64, {"boundary": "operational_control"}))
            if progress is not None:
                progress(i, len(chosen))
        return out

    def import_inputs(sessions, org, year, path, *, actor):
        text = path.read_text(encoding="utf-8")
        state.calls.append(("import_inputs", org, year, path.name, actor))
        if "bad" in text:
            raise InputError([Problem(path.name, 2, "unit", "'litre of nothing' is not a unit")])
        return InputsImported(2, ["input.water.consumption", "text.emissions_policy"], ["text.emissions_policy"])

    def list_inputs(sessions, org, year):
        return list(state.inputs)

    def publish(sessions, org, year, *, actor, frameworks=None):
        state.calls.append(("publish", org, year, actor, frameworks))
        if state.errors and (frameworks is None or "hkex" in frameworks):
            raise ConflictError("hkex has 1 error check: KPI A2.2 mandatory data point missing; nothing published")
        pub = Publication(len(state.published) + 1, year, list(frameworks or FRAMEWORKS), "f" * 64,
                          datetime(2026, 3, 2, tzinfo=timezone.utc), actor)
        state.published.append(pub)
        return pub

    def publications(sessions, org):
        return list(state.published) or [Publication(1, YEAR - 1, ["hkex"], "e" * 64,
                                                     datetime(2025, 3, 30, tzinfo=timezone.utc), "user:admin@acme.cn")]

    def verify(sessions, org, year, reports=None):
        ok = not state.differ
        return [Verification("hkex", "KPI A1.2a", "ghg.scope1", 1234.5, 1234.5 if ok else 1234.6, ok),
                Verification("issb_s2", "29(a)(i)", "ghg.scope1", 1234.5, 1234.5, True)]

    def build_facts(sessions, org, year, *, inputs=None, keys=None, boundary=None):
        state.calls.append(("build_facts", org, year, sorted(inputs or {})))
        return {"ghg.scope1": Fact("ghg.scope1", 1234.5, "tCO2e", lineage=LEDGER),
                "input.water.consumption": Fact("input.water.consumption", None, "m3", MISSING,
                                                "enter input.water.consumption", "请录入 input.water.consumption")}

    def render(report, fmt, lang):
        state.calls.append(("render", report.framework.id, fmt, lang))
        return f"{fmt}:{lang}:{report.framework.id}".encode()

    def write_reports(reports, out, formats=("xlsx", "html", "pdf", "ixbrl"), langs=("en", "zh"), progress=None):
        state.calls.append(("write_reports", [r.framework.id for r in reports], tuple(formats), tuple(langs)))
        written = []
        for r in reports:
            for fmt in formats:
                for lang in (langs if fmt in ("html", "pdf") else ("",)):
                    ext = {"ixbrl": "xhtml"}.get(fmt, fmt)
                    name = f"{r.framework.id}_{r.year}{'_' + lang if lang else ''}.{ext}"
                    (out / name).write_bytes(b"x")
                    written.append(out / name)
                    if progress is not None:
                        progress(len(written), len(reports) * len(formats))
        return written

    for name, fn in dict(frameworks=frameworks, catalogue=catalogue, build=build, import_inputs=import_inputs,
                         list_inputs=list_inputs, publish=publish, publications=publications,
                         verify=verify).items():
        monkeypatch.setattr(SERVICE, name, fn, raising=False)
    monkeypatch.setattr(SERVICE, "FRAMEWORKS", tuple(FRAMEWORKS), raising=False)
    monkeypatch.setattr(FACTS, "build_facts", build_facts, raising=False)
    monkeypatch.setattr(RENDER, "render", render, raising=False)
    monkeypatch.setattr(RENDER, "write_reports", write_reports, raising=False)
    return state


def disclosure_app(sessions):
    return app_with(sessions, (api_disclosure.router, "/api/v1"), (web_disclosure.router, ""))


@pytest.fixture
def fakes(monkeypatch):
    return install(monkeypatch)


def make_world(sessions, fakes: Fakes):
    """Organisations ORG (a person per role) and OTHER (an energy manager), and the application."""
    load_org(sessions, ORG)
    load_org(sessions, "OTHER")
    person_per_role(sessions, ORG)
    person(sessions, "em@other.cn", "OTHER", "energy_manager")
    return sessions, disclosure_app(sessions), fakes


@pytest.fixture
def world(sessions, cheap_passwords, fakes):
    return make_world(sessions, fakes)


READS = ("", "/hkex", "/issb_s2", "/inputs", "/verify", "/hkex/download?format=pdf&lang=zh")


def test_every_endpoint_per_role(world):
    _, app, fakes = world
    fakes.errors = False
    for role in Role:
        c = login_client(app, f"{role.value}@acme.cn")
        read = allowed(role, "disclose.read")
        for path in READS:
            assert c.get(f"{API}/{YEAR}{path}").status_code == (200 if read else 403), (role, path)
        assert c.get(f"{API}/publications").status_code == (200 if read else 403), role
        r = c.post(f"{API}/{YEAR}/inputs", files={"file": ("inputs.yaml", b"inputs: []\n")})
        assert r.status_code == (201 if allowed(role, "disclose.prepare") else 403), (role, r.text)
        r = c.post(f"{API}/{YEAR}/publish", json={"frameworks": ["hkex"]})
        assert r.status_code == (201 if allowed(role, "disclose.publish") else 403), (role, r.text)
        if r.status_code == 403:
            assert r.headers["content-type"] == "application/problem+json"
        # Reference data needs a login only.
        assert c.get("/api/v1/disclosure/frameworks").status_code == 200
        assert c.get("/api/v1/disclosure/catalogue?framework=hkex").status_code == 200


def test_reference_data_needs_a_login(world):
    _, app, _ = world
    from fastapi.testclient import TestClient

    anonymous = TestClient(app, base_url="https://testserver")
    assert anonymous.get("/api/v1/disclosure/frameworks").status_code == 401
    c = login_client(app, "viewer@acme.cn")
    fws = c.get("/api/v1/disclosure/frameworks").json()
    assert [f["id"] for f in fws] == ["hkex", "issb_s2"] and fws[0]["name_zh"].startswith("香港交易所")
    points = c.get("/api/v1/disclosure/catalogue", params={"framework": "issb_s2"}).json()
    assert [p["id"] for p in points] == ["29(a)(i)"]
    assert len(c.get("/api/v1/disclosure/catalogue").json()) == len(POINTS)
    r = c.get("/api/v1/disclosure/catalogue", params={"framework": "nope"})
    assert r.status_code == 404 and r.headers["content-type"] == "application/problem+json"


def test_summary_and_report(world):
    _, app, _ = world
    c = login_client(app, "viewer@acme.cn")
    s = c.get(f"{API}/{YEAR}").json()
    assert s["publishable"] is False and s["year"] == YEAR
    hkex = s["frameworks"][0]
    assert (hkex["framework"]["id"], hkex["reported"], hkex["missing"], hkex["errors"], hkex["warnings"],
            hkex["infos"]) == ("hkex", 3, 1, 1, 1, 1)
    rep = c.get(f"{API}/{YEAR}/hkex").json()
    scope1, _, water, policy = rep["lines"]
    assert scope1["value"] == 1234.5 and scope1["restated"] and "acquisition" in scope1["restatement"]
    assert scope1["lineage"]["filter"]["scope"] == "1" and scope1["breakdown"][1] == {"label": "CD01",
                                                                                       "value": 234.5, "label_zh": ""}
    assert water["status"] == "missing" and water["value"] is None and "inputs import" in water["reason"]
    assert policy["value"] == "We cut energy use every year."
    assert [c_["level"] for c_ in rep["checks"]] == ["error", "warning", "info"]
    r = c.get(f"{API}/{YEAR}/gri")
    assert r.status_code == 404 and r.headers["content-type"] == "application/problem+json"
    assert c.get(f"{API}/1800").status_code in (400, 422)


@pytest.mark.parametrize("fmt, lang, media, name", [
    ("xlsx", "en", "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet", "hkex_2025.xlsx"),
    ("html", "zh", "text/html; charset=utf-8", "hkex_2025_zh.html"),
    ("pdf", "en", "application/pdf", "hkex_2025_en.pdf"),
])
def test_download_headers(world, fmt, lang, media, name):
    _, app, fakes = world
    c = login_client(app, "auditor@acme.cn")
    r = c.get(f"{API}/{YEAR}/hkex/download", params={"format": fmt, "lang": lang})
    assert r.status_code == 200, r.text
    assert r.headers["content-type"] == media
    assert r.headers["content-disposition"] == f'attachment; filename="{name}"'
    assert r.content == f"{fmt}:{lang}:hkex".encode() and ("render", "hkex", fmt, lang) in fakes.calls


def test_inline_xbrl_only_where_a_taxonomy_exists(world):
    _, app, fakes = world
    c = login_client(app, "viewer@acme.cn")
    r = c.get(f"{API}/{YEAR}/issb_s2/download", params={"format": "ixbrl"})
    assert r.status_code == 200 and r.headers["content-type"] == "application/xhtml+xml"
    assert r.headers["content-disposition"] == 'attachment; filename="issb_s2_2025.xhtml"'
    built = len([x for x in fakes.calls if x[0] == "build"])
    r = c.get(f"{API}/{YEAR}/hkex/download", params={"format": "ixbrl"})
    assert r.status_code == 400 and r.headers["content-type"] == "application/problem+json"
    assert "no XBRL taxonomy" in r.json()["problems"][0]["reason"]
    assert len([x for x in fakes.calls if x[0] == "build"]) == built  # refused before any report is built
    assert c.get(f"{API}/{YEAR}/hkex/download", params={"format": "docx"}).status_code in (400, 422)


def test_inputs_upload_and_refusal(world):
    _, app, fakes = world
    c = login_client(app, "data_entry@acme.cn")
    r = c.post(f"{API}/{YEAR}/inputs", files={"file": ("acme_2025_inputs.yaml", b"inputs: []\n")})
    assert r.status_code == 201 and r.json() == {"count": 2, "keys": ["input.water.consumption",
                                                                       "text.emissions_policy"],
                                                  "replaced": ["text.emissions_policy"]}
    assert ("import_inputs", ORG, YEAR, "acme_2025_inputs.yaml", "user:data_entry@acme.cn") in fakes.calls
    r = c.post(f"{API}/{YEAR}/inputs", files={"file": ("in.yaml", b"bad: yes\n")})
    assert r.status_code == 400 and r.headers["content-type"] == "application/problem+json"
    assert r.json()["problems"] == [{"file": "in.yaml", "row": 2, "column": "unit",
                                     "reason": "'litre of nothing' is not a unit"}]
    big = b"#" * (api_disclosure.MAX_INPUTS_BYTES + 1)
    r = c.post(f"{API}/{YEAR}/inputs", files={"file": ("big.yaml", big)})
    assert r.status_code == 400 and "MiB" in r.text
    listed = c.get(f"{API}/{YEAR}/inputs").json()
    assert listed[0]["key"] == "text.emissions_policy" and listed[0]["value_zh"] == "我们每年降低能耗。"


def test_publish_refused_while_an_error_check_then_published(world):
    _, app, fakes = world
    c = login_client(app, "energy_manager@acme.cn")
    r = c.post(f"{API}/{YEAR}/publish")
    assert r.status_code == 409 and r.headers["content-type"] == "application/problem+json"
    assert "error check" in r.json()["detail"] and fakes.published == []
    r = c.post(f"{API}/{YEAR}/publish", json={"frameworks": ["issb_s2"]})
    assert r.status_code == 201, r.text
    pub = r.json()
    assert pub["frameworks"] == ["issb_s2"] and pub["published_by"] == "user:energy_manager@acme.cn"
    assert c.get(f"{API}/publications").json()[0]["id"] == pub["id"]
    assert c.post(f"{API}/{YEAR}/publish", json={"frameworks": ["nope"]}).status_code in (400, 422)


def test_verify(world):
    _, app, fakes = world
    c = login_client(app, "auditor@acme.cn")
    v = c.get(f"{API}/{YEAR}/verify").json()
    assert v["ok"] and v["checked"] == 2 and v["differences"] == 0
    fakes.differ = True
    v = c.get(f"{API}/{YEAR}/verify").json()
    assert not v["ok"] and v["differences"] == 1
    assert v["verifications"][0] == {"framework": "hkex", "point": "KPI A1.2a", "fact": "ghg.scope1",
                                     "reported": 1234.5, "recomputed": 1234.6, "ok": False}


def test_other_organisation_is_not_found(world):
    _, app, _ = world
    c = login_client(app, "em@other.cn")
    assert c.get(f"{API}/{YEAR}").status_code == 404
    assert c.post(f"{API}/{YEAR}/publish", json={"frameworks": ["issb_s2"]}).status_code == 404
    assert c.get(f"/api/v1/orgs/OTHER/disclosure/{YEAR}/hkex").status_code == 200


def test_routes_are_declared_with_their_actions():
    """What the permission matrix (tests/test_api_permissions.py) lists for these routes after registration."""
    found = {}
    for route in api_disclosure.router.routes:
        actions = {a for d in route.dependant.dependencies for a in ((d.call.action,) if hasattr(d.call, "action")
                                                                     else ())}
        for method in route.methods:
            found[(method, route.path)] = actions
    assert found == {
        ("GET", "/disclosure/frameworks"): set(),
        ("GET", "/disclosure/catalogue"): set(),
        ("GET", "/orgs/{org}/disclosure/publications"): {"disclose.read"},
        ("GET", "/orgs/{org}/disclosure/{year}/inputs"): {"disclose.read"},
        ("POST", "/orgs/{org}/disclosure/{year}/inputs"): {"disclose.prepare"},
        ("POST", "/orgs/{org}/disclosure/{year}/publish"): {"disclose.publish"},
        ("GET", "/orgs/{org}/disclosure/{year}/verify"): {"disclose.read"},
        ("GET", "/orgs/{org}/disclosure/{year}"): {"disclose.read"},
        ("GET", "/orgs/{org}/disclosure/{year}/{framework}"): {"disclose.read"},
        ("GET", "/orgs/{org}/disclosure/{year}/{framework}/download"): {"disclose.read"},
    }
