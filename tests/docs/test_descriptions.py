"""Every part of the dbt project has a description written for its reader (issue #6).

Reads the manifest.json and catalog.json that `warehouse demo` (the session fixture
`built_warehouse`) generates for its docs site, and fails listing every offender, one line
each: a missing or blank description, or one that merely restates the name. Columns count
twice over: each column the YAML lists, and each column the built relation has (per the
catalog), since a column missing from the YAML shows up undescribed in the docs.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from typing import Any

import pytest
from dbt.parser.schemas import is_valid_type

from tests.conftest import BuiltWarehouse
from warehouse.docs_site import docs_target_dir
from warehouse.settings import PROJECT_DIR

PACKAGE = "larkspur"
NODE_KINDS = ("model", "seed", "snapshot")
KINDS = (
    "source",
    "source table",
    *NODE_KINDS,
    "column",
    "macro",
    "macro argument",
    "exposure",
    "semantic model",
    "metric",
)
# A description that is only the name with an article in front is filler too ("The order id.").
ARTICLES = {"a", "an", "the"}
MACRO_SIGNATURE = re.compile(r"\{%-?\s*(macro|test)\s+(\w+)\s*\(")
# `{% materialization name, adapter %}`: dbt names its macro materialization_<name>_<adapter>,
# with one argument, the languages it supports
MATERIALIZATION = re.compile(
    r"\{%-?\s*materialization\s+(\w+)\s*,\s*(?:adapter\s*=\s*)?['\"]?(\w+)"
)


@dataclass(frozen=True, order=True)
class Offence:
    """One thing whose description is missing or filler."""

    kind: str
    where: str
    item: str
    problem: str

    def __str__(self) -> str:
        return f"{self.kind} {self.item} ({self.where}): {self.problem}"


@dataclass(frozen=True)
class Artefacts:
    manifest: dict[str, Any]
    catalog: dict[str, Any]


@pytest.fixture(scope="module")
def artefacts(built_warehouse: BuiltWarehouse) -> Artefacts:
    """The manifest and catalog of the session's demo warehouse (written by `dbt docs generate`)."""
    if built_warehouse.returncode != 0:
        pytest.fail(f"the demo build failed:\n{built_warehouse.output[-2000:]}")
    folder = docs_target_dir(built_warehouse.paths)
    return Artefacts(
        manifest=json.loads((folder / "manifest.json").read_text(encoding="utf-8")),
        catalog=json.loads((folder / "catalog.json").read_text(encoding="utf-8")),
    )


@pytest.fixture(scope="module")
def offences(artefacts: Artefacts) -> list[Offence]:
    return sorted(find_offences(artefacts.manifest, artefacts.catalog))


def words(text: str) -> list[str]:
    """Lower-case words of a name or description, underscores and punctuation as spaces."""
    return re.sub(r"[\W_]+", " ", text.lower()).split()


def description_problem(name: str, description: str | None) -> str | None:
    """Why a description is not one, or None when it is acceptable."""
    if not description or not words(description):
        return "no description"
    said = words(description)
    if said[0] in ARTICLES:
        said = said[1:]
    if said == words(name):
        return f"description {description.strip()!r} only restates the name"
    return None


def yaml_file(entry: dict[str, Any]) -> str:
    """The YAML file to edit for an entry: its properties file, else where it is defined."""
    if entry.get("patch_path"):
        return entry["patch_path"].split("://", 1)[-1]
    path = entry.get("original_file_path") or "?"
    # Sources, YAML snapshots, exposures and metrics are defined in YAML; a model, seed or macro
    # without a properties entry is described nowhere.
    return path if path.endswith((".yml", ".yaml")) else f"{path}, no YAML entry"


def check(
    kind: str, where: str, item: str, name: str, description: str | None
) -> Iterator[Offence]:
    problem = description_problem(name, description)
    if problem:
        yield Offence(kind, where, item, problem)


def project_entries(manifest: dict[str, Any], section: str) -> list[dict[str, Any]]:
    return [e for e in manifest.get(section, {}).values() if e.get("package_name") == PACKAGE]


