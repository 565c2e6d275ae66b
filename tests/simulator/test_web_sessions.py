"""The converting web session of an order placed seconds after midnight."""

from __future__ import annotations

import random
import signal
from types import SimpleNamespace

import pytest

from simulator.customers import Customer
from simulator.orders import PlacedOrder
from simulator.web import _converting_session

SECONDS_PER_DAY = 86_400


class RecordingExport:
    """Stands in for the day's export file: keeps the events instead of writing them."""

    def __init__(self, product_count: int):
        self.urls = {product_id: f"/products/{product_id}" for product_id in range(product_count)}
        self.events: list[dict] = []

    def emit(self, event: dict, country: str) -> None:
        self.events.append(event)


def midnight_world() -> SimpleNamespace:
    return SimpleNamespace(
        day_start=lambda day: day * SECONDS_PER_DAY,
        day_of=lambda epoch: epoch // SECONDS_PER_DAY,
        stable_uuid=lambda *parts: f"visitor-{parts}",
    )


@pytest.mark.parametrize("seconds_after_midnight", [0, 2, 5, 40])
def test_an_order_just_after_midnight_gets_a_session_within_its_day(
    seconds_after_midnight: int,
) -> None:
    # This once looped for ever: halving the gaps between steps never took them below one
    # second, so 9 steps could not fit into the 2 seconds since midnight (seen at SF 1, day 18).
    customer = Customer(1, "a@example.com", "regular", "DE", 1, 1, "10115", "Berlin")
    order_day = 3
    ordered_at = order_day * SECONDS_PER_DAY + seconds_after_midnight
    order = PlacedOrder(
        order_id=1,
        order_number="LS-000001",
        customer=customer,
        ordered_at=ordered_at,
        product_ids=(1, 2, 3),
        campaign=None,
        tracked=True,
    )
    export = RecordingExport(product_count=10)

    def give_up(signum, frame):
        raise TimeoutError("the session of an order placed after midnight never finished")

    previous = signal.signal(signal.SIGALRM, give_up)
    signal.alarm(5)
    try:
        steps = _converting_session(midnight_world(), random.Random(7), export, order)
    finally:
        signal.alarm(0)
        signal.signal(signal.SIGALRM, previous)

    moments = [event["occurred_at"] for event in export.events]
    assert steps == len(export.events) >= 9  # landing, 3 views, 3 adds, checkout, completion
    assert moments == sorted(moments)
    assert min(moments) >= order_day * SECONDS_PER_DAY
    assert moments[-1] == ordered_at
    assert export.events[-1]["event_type"] == "order_completed"
    assert export.events[-1]["order_number"] == "LS-000001"
