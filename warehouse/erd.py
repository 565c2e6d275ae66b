"""Entity-relationship diagrams of the star schemas and the bus matrix, from dbterd.

dbterd (https://github.com/datnguye/dbterd) reads the ``relationships`` tests in
``manifest.json`` (and the column types in ``catalog.json``) with its ``test_relationship``
algorithm. Everything on the docs site that shows how marts join comes from that one reading:

- ``read_mart_erd``: the mart models and the relationships between them (dbterd's JSON target);
- ``star_schemas``: one star per mart (its facts, their dimensions and the mart's own ones), with
  dbterd's own Mermaid ``erDiagram`` and DBML text of the same selection;
- ``render_bus_matrix``: facts x dimensions;
- ``render_erd_page``: one diagram per mart, drawn as inline SVG here. dbterd writes text for
  other tools to draw; the site may not load a renderer from a CDN, and none is installed, so
  the boxes, lines and crow's feet are laid out and drawn by this module.

dbterd's algorithm does not mark primary keys; a model's primary key here is its primary-key
constraint if it declares one, else its first column tested both ``unique`` and ``not_null``.
"""

from __future__ import annotations

import html
import json
import math
from collections import Counter, defaultdict
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from warehouse.errors import WarehouseError

ERD_PAGE = "erd.html"
ERD_FOLDER = "erd"
MARTS_FOLDER = "marts"

FACT = "fact"
DIMENSION = "dimension"
OTHER = "model"

# dbterd's cardinality codes, as its Mermaid target draws them: (child end, parent end).
CARDINALITY_ENDS = {
    "n1": ("one_or_more", "exactly_one"),
    "01": ("zero_or_more", "exactly_one"),
    "11": ("exactly_one", "exactly_one"),
    "0n": ("zero_or_more", "one_or_more"),
    "1n": ("exactly_one", "one_or_more"),
    "nn": ("one_or_more", "one_or_more"),
}
CARDINALITY_WORDS = {
    "n1": "many to one",
    "01": "zero or many to one",
    "11": "one to one",
    "0n": "zero or many to one or many",
    "1n": "one to many",
    "nn": "many to many",
}

# PostgreSQL spells some types out; the diagrams use the short names.
SHORT_TYPES = {
    "character varying": "varchar",
    "timestamp without time zone": "timestamp",
    "timestamp with time zone": "timestamptz",
    "double precision": "double",
}


# --- what dbterd reads ------------------------------------------------------------------------


@dataclass(frozen=True)
class Column:
    name: str
    data_type: str
    is_primary_key: bool = False
    is_foreign_key: bool = False


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

    def row_of(self, column: str) -> int | None:
        for index, candidate in enumerate(self.columns):
            if candidate.name == column:
                return index
        return None


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


def model_href(unique_id: str) -> str:
    """The node's page in dbt's docs."""
    kind = unique_id.split(".", 1)[0]
    return f"index.html#!/{kind}/{html.escape(unique_id)}"


# --- layout -----------------------------------------------------------------------------------

ROW_HEIGHT = 18
HEADER_HEIGHT = 30
BOX_PADDING = 6
KEY_GUTTER = 40  # the PK and FK marks left of the column names
COLUMN_GAP = 180  # between the fact column and a dimension column: room for the lines
BOX_GAP = 28
MARGIN = 16
STUB = 26  # straight end of every line, where its cardinality marks sit
LANE_START = 40  # first lane of a line between two boxes of the same column
LANE_STEP = 14
CORNER = 10
MIN_BOX_WIDTH = 230

HEADER_COLOURS = {FACT: "#0f3a5a", DIMENSION: "#3d6b8c", "shared": "#2f6f62"}
LINE_COLOURS = (
    "#2b6cb0",
    "#dd6b20",
    "#2f855a",
    "#805ad5",
    "#d53f8c",
    "#b7791f",
    "#00838f",
    "#c53030",
    "#4a5568",
    "#6b8e23",
)

Point = tuple[float, float]
Cubic = tuple[Point, Point, Point, Point]


def text_width(text: str, size: float) -> float:
    """A generous estimate of a sans-serif string's width: the layout must not clip names."""
    return len(text) * size * 0.56 + 2


def box_height(entity: Entity) -> float:
    return HEADER_HEIGHT + ROW_HEIGHT * max(len(entity.columns), 1) + BOX_PADDING


