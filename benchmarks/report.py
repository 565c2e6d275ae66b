"""Turn the raw step results of one benchmark run into the results document and its Markdown."""

from __future__ import annotations

from typing import Any

from benchmarks.steps import API_SOURCES, FILE_KINDS, StepRun

FILE_GOAL = 0.5
API_GOAL = 0.8
SLOWEST_NODES = 10


def _rate(rows: float, seconds: float) -> float:
    return round(rows / seconds, 1) if seconds > 0 else 0.0


def _ratio(numerator: float, denominator: float) -> float:
    return round(numerator / denominator, 3) if denominator > 0 else 0.0


def _loaded_rows(source: dict[str, Any]) -> int:
    return sum(source["rows"].values())


def _file_loader_runs(raw: dict[str, Any]) -> list[dict[str, Any]]:
    """Each file kind's loader figures, in FILE_KINDS order, from wherever it was measured."""
    alone = {kind["kind"]: kind for kind in raw["file_loaders"]["kinds"]}
    loads = {source["name"]: source for source in raw["load"]["sources"]}
    runs = []
    for kind in FILE_KINDS:
        if not kind.only_kind_of_its_source:
            runs.append(alone[kind.name])
            continue
        load = loads[kind.source]
        runs.append(
            {
                "kind": kind.name,
                "rows": load["rows"].get(kind.resource, 0),
                "quarantined_rows": load["rows"].get("quarantined_records", 0),
                "seconds": load["seconds"],
            }
        )
    return runs


def _file_loaders(raw: dict[str, Any]) -> list[dict[str, Any]]:
    rows = []
    for loader, native in zip(_file_loader_runs(raw), raw["native_readers"]["kinds"], strict=True):
        loader_rate = _rate(loader["rows"], loader["seconds"])
        native_rate = _rate(native["rows"], native["seconds"])
        ratio = _ratio(loader_rate, native_rate)
        rows.append(
            {
                "kind": loader["kind"],
                "files": native["files"],
                "loader_rows": loader["rows"],
                "loader_quarantined_rows": loader["quarantined_rows"],
                "loader_seconds": loader["seconds"],
                "loader_rows_per_second": loader_rate,
                "native_rows": native["rows"],
                "native_seconds": native["seconds"],
                "native_rows_per_second": native_rate,
                "ratio": ratio,
                "goal": FILE_GOAL,
                "meets_goal": ratio >= FILE_GOAL,
            }
        )
    return rows


def _api_loaders(raw: dict[str, Any]) -> list[dict[str, Any]]:
    loads = {source["name"]: source for source in raw["load"]["sources"]}
    clients = {source["name"]: source for source in raw["http_baseline"]["sources"]}
    rows = []
    for name in API_SOURCES:
        loaded, client = loads[name], clients[name]
        loader_rate = _rate(_loaded_rows(loaded), loaded["seconds"])
        client_rate = _rate(client["records"], client["seconds"])
        ratio = _ratio(loader_rate, client_rate)
        rows.append(
            {
                "source": name,
                "loader_rows": _loaded_rows(loaded),
                "loader_seconds": loaded["seconds"],
                "loader_rows_per_second": loader_rate,
                "client_records": client["records"],
                "client_requests": client["requests"],
                "client_seconds": client["seconds"],
                "client_rows_per_second": client_rate,
                "ratio": ratio,
                "goal": API_GOAL,
                "meets_goal": ratio >= API_GOAL,
            }
        )
    return rows


def _postgres(raw: dict[str, Any]) -> dict[str, Any]:
    result = raw["postgres"]
    if "skipped" in result:
        return {"skipped": result["skipped"]}
    loader_rows = sum(_loaded_rows(source) for source in result["sources"])
    loader_seconds = sum(source["seconds"] for source in result["sources"])
    copy_rows = sum(table["rows"] for table in result["copy"])
    copy_seconds = sum(table["seconds"] for table in result["copy"])
    loader_rate = _rate(loader_rows, loader_seconds)
    copy_rate = _rate(copy_rows, copy_seconds)
    # dlt's normalize and load steps: writing the extracted rows into PostgreSQL, the work COPY
    # does; extract (reading and checking the sources) is the same for every destination
    write_seconds = sum(
        seconds
        for source in result["sources"]
        for step, seconds in source.get("step_seconds", {}).items()
        if step in ("normalize", "load")
    )
    return {
        "sources": [
            {
                "source": source["name"],
                "rows": _loaded_rows(source),
                "tables": source["rows"],
                "seconds": source["seconds"],
                "rows_per_second": _rate(_loaded_rows(source), source["seconds"]),
                "step_seconds": source.get("step_seconds", {}),
            }
            for source in result["sources"]
        ],
        "loader_rows": loader_rows,
        "loader_seconds": round(loader_seconds, 3),
        "loader_rows_per_second": loader_rate,
        "copy_tables": len(result["copy"]),
        "copy_rows": copy_rows,
        "copy_seconds": round(copy_seconds, 3),
        "copy_rows_per_second": copy_rate,
        "ratio": _ratio(loader_rate, copy_rate),
        "write_seconds": round(write_seconds, 3),
        "write_ratio": _ratio(_rate(loader_rows, write_seconds), copy_rate),
    }


