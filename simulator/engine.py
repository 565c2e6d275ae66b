"""`simulate()`: advance Larkspur's source systems day by day, continuing where the last run
stopped, and write every file, table and the ground truth below `data_dir/sources`."""

from __future__ import annotations

import json
import os
import sqlite3
import time
from dataclasses import dataclass
from datetime import date, timedelta
from pathlib import Path

from simulator.ads import (
    active_campaigns,
    create_initial_campaigns,
    report_ads_day,
    simulate_campaigns_day,
)
from simulator.catalogue import (
    create_catalogue,
    create_discounts,
    simulate_catalogue_day,
    simulate_discounts_day,
)
from simulator.config import DefectRates, SimulatorError
from simulator.customers import create_initial_customers, simulate_customers_day
from simulator.fx import simulate_fx_day
from simulator.ground_truth import table_stats, write_ground_truth
from simulator.inventory import Inventory
from simulator.lifecycle import replay_day
from simulator.logistics import write_logistics_day
from simulator.orders import load_catalogue, place_orders
from simulator.payments import write_payouts
from simulator.storage import API_SCHEMA, SHOP_SCHEMA, STATE_SCHEMA, connect
from simulator.web import write_web_day
from simulator.world import Settings, World

DEFAULT_SEED = 42
DEFAULT_SCALE = 0.01
DEFAULT_START_DATE = date(2025, 1, 1)
DEFAULT_SCHEMA_CHANGE_DAY = 45
STATE_FILE = "simulator_state.json"


@dataclass(frozen=True)
class SimulationResult:
    """What one call of `simulate()` did."""

    first_day: date
    last_day: date
    days: int
    seed: int
    scale: float
    rows: dict[str, int]
    sources_dir: Path
    elapsed_seconds: float


def simulate(
    data_dir: Path,
    days: int,
    *,
    seed: int | None = None,
    scale: float | None = None,
    start_date: date | None = None,
    schema_change_day: int | None = None,
    defect_rates: DefectRates | None = None,
) -> SimulationResult:
    """Simulate `days` more days of Larkspur's source systems below `data_dir / "sources"`.

    A new simulation uses seed 42, scale 0.01, start date 2025-01-01, schema change on day 45
    and the default `DefectRates` unless told otherwise; an existing one continues after its
    last simulated day with the settings it was started with (passing different ones is a
    `SimulatorError`). The same settings always give the same data, whether simulated in one
    run or several.
    """
    started = time.monotonic()
    if not isinstance(days, int) or days < 1:
        raise SimulatorError(f"days must be a whole number of at least 1, not {days!r}")
    sources_dir = Path(data_dir).expanduser().resolve() / "sources"
    requested = {
        "seed": seed,
        "scale": scale,
        "start_date": start_date,
        "schema_change_day": schema_change_day,
        "defect_rates": defect_rates,
    }
    state = _read_state(sources_dir)
    settings = _settings(sources_dir, state, requested)
    first_day = state["next_day"] if state else 0

    try:
        sources_dir.mkdir(parents=True, exist_ok=True)
    except OSError as error:
        raise SimulatorError(
            f"cannot create {sources_dir} ({error}): choose a writable data folder"
        ) from error
    world = _open_world(sources_dir, settings)
    try:
        before = table_stats(world)
        if state is None:
            _run_in_transaction(world, lambda: _create_company(world))
        for day in range(first_day, first_day + days):
            _run_in_transaction(world, lambda day=day: _simulate_day(world, day))
            _write_state(sources_dir, settings, day + 1)
        header = {
            "seed": settings.seed,
            "scale": settings.scale,
            "start_date": settings.start_date.isoformat(),
            "last_day": world.date_of(first_day + days - 1).isoformat(),
            "days": first_day + days,
            "schema_change": {
                "day": settings.schema_change_day,
                "date": world.date_of(settings.schema_change_day).isoformat(),
                "changes": [
                    "payments.charges.risk_score added",
                    "logistics.shipments.shipping_cost renamed freight_cost",
                ],
            },
            "defect_rates": settings.defects.as_dict(),
        }
        write_ground_truth(world, header)
        after = table_stats(world)
    finally:
        world.db.close()
    return SimulationResult(
        first_day=world.date_of(first_day),
        last_day=world.date_of(first_day + days - 1),
        days=days,
        seed=settings.seed,
        scale=settings.scale,
        rows={name: after[name]["rows"] - before[name]["rows"] for name in after},
        sources_dir=sources_dir,
        elapsed_seconds=round(time.monotonic() - started, 3),
    )


def _read_state(sources_dir: Path) -> dict | None:
    path = sources_dir / STATE_FILE
    if not path.exists():
        if (sources_dir / "shop.sqlite").exists():
            raise SimulatorError(
                f"{sources_dir} holds simulated data but no {STATE_FILE}: delete the folder "
                "to start over, or point to another data folder"
            )
        return None
    try:
        state = json.loads(path.read_text(encoding="utf-8"))
        state["start_date"] = date.fromisoformat(state["start_date"])
        state["defect_rates"] = DefectRates(**state["defect_rates"])
        state["next_day"] = (date.fromisoformat(state["last_day"]) - state["start_date"]).days + 1
    except (ValueError, KeyError, TypeError) as error:
        raise SimulatorError(
            f"{path} is damaged ({error}): delete {sources_dir} and simulate again"
        ) from error
    return state