def box_width(entity: Entity) -> float:
    header = 12 + text_width(entity.name, 13.5) + 18 + text_width(entity.mart, 11) + 12
    rows = max(
        (
            KEY_GUTTER + text_width(column.name, 12) + 20 + text_width(column.data_type, 11) + 10
            for column in entity.columns
        ),
        default=0,
    )
    return max(MIN_BOX_WIDTH, math.ceil(max(header, rows) / 10) * 10)


@dataclass(frozen=True)
class Box:
    entity: Entity
    x: float
    y: float
    width: float
    role: str  # FACT, DIMENSION or "shared", for the header colour

    @property
    def height(self) -> float:
        return box_height(self.entity)

    @property
    def right(self) -> float:
        return self.x + self.width

    def row_y(self, column: str) -> float:
        """The vertical middle of a column's row, or of the header when the box lacks it."""
        row = self.entity.row_of(column)
        if row is None:
            return self.y + HEADER_HEIGHT / 2
        return self.y + HEADER_HEIGHT + ROW_HEIGHT * row + ROW_HEIGHT / 2

    def contains(self, point: Point, inset: float = 0.0) -> bool:
        x, y = point
        return (
            self.x + inset < x < self.right - inset
            and self.y + inset < y < self.y + self.height - inset
        )


@dataclass(frozen=True)
class Line:
    """A relationship drawn from the child's foreign-key row to the parent's key row."""

    relationship: Relationship
    segments: tuple[Cubic, ...]
    start_direction: int  # +1: the line leaves the child box to the right, -1 to the left
    end_direction: int  # the same for the parent box
    colour: str

    @property
    def start(self) -> Point:
        return self.segments[0][0]

    @property
    def end(self) -> Point:
        return self.segments[-1][3]

    def path(self) -> str:
        (x, y) = self.start
        parts = [f"M{x:.1f},{y:.1f}"]
        for _, c1, c2, p in self.segments:
            parts.append(f"C{c1[0]:.1f},{c1[1]:.1f} {c2[0]:.1f},{c2[1]:.1f} {p[0]:.1f},{p[1]:.1f}")
        return " ".join(parts)

    def points(self, per_segment: int = 24) -> list[Point]:
        """Points along the line, for checks that it stays clear of the boxes."""
        sampled = []
        for p0, p1, p2, p3 in self.segments:
            for step in range(per_segment + 1):
                t = step / per_segment
                a, b, c, d = (1 - t) ** 3, 3 * (1 - t) ** 2 * t, 3 * (1 - t) * t**2, t**3
                sampled.append(
                    (
                        a * p0[0] + b * p1[0] + c * p2[0] + d * p3[0],
                        a * p0[1] + b * p1[1] + c * p2[1] + d * p3[1],
                    )
                )
        return sampled


@dataclass
class Layout:
    boxes: dict[str, Box]
    lines: list[Line]
    width: float
    height: float


def straight(a: Point, b: Point) -> Cubic:
    dx, dy = b[0] - a[0], b[1] - a[1]
    return (a, (a[0] + dx / 3, a[1] + dy / 3), (a[0] + 2 * dx / 3, a[1] + 2 * dy / 3), b)


def rounded_path(points: list[Point], radius: float = CORNER) -> tuple[Cubic, ...]:
    """An orthogonal polyline through `points` with rounded corners, as cubic segments."""
    segments: list[Cubic] = []
    current = points[0]
    for index in range(1, len(points) - 1):
        before, corner, after = points[index - 1], points[index], points[index + 1]
        into = math.dist(before, corner)
        out = math.dist(corner, after)
        r = min(radius, into / 2, out / 2)
        if r <= 0:
            continue
        enter = (
            corner[0] + (before[0] - corner[0]) * r / into,
            corner[1] + (before[1] - corner[1]) * r / into,
        )
        leave = (
            corner[0] + (after[0] - corner[0]) * r / out,
            corner[1] + (after[1] - corner[1]) * r / out,
        )
        if enter != current:
            segments.append(straight(current, enter))
        kappa = 0.5523  # a quarter circle as one cubic
        control_in = (
            enter[0] + (corner[0] - enter[0]) * kappa,
            enter[1] + (corner[1] - enter[1]) * kappa,
        )
        control_out = (
            leave[0] + (corner[0] - leave[0]) * kappa,
            leave[1] + (corner[1] - leave[1]) * kappa,
        )
        segments.append((enter, control_in, control_out, leave))
        current = leave
    if points[-1] != current:
        segments.append(straight(current, points[-1]))
    return tuple(segments)