def _dbt(build: dict[str, Any]) -> dict[str, Any]:
    nodes = build["nodes"]
    query_seconds = sum(node["execute_seconds"] for node in nodes)
    compile_seconds = sum(node["compile_seconds"] for node in nodes)
    threads = build["threads"]
    slowest = sorted(nodes, key=lambda node: node["seconds"], reverse=True)[:SLOWEST_NODES]
    return {
        "wall_seconds": build["wall_seconds"],
        "dbt_elapsed_seconds": round(build["dbt_elapsed_seconds"], 3),
        "threads": threads,
        "nodes": len(nodes),
        "status_counts": build["status_counts"],
        "query_seconds": round(query_seconds, 3),
        "compile_seconds": round(compile_seconds, 3),
        "startup_and_parse_seconds": round(build["wall_seconds"] - build["dbt_elapsed_seconds"], 3),
        # thread-seconds spent in queries over the thread-seconds the node run had
        "query_share_of_run": _ratio(query_seconds, build["dbt_elapsed_seconds"] * threads),
        "slowest_nodes": [
            {"unique_id": node["unique_id"], "seconds": round(node["seconds"], 3)}
            for node in slowest
        ],
    }


def _slowest_node(day: dict[str, Any]) -> str:
    """The day's slowest dbt node and its seconds, for the week's table."""
    if not day["slowest_nodes"]:
        return ""
    node = day["slowest_nodes"][0]
    return f"{node['unique_id'].split('.')[-1]} {node['seconds']:.1f} s"


def _daily_runs(raw: dict[str, Any], wall: dict[str, float]) -> dict[str, Any]:
    """A week of daily runs (load one more day, then `dbt build`) against a full run (the load of
    all history into an empty warehouse, then `dbt build --full-refresh` of the same data)."""
    days = []
    for number, run in enumerate(raw["daily_runs"], start=1):
        load_seconds = wall[f"load day +{number}"]
        build_seconds = run["build"]["wall_seconds"]
        days.append(
            {
                "day": number,
                "rows_loaded": sum(_loaded_rows(source) for source in run["load"]["sources"]),
                "load_seconds": load_seconds,
                # each source's own seconds within the load, to tell which one a slow day's
                # load spent its time on
                "source_seconds": {
                    source["name"]: source["seconds"] for source in run["load"]["sources"]
                },
                "build_seconds": build_seconds,
                "build_query_seconds": _dbt(run["build"])["query_seconds"],
                "total_seconds": round(load_seconds + build_seconds, 3),
                "slowest_nodes": _dbt(run["build"])["slowest_nodes"],
                # a control: the simulator shares nothing with the warehouse, so a day on
                # which it slows as much as the load and build was a slow machine, not a
                # costlier day's run
                "simulate_seconds": wall[f"simulate day +{number}"],
            }
        )
    full_refresh = raw["dbt_full_refresh"]["wall_seconds"]
    full_run = wall["load (all sources, DuckDB)"] + full_refresh
    builds = [day["build_seconds"] for day in days]
    totals = [day["total_seconds"] for day in days]
    return {
        "days": days,
        "full_refresh_build_seconds": full_refresh,
        "full_refresh_query_seconds": _dbt(raw["dbt_full_refresh"])["query_seconds"],
        "full_run_seconds": round(full_run, 3),
        "mean_build_seconds": round(sum(builds) / len(builds), 3),
        # the goal: a day's build costs at most a tenth of rebuilding the history
        "build_over_full_refresh": _ratio(max(builds), full_refresh),
        "daily_run_over_full_run": _ratio(max(totals), full_run),
        # flat as history grows: the slowest day over the fastest
        "slowest_over_fastest_day": _ratio(max(totals), min(totals)),
    }


