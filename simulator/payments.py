"""Daily payouts of the card processor: one per currency, net of refunds and fees."""

from __future__ import annotations

from datetime import timedelta

from simulator.config import CURRENCIES
from simulator.fx import is_business_day
from simulator.lifecycle import DayOutput
from simulator.world import World, random_token


def write_payouts(world: World, day: int, output: DayOutput) -> None:
    """Pay out the day's succeeded charges less refunds and fees; money arrives two business
    days later, when the payout turns from `in_transit` to `paid`."""
    rng = world.rng(day, "payouts")
    created = world.day_start(day) + 23 * 3600 + 30 * 60
    arrival = world.date_of(day)
    for _ in range(2):
        arrival += timedelta(days=1)
        while not is_business_day(arrival):
            arrival += timedelta(days=1)
    for currency in CURRENCIES:
        gross, count, fees = output.charges.get(currency, (0, 0, 0))
        refunded = output.refunds.get(currency, 0)
        if count == 0 and refunded == 0:
            continue
        payout_id = random_token(rng, "po_")
        world.db.execute(
            "insert into api.payouts values (?, ?, ?, ?, ?, ?, 'in_transit', ?, ?)",
            (
                payout_id,
                currency.lower(),
                gross - refunded - fees,
                fees,
                count,
                arrival.isoformat(),
                created,
                created,
            ),
        )
        arrives_at = world.day_start(day + (arrival - world.date_of(day)).days) + 6 * 3600
        world.schedule(arrives_at, "payout_paid", {"id": payout_id})
