"""Message catalogues (locales/*.json) and the choice of language for a request."""
from __future__ import annotations

import json
from functools import cache
from importlib.resources import files

LANGUAGES = ("zh-CN", "en")
DEFAULT = "zh-CN"
COOKIE = "zc_lang"


@cache
def catalogue(lang: str) -> dict[str, str]:
    """``locales/<lang>.json`` plus ``locales/<area>/<lang>.json`` of each area (a group of pages keeps its own
    messages); a key defined twice is an error, so one area cannot silently change another's words."""
    name = f"{lang.replace('-', '_')}.json"
    root = files("zerocarbon.web").joinpath("locales")
    messages = json.loads(root.joinpath(name).read_text(encoding="utf-8"))
    for area in sorted((p for p in root.iterdir() if p.is_dir()), key=lambda p: p.name):
        if not area.joinpath(name).is_file():
            continue
        extra = json.loads(area.joinpath(name).read_text(encoding="utf-8"))
        twice = sorted(set(extra) & set(messages))
        if twice:
            raise ValueError(f"locales/{area.name}/{name} defines keys already defined: {', '.join(twice[:5])}")
        messages.update(extra)
    return messages


def translator(lang: str):
    messages = catalogue(lang)

    def t(key: str, **values) -> str:
        # A missing key shows itself rather than failing the page; a test keeps the catalogues complete.
        text = messages.get(key, key)
        return text.format(**values) if values else text

    return t


def choose(cookie: str | None, user_locale: str | None, accept_language: str | None) -> str:
    """The toggle (cookie) wins, then the user's stored locale, then the browser's preference."""
    for candidate in (cookie, user_locale):
        if candidate in LANGUAGES:
            return candidate
    for part in (accept_language or "").split(","):
        tag = part.split(";")[0].strip().lower()
        if tag.startswith("zh"):
            return "zh-CN"
        if tag.startswith("en"):
            return "en"
    return DEFAULT
