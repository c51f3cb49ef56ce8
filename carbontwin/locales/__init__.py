"""User-facing texts in zh and en, keyed by id (never inline in code).

Examples
--------
>>> text("col.scope1_tco2e", "zh")
'范围一'
>>> text("written", "en", path="x.csv")
'Written to x.csv'
"""

from __future__ import annotations

import functools
import json
from importlib import resources

__all__ = ["LANGUAGES", "text"]

LANGUAGES = ("en", "zh")


@functools.cache
def _table(lang: str) -> dict[str, str]:
    return json.loads(
        resources.files("carbontwin.locales").joinpath(f"{lang}.json").read_text(encoding="utf-8")
    )


def text(key: str, lang: str = "en", **values: object) -> str:
    """Return the text ``key`` in ``lang`` (falls back to English), formatted with values."""
    table = _table(lang if lang in LANGUAGES else "en")
    template = table.get(key) or _table("en").get(key, key)
    return template.format(**values) if values else template
