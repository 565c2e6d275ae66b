"""The docs site's Jinja2 templates, in ``warehouse/templates/`` (shipped in the package).

HTML templates escape every value unless it is marked safe (``markupsafe.Markup``), so no page
escapes by hand; the D2 template (``*.d2``) is plain text and quotes its values with ``d2``.
"""

from __future__ import annotations

import json
from functools import cache
from typing import Any

from jinja2 import Environment, PackageLoader, StrictUndefined, select_autoescape


def d2_string(value: object) -> str:
    """A D2 double-quoted string: any name is then a key, never a reserved keyword."""
    return json.dumps(str(value), ensure_ascii=False)


@cache
def environment() -> Environment:
    """The one template environment: HTML autoescaped, undefined names an error."""
    env = Environment(
        loader=PackageLoader("warehouse", "templates"),
        autoescape=select_autoescape(["html"]),
        undefined=StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
    )
    env.filters["d2"] = d2_string
    return env


def render(template: str, **context: Any) -> str:
    """The named template of warehouse/templates/ rendered with `context`."""
    return environment().get_template(template).render(**context)