def fact_order(facts: list[Entity], relationships: list[Relationship]) -> list[Entity]:
    """Facts top to bottom, each referenced fact right above the facts that reference it."""
    by_id = {fact.unique_id: fact for fact in facts}
    children: dict[str, list[str]] = defaultdict(list)
    has_parent: set[str] = set()
    for rel in relationships:
        if rel.child in by_id and rel.parent in by_id and rel.child != rel.parent:
            children[rel.parent].append(rel.child)
            has_parent.add(rel.child)
    ordered: list[Entity] = []

    def visit(unique_id: str) -> None:
        if by_id[unique_id] in ordered:
            return
        ordered.append(by_id[unique_id])
        for child in sorted(children[unique_id], key=lambda uid: by_id[uid].name):
            visit(child)

    def family_size(unique_id: str, seen: set[str] | None = None) -> int:
        seen = seen if seen is not None else set()
        if unique_id in seen:
            return 0
        seen.add(unique_id)
        return 1 + sum(family_size(child, seen) for child in children[unique_id])

    roots = [fact for fact in facts if fact.unique_id not in has_parent]
    roots.sort(key=lambda fact: (-family_size(fact.unique_id), fact.name))
    for root in roots:
        visit(root.unique_id)
    for fact in sorted(facts, key=lambda fact: fact.name):  # facts on a cycle of references
        visit(fact.unique_id)
    return ordered


def stack(
    order: list[str], heights: dict[str, float], wanted: dict[str, float], bottom: float
) -> dict[str, float]:
    """Tops for boxes stacked in this order, each as near its wanted top as the others allow."""
    tops: dict[str, float] = {}
    cursor = MARGIN
    for uid in order:
        tops[uid] = max(wanted.get(uid, cursor), cursor)
        cursor = tops[uid] + heights[uid] + BOX_GAP
    limit = max(bottom, MARGIN + sum(heights[uid] + BOX_GAP for uid in order) - BOX_GAP)
    for uid in reversed(order):
        tops[uid] = min(tops[uid], limit - heights[uid])
        limit = tops[uid] - BOX_GAP
    return tops


def assign_lanes(spans: list[tuple[float, float]]) -> list[int]:
    """Lane per vertical span, so that overlapping spans never share a lane."""
    lanes: list[int] = [0] * len(spans)
    lane_ends: list[float] = []
    for index in sorted(range(len(spans)), key=lambda i: min(spans[i])):
        low, high = sorted(spans[index])
        for lane, end in enumerate(lane_ends):
            if low > end + 6:
                lanes[index] = lane
                lane_ends[lane] = high
                break
        else:
            lanes[index] = len(lane_ends)
            lane_ends.append(high)
    return lanes


def row_offset(entity: Entity, column: str | None) -> float:
    """From a box's top to the middle of a column's row (to its header's without the column)."""
    row = entity.row_of(column) if column else None
    return HEADER_HEIGHT / 2 if row is None else HEADER_HEIGHT + ROW_HEIGHT * (row + 0.5)