def find_offences(manifest: dict[str, Any], catalog: dict[str, Any]) -> Iterator[Offence]:
    """Every missing or filler description of the project, one Offence per item."""
    sources = project_entries(manifest, "sources")
    seen_sources = set()
    for table in sources:
        where = yaml_file(table)
        if table["source_name"] not in seen_sources:
            seen_sources.add(table["source_name"])
            name = table["source_name"]
            yield from check("source", where, name, name, table.get("source_description"))
        item = f"{table['source_name']}.{table['name']}"
        yield from check("source table", where, item, table["name"], table.get("description"))
        built = catalog.get("sources", {}).get(table["unique_id"])
        yield from column_offences(item, where, table, built)

    for node in project_entries(manifest, "nodes"):
        kind = node["resource_type"]
        if kind not in NODE_KINDS:
            continue
        where = yaml_file(node)
        yield from check(kind, where, node["name"], node["name"], node.get("description"))
        built = catalog.get("nodes", {}).get(node["unique_id"])
        yield from column_offences(node["name"], where, node, built)

    for macro in project_entries(manifest, "macros"):
        yield from macro_offences(macro)

    for section, kind in (
        ("exposures", "exposure"),
        ("semantic_models", "semantic model"),
        ("metrics", "metric"),
    ):
        for entry in project_entries(manifest, section):
            where = yaml_file(entry)
            yield from check(kind, where, entry["name"], entry["name"], entry.get("description"))


def column_offences(
    item: str, where: str, entry: dict[str, Any], built: dict[str, Any] | None
) -> Iterator[Offence]:
    """The YAML's columns without a description, and the relation's columns the YAML lacks."""
    documented = {name.lower(): column for name, column in entry.get("columns", {}).items()}
    for name, column in documented.items():
        yield from check("column", where, f"{item}.{name}", name, column.get("description"))
    for name in (built or {}).get("columns", {}):
        if name.lower() not in documented:
            yield Offence(
                "column", where, f"{item}.{name.lower()}", "in the built relation, not in the YAML"
            )


def macro_offences(macro: dict[str, Any]) -> Iterator[Offence]:
    """A macro's own description, and one for each argument of its signature."""
    where = yaml_file(macro)
    name = macro["name"]
    yield from check("macro", where, name, name, macro.get("description"))
    documented = {argument["name"]: argument for argument in macro.get("arguments", [])}
    signature = signature_arguments(macro["macro_sql"])
    for argument in signature:
        item = f"{name}({argument})"
        if argument not in documented:
            yield Offence("macro argument", where, item, "not listed under arguments")
        else:
            description = documented[argument].get("description")
            yield from check("macro argument", where, item, argument, description)
            # dbt warns on every parse about a type its macro-argument grammar does not know
            argument_type = documented[argument].get("type")
            if argument_type and not is_valid_type(argument_type):
                yield Offence("macro argument", where, item, f"type {argument_type!r} is not dbt's")
    for argument in documented:
        if argument not in signature:
            yield Offence(
                "macro argument", where, f"{name}({argument})", "documented, not in the signature"
            )


def signature_arguments(macro_sql: str) -> list[str]:
    """Argument names of a macro's Jinja signature: `{% macro name(a, b=none, c=', ') %}`."""
    found = MACRO_SIGNATURE.search(macro_sql)
    if not found and MATERIALIZATION.search(macro_sql):
        return ["supported_languages"]  # the one argument dbt gives every materialization
    if not found:
        raise ValueError(f"no macro signature in {macro_sql[:80]!r}")
    parts, current, depth, quote = [], [], 0, ""
    for character in macro_sql[found.end() :]:
        if quote:
            quote = "" if character == quote else quote
        elif character in "'\"":
            quote = character
        elif character in "([{":
            depth += 1
        elif character in ")]}":
            if depth == 0:
                break
            depth -= 1
        elif character == "," and depth == 0:
            parts.append("".join(current))
            current = []
            continue
        current.append(character)
    parts.append("".join(current))
    names = (part.split("=", 1)[0].strip().lstrip("*") for part in parts)
    return [name for name in names if name]


