"""Stock per warehouse and product: reserved by orders, shipped, returned and replenished."""

from __future__ import annotations

import math
import random
from functools import cache

from simulator.config import ORDERS_PER_YEAR
from simulator.world import World

REGION_SHARES = {"EU1": 0.72, "UK1": 0.14, "US1": 0.14}
UNITS_PER_ORDER = 2.5 * 1.25


@cache
def popularity(seed: int, product_id: int) -> float:
    """A product's share of demand relative to others: a few best sellers, a long tail."""
    return min(20.0, random.Random(f"{seed}:popularity:{product_id}").paretovariate(1.5))


class Inventory:
    """Stock levels held in memory for one day (bounded by the catalogue, not by time)."""

    def __init__(self, world: World):
        self.world = world
        self.levels: dict[tuple[str, int], list[int]] = {
            (warehouse, product_id): [on_hand, reserved, inbound]
            for warehouse, product_id, on_hand, reserved, inbound in world.db.execute(
                "select warehouse_code, product_id, on_hand, reserved, inbound "
                "from state.inventory order by warehouse_code, product_id"
            )
        }

    def daily_demand(self, warehouse: str, product_id: int, total_popularity: float) -> float:
        """Expected units a day of a product from a warehouse."""
        orders = ORDERS_PER_YEAR * self.world.settings.scale / 365
        share = popularity(self.world.settings.seed, product_id) / total_popularity
        return orders * UNITS_PER_ORDER * REGION_SHARES[warehouse] * share

    def stock_new_products(
        self, rng: random.Random, product_ids: list[int], total_popularity: float
    ) -> None:
        """First delivery of new products to every warehouse: three to six weeks of demand."""
        for product_id in product_ids:
            for warehouse in REGION_SHARES:
                demand = self.daily_demand(warehouse, product_id, total_popularity)
                self.levels[(warehouse, product_id)] = [
                    max(5, round(demand * rng.uniform(20, 40))),
                    0,
                    0,
                ]

    def available(self, warehouse: str, product_id: int) -> int:
        """Units that can still be sold (on hand minus reserved)."""
        on_hand, reserved, _ = self.levels.get((warehouse, product_id), (0, 0, 0))
        return on_hand - reserved

    def reserve(self, warehouse: str, product_id: int, quantity: int) -> None:
        self.levels[(warehouse, product_id)][1] += quantity

    def release(self, warehouse: str, product_id: int, quantity: int) -> None:
        self.levels[(warehouse, product_id)][1] -= quantity

    def ship(self, warehouse: str, product_id: int, quantity: int) -> None:
        level = self.levels[(warehouse, product_id)]
        level[0] -= quantity
        level[1] -= quantity

    def restock(self, warehouse: str, product_id: int, quantity: int) -> None:
        self.levels[(warehouse, product_id)][0] += quantity

    def receive(self, warehouse: str, product_id: int, quantity: int) -> None:
        level = self.levels[(warehouse, product_id)]
        level[0] += quantity
        level[2] -= quantity

    def replenish(self, day: int, active: set[int], total_popularity: float) -> None:
        """Reorder what runs low; suppliers are sometimes late, which causes stock-outs."""
        rng = self.world.rng(day, "replenishment")
        for (warehouse, product_id), level in sorted(self.levels.items()):
            if product_id not in active:
                continue
            demand = self.daily_demand(warehouse, product_id, total_popularity)
            on_hand, reserved, inbound = level
            if on_hand - reserved + inbound >= max(2, math.ceil(demand * 7)):
                continue
            quantity = max(5, math.ceil(demand * rng.uniform(14, 28)))
            lead_days = rng.randrange(4, 10) + (rng.randrange(5, 15) if rng.random() < 0.1 else 0)
            level[2] += quantity
            self.world.schedule(
                self.world.day_start(day + lead_days) + rng.randrange(6 * 3600, 12 * 3600),
                "inbound_arrival",
                {"warehouse": warehouse, "product_id": product_id, "quantity": quantity},
            )

    def save(self) -> None:
        """Write the day's closing levels back to the simulator state."""
        self.world.db.executemany(
            "insert or replace into state.inventory values (?, ?, ?, ?, ?)",
            [
                (warehouse, product_id, *level)
                for (warehouse, product_id), level in self.levels.items()
            ],
        )