def _settings(sources_dir: Path, state: dict | None, requested: dict) -> Settings:
    """Settings of a new simulation, or the stored ones after checking explicit arguments."""
    if state is None:
        scale = DEFAULT_SCALE if requested["scale"] is None else requested["scale"]
        if not 0 < scale <= 10:
            raise SimulatorError(f"scale must be above 0 and at most 10, not {scale}")
        schema_change_day = requested["schema_change_day"]
        return Settings(
            seed=DEFAULT_SEED if requested["seed"] is None else int(requested["seed"]),
            scale=float(scale),
            start_date=requested["start_date"] or DEFAULT_START_DATE,
            schema_change_day=(
                DEFAULT_SCHEMA_CHANGE_DAY if schema_change_day is None else schema_change_day
            ),
            defects=requested["defect_rates"] or DefectRates(),
        )
    for name, value in requested.items():
        if value is not None and value != state[name]:
            stored = state[name]
            raise SimulatorError(
                f"{sources_dir} was simulated with {name}={stored}, not {value}: leave {name} "
                f"out (or pass {stored}) to continue it, or use another data folder"
            )
    return Settings(
        seed=state["seed"],
        scale=state["scale"],
        start_date=state["start_date"],
        schema_change_day=state["schema_change_day"],
        defects=state["defect_rates"],
    )


def _write_state(sources_dir: Path, settings: Settings, next_day: int) -> None:
    state = {
        "seed": settings.seed,
        "scale": settings.scale,
        "start_date": settings.start_date.isoformat(),
        "last_day": (settings.start_date + timedelta(days=next_day - 1)).isoformat(),
        "days_simulated": next_day,
        "schema_change_day": settings.schema_change_day,
        "defect_rates": settings.defects.as_dict(),
    }
    path = sources_dir / STATE_FILE
    partial = path.with_name(path.name + ".partial")
    partial.write_text(json.dumps(state, indent=2) + "\n", encoding="utf-8")
    os.replace(partial, path)


def _open_world(sources_dir: Path, settings: Settings) -> World:
    try:
        for name, schema in (("api.sqlite", API_SCHEMA), ("simulator_state.sqlite", STATE_SCHEMA)):
            connect(sources_dir / name, schema).close()
        connection = connect(sources_dir / "shop.sqlite", SHOP_SCHEMA)
        connection.execute("attach database ? as api", (str(sources_dir / "api.sqlite"),))
        connection.execute(
            "attach database ? as state", (str(sources_dir / "simulator_state.sqlite"),)
        )
        connection.execute("pragma api.synchronous = off")
        connection.execute("pragma state.synchronous = off")
    except sqlite3.Error as error:
        raise SimulatorError(
            f"cannot open the simulated databases in {sources_dir} ({error}): check that the "
            "folder is writable and no other process is simulating into it"
        ) from error
    return World(sources_dir, settings, connection)


def _run_in_transaction(world: World, work) -> None:
    """One day commits in the shop, the API state and the simulator state together or not at
    all, so that an interrupted run continues from its last complete day."""
    world.db.execute("begin immediate")
    try:
        work()
    except BaseException:
        world.db.execute("rollback")
        raise
    world.db.execute("commit")


def _create_company(world: World) -> None:
    """Larkspur as it is before the first simulated day."""
    create_catalogue(world, 0)
    create_discounts(world, 0)
    create_initial_customers(world, 0)
    create_initial_campaigns(world, 0)
    catalogue = load_catalogue(world)
    inventory = Inventory(world)
    inventory.stock_new_products(
        world.rng(0, "inventory-initial"), catalogue.product_ids, catalogue.total_popularity
    )
    inventory.save()


def _simulate_day(world: World, day: int) -> None:
    inventory = Inventory(world)
    new_products = simulate_catalogue_day(world, day)
    catalogue = load_catalogue(world)
    inventory.stock_new_products(
        world.rng(day, "inventory-new"), new_products, catalogue.total_popularity
    )
    simulate_discounts_day(world, day)
    simulate_fx_day(world, day)
    simulate_campaigns_day(world, day)
    campaigns = active_campaigns(world)
    new_customers = simulate_customers_day(world, day)
    orders = place_orders(world, day, inventory, catalogue, campaigns, new_customers)
    output = replay_day(world, day, inventory)
    traffic = write_web_day(world, day, orders, campaigns, catalogue, output.late_web_lines)
    write_payouts(world, day, output)
    inventory.replenish(day, set(catalogue.product_ids), catalogue.total_popularity)
    write_logistics_day(world, day, output, inventory)
    inventory.save()
    report_ads_day(world, day, traffic)
    world.save_accumulators()
