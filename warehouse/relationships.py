"""What the docs site knows of how the marts join: dbterd's reading of the dbt artefacts.

dbterd (https://github.com/datnguye/dbterd) reads the ``relationships`` tests in
``manifest.json`` (and the column types in ``catalog.json``) with its ``test_relationship``
algorithm. The bus matrix and the entity-relationship diagrams (`warehouse.erd`) both draw this
one reading:

- ``read_mart_erd``: the mart models and the relationships between them (dbterd's JSON target);
- ``star_schemas``: one star per mart (its facts, their dimensions and the mart's own ones), with
  dbterd's own Mermaid ``erDiagram`` and DBML text of the same selection.

dbterd's algorithm does not mark primary keys; a model's primary key here is its primary-key
constraint if it declares one, else its first column tested both ``unique`` and ``not_null``.
"""

from __future__ import annotations

import json
from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from warehouse.errors import WarehouseError

MARTS_FOLDER = "marts"

FACT = "fact"
DIMENSION = "dimension"
OTHER = "model"

# PostgreSQL spells some types out; the diagrams use the short names.
SHORT_TYPES = {
    "character varying": "varchar",
    "timestamp without time zone": "timestamp",
    "timestamp with time zone": "timestamptz",
    "double precision": "double",
}


@dataclass(frozen=True)
class Column:
    name: str
    data_type: str
    is_primary_key: bool = False
    is_foreign_key: bool = False

    @property
    def constraints(self) -> list[str]:
        """`primary_key` and/or `foreign_key`, as the diagrams mark the column."""
        marks = (("primary_key", self.is_primary_key), ("foreign_key", self.is_foreign_key))
        return [name for name, marked in marks if marked]


@dataclass(frozen=True)
class Entity:
    """A mart model as a diagram shows it."""

    unique_id: str
    name: str
    relation: str  # schema.table, as dbterd names the entity in its text output
    mart: str  # the folder under models/marts: core, finance, ...
    kind: str  # FACT, DIMENSION or OTHER, by the model's name prefix
    description: str
    columns: tuple[Column, ...]


@dataclass(frozen=True)
class Relationship:
    """One relationships test: the child's columns reference the parent's."""

    test_id: str
    child: str
    child_columns: tuple[str, ...]
    parent: str
    parent_columns: tuple[str, ...]
    cardinality: str = "n1"


@dataclass
class MartErd:
    """The mart models and every relationship dbterd found between them."""

    entities: dict[str, Entity]
    relationships: list[Relationship]

    @property
    def facts(self) -> list[Entity]:
        facts = [entity for entity in self.entities.values() if entity.kind == FACT]
        return sorted(facts, key=lambda entity: (entity.mart, entity.name))

    @property
    def marts(self) -> list[str]:
        """Marts with at least one fact: one star schema each."""
        return sorted({fact.mart for fact in self.facts})

    def star_members(self, mart: str) -> list[str]:
        """The mart's facts and dimensions, the models they reference, and those dimensions'
        outriggers (a dimension that a dimension references)."""
        own = {
            entity.unique_id
            for entity in self.entities.values()
            if entity.mart == mart and entity.kind in {FACT, DIMENSION}
        }
        members = set(own)
        while True:
            referenced = {
                rel.parent
                for rel in self.relationships
                if rel.child in own
                or (rel.child in members and self.entities[rel.child].kind == DIMENSION)
            }
            if referenced <= members:
                return sorted(members, key=lambda uid: self.entities[uid].name)
            members |= referenced

    def dimension_links(self) -> dict[str, dict[str, list[Relationship]]]:
        """{fact: {dimension: relationships}} for the bus matrix."""
        links: dict[str, dict[str, list[Relationship]]] = defaultdict(lambda: defaultdict(list))
        for rel in self.relationships:
            child, parent = self.entities[rel.child], self.entities[rel.parent]
            if child.kind == FACT and parent.kind == DIMENSION:
                links[rel.child][rel.parent].append(rel)
        return links