def place_side_boxes(
    star: StarSchema, middle_tops: dict[str, float], middle_bottom: float
) -> tuple[dict[str, str], dict[str, float]]:
    """Column ("left" or "right") and top of every model that is not a fact of the mart.

    Each box wants the row a line joins level with the fact rows it is joined from; boxes
    joined to each other share a column, and the columns are filled to similar heights.
    """
    entities = {entity.unique_id: entity for entity in star.entities}
    sides = [uid for uid in entities if uid not in middle_tops]
    heights = {uid: box_height(entities[uid]) for uid in sides}
    levels: dict[str, list[float]] = defaultdict(list)
    joined_rows: dict[str, Counter[str]] = defaultdict(Counter)
    cluster_of: dict[str, str] = {uid: uid for uid in sides}

    def cluster(uid: str) -> str:
        while cluster_of[uid] != uid:
            uid = cluster_of[uid]
        return uid

    for rel in star.relationships:
        ends = [(rel.child, rel.child_columns[0]), (rel.parent, rel.parent_columns[0])]
        in_middle = [uid in middle_tops for uid, _ in ends]
        if in_middle[0] != in_middle[1]:
            (fact, fact_column), (other, other_column) = ends if in_middle[0] else ends[::-1]
            levels[other].append(middle_tops[fact] + row_offset(entities[fact], fact_column))
            joined_rows[other][other_column] += 1
        elif not in_middle[0] and rel.child != rel.parent:
            cluster_of[cluster(rel.child)] = cluster(rel.parent)
    level = {uid: sum(ys) / len(ys) for uid, ys in levels.items()}
    for uid in sides:  # a box joined only to other side boxes sits by them
        if uid not in level:
            mates = [level[m] for m in sides if cluster(m) == cluster(uid) and m in level]
            level[uid] = sum(mates) / len(mates) if mates else (MARGIN + middle_bottom) / 2

    clusters: dict[str, list[str]] = defaultdict(list)
    for uid in sides:
        clusters[cluster(uid)].append(uid)
    size = {
        root: sum(heights[uid] + BOX_GAP for uid in members) for root, members in clusters.items()
    }
    column_of: dict[str, str] = {}
    filled = {"left": 0.0, "right": 0.0}
    for root in sorted(clusters, key=lambda r: (-size[r], entities[r].name)):
        side = "left" if filled["left"] <= filled["right"] else "right"
        filled[side] += size[root]
        column_of.update({uid: side for uid in clusters[root]})

    tops: dict[str, float] = {}
    for side in ("left", "right"):
        roots = [root for root in clusters if column_of[root] == side]
        roots.sort(key=lambda r: sum(level[u] for u in clusters[r]) / len(clusters[r]))
        order = [
            uid
            for root in roots
            for uid in sorted(clusters[root], key=lambda u: (level[u], entities[u].name))
        ]
        wanted = {}
        for uid in order:
            most_joined = joined_rows[uid].most_common(1)
            column = most_joined[0][0] if most_joined else None
            wanted[uid] = level[uid] - row_offset(entities[uid], column)
        tops.update(stack(order, heights, wanted, middle_bottom))
    return column_of, tops


def layout_star(star: StarSchema) -> Layout:
    """Facts of the mart in a middle column, the models they reference left and right of it.

    Lines between boxes of neighbouring columns curve through the gap between them; lines
    between two boxes of one column run in lanes beside it (outside for the dimension columns,
    on the quieter side for the facts), so that no line crosses a box.
    """
    entities = {entity.unique_id: entity for entity in star.entities}
    middle_tops: dict[str, float] = {}
    cursor = float(MARGIN)
    for fact in fact_order(star.facts, star.relationships):
        middle_tops[fact.unique_id] = cursor
        cursor += box_height(fact) + BOX_GAP
    column_of, tops = place_side_boxes(star, middle_tops, cursor - BOX_GAP)
    column_of.update({uid: "middle" for uid in middle_tops})
    tops.update(middle_tops)

    joins = Counter(
        frozenset((column_of[r.child], column_of[r.parent])) for r in star.relationships
    )
    quieter = (
        -1 if joins[frozenset(("middle", "left"))] <= joins[frozenset(("middle", "right"))] else 1
    )
    lane_side = {"left": -1, "right": 1, "middle": quieter}
    lanes_by_column: dict[str, list[Relationship]] = defaultdict(list)
    for rel in star.relationships:
        if column_of[rel.child] == column_of[rel.parent]:
            lanes_by_column[column_of[rel.child]].append(rel)
    lane_of: dict[str, int] = {}
    for rels in lanes_by_column.values():
        spans = [
            (
                tops[rel.child] + row_offset(entities[rel.child], rel.child_columns[0]),
                tops[rel.parent] + row_offset(entities[rel.parent], rel.parent_columns[0]),
            )
            for rel in rels
        ]
        lane_of.update(zip((rel.test_id for rel in rels), assign_lanes(spans), strict=True))

    def lane_room(side: str, direction: int) -> float:
        lanes = [lane_of[rel.test_id] for rel in lanes_by_column.get(side, [])]
        if not lanes or lane_side[side] != direction:
            return 0
        return LANE_START + LANE_STEP * max(lanes) + CORNER

    width_of = {
        side: max(
            (box_width(e) for uid, e in entities.items() if column_of[uid] == side), default=0
        )
        for side in ("left", "middle", "right")
    }
    x_of = {"left": MARGIN + lane_room("left", -1)}
    if width_of["left"]:
        x_of["middle"] = x_of["left"] + width_of["left"] + COLUMN_GAP
    else:
        x_of["middle"] = MARGIN + lane_room("middle", -1)
    x_of["right"] = x_of["middle"] + width_of["middle"] + COLUMN_GAP
    right_edge = max(
        x_of["middle"] + width_of["middle"] + lane_room("middle", 1),
        x_of["right"] + width_of["right"] + lane_room("right", 1) if width_of["right"] else 0,
    )

    boxes: dict[str, Box] = {}
    for uid, entity in entities.items():
        if column_of[uid] == "middle" or (entity.kind == FACT and entity.mart == star.mart):
            role = FACT
        elif entity.mart == star.mart:
            role = DIMENSION
        else:
            role = "shared"
        boxes[uid] = Box(entity, x_of[column_of[uid]], tops[uid], width_of[column_of[uid]], role)

    # Neighbouring boxes get different colours for the lines that end at them.
    parents = sorted(
        {rel.parent for rel in star.relationships}, key=lambda uid: (boxes[uid].x, boxes[uid].y)
    )
    colour_of = {uid: LINE_COLOURS[i % len(LINE_COLOURS)] for i, uid in enumerate(parents)}
    lines = [
        route_line(
            rel,
            boxes[rel.child],
            boxes[rel.parent],
            lane_side[column_of[rel.child]] if rel.test_id in lane_of else 0,
            lane_of.get(rel.test_id, 0),
            colour_of[rel.parent],
        )
        for rel in star.relationships
    ]
    height = max((box.y + box.height for box in boxes.values()), default=MARGIN) + MARGIN
    return Layout(boxes=boxes, lines=lines, width=right_edge + MARGIN, height=height)