def summarise(meta: dict[str, Any], raw: dict[str, Any], steps: list[StepRun]) -> dict[str, Any]:
    """The results document: one section per measurement, ratios computed within this run."""
    load_rows = sum(_loaded_rows(source) for source in raw["load"]["sources"])
    load_seconds = sum(source["seconds"] for source in raw["load"]["sources"])
    wall = {step.name: step.wall_seconds for step in steps}
    dbt = _dbt(raw["dbt_build"])
    return {
        "meta": meta,
        "simulated_rows": raw["simulate"]["rows"],
        "sources": [
            {
                "source": source["name"],
                "rows": _loaded_rows(source),
                "tables": source["rows"],
                "files_read": source["files_read"],
                "seconds": source["seconds"],
                "rows_per_second": _rate(_loaded_rows(source), source["seconds"]),
            }
            for source in raw["load"]["sources"]
        ],
        "file_loaders": _file_loaders(raw),
        "api_loaders": _api_loaders(raw),
        "postgres": _postgres(raw),
        "dbt": dbt,
        "incremental": _daily_runs(raw, wall),
        "memory": [
            {"step": step.name, "wall_seconds": step.wall_seconds, "peak_rss_mb": step.peak_rss_mb}
            for step in steps
        ],
        "end_to_end": {
            "rows_loaded": load_rows,
            "loader_seconds": round(load_seconds, 3),
            "load_wall_seconds": wall["load (all sources, DuckDB)"],
            "build_wall_seconds": dbt["wall_seconds"],
            "total_seconds": round(wall["load (all sources, DuckDB)"] + dbt["wall_seconds"], 3),
            "rows_per_second": _rate(load_rows, wall["load (all sources, DuckDB)"]),
        },
    }


def _table(headers: list[str], rows: list[list[Any]]) -> str:
    def cell(value: Any) -> str:
        if isinstance(value, bool):
            return "yes" if value else "**no**"
        if isinstance(value, float):
            return f"{value:,.3f}" if abs(value) < 10 else f"{value:,.0f}"
        if isinstance(value, int):
            return f"{value:,}"
        return str(value)

    lines = ["| " + " | ".join(headers) + " |", "|" + " --- |" * len(headers)]
    lines += ["| " + " | ".join(cell(value) for value in row) + " |" for row in rows]
    return "\n".join(lines)