@dataclass
class StarSchema:
    """One mart's diagram: its entities and relationships, and dbterd's text of them."""

    mart: str
    entities: list[Entity]
    relationships: list[Relationship]
    mermaid: str
    dbml: str

    @property
    def facts(self) -> list[Entity]:
        return [e for e in self.entities if e.kind == FACT and e.mart == self.mart]

    @property
    def side_models(self) -> list[Entity]:
        """What is drawn beside the facts: their dimensions and other models they reference."""
        return [e for e in self.entities if not (e.kind == FACT and e.mart == self.mart)]


def mart_models(manifest: dict[str, Any]) -> dict[str, str]:
    """{unique_id: mart} of the models under models/marts/<mart>/."""
    marts = {}
    for unique_id, node in manifest.get("nodes", {}).items():
        fqn = node.get("fqn", [])
        if node.get("resource_type") == "model" and len(fqn) > 3 and fqn[1] == MARTS_FOLDER:
            marts[unique_id] = fqn[2]
    return marts


def entity_kind(name: str) -> str:
    if name.startswith("fct_"):
        return FACT
    if name.startswith("dim_"):
        return DIMENSION
    return OTHER


@dataclass(frozen=True)
class PrimaryKey:
    """A model's declared primary key, or its candidate keys (tested unique and not_null)."""

    columns: tuple[str, ...]
    declared: bool

    def marked(self, table_columns: list[str]) -> set[str]:
        """The columns a diagram marks PK: the declared key, else the first candidate."""
        if self.declared:
            return set(self.columns)
        first = next((column for column in table_columns if column in self.columns), None)
        return {first} if first else set()


def primary_keys(manifest: dict[str, Any]) -> dict[str, PrimaryKey]:
    """Per model, a primary-key constraint if it declares one, else its candidate keys."""
    nodes = manifest.get("nodes", {})
    keys: dict[str, PrimaryKey] = {}
    tested: dict[tuple[str, str], set[str]] = defaultdict(set)
    for node in nodes.values():
        name = (node.get("test_metadata") or {}).get("name")
        if name in {"unique", "not_null"} and node.get("attached_node") and node.get("column_name"):
            tested[(node["attached_node"], node["column_name"].lower())].add(name)
    candidates: dict[str, list[str]] = defaultdict(list)
    for (unique_id, column), names in tested.items():
        if names == {"unique", "not_null"}:
            candidates[unique_id].append(column)
    for unique_id, columns in candidates.items():
        keys[unique_id] = PrimaryKey(tuple(columns), declared=False)
    for unique_id, node in nodes.items():
        declared = [
            column.lower()
            for constraint in node.get("constraints") or []
            if constraint.get("type") == "primary_key"
            for column in constraint.get("columns") or []
        ] + [
            column["name"].lower()
            for column in (node.get("columns") or {}).values()
            if any(c.get("type") == "primary_key" for c in column.get("constraints") or [])
        ]
        if declared:
            keys[unique_id] = PrimaryKey(tuple(declared), declared=True)
    return keys


def dbterd_erd(artifacts_dir: Path, unique_ids: Iterable[str], target: str) -> str:
    """dbterd's output in `target` format for exactly these models, from the dbt artefacts."""
    from click import ClickException  # dbterd's CLI framework, and its error type
    from dbterd.api import DbtErd  # imported here: dbterd takes seconds to import

    selection = [f"exact:{unique_id}" for unique_id in sorted(unique_ids)]
    if not selection:
        return ""
    try:
        return DbtErd(
            artifacts_dir=str(artifacts_dir),
            target=target,
            algo="test_relationship",
            entity_name_format="schema.table",
            resource_type=["model"],
            select=selection,
            exclude=[],
            omit_columns=False,
        ).get_erd()
    except (ClickException, OSError, ValueError) as error:
        message = error.format_message() if isinstance(error, ClickException) else str(error)
        raise WarehouseError(
            f"dbterd could not read the dbt artefacts in {artifacts_dir}: {message}",
            hint="run `warehouse docs` again; it regenerates manifest.json and catalog.json",
        ) from error


