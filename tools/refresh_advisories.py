"""Refresh the vendored advisory snapshot (data/security/osv/) for the packages pinned in requirements.lock.

The dependency audit (tests/test_dependency_audit.py) runs pip-audit against tools/osv_server.py, which serves
this snapshot, because the build machines reach neither api.osv.dev nor PyPI's per-version JSON. The snapshot
holds every advisory, in OSV JSON, that names a locked package (whatever versions it affects), one file per
package, and SOURCE.json saying where and when it came from.

Sources, newest first:

    python tools/refresh_advisories.py                       # OSV's PyPI export (PYSEC and GHSA advisories)
    python tools/refresh_advisories.py --zip all.zip         # the same export, downloaded before
    python tools/refresh_advisories.py --git /path/to/advisory-database   # a clone of pypa/advisory-database
                                                                        # (PYSEC only, OSV in YAML)

Then run ``pytest tests/test_dependency_audit.py``: a locked package with a known vulnerability fails it, with the
fixed version to move to.
"""
from __future__ import annotations

import argparse
import io
import json
import re
import subprocess
import sys
import urllib.request
import zipfile
from collections.abc import Iterable, Iterator
from datetime import date, datetime, timezone
from pathlib import Path

import yaml

ROOT = Path(__file__).resolve().parent.parent
LOCK = ROOT / "requirements.lock"
SNAPSHOT = ROOT / "data" / "security" / "osv"
OSV_EXPORT = "https://osv-vulnerabilities.storage.googleapis.com/PyPI/all.zip"
_PIN = re.compile(r"^([A-Za-z0-9][A-Za-z0-9._-]*)==([^\s;\\]+)")


def canonical(name: str) -> str:
    """PEP 503 normalised name: ``Jinja2`` and ``jinja2``, ``typing_extensions`` and ``typing-extensions`` meet."""
    return re.sub(r"[-_.]+", "-", name).lower()


def locked(lock: Path = LOCK) -> dict[str, str]:
    """{canonical name: pinned version} of a requirements lock file."""
    pins = {}
    for line in lock.read_text(encoding="utf-8").splitlines():
        m = _PIN.match(line.strip())
        if m:
            pins[canonical(m.group(1))] = m.group(2)
    return pins


def _jsonable(value):
    # YAML reads RFC 3339 stamps as datetimes; OSV JSON writes them as text in UTC.
    if isinstance(value, datetime):
        stamp = value if value.tzinfo else value.replace(tzinfo=timezone.utc)
        return stamp.astimezone(timezone.utc).strftime("%Y-%m-%dT%H:%M:%S") + (
            f".{stamp.microsecond:06d}".rstrip("0") if stamp.microsecond else "") + "Z"
    if isinstance(value, date):
        return value.isoformat()
    if isinstance(value, dict):
        return {k: _jsonable(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_jsonable(v) for v in value]
    return value


def packages_of(entry: dict) -> set[str]:
    return {canonical(a["package"]["name"]) for a in entry.get("affected", [])
            if a.get("package", {}).get("ecosystem") == "PyPI"}


def from_zip(data: bytes) -> Iterator[dict]:
    with zipfile.ZipFile(io.BytesIO(data)) as z:
        for name in z.namelist():
            if name.endswith(".json"):
                yield json.loads(z.read(name))


def from_git(repo: Path, wanted: set[str]) -> tuple[Iterator[dict], dict]:
    """The YAML advisories under vulns/<package>/ of a pypa/advisory-database clone (bare or not), and the
    commit read."""
    git = ["git", "--git-dir", str(repo / ".git") if (repo / ".git").exists() else str(repo)]
    commit, when = subprocess.run(git + ["log", "-1", "--format=%H %cI", "HEAD"], check=True, capture_output=True,
                                  text=True).stdout.split()
    names = subprocess.run(git + ["ls-tree", "-r", "--name-only", "HEAD", "vulns/"], check=True, capture_output=True,
                           text=True).stdout.splitlines()
    paths = [p for p in names if p.endswith(".yaml") and canonical(p.split("/")[1]) in wanted]

    def entries() -> Iterator[dict]:
        for p in paths:
            text = subprocess.run(git + ["show", f"HEAD:{p}"], check=True, capture_output=True, text=True).stdout
            yield _jsonable(yaml.safe_load(text))

    return entries(), {"source": "https://github.com/pypa/advisory-database", "commit": commit, "commit_date": when}


def write_snapshot(entries: Iterable[dict], pins: dict[str, str], source: dict, out: Path = SNAPSHOT) -> dict:
    """Write one JSON list per locked package that has advisories, and SOURCE.json; returns the summary."""
    by_package: dict[str, dict[str, dict]] = {}
    for entry in entries:
        for name in packages_of(entry) & set(pins):
            by_package.setdefault(name, {})[entry["id"]] = entry
    out.mkdir(parents=True, exist_ok=True)
    for old in out.glob("*.json"):
        old.unlink()
    for name, found in sorted(by_package.items()):
        (out / f"{name}.json").write_text(json.dumps([found[k] for k in sorted(found)], indent=1, sort_keys=True,
                                                     ensure_ascii=False) + "\n", encoding="utf-8")
    summary = dict(source, written=datetime.now(timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ"),
                   packages=dict(sorted(pins.items())),
                   advisories={name: len(found) for name, found in sorted(by_package.items())})
    (out / "SOURCE.json").write_text(json.dumps(summary, indent=1) + "\n", encoding="utf-8")
    return summary


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    group = parser.add_mutually_exclusive_group()
    group.add_argument("--zip", type=Path, help="OSV's PyPI export, downloaded before")
    group.add_argument("--git", type=Path, help="a clone of pypa/advisory-database")
    parser.add_argument("--url", default=OSV_EXPORT, help="where to download OSV's PyPI export")
    parser.add_argument("--lock", type=Path, default=LOCK)
    parser.add_argument("--out", type=Path, default=SNAPSHOT)
    args = parser.parse_args(argv)
    pins = locked(args.lock)
    if args.git:
        entries, source = from_git(args.git, set(pins))
    else:
        if args.zip:
            data, where = args.zip.read_bytes(), str(args.zip)
        else:
            with urllib.request.urlopen(args.url, timeout=120) as answer:  # noqa: S310 (a fixed https address)
                data, where = answer.read(), args.url
        entries, source = from_zip(data), {"source": where, "commit": None,
                                           "commit_date": datetime.now(timezone.utc).strftime("%Y-%m-%d")}
    summary = write_snapshot(entries, pins, source, args.out)
    total = sum(summary["advisories"].values())
    print(f"{total} advisories for {len(summary['advisories'])} of {len(pins)} locked packages -> {args.out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