def render_markdown(results: dict[str, Any]) -> str:
    """The results as Markdown tables, one section per measurement."""
    meta, machine = results["meta"], results["meta"]["machine"]
    versions = ", ".join(f"{name} {version}" for name, version in machine["versions"].items())
    parts = [
        f"## Scale factor {meta['scale']:g} x {meta['days']} days (seed {meta['seed']})",
        f"Run {meta['started_at']} on {machine['cores']} cores, {machine['memory_gb']} GB, "
        f"{machine['cpu_model']}; {versions}. Whole benchmark {meta['total_seconds']} s.",
        "### Loads per source (DuckDB)",
        _table(
            ["source", "rows", "files", "seconds", "rows/s"],
            [
                [s["source"], s["rows"], s["files_read"], s["seconds"], s["rows_per_second"]]
                for s in results["sources"]
            ],
        ),
        f"### File loaders vs DuckDB's native readers (goal >= {FILE_GOAL}x)",
        _table(
            ["file kind", "files", "loader rows", "loader s", "loader rows/s", "native rows",
             "native s", "native rows/s", "ratio", "goal met"],
            [
                [k["kind"], k["files"], k["loader_rows"], k["loader_seconds"],
                 k["loader_rows_per_second"], k["native_rows"], k["native_seconds"],
                 k["native_rows_per_second"], k["ratio"], k["meets_goal"]]
                for k in results["file_loaders"]
            ],
        ),
        f"### API loaders vs a bare HTTP client (goal >= {API_GOAL}x)",
        _table(
            ["source", "loader rows", "loader s", "loader rows/s", "client records",
             "requests", "client s", "client rows/s", "ratio", "goal met"],
            [
                [a["source"], a["loader_rows"], a["loader_seconds"], a["loader_rows_per_second"],
                 a["client_records"], a["client_requests"], a["client_seconds"],
                 a["client_rows_per_second"], a["ratio"], a["meets_goal"]]
                for a in results["api_loaders"]
            ],
        ),
        "### PostgreSQL: loader vs COPY",
    ]  # fmt: skip
    postgres = results["postgres"]
    if "skipped" in postgres:
        parts.append(f"Skipped: {postgres['skipped']}.")
    else:
        parts.append(
            _table(
                ["source", "rows", "seconds", "rows/s", "extract s", "normalize s", "load s"],
                [[s["source"], s["rows"], s["seconds"], s["rows_per_second"],
                  *(s["step_seconds"].get(step, "") for step in ("extract", "normalize", "load"))]
                 for s in postgres["sources"]],
            )
            + f"\n\nAll sources: {postgres['loader_rows']:,} rows in "
            f"{postgres['loader_seconds']:.1f} s = {postgres['loader_rows_per_second']:,.0f} "
            f"rows/s; COPY of the same {postgres['copy_rows']:,} rows "
            f"({postgres['copy_tables']} tables) in {postgres['copy_seconds']:.2f} s = "
            f"{postgres['copy_rows_per_second']:,.0f} rows/s; ratio {postgres['ratio']:.3f}. "
            f"Writing into PostgreSQL alone (dlt's normalize and load steps, without reading "
            f"the sources): {postgres['write_seconds']:.1f} s, ratio "
            f"{postgres['write_ratio']:.3f}."
        )  # fmt: skip
    dbt, incremental, end_to_end = results["dbt"], results["incremental"], results["end_to_end"]
    parts += [
        "### dbt build",
        f"{dbt['nodes']} nodes ({', '.join(f'{n} {s}' for s, n in dbt['status_counts'].items())})"
        f" on {dbt['threads']} threads: wall {dbt['wall_seconds']:.1f} s, of which dbt's run "
        f"{dbt['dbt_elapsed_seconds']:.1f} s and start-up and parsing "
        f"{dbt['startup_and_parse_seconds']:.1f} s. Summed over nodes: queries "
        f"{dbt['query_seconds']:.1f} s, compilation {dbt['compile_seconds']:.1f} s; queries "
        f"fill {dbt['query_share_of_run']:.0%} of the run's thread time.",
        _table(
            ["slowest nodes", "seconds"],
            [[node["unique_id"], node["seconds"]] for node in dbt["slowest_nodes"]],
        ),
        "### A week of daily runs against a full run",
        f"The full run: the load of all history into an empty warehouse "
        f"{end_to_end['load_wall_seconds']:.1f} s, then `dbt build --full-refresh` of the same "
        f"data after the week {incremental['full_refresh_build_seconds']:.1f} s (queries "
        f"{incremental['full_refresh_query_seconds']:.1f} s). The slowest daily build is "
        f"{incremental['build_over_full_refresh']:.3f}x of the full refresh, the slowest daily "
        f"run {incremental['daily_run_over_full_run']:.3f}x of the full run; the slowest day "
        f"over the fastest: {incremental['slowest_over_fastest_day']:.2f}. As a control, "
        f"`simulate s` is the time the simulator took to produce that day, just before its load: "
        f"it shares nothing with the warehouse, so when it slows with the run, the machine did.",
        _table(
            [
                "day",
                "rows loaded",
                "load s",
                "dbt build s",
                "queries s",
                "total s",
                "slowest node",
                "simulate s",
            ],
            [
                [
                    f"+{day['day']}",
                    day["rows_loaded"],
                    day["load_seconds"],
                    day["build_seconds"],
                    day["build_query_seconds"],
                    day["total_seconds"],
                    _slowest_node(day),
                    day["simulate_seconds"],
                ]
                for day in incremental["days"]
            ],
        ),
        "### Wall time and peak memory per step (each step in its own process)",
        _table(
            ["step", "wall s", "peak RSS MB"],
            [[m["step"], m["wall_seconds"], m["peak_rss_mb"]] for m in results["memory"]],
        ),
        "### End to end",
        f"Load {end_to_end['rows_loaded']:,} rows {end_to_end['load_wall_seconds']:.1f} s + "
        f"dbt build {end_to_end['build_wall_seconds']:.1f} s = "
        f"{end_to_end['total_seconds']:.1f} s.",
    ]
    return "\n\n".join(parts) + "\n"
