"""No secret in the repository: every tracked file (``git ls-files``) is scanned for private keys, access tokens of
well-known services and of zerocarbon itself, credentials inside URLs, and passwords written into configuration
or examples. The only passwords allowed are the documented example and test passphrases listed below.
"""
from __future__ import annotations

import re
import subprocess
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent

# Documented passphrases that unlock nothing: the tests' throwaway accounts and the example in docs/api.md.
ALLOWED_PASSWORDS = {
    "correct horse battery staple",  # tests/api_support.py: users of per-test databases
    "a passphrase of several words",  # docs/api.md: how to pass a password to `zerocarbon users add`
    "bench-password-0123456789",  # bench/api_load.py: the benchmark's user of its own throwaway database
    "postgres",  # tests/test_doctor.py: the well-known default login the startup checks must report
}
# Third-party bundles (minified, vendored as published) and the pages' translation catalogues ("Password" is a
# label there) are scanned for keys and tokens only.
_TOKENS_ONLY = re.compile(r"(^|/)(static/vendor/|static/swagger-ui|locales/)")
# Values that stand for a secret kept elsewhere.
_PLACEHOLDER = re.compile(r"^(|\.\.\.|…|<[^>]*>|\$\{?[A-Za-z_][A-Za-z0-9_]*\}?.*|\$\(.*|null|none|~|changeme-?.*|"
                          r"/.*|\*+|x+|REDACTED|your[-_].*)$", re.I)
_VARIABLE_NAME = re.compile(r"^[A-Z][A-Z0-9_]*$")  # PASSWORD_ENV = "ZEROCARBON_PASSWORD": where a secret is read

TOKENS = {
    "private key": re.compile(r"-----BEGIN [A-Z ]*PRIVATE KEY( BLOCK)?-----"),
    "AWS access key": re.compile(r"\b(AKIA|ASIA)[0-9A-Z]{16}\b"),
    "GitHub token": re.compile(r"\b(gh[pousr]_[A-Za-z0-9]{36,}|github_pat_[A-Za-z0-9_]{50,})\b"),
    "Slack token": re.compile(r"\bxox[abprs]-[A-Za-z0-9-]{10,}"),
    "Google API key": re.compile(r"\bAIza[0-9A-Za-z_-]{35}\b"),
    "Stripe live key": re.compile(r"\b[sr]k_live_[0-9A-Za-z]{20,}"),
    # zerocarbon's own API tokens and session secrets: PREFIX_<16 hex>_<43 URL-safe characters>.
    "zerocarbon secret": re.compile(r"\bzc[ts]_[0-9a-f]{16}_[A-Za-z0-9_-]{43}\b"),
    "JSON web token": re.compile(r"\beyJ[A-Za-z0-9_-]{10,}\.eyJ[A-Za-z0-9_-]{10,}\.[A-Za-z0-9_-]{10,}"),
}
_URL_CREDENTIALS = re.compile(r"\b[a-z][a-z0-9+.-]*://[^/\s:@'\"]+:([^/\s@'\"]+)@")
_CONFIG_SUFFIXES = {".yaml", ".yml", ".toml", ".ini", ".cfg", ".conf", ".env", ".service", ".sh", ".json", ".properties"}
_CONFIG_NAMES = {"Makefile", "Dockerfile", "run", ".env", "docker-compose.yml"}
_CONFIG_SECRET = re.compile(r"(?i)\b[\w.-]*(password|passwd|passphrase|secret|api[_-]?key|access[_-]?key|token)[\w.-]*"
                            r"['\"]?\s*[:=]\s*['\"]?([^'\"\s#,}]*)")
_PASSWORD_LITERAL = re.compile(r"(?i)\b\w*PASSWORD\w*\s*[:=]\s*(['\"])(.+?)\1")


