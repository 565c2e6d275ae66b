"""Ad campaigns on google, meta and tiktok: settings that change, and daily performance that
the platforms restate for three days as late conversions come in."""

from __future__ import annotations

import random
from dataclasses import dataclass
from datetime import date, timedelta

from simulator.config import CAMPAIGN_THEMES, PLATFORMS
from simulator.world import World, iso

BID_STRATEGIES = ("maximize_conversions", "target_cpa", "manual_cpc", "target_roas")
RESTATEMENT_DAYS = 3


@dataclass(frozen=True)
class Campaign:
    """An active campaign as web sessions and orders see it."""

    campaign_id: int
    daily_budget: float
    utm_source: str
    utm_medium: str
    utm_campaign: str


def create_initial_campaigns(world: World, day: int) -> None:
    """Two campaigns per platform are already running when the simulation starts."""
    rng = world.rng(day, "ads-initial")
    for platform in PLATFORMS:
        for _ in range(2):
            _new_campaign(world, rng, day, platform, started_days_ago=rng.randrange(5, 60))


def _new_campaign(
    world: World, rng: random.Random, day: int, platform: str, started_days_ago: int = 0
) -> None:
    campaign_id = world.next_id("campaign")
    theme = rng.choice(CAMPAIGN_THEMES)
    start_date = world.date_of(day) - timedelta(days=started_days_ago)
    objective = rng.choices(("conversions", "traffic", "awareness"), (0.6, 0.25, 0.15))[0]
    utm_source, utm_medium = PLATFORMS[platform]
    utm_campaign = f"{platform}_{theme}_{start_date:%Y%m}_{campaign_id}"
    budget = round(max(5.0, rng.uniform(150, 1500) * world.settings.scale * 10), 2)
    stamp = iso(world.day_start(day) + rng.randrange(7 * 3600, 11 * 3600))
    world.db.execute(
        "insert into api.campaigns values (?, ?, ?, ?, 'active', ?, 'EUR', ?, ?, ?, ?, ?, ?)",
        (
            campaign_id,
            f"{platform.title()} | {theme.replace('_', ' ').title()} | {start_date:%b %Y}",
            platform,
            objective,
            budget,
            utm_source,
            utm_medium,
            utm_campaign,
            start_date.isoformat(),
            None,
            stamp,
        ),
    )
    for number in range(rng.randrange(2, 5)):
        world.db.execute(
            "insert into api.ad_groups values (?, ?, ?, 'active', ?, ?)",
            (
                world.next_id("ad_group"),
                campaign_id,
                f"{theme.replace('_', ' ').title()} - group {number + 1}",
                rng.choice(BID_STRATEGIES),
                stamp,
            ),
        )


def simulate_campaigns_day(world: World, day: int) -> None:
    """New campaigns now and then; pauses, resumptions, budget changes and endings."""
    rng = world.rng(day, "ads")
    start = world.day_start(day)
    if rng.random() < 0.12:
        _new_campaign(world, rng, day, rng.choice(tuple(PLATFORMS)))
    campaigns = world.db.execute(
        "select campaign_id, status, daily_budget, start_date from api.campaigns "
        "where status != 'ended' order by campaign_id"
    ).fetchall()
    for campaign_id, status, budget, start_date in campaigns:
        moment = iso(start + rng.randrange(8 * 3600, 18 * 3600))
        draw = rng.random()
        running_for = (world.date_of(day) - date.fromisoformat(start_date)).days
        if draw < 0.01 and running_for >= 14:
            world.db.execute(
                "update api.campaigns set status = 'ended', end_date = ?, updated_at = ? "
                "where campaign_id = ?",
                (world.date_of(day).isoformat(), moment, campaign_id),
            )
            world.db.execute(
                "update api.ad_groups set status = 'ended', updated_at = ? where campaign_id = ?",
                (moment, campaign_id),
            )
        elif draw < 0.03:
            new_status = "paused" if status == "active" else "active"
            world.db.execute(
                "update api.campaigns set status = ?, updated_at = ? where campaign_id = ?",
                (new_status, moment, campaign_id),
            )
        elif draw < 0.06:
            new_budget = round(budget * rng.choice((0.8, 0.9, 1.1, 1.25)), 2)
            world.db.execute(
                "update api.campaigns set daily_budget = ?, updated_at = ? where campaign_id = ?",
                (new_budget, moment, campaign_id),
            )
        elif draw < 0.07:
            world.db.execute(
                "update api.ad_groups set status = case status when 'active' then 'paused' "
                "else 'active' end, updated_at = ? where ad_group_id = (select min(ad_group_id) "
                "from api.ad_groups where campaign_id = ?)",
                (moment, campaign_id),
            )


def active_campaigns(world: World) -> list[Campaign]:
    """Campaigns currently running, in id order."""
    return [
        Campaign(*row)
        for row in world.db.execute(
            "select campaign_id, daily_budget, utm_source, utm_medium, utm_campaign "
            "from api.campaigns where status = 'active' order by campaign_id"
        )
    ]


def report_ads_day(world: World, day: int, traffic: dict[int, tuple[int, int]]) -> None:
    """Write the day's performance per active campaign and restate the previous three days.

    `traffic` maps campaign_id to the (sessions, orders) the web shop saw from it that day:
    platforms count more clicks than sessions arrive, and claim conversions loosely.
    """
    rng = world.rng(day, "ads-report")
    report_date = world.date_of(day).isoformat()
    rows = []
    for campaign in active_campaigns(world):
        sessions, orders = traffic.get(campaign.campaign_id, (0, 0))
        clicks = round(sessions * rng.uniform(1.1, 1.5)) + rng.randrange(0, 3)
        impressions = round(clicks * rng.uniform(40, 120)) + rng.randrange(50, 500)
        spend = round(campaign.daily_budget * rng.uniform(0.8, 1.02), 2)
        conversions = round(orders * rng.uniform(0.6, 0.9))
        rows.append(
            (report_date, campaign.campaign_id, impressions, clicks, spend, "EUR", conversions)
        )
    world.db.executemany("insert into api.ad_daily_reports values (?, ?, ?, ?, ?, ?, ?)", rows)

    rate = world.settings.defects.ad_report_restatement
    for lag in range(1, RESTATEMENT_DAYS + 1):
        if day - lag < 0:
            continue
        earlier = world.date_of(day - lag).isoformat()
        restated = world.db.execute(
            "select campaign_id, clicks, platform_conversions, spend from api.ad_daily_reports "
            "where report_date = ? order by campaign_id",
            (earlier,),
        ).fetchall()
        for campaign_id, clicks, conversions, spend in restated:
            if rng.random() >= rate:
                continue
            world.db.execute(
                "update api.ad_daily_reports set clicks = ?, platform_conversions = ?, spend = ? "
                "where report_date = ? and campaign_id = ?",
                (
                    clicks + rng.randrange(0, 3),
                    conversions + rng.choice((0, 1, 1, 2)),
                    round(spend * rng.uniform(1.0, 1.03), 2),
                    earlier,
                    campaign_id,
                ),
            )
            world.record_defect(
                "ad_report_restatement",
                day,
                report_date=earlier,
                campaign_id=campaign_id,
                restated_on=report_date,
            )