def read_mart_erd(artifacts_dir: Path, manifest: dict[str, Any]) -> MartErd:
    """The mart models and their relationships, as dbterd reads manifest.json and catalog.json."""
    marts = mart_models(manifest)
    payload = json.loads(dbterd_erd(artifacts_dir, marts, "json") or '{"nodes": [], "edges": []}')
    return erd_from_dbterd(payload, manifest)


def erd_from_dbterd(payload: dict[str, Any], manifest: dict[str, Any]) -> MartErd:
    """Entities and relationships from dbterd's JSON payload (its `nodes` and `edges`)."""
    marts = mart_models(manifest)
    keys = primary_keys(manifest)
    nodes = manifest.get("nodes", {})
    entities: dict[str, Entity] = {}
    for node in payload.get("nodes", []):
        unique_id = node["id"]
        name = nodes.get(unique_id, {}).get("name") or unique_id.rsplit(".", 1)[-1]
        # dbterd lists a placeholder column for a model it knows no columns of
        columns = [c for c in node.get("columns", []) if c["name"] and c["name"] != "unknown"]
        key = keys.get(unique_id, PrimaryKey((), declared=False))
        marked = key.marked([column["name"] for column in columns])
        entities[unique_id] = Entity(
            unique_id=unique_id,
            name=name,
            relation=node.get("name") or name,
            mart=marts.get(unique_id, ""),
            kind=entity_kind(name),
            description=" ".join((node.get("description") or "").split()),
            columns=tuple(
                Column(
                    name=column["name"],
                    data_type=short_type(column.get("data_type") or ""),
                    is_primary_key=column["name"] in marked,
                    is_foreign_key=bool(column.get("is_foreign_key")),
                )
                for column in columns
            ),
        )
    relationships = [
        Relationship(
            test_id=edge["id"],
            child=edge["from_id"],
            child_columns=tuple(edge["from_columns"]),
            parent=edge["to_id"],
            parent_columns=tuple(edge["to_columns"]),
            cardinality=edge.get("cardinality") or "n1",
        )
        for edge in payload.get("edges", [])
        if edge["from_id"] in entities and edge["to_id"] in entities
    ]
    relationships.sort(key=lambda rel: (rel.child, rel.child_columns, rel.parent))
    return MartErd(entities=entities, relationships=relationships)


def short_type(data_type: str) -> str:
    lowered = data_type.lower().replace(", ", ",")
    return SHORT_TYPES.get(lowered, lowered)


def star_schemas(erd: MartErd, artifacts_dir: Path | None) -> list[StarSchema]:
    """One star per mart, with dbterd's Mermaid and DBML of the same models.

    Without `artifacts_dir` the text outputs stay empty (for tests on hand-made ERDs).
    """
    stars = []
    for mart in erd.marts:
        members = erd.star_members(mart)
        inside = set(members)
        stars.append(
            StarSchema(
                mart=mart,
                entities=[erd.entities[uid] for uid in members],
                relationships=[
                    rel for rel in erd.relationships if rel.child in inside and rel.parent in inside
                ],
                mermaid=dbterd_erd(artifacts_dir, members, "mermaid") if artifacts_dir else "",
                dbml=dbterd_erd(artifacts_dir, members, "dbml") if artifacts_dir else "",
            )
        )
    return stars


def write_erd_sources(stars: list[StarSchema], folder: Path) -> list[Path]:
    """dbterd's text per star, `<mart>.mmd` (Mermaid) and `<mart>.dbml`, for other tools."""
    folder.mkdir(parents=True, exist_ok=True)
    written = []
    for star in stars:
        for suffix, text in ((".mmd", star.mermaid), (".dbml", star.dbml)):
            path = folder / f"{star.mart}{suffix}"
            path.write_text(text.rstrip("\n") + "\n", encoding="utf-8")
            written.append(path)
    return written
