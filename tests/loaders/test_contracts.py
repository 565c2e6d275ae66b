"""Schema contracts: a new web field lands as a column; a campaign without a name is
quarantined, one with codes nobody documented lands."""

import gzip
import json
import sqlite3
from pathlib import Path

import pytest

from loaders import load
from tests.loaders.conftest import Warehouse, api_environment, copy_sources, start_server


def test_a_new_field_in_the_web_export_lands_as_a_new_column(tmp_path: Path) -> None:
    web_dir = tmp_path / "sources" / "web"
    web_dir.mkdir(parents=True)
    events = [
        {
            "event_id": f"00000000-0000-4000-8000-00000000000{n}",
            "event_type": "page_view",
            "occurred_at": f"2025-03-01T10:00:0{n}+01:00",
            "anonymous_id": f"anon-{n}",
            "customer_id": None,
            "page_url": "/",
            "country_code": "DE",
            # only the second event carries the new fields, as from the day they appear
            **({"consent_mode": "granted", "screen": {"w": 390, "h": 844}} if n == 2 else {}),
        }
        for n in (1, 2)
    ]
    lines = "\n".join(json.dumps(event) for event in events) + "\n"
    (web_dir / "events_2025-03-01.jsonl.gz").write_bytes(gzip.compress(lines.encode()))

    report = load(["web"], data_dir=tmp_path)
    assert report.ok, report.result("web").error
    rows = Warehouse(tmp_path, report).query(
        "select event_id, consent_mode, screen, occurred_at::varchar "
        "from raw_web.events order by event_id"
    )
    assert [row[:3] for row in rows] == [
        (events[0]["event_id"], None, None),
        (events[1]["event_id"], "granted", '{"w":390,"h":844}'),
    ]
    assert rows[1][3] == "2025-03-01 09:00:02+00"


UNKNOWN_CAMPAIGN_CODES = {"status": "archived", "platform": "snapchat", "objective": "reach"}
"""Codes the ad platforms do not document, given to one campaign."""


@pytest.fixture(scope="module")
def broken_campaigns(
    simulated_dir: Path, tmp_path_factory: pytest.TempPathFactory
) -> tuple[Warehouse, dict[str, int], int]:
    """The ads source loaded from an API whose state holds a campaign without a name and one
    with codes nobody documented.

    Returns the warehouse, those two campaigns' ids and the count of their ad groups.
    """
    data_dir = copy_sources(simulated_dir, tmp_path_factory.mktemp("broken_campaigns"))
    api_state = sqlite3.connect(data_dir / "sources" / "api.sqlite")
    try:
        unknown, nameless = (
            campaign_id
            for (campaign_id,) in api_state.execute(
                "select campaign_id from campaigns order by campaign_id limit 2"
            )
        )
        for column, code in UNKNOWN_CAMPAIGN_CODES.items():
            api_state.execute(
                f"update campaigns set {column} = ? where campaign_id = ?", [code, unknown]
            )
        api_state.execute(
            "update campaigns set campaign_name = '' where campaign_id = ?", [nameless]
        )
        (nameless_ad_groups,) = api_state.execute(
            "select count(*) from ad_groups where campaign_id = ?", [nameless]
        ).fetchone()
        api_state.commit()
    finally:
        api_state.close()
    server = start_server(data_dir)
    try:
        with pytest.MonkeyPatch.context() as patch:
            for key, value in api_environment(server.base_url).items():
                patch.setenv(key, value)
            warehouse = Warehouse(data_dir, load(["ads"], data_dir=data_dir))
    finally:
        server.stop()
    return warehouse, {"unknown": unknown, "nameless": nameless}, nameless_ad_groups


def test_a_campaign_without_a_name_is_quarantined_with_its_reason(
    broken_campaigns: tuple[Warehouse, dict[str, int], int], warehouse: Warehouse
) -> None:
    broken, campaigns, _ = broken_campaigns
    assert broken.report.ok, broken.report.result("ads").error
    rows = broken.query(
        "select reason, source_location, raw_payload from raw_ads.quarantined_records "
        "where source_table = 'campaigns'"
    )
    assert {json.loads(payload)["campaign_id"]: reason for reason, _, payload in rows} == {
        campaigns["nameless"]: "null_required_field:campaign_name"
    }
    assert all("/campaigns" in location for _, location, _ in rows)
    assert broken.count("raw_ads.campaigns") == warehouse.count("raw_ads.campaigns") - 1
    assert broken.report.result("ads").quarantined == {
        ("campaigns", "null_required_field:campaign_name"): 1,
    }


def test_a_campaign_with_unknown_codes_lands_with_its_ad_groups(
    broken_campaigns: tuple[Warehouse, dict[str, int], int], warehouse: Warehouse
) -> None:
    # its spend is money: the campaign lands with the codes as sent (staging flags them) and
    # its ad groups are requested like those of any other campaign
    broken, campaigns, _ = broken_campaigns
    columns = ", ".join(UNKNOWN_CAMPAIGN_CODES)
    assert broken.query(
        f"select {columns} from raw_ads.campaigns where campaign_id = ?", [campaigns["unknown"]]
    ) == [tuple(UNKNOWN_CAMPAIGN_CODES.values())]
    assert broken.scalar(
        "select count(*) from raw_ads.ad_groups where campaign_id = ?", [campaigns["unknown"]]
    ) == warehouse.scalar(
        "select count(*) from raw_ads.ad_groups where campaign_id = ?", [campaigns["unknown"]]
    )


def test_ad_groups_of_clean_campaigns_still_load(
    broken_campaigns: tuple[Warehouse, dict[str, int], int], warehouse: Warehouse
) -> None:
    broken, campaigns, nameless_ad_groups = broken_campaigns
    assert nameless_ad_groups > 0
    assert (
        broken.count("raw_ads.ad_groups")
        == warehouse.count("raw_ads.ad_groups") - nameless_ad_groups
    )
    assert (
        broken.scalar(
            "select count(*) from raw_ads.ad_groups where campaign_id = ?",
            [campaigns["nameless"]],
        )
        == 0
    )
    assert broken.count("raw_ads.daily_reports") == warehouse.count("raw_ads.daily_reports")