def route_line(
    rel: Relationship, child: Box, parent: Box, lane_direction: int, lane: int, colour: str
) -> Line:
    """The line of one relationship: a curve between neighbouring columns, or, with a
    `lane_direction`, a bracket in that lane beside the column both boxes stand in."""
    start_y = child.row_y(rel.child_columns[0])
    end_y = parent.row_y(rel.parent_columns[0])
    if lane_direction:
        d = lane_direction
        start_x = child.right if d > 0 else child.x
        end_x = parent.right if d > 0 else parent.x
        lane_x = start_x + d * (LANE_START + LANE_STEP * lane)
        segments = rounded_path(
            [
                (start_x, start_y),
                (start_x + d * STUB, start_y),
                (lane_x, start_y),
                (lane_x, end_y),
                (end_x + d * STUB, end_y),
                (end_x, end_y),
            ]
        )
        return Line(rel, segments, d, d, colour)
    d = 1 if child.x < parent.x else -1
    start = (child.right if d > 0 else child.x, start_y)
    end = (parent.x if d > 0 else parent.right, end_y)
    start_stub = (start[0] + d * STUB, start_y)
    end_stub = (end[0] - d * STUB, end_y)
    bend = (start_stub[0] + end_stub[0]) / 2
    segments = (
        straight(start, start_stub),
        (start_stub, (bend, start_y), (bend, end_y), end_stub),
        straight(end_stub, end),
    )
    return Line(rel, segments, d, -d, colour)


# --- drawing ----------------------------------------------------------------------------------


def end_marks(kind: str, point: Point, direction: int, colour: str) -> str:
    """Crow's-foot marks where a line meets a box; `direction` points away from the box."""
    x, y = point
    d = direction
    marks = []

    def bar(distance: float) -> str:
        bx = x + d * distance
        return f"M{bx:.1f},{y - 6:.1f} L{bx:.1f},{y + 6:.1f}"

    if kind == "exactly_one":
        marks += [bar(7), bar(12)]
    else:
        tip = x + d * 13
        marks.append(
            f"M{tip:.1f},{y:.1f} L{x:.1f},{y - 7:.1f} M{tip:.1f},{y:.1f} L{x:.1f},{y + 7:.1f}"
        )
        if kind == "one_or_more":
            marks.append(bar(18))
    drawn = f'<path d="{" ".join(marks)}" fill="none" stroke="{colour}" stroke-width="1.6"/>'
    if kind == "zero_or_more":
        drawn += (
            f'<circle cx="{x + d * 21:.1f}" cy="{y:.1f}" r="4" fill="#fff" '
            f'stroke="{colour}" stroke-width="1.6"/>'
        )
    return drawn