def scan(name: str, text: str) -> list[str]:
    """What in ``text`` (the content of tracked file ``name``) looks like a secret: ``file:line: kind``."""
    found = []
    config = Path(name).suffix in _CONFIG_SUFFIXES or Path(name).name in _CONFIG_NAMES
    heuristics = not _TOKENS_ONLY.search(name)
    for number, line in enumerate(text.splitlines(), 1):
        for kind, pattern in TOKENS.items():
            if pattern.search(line):
                found.append(f"{name}:{number}: {kind}")
        for m in _URL_CREDENTIALS.finditer(line):
            if not _PLACEHOLDER.match(m.group(1)) and m.group(1) not in ALLOWED_PASSWORDS:
                found.append(f"{name}:{number}: credentials in a URL")
        if not heuristics:
            continue
        if config:
            for m in _CONFIG_SECRET.finditer(line):
                if not _PLACEHOLDER.match(m.group(2)) and m.group(2) not in ALLOWED_PASSWORDS:
                    found.append(f"{name}:{number}: a {m.group(1).lower()} written into configuration")
        for m in _PASSWORD_LITERAL.finditer(line):
            value = m.group(2)
            allowed = value in ALLOWED_PASSWORDS or any(f'"{p}"' in line or f"'{p}'" in line for p in ALLOWED_PASSWORDS)
            if not (_PLACEHOLDER.match(value) or _VARIABLE_NAME.match(value) or allowed):
                found.append(f"{name}:{number}: a password written out")
    return found


def tracked_files() -> list[str]:
    done = subprocess.run(["git", "ls-files", "-z"], cwd=ROOT, capture_output=True)
    if done.returncode != 0:
        pytest.skip("not a git checkout: nothing tracked to scan")
    return [n for n in done.stdout.decode().split("\0") if n]


def test_no_tracked_file_holds_a_secret():
    names = tracked_files()
    assert len(names) > 100
    found = []
    for name in names:
        path = ROOT / name
        if not path.is_file():
            continue
        data = path.read_bytes()
        if b"\0" in data[:8192]:
            continue  # binary: pictures, workbooks, Parquet
        found += scan(name, data.decode("utf-8", errors="replace"))
    assert not found, "secrets in tracked files (remove them and rotate them):\n" + "\n".join(found)


def test_the_scan_finds_each_kind_of_secret():
    """Written in pieces here, so that this file does not hold what it looks for."""
    begin, key = "-----BEGIN", " RSA PRIVATE KEY-----"
    samples = {
        "private key": ("id.txt", begin + key + "\nMIIEow...\n"),
        "AWS access key": ("notes.md", "aws " + "AKIA" + "ABCDEFGHIJKLMNOP"),
        "GitHub token": ("ci.md", "ghp_" + "a1" * 18),
        "zerocarbon secret": ("gateway.md", "zct_" + "0123456789abcdef" + "_" + "A" * 43),
        "credentials in a URL": ("settings.md", "postgresql://zc:" + "hunter22" + "@db/zc"),
        "configuration": ("deploy/app.yaml", "database:\n  pass" + "word: S3cret-value\n"),
        "password written": ("run.sh", "ZEROCARBON_PASS" + "WORD='Tr0ub4dor&3'"),
    }
    for kind, (name, text) in samples.items():
        assert any(kind in f for f in scan(name, text)), kind
    # Placeholders, the documented examples and the names of settings are not secrets.
    quiet = {"deploy/app.yaml": "password: ${ZEROCARBON_DB_PASSWORD}\npassword_file: /etc/mosquitto/passwd\n",
             "README.md": "ZEROCARBON_" + "PASSWORD=... zerocarbon users add\n",
             "docs/api.md": "ZEROCARBON_" + "PASSWORD='a passphrase of several words' zerocarbon users add\n",
             "cli/users.py": "PASSWORD_ENV" + ' = "ZEROCARBON_PASSWORD"\n',
             "web/locales/en.json": '"login.password": "Password",\n',
             "settings.toml": "url = \"postgresql://<user>:<password>@host/db\"\ntoken = \"\"\n"}
    for name, text in quiet.items():
        assert scan(name, text) == [], (name, scan(name, text))
