"""README.md's configuration table and the sources' own READMEs name the same dlt keys, and
each key is an argument of its source function (so dlt really reads it)."""

from __future__ import annotations

import importlib
import inspect
import re

from warehouse.settings import PROJECT_DIR

KEY = re.compile(r"`(sources\.[a-z_]+\.[a-z_]+)`")
# A table cell may shorten the keys after the first: `sources.ads.base_url`, `.token`, ...
SHORT_KEY = re.compile(r"`\.([a-z_]+)`")


def configuration_rows(markdown: str) -> list[str]:
    """The table rows whose first cell names a `sources.*` key."""
    return [line for line in markdown.splitlines() if line.startswith("| `sources.")]


def keys_in(rows: list[str]) -> set[str]:
    keys = set()
    for row in rows:
        first_cell = row.split("|")[1]
        full = KEY.findall(first_cell)
        keys.update(full)
        source = full[0].rsplit(".", 1)[0]
        keys.update(f"{source}.{name}" for name in SHORT_KEY.findall(first_cell))
    return keys


def source_readme_keys() -> dict[str, set[str]]:
    return {
        readme.parent.name: keys_in(configuration_rows(readme.read_text(encoding="utf-8")))
        for readme in sorted((PROJECT_DIR / "loaders").glob("*/README.md"))
    }


def test_main_readme_lists_every_key_a_source_readme_lists() -> None:
    main_keys = keys_in(configuration_rows((PROJECT_DIR / "README.md").read_text()))
    per_source = source_readme_keys()

    assert set(per_source) == {"ads", "fx", "logistics", "payments", "shop", "web"}
    missing = {source: keys - main_keys for source, keys in per_source.items() if keys - main_keys}
    assert missing == {}
    assert {"sources.shop.chunk_size", "sources.web.file_glob"} <= main_keys


def test_every_documented_key_is_an_argument_of_its_source() -> None:
    main_keys = keys_in(configuration_rows((PROJECT_DIR / "README.md").read_text()))
    unknown = []
    for key in sorted(main_keys):
        _, source, argument = key.split(".")
        module = importlib.import_module(f"loaders.{source}")
        if argument not in inspect.signature(getattr(module, source)).parameters:
            unknown.append(key)
    assert unknown == []


def test_key_parsing_expands_shortened_keys() -> None:
    rows = ["| `sources.fx.base_url`, `.token` (secret) | x | fx API |"]

    assert keys_in(rows) == {"sources.fx.base_url", "sources.fx.token"}
