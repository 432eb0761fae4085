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
    return json.loads(files("zerocarbon.web").joinpath("locales", f"{lang.replace('-', '_')}.json")
                      .read_text(encoding="utf-8"))


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
