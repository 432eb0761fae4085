"""A small OSV-compatible vulnerability service over a folder of OSV JSON advisories.

pip-audit asks ``POST /v1/query`` with ``{"package": {"name", "ecosystem"}, "version"}`` and reads back
``{"vulns": [...]}`` (an empty object when none), as https://api.osv.dev answers. Serving the vendored snapshot
(data/security/osv/, made by tools/refresh_advisories.py) lets the dependency audit run where api.osv.dev cannot
be reached:

    python tools/osv_server.py --port 8765 &
    pip-audit -r requirements.lock --no-deps --disable-pip -s osv --osv-url http://127.0.0.1:8765/v1/query

An advisory affects a version as OSV defines it: the version is listed in ``affected[].versions``, or lies in an
ECOSYSTEM range (from an ``introduced`` event up to, not including, the next ``fixed``, or up to and including a
``last_affected``). Versions compare as PEP 440 versions.
"""
from __future__ import annotations

import argparse
import json
import re
import sys
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

from packaging.version import InvalidVersion, Version

SNAPSHOT = Path(__file__).resolve().parent.parent / "data" / "security" / "osv"
MAX_QUERY_BYTES = 64 * 1024


def canonical(name: str) -> str:
    return re.sub(r"[-_.]+", "-", name).lower()


def _version(text: str) -> Version | None:
    try:
        return Version(text)
    except InvalidVersion:
        return None


def _in_range(version: Version, events: list[dict]) -> bool:
    points = []
    for event in events:
        kind, text = next(iter(event.items()))
        at = Version("0") if (kind == "introduced" and text == "0") else _version(str(text))
        if at is not None and kind in ("introduced", "fixed", "last_affected"):
            points.append((at, kind))
    affected = False
    for at, kind in sorted(points, key=lambda p: p[0]):
        if kind == "introduced" and version >= at:
            affected = True
        elif kind == "fixed" and version >= at:
            affected = False
        elif kind == "last_affected" and version > at:
            affected = False
    return affected


def affects(entry: dict, name: str, version: str) -> bool:
    """Whether OSV advisory ``entry`` affects PyPI package ``name`` at ``version``."""
    wanted = _version(version)
    for affected in entry.get("affected", []):
        package = affected.get("package", {})
        if package.get("ecosystem") != "PyPI" or canonical(package.get("name", "")) != canonical(name):
            continue
        if version in affected.get("versions", []):
            return True
        if wanted is None:
            continue
        for r in affected.get("ranges", []):
            if r.get("type") == "ECOSYSTEM" and _in_range(wanted, r.get("events", [])):
                return True
    return False


class Advisories:
    """The advisories of a snapshot folder, by canonical package name."""

    def __init__(self, folder: Path = SNAPSHOT):
        self.by_package: dict[str, list[dict]] = {}
        for path in sorted(folder.glob("*.json")):
            if path.name == "SOURCE.json":
                continue
            for entry in json.loads(path.read_text(encoding="utf-8")):
                for a in entry.get("affected", []):
                    if a.get("package", {}).get("ecosystem") == "PyPI":
                        self.by_package.setdefault(canonical(a["package"]["name"]), []).append(entry)

    def query(self, name: str, version: str) -> list[dict]:
        seen, found = set(), []
        for entry in self.by_package.get(canonical(name), []):
            if entry["id"] not in seen and not entry.get("withdrawn") and affects(entry, name, version):
                seen.add(entry["id"])
                found.append(_canonical_names(entry))
        return found


def _canonical_names(entry: dict) -> dict:
    # pip-audit reads the fixed versions only of an ``affected`` item whose name equals the canonical name it
    # asked for; advisories spell names as their authors did (``Jinja2``).
    affected = [dict(a, package=dict(a["package"], name=canonical(a["package"]["name"])))
                if a.get("package", {}).get("ecosystem") == "PyPI" else a for a in entry.get("affected", [])]
    return dict(entry, affected=affected)


def handler_for(advisories: Advisories) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:  # noqa: N802 (the http.server naming)
            if self.path.rstrip("/") != "/v1/query":
                return self._answer(404, {"code": 5, "message": "only POST /v1/query is served"})
            length = int(self.headers.get("Content-Length") or 0)
            if length > MAX_QUERY_BYTES:
                return self._answer(413, {"code": 3, "message": "query too large"})
            try:
                query = json.loads(self.rfile.read(length) or b"{}")
                package, version = query["package"], query["version"]
                if package.get("ecosystem", "PyPI") != "PyPI":
                    return self._answer(200, {})
                found = advisories.query(package["name"], version)
            except (ValueError, KeyError, TypeError, AttributeError):
                return self._answer(400, {"code": 3, "message": "expected {package: {name, ecosystem}, version}"})
            self._answer(200, {"vulns": found} if found else {})

        def _answer(self, status: int, body: dict) -> None:
            data = json.dumps(body).encode()
            self.send_response(status)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            self.wfile.write(data)

        def log_message(self, *args) -> None:  # quiet: pip-audit's own output says what was found
            pass

    return Handler


def serve(folder: Path = SNAPSHOT, host: str = "127.0.0.1", port: int = 0) -> tuple[ThreadingHTTPServer, threading.Thread]:
    """Start the service in a thread; ``server.server_address[1]`` is the port (0 picks a free one)."""
    server = ThreadingHTTPServer((host, port), handler_for(Advisories(folder)))
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    return server, thread


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description="Serve OSV advisories from a folder at POST /v1/query.")
    parser.add_argument("--folder", type=Path, default=SNAPSHOT)
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=8765)
    args = parser.parse_args(argv)
    server = ThreadingHTTPServer((args.host, args.port), handler_for(Advisories(args.folder)))
    print(f"OSV service on http://{args.host}:{server.server_address[1]}/v1/query ({args.folder})", flush=True)
    try:
        server.serve_forever()
    except KeyboardInterrupt:
        pass
    return 0


if __name__ == "__main__":
    sys.exit(main())
