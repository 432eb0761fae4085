"""The dependency audit: the real pip-audit checks every package pinned in requirements.lock against the vendored
advisory snapshot (data/security/osv/, from real advisories: data/security/README.md), served by tools/osv_server.py
as api.osv.dev would. A pinned version with a known vulnerability fails here with the fixed version to move to;
an advisory injected for a pinned version shows that it does.
"""
from __future__ import annotations

import json
import shutil
import subprocess
import sys
import urllib.error
import urllib.request
from pathlib import Path

import pytest

from tests.services import require_service

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "tools"))
import osv_server  # noqa: E402  (a tool script, not a package)
import refresh_advisories  # noqa: E402

LOCK = ROOT / "requirements.lock"


def _pip_audit() -> str:
    beside = Path(sys.executable).with_name("pip-audit")
    found = str(beside) if beside.exists() else shutil.which("pip-audit")
    if not found:
        require_service("pip-audit", "pip-audit is not installed in this environment (make installs it)")
    return found


def audit(folder: Path, cache: Path) -> tuple[int, dict, str]:
    """pip-audit over requirements.lock against the advisories of ``folder``: exit code, JSON report, messages."""
    server, thread = osv_server.serve(folder)
    try:
        url = f"http://127.0.0.1:{server.server_address[1]}/v1/query"
        done = subprocess.run([_pip_audit(), "-r", str(LOCK), "--no-deps", "--disable-pip", "-s", "osv",
                               "--osv-url", url, "--cache-dir", str(cache), "--progress-spinner", "off",
                               "-f", "json"], capture_output=True, text=True, timeout=300)
    finally:
        server.shutdown()
        thread.join(10)
    return done.returncode, json.loads(done.stdout or "{}"), done.stderr


def _findings(report: dict) -> list[str]:
    return [f"{d['name']}=={d['version']}: {v['id']} (fixed in {', '.join(v['fix_versions']) or 'no release yet'})"
            for d in report.get("dependencies", []) for v in d.get("vulns", [])]


def test_no_locked_package_has_a_known_vulnerability(tmp_path):
    code, report, messages = audit(refresh_advisories.SNAPSHOT, tmp_path / "cache")
    assert not _findings(report), "vulnerable pins; move each to its fixed version:\n" + "\n".join(_findings(report))
    assert code == 0, messages
    audited = {refresh_advisories.canonical(d["name"]): d["version"] for d in report["dependencies"]
               if "skip_reason" not in d}
    assert audited == refresh_advisories.locked(LOCK)  # every pin was looked up, none skipped


def test_an_advisory_for_a_pinned_version_makes_the_audit_fail(tmp_path):
    folder = tmp_path / "osv"
    shutil.copytree(refresh_advisories.SNAPSHOT, folder)
    pinned = refresh_advisories.locked(LOCK)["jinja2"]
    injected = {"schema_version": "1.6.0", "id": "ZC-TEST-0001", "summary": "injected to prove the audit can fail",
                "modified": "2026-01-01T00:00:00Z",
                "affected": [{"package": {"name": "Jinja2", "ecosystem": "PyPI"},
                              "ranges": [{"type": "ECOSYSTEM", "events": [{"introduced": "0"}, {"fixed": "99.0"}]}]}]}
    path = folder / "jinja2.json"
    entries = json.loads(path.read_text(encoding="utf-8")) if path.exists() else []
    path.write_text(json.dumps(entries + [injected]), encoding="utf-8")
    code, report, _ = audit(folder, tmp_path / "cache")
    assert code != 0
    assert _findings(report) == [f"jinja2=={pinned}: ZC-TEST-0001 (fixed in 99.0)"]


def test_the_snapshot_covers_exactly_the_locked_pins_and_is_osv():
    """A changed lock file needs a refreshed snapshot (python tools/refresh_advisories.py)."""
    source = json.loads((refresh_advisories.SNAPSHOT / "SOURCE.json").read_text(encoding="utf-8"))
    assert source["packages"] == refresh_advisories.locked(LOCK), "run tools/refresh_advisories.py after a lock change"
    count = 0
    for path in refresh_advisories.SNAPSHOT.glob("*.json"):
        if path.name == "SOURCE.json":
            continue
        for entry in json.loads(path.read_text(encoding="utf-8")):
            assert entry["id"] and entry["affected"] and path.stem in refresh_advisories.packages_of(entry)
            count += 1
    assert count == sum(source["advisories"].values()) > 100


def _entry(events=None, versions=None, name="demo") -> dict:
    affected = {"package": {"name": name, "ecosystem": "PyPI"}}
    if events is not None:
        affected["ranges"] = [{"type": "ECOSYSTEM", "events": events}]
    if versions is not None:
        affected["versions"] = versions
    return {"id": "X-1", "affected": [affected]}


def test_the_service_decides_affected_versions_as_osv_does():
    fixed = _entry([{"introduced": "0"}, {"fixed": "2.7.2"}])
    assert osv_server.affects(fixed, "demo", "2.7.1") and not osv_server.affects(fixed, "demo", "2.7.2")
    assert not osv_server.affects(fixed, "demo", "3.1.6") and not osv_server.affects(fixed, "other", "1.0")
    last = _entry([{"introduced": "1.0"}, {"last_affected": "1.4"}])
    assert osv_server.affects(last, "demo", "1.4") and not osv_server.affects(last, "demo", "1.4.1")
    assert not osv_server.affects(last, "demo", "0.9")
    reopened = _entry([{"introduced": "0"}, {"fixed": "1.2"}, {"introduced": "2.0"}, {"fixed": "2.1"}])
    assert [osv_server.affects(reopened, "demo", v) for v in ("1.1", "1.5", "2.0.5", "2.1")] == [True, False, True, False]
    assert osv_server.affects(_entry(versions=["0.3"]), "Demo", "0.3")
    assert osv_server.affects(_entry([{"introduced": "0"}, {"fixed": "1.0"}], name="Typing_Extensions"),
                              "typing-extensions", "0.9")
    # A real advisory of the snapshot: Jinja2 before 2.7.2 (PYSEC-2014-8).
    real = osv_server.Advisories()
    assert "PYSEC-2014-8" in {e["id"] for e in real.query("Jinja2", "2.7.1")}
    assert "PYSEC-2014-8" not in {e["id"] for e in real.query("jinja2", "2.7.2")}


def test_the_service_refuses_a_malformed_query(tmp_path):
    server, thread = osv_server.serve(tmp_path)
    url = f"http://127.0.0.1:{server.server_address[1]}/v1/query"
    try:
        for body in (b"not json", b'{"package": "jinja2"}', b"{}"):
            with pytest.raises(urllib.error.HTTPError) as refused:
                urllib.request.urlopen(urllib.request.Request(url, data=body, method="POST"), timeout=10)
            assert refused.value.code == 400
        ok = urllib.request.urlopen(urllib.request.Request(
            url, data=b'{"package": {"name": "jinja2", "ecosystem": "PyPI"}, "version": "1.0"}', method="POST"),
            timeout=10)
        assert json.loads(ok.read()) == {}  # no advisories in an empty folder
    finally:
        server.shutdown()
        thread.join(10)