def render_line(line: Line, entities: dict[str, Entity]) -> str:
    rel = line.relationship
    child, parent = entities[rel.child], entities[rel.parent]
    child_end, parent_end = CARDINALITY_ENDS.get(rel.cardinality, CARDINALITY_ENDS["n1"])
    words = CARDINALITY_WORDS.get(rel.cardinality, rel.cardinality)
    title = (
        f"{child.name}.{', '.join(rel.child_columns)} → {parent.name}."
        f"{', '.join(rel.parent_columns)} ({words}: rows of {child.name} to rows of "
        f"{parent.name})"
    )
    return (
        f'<g class="relationship" data-from="{html.escape(child.name)}" '
        f'data-to="{html.escape(parent.name)}" '
        f'data-columns="{html.escape(",".join(rel.child_columns))}">'
        f"<title>{html.escape(title)}</title>"
        f'<path class="edge" d="{line.path()}" fill="none" stroke="{line.colour}" '
        'stroke-width="1.6"/>'
        + end_marks(child_end, line.start, line.start_direction, line.colour)
        + end_marks(parent_end, line.end, line.end_direction, line.colour)
        + "</g>"
    )


def render_box(box: Box) -> str:
    entity = box.entity
    x, y, width = box.x, box.y, box.width
    colour = HEADER_COLOURS[box.role]
    description = entity.description.split(". ")[0].rstrip(".")
    title = f"{entity.name} ({entity.relation})" + (f": {description}." if description else "")
    parts = [
        f'<a class="entity" href="{model_href(entity.unique_id)}" '
        f'data-entity="{html.escape(entity.name)}" data-role="{box.role}">'
        f"<title>{html.escape(title)} Opens its page in the dbt docs.</title>",
        f'<rect x="{x:.1f}" y="{y:.1f}" width="{width:.1f}" height="{box.height:.1f}" rx="6" '
        f'fill="#fff" stroke="{colour}" stroke-width="1.5"/>',
        f'<path d="M{x:.1f},{y + HEADER_HEIGHT:.1f} V{y + 6:.1f} Q{x:.1f},{y:.1f} {x + 6:.1f},'
        f"{y:.1f} H{x + width - 6:.1f} Q{x + width:.1f},{y:.1f} {x + width:.1f},{y + 6:.1f} "
        f'V{y + HEADER_HEIGHT:.1f} Z" fill="{colour}"/>',
        f'<text x="{x + 12:.1f}" y="{y + 20:.1f}" fill="#fff" font-weight="700" '
        f'font-size="13.5">{html.escape(entity.name)}</text>',
        f'<text x="{x + width - 10:.1f}" y="{y + 20:.1f}" fill="#d5e3ee" font-size="11" '
        f'text-anchor="end">{html.escape(entity.mart)}</text>',
    ]
    for index, column in enumerate(entity.columns):
        top = y + HEADER_HEIGHT + ROW_HEIGHT * index
        baseline = top + 13
        if column.is_primary_key or column.is_foreign_key:
            fill = "#fdf3dc" if column.is_primary_key else "#e9f2fa"
            parts.append(
                f'<rect x="{x + 1.5:.1f}" y="{top:.1f}" width="{width - 3:.1f}" '
                f'height="{ROW_HEIGHT}" fill="{fill}"/>'
            )
        if column.is_primary_key:
            parts.append(
                f'<text class="pk" x="{x + 8:.1f}" y="{baseline:.1f}" font-size="10" '
                'font-weight="700" fill="#a0650a">PK</text>'
            )
        if column.is_foreign_key:
            parts.append(
                f'<text class="fk" x="{x + 24:.1f}" y="{baseline:.1f}" font-size="10" '
                'font-weight="700" fill="#2b6cb0">FK</text>'
            )
        weight = ' font-weight="600"' if column.is_primary_key or column.is_foreign_key else ""
        parts.append(
            f'<text x="{x + KEY_GUTTER:.1f}" y="{baseline:.1f}"{weight}>'
            f"{html.escape(column.name)}</text>"
            f'<text x="{x + width - 10:.1f}" y="{baseline:.1f}" text-anchor="end" '
            f'font-size="11" fill="#6b7c8d">{html.escape(column.data_type)}</text>'
        )
    parts.append("</a>")
    return "".join(parts)


