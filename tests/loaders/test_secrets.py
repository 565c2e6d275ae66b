"""No secret is printed or stored in clear: API tokens, passwords in base URLs and in database
URLs are masked in load errors, the run log, the CLI and `warehouse status`; tokens read from
configuration lose the whitespace around them."""

import os
import subprocess
import sys
from pathlib import Path

import pytest

from loaders import load
from loaders.runner import describe_error
from loaders.secrets import mask_secrets
from tests.loaders.conftest import TOKEN, Warehouse, copy_sources

TOKEN_SECRET = "s3cr3t-t0ken"
URL_PASSWORD = "pa55word"
SECRETS = (TOKEN_SECRET, URL_PASSWORD)


def with_credentials(url: str, password: str = URL_PASSWORD) -> str:
    scheme, rest = url.split("://", 1)
    return f"{scheme}://user:{password}@{rest}"


def assert_no_secret(text: str) -> None:
    for secret in SECRETS:
        assert secret not in text


def run_cli(*args: str, data_dir: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "warehouse", *args, "--data-dir", str(data_dir)],
        capture_output=True,
        text=True,
        check=False,
        env={**os.environ, "COLUMNS": "300"},
    )


def configure_leaks(base_url: str, monkeypatch: pytest.MonkeyPatch) -> None:
    """A token with a trailing newline (as `echo` writes it) and base URLs with a password.

    payments: the token is not the server's, ads: the base URL carries a password and the
    token is wrong (a 401 names the URL), fx: the base URL with a password does not parse.
    """
    monkeypatch.setenv("RUNTIME__REQUEST_MAX_ATTEMPTS", "1")
    monkeypatch.setenv("SOURCES__PAYMENTS__TOKEN", f"{TOKEN_SECRET}\n")
    monkeypatch.setenv("SOURCES__ADS__BASE_URL", with_credentials(f"{base_url}/ads/v1"))
    monkeypatch.setenv("SOURCES__ADS__TOKEN", f"{TOKEN_SECRET}-2")
    monkeypatch.setenv("SOURCES__FX__BASE_URL", with_credentials("http://127.0.0.1:99999/fx/v1"))


@pytest.fixture
def leaky_configuration(api_server, monkeypatch: pytest.MonkeyPatch) -> None:
    configure_leaks(api_server.base_url, monkeypatch)