def report(offences: Iterable[Offence]) -> str:
    lines = [str(offence) for offence in offences]
    return f"{len(lines)} offender(s):\n" + "\n".join(lines)


@pytest.mark.e2e
@pytest.mark.parametrize("kind", KINDS)
def test_every_item_has_a_description(offences: list[Offence], kind: str) -> None:
    """One test per kind of item; its failure lists every offender of that kind."""
    of_kind = [offence for offence in offences if offence.kind == kind]
    if of_kind:
        pytest.fail(f"{kind}: {report(of_kind)}", pytrace=False)


@pytest.mark.e2e
def test_the_check_sees_the_whole_project(artefacts: Artefacts) -> None:
    """The checks above cover every model, seed and macro file, and the built relations' columns.

    Guards against a check that passes because it looked at nothing (a renamed package, an
    artefact from the wrong folder).
    """
    manifest, catalog = artefacts.manifest, artefacts.catalog
    nodes = project_entries(manifest, "nodes")
    models = {node["name"] for node in nodes if node["resource_type"] == "model"}
    seeds = {node["name"] for node in nodes if node["resource_type"] == "seed"}
    assert models == {path.stem for path in (PROJECT_DIR / "models").rglob("*.sql")}
    assert seeds == {path.stem for path in (PROJECT_DIR / "seeds").glob("*.csv")}

    macros = {macro["name"] for macro in project_entries(manifest, "macros")}
    defined = set()
    for path in (PROJECT_DIR / "macros").glob("*.sql"):
        text = path.read_text(encoding="utf-8")
        for kind, name in MACRO_SIGNATURE.findall(text):
            defined.add(f"test_{name}" if kind == "test" else name)
        for name, adapter in MATERIALIZATION.findall(text):
            defined.add(f"materialization_{name}_{adapter}")
    assert macros == defined

    source_files = {yaml_file(table) for table in project_entries(manifest, "sources")}
    assert source_files == {
        str(path.relative_to(PROJECT_DIR))
        for path in (PROJECT_DIR / "models").rglob("_*__sources.yml")
    }

    # Ephemeral models have no relation, so no catalog entry; every other model has columns.
    relations = {
        node["unique_id"]
        for node in nodes
        if node["resource_type"] in NODE_KINDS and node["config"]["materialized"] != "ephemeral"
    }
    built = {
        unique_id: entry
        for unique_id, entry in catalog.get("nodes", {}).items()
        if unique_id.split(".")[1] == PACKAGE and not unique_id.startswith("test.")
    }
    assert set(built) == relations
    assert all(entry["columns"] for entry in built.values())


def test_signature_arguments_reads_defaults_with_commas_and_brackets() -> None:
    macro_sql = "{%- macro pad(relation, sep=', ', cols=['a', 'b'], n=f(1, 2), **kwargs) -%}x"
    assert signature_arguments(macro_sql) == ["relation", "sep", "cols", "n", "kwargs"]
    assert signature_arguments("{% test accepted_range(model, column_name) %}") == [
        "model",
        "column_name",
    ]
    assert signature_arguments("{% macro today() %}") == []


@pytest.mark.parametrize(
    ("name", "description", "problem"),
    [
        ("order_id", "", "no description"),
        ("order_id", "  \n", "no description"),
        ("order_id", "-", "no description"),
        ("order_id", "Order ID", "description 'Order ID' only restates the name"),
        ("order_id", "The order id.", "description 'The order id.' only restates the name"),
        ("stg_shop__orders", "stg shop orders", "description 'stg shop orders' only restates"),
        ("order_id", "The shop's id of the order; unique.", None),
    ],
)
def test_description_problem(name: str, description: str, problem: str | None) -> None:
    found = description_problem(name, description)
    if problem is None:
        assert found is None
    else:
        assert found is not None and found.startswith(problem)