def render_star_svg(star: StarSchema) -> str:
    """One mart's star schema as inline SVG."""
    layout = layout_star(star)
    entities = {entity.unique_id: entity for entity in star.entities}
    width, height = math.ceil(layout.width), math.ceil(layout.height)
    return (
        f'<svg class="erd" data-mart="{html.escape(star.mart)}" '
        f'xmlns="http://www.w3.org/2000/svg" width="{width}" height="{height}" '
        f'viewBox="0 0 {width} {height}" role="img" '
        f'aria-label="entity-relationship diagram of the {html.escape(star.mart)} mart" '
        'font-family="-apple-system,BlinkMacSystemFont,Segoe UI,Roboto,sans-serif" '
        'font-size="12" fill="#1d2733">'
        + "".join(render_line(line, entities) for line in layout.lines)
        + "".join(render_box(box) for box in layout.boxes.values())
        + "</svg>"
    )


ERD_STYLE = """
.erd-frame{overflow-x:auto;background:#fff;border-radius:8px;padding:8px;
box-shadow:0 1px 2px rgba(0,0,0,.08);margin:8px 0 24px}
svg.erd{display:block;max-width:100%;height:auto;margin:0 auto}
svg.erd a.entity:hover rect:first-of-type{stroke-width:3}
svg.erd g.relationship:hover path{stroke-width:3.2}
.legend{display:flex;flex-wrap:wrap;gap:8px 22px;align-items:center;background:#fff;
border-radius:8px;padding:10px 16px;box-shadow:0 1px 2px rgba(0,0,0,.08);font-size:13px}
.legend span{display:inline-flex;align-items:center;gap:6px}
.swatch{display:inline-block;width:18px;height:12px;border-radius:3px}
.key{font-weight:700;font-size:11px;padding:0 4px;border-radius:3px}
table#bus-matrix th{text-transform:none;letter-spacing:0;font-size:13px}
table#bus-matrix td.cell{text-align:center}
"""


def render_legend() -> str:
    def mark_sample(kind: str) -> str:
        colour = "#4a5568"
        return (
            '<svg width="64" height="18" viewBox="0 0 64 18" aria-hidden="true">'
            f'<path d="M4,9 H60" stroke="{colour}" stroke-width="1.6"/>'
            + (
                f'<rect x="0" y="1" width="4" height="16" fill="{colour}"/>'
                + end_marks(kind, (4, 9), 1, colour)
            )
            + "</svg>"
        )

    swatches = "".join(
        f'<span><i class="swatch" style="background:{HEADER_COLOURS[role]}"></i>{label}</span>'
        for role, label in (
            (FACT, "fact of the mart"),
            (DIMENSION, "dimension of the mart"),
            ("shared", "model of another mart (core: conformed dimension)"),
        )
    )
    keys = (
        '<span><b class="key" style="background:#fdf3dc;color:#a0650a">PK</b>primary key</span>'
        '<span><b class="key" style="background:#e9f2fa;color:#2b6cb0">FK</b>foreign key, '
        "tested by a relationships test</span>"
    )
    ends = (
        f"<span>{mark_sample('one_or_more')}many rows (the foreign-key side)</span>"
        f"<span>{mark_sample('exactly_one')}exactly one row (the referenced key)</span>"
    )
    return f'<div class="legend" id="erd-legend">{swatches}{keys}{ends}</div>'