def test_load_errors_the_run_log_and_status_hold_no_secret(
    simulated_dir: Path, api_server, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    data_dir = copy_sources(simulated_dir, tmp_path)
    # `warehouse status` reports the last run of the sources the warehouse holds
    assert load(["payments", "ads", "fx"], data_dir=data_dir).ok
    configure_leaks(api_server.base_url, monkeypatch)
    report = load(["payments", "ads", "fx"], data_dir=data_dir)
    payments, ads, fx = report.results
    assert not (payments.ok or ads.ok or fx.ok)
    # what failed is still said, with the secrets masked
    assert payments.error.startswith("the payments API answered 401 for http://127.0.0.1:")
    assert ads.error.startswith("the ads API answered 401 for http://user:***@127.0.0.1:")
    assert fx.error == "Failed to parse: http://user:***@127.0.0.1:99999/fx/v1/rates"
    for result in report.results:
        assert_no_secret(result.error)

    rows = Warehouse(data_dir, report).query("select * from raw_meta.load_runs")
    assert len(rows) == 6
    assert_no_secret(repr(rows))

    status = run_cli("status", data_dir=data_dir)
    assert "payments failed last time: the payments API answered 401" in " ".join(
        status.stderr.split()
    )
    assert_no_secret(status.stdout + status.stderr)


def test_the_cli_prints_no_secret(
    simulated_dir: Path, leaky_configuration: None, tmp_path: Path
) -> None:
    data_dir = copy_sources(simulated_dir, tmp_path)
    result = run_cli("load", "payments", "ads", "fx", data_dir=data_dir)
    assert result.returncode == 1
    output = " ".join((result.stdout + result.stderr).split())
    assert "fx failed: Failed to parse: http://user:***@127.0.0.1:99999" in output
    assert_no_secret(result.stdout + result.stderr)


def test_a_token_with_whitespace_around_it_loads(
    simulated_dir: Path, api_server, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    for name in ("payments", "ads", "fx"):
        monkeypatch.setenv(f"SOURCES__{name.upper()}__TOKEN", f" {TOKEN}\n")
    data_dir = copy_sources(simulated_dir, tmp_path)
    report = load(["payments", "ads", "fx"], data_dir=data_dir)
    assert [(result.name, result.error) for result in report.results] == [
        ("payments", None),
        ("ads", None),
        ("fx", None),
    ]
    warehouse = Warehouse(data_dir, report)
    assert report.result("payments").rows["charges"] == warehouse.count("raw_payments.charges") > 0
    assert report.result("fx").rows["rates"] == warehouse.count("raw_fx.rates") > 0


def test_quarantined_records_do_not_store_a_password_of_the_base_url(
    simulated_dir: Path, api_server, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    base_url = with_credentials(f"{api_server.base_url}/payments/v1")
    monkeypatch.setenv("SOURCES__PAYMENTS__BASE_URL", base_url)
    data_dir = copy_sources(simulated_dir, tmp_path)
    report = load(["payments"], data_dir=data_dir)
    assert report.ok
    locations = Warehouse(data_dir, report).query(
        "select distinct split_part(source_location, '?', 1) "
        "from raw_payments.quarantined_records order by 1"
    )
    port = api_server.base_url.rsplit(":", 1)[1]
    # only charges without an amount are quarantined (refunds with odd codes land flagged)
    assert [location for (location,) in locations] == [
        f"GET http://user:***@127.0.0.1:{port}/payments/v1/charges"
    ]
    quarantined = Warehouse(data_dir, report).query(
        "select * from raw_payments.quarantined_records"
    )
    assert_no_secret(repr(quarantined))


@pytest.mark.parametrize(
    ("message", "masked"),
    [
        (
            "cannot reach http://user:pa55word@api.example.com/v1/charges?limit=5",
            "cannot reach http://user:***@api.example.com/v1/charges?limit=5",
        ),
        (
            "(pymysql) mysql+pymysql://root:pa55word@db:3306/shop refused",
            "(pymysql) mysql+pymysql://root:***@db:3306/shop refused",
        ),
        (
            "postgresql://loader:pa55word@127.0.0.1:5432/warehouse: timeout",
            "postgresql://loader:***@127.0.0.1:5432/warehouse: timeout",
        ),
        (
            "Invalid header value b'Bearer s3cr3t-t0ken\\n'",
            "Invalid header value b'Bearer ***'",
        ),
        (
            "host=db user=loader password=pa55word dbname=w",
            "host=db user=loader password=*** dbname=w",
        ),
        # no credentials: nothing changes
        (
            "the fx API answered 500 for http://127.0.0.1:8765/fx/v1/rates?a=b@c",
            "the fx API answered 500 for http://127.0.0.1:8765/fx/v1/rates?a=b@c",
        ),
        ("missing or wrong bearer token", "missing or wrong bearer token"),
    ],
)
def test_mask_secrets_masks_the_patterns(message: str, masked: str) -> None:
    assert mask_secrets(message) == masked


def test_mask_secrets_masks_the_given_values() -> None:
    assert (
        mask_secrets("token s3cr3t-t0ken\\n echoed, abc kept", ["s3cr3t-t0ken\n", "ab"])
        == "token ***\\n echoed, abc kept"
    )


@pytest.mark.parametrize(
    ("variable", "value", "secret"),
    [
        ("SOURCES__PAYMENTS__TOKEN", f"{TOKEN_SECRET}\n", TOKEN_SECRET),
        (
            "SOURCES__SHOP__CREDENTIALS",
            f"mysql+pymysql://root:{URL_PASSWORD}@127.0.0.1/shop",
            URL_PASSWORD,
        ),
        (
            "DESTINATION__POSTGRES__CREDENTIALS",
            f"postgresql://loader:{URL_PASSWORD}@127.0.0.1:5432/warehouse",
            URL_PASSWORD,
        ),
        ("DESTINATION__POSTGRES__CREDENTIALS__PASSWORD", URL_PASSWORD, URL_PASSWORD),
    ],
)
def test_describe_error_masks_the_configured_secrets(
    variable: str, value: str, secret: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv(variable, value)
    # a library that echoes a secret on its own, outside any URL or header
    error = RuntimeError(f"rejected {secret} as given")
    assert describe_error("payments", error) == "rejected *** as given"