def render_erd_page(stars: list[StarSchema]) -> str:
    """The body of the diagrams page: a legend, then one diagram per mart."""
    intro = (
        "<p>One diagram per mart: its facts in the middle, the dimensions and other models "
        "they reference on either side. A line joins a foreign-key column to the key it "
        "references; each line is a <code>relationships</code> test of the dbt project, read "
        "from <code>manifest.json</code> and <code>catalog.json</code> by "
        "dbterd. Click a box for the model's "
        "page in the dbt docs; hover over a line for its columns.</p>"
    )
    if not stars:
        return intro + "<p>No relationships tests between mart models yet.</p>"
    toc = " · ".join(
        f'<a href="#erd-{html.escape(star.mart)}">{html.escape(star.mart)}</a>' for star in stars
    )
    sections = []
    for star in stars:
        mart = html.escape(star.mart)
        counts = [plural(len(star.facts), "fact")]
        dimensions = sum(entity.kind == DIMENSION for entity in star.side_models)
        counts.append(plural(dimensions, "dimension"))
        if len(star.side_models) > dimensions:
            counts.append(plural(len(star.side_models) - dimensions, "other model"))
        counts.append(plural(len(star.relationships), "relationship"))
        sections.append(
            f'<section class="star" id="erd-{mart}"><h2>{mart.capitalize()}</h2>'
            f'<p class="muted">{", ".join(counts)}. As text for other tools '
            f'(dbterd\'s output): <a href="{ERD_FOLDER}/{mart}.mmd">Mermaid erDiagram</a> · '
            f'<a href="{ERD_FOLDER}/{mart}.dbml">DBML</a></p>'
            f'<div class="erd-frame">{render_star_svg(star)}</div></section>'
        )
    return f"{intro}{render_legend()}<p>Marts: {toc}</p>{''.join(sections)}"


def plural(count: int, noun: str) -> str:
    return f"{count} {noun}" if count == 1 else f"{count} {noun}s"


def render_bus_matrix(erd: MartErd) -> str:
    """The body of the bus-matrix page: facts (rows) x dimensions (columns)."""
    links = erd.dimension_links()
    if not links:
        return "<p>No relationships tests between mart facts and dimensions yet.</p>"
    facts = [fact for fact in erd.facts if fact.unique_id in links]
    marts_of: dict[str, set[str]] = defaultdict(set)
    usage: Counter[str] = Counter()
    for fact in facts:
        for dimension in links[fact.unique_id]:
            marts_of[dimension].add(fact.mart)
            usage[dimension] += 1
    dimensions = sorted(usage, key=lambda d: (-len(marts_of[d]), -usage[d], erd.entities[d].name))
    head = "".join(
        f'<th title="used by {plural(usage[dim], "fact")} in '
        f'{plural(len(marts_of[dim]), "mart")}"><a href="{model_href(dim)}">'
        f"{html.escape(erd.entities[dim].name)}</a>{' ★' if len(marts_of[dim]) > 1 else ''}</th>"
        for dim in dimensions
    )
    rows = []
    for fact in facts:
        cells = []
        for dim in dimensions:
            rels = links[fact.unique_id].get(dim, [])
            columns = ", ".join(column for rel in rels for column in rel.child_columns)
            cells.append(
                f'<td class="cell" data-dimension="{html.escape(erd.entities[dim].name)}">'
                + (f'✔<div class="muted">{html.escape(columns)}</div>' if rels else "")
                + "</td>"
            )
        rows.append(
            f'<tr data-fact="{html.escape(fact.name)}"><td><a href="{model_href(fact.unique_id)}">'
            f"{html.escape(fact.name)}</a>"
            f'<div class="muted"><a href="{ERD_PAGE}#erd-{html.escape(fact.mart)}">'
            f"{html.escape(fact.mart)}</a></div></td>{''.join(cells)}</tr>"
        )
    return (
        "<p>Rows are facts (business processes), columns are dimensions; a tick means the fact's "
        "foreign key, named under it, is tested to match the dimension's key. ★ marks a "
        "conformed dimension: facts of more than one mart share it. The relationships are read "
        "by dbterd from the dbt project's <code>relationships</code> tests, the same reading "
        f'the <a href="{ERD_PAGE}">entity-relationship diagrams</a> draw.</p>'
        '<div style="overflow-x:auto"><table id="bus-matrix"><thead><tr><th>fact</th>'
        f"{head}</tr></thead><tbody>{''.join(rows)}</tbody></table></div>"
    )


@dataclass
class SiteErd:
    """What the docs site needs: the reading of the marts and the stars drawn from it."""

    erd: MartErd
    stars: list[StarSchema]


def build_erd(artifacts_dir: Path, manifest: dict[str, Any], folder: Path) -> SiteErd:
    """Read the marts with dbterd, write its text per star into `folder`, return both."""
    erd = read_mart_erd(artifacts_dir, manifest)
    stars = star_schemas(erd, artifacts_dir)
    write_erd_sources(stars, folder)
    return SiteErd(erd=erd, stars=stars)
