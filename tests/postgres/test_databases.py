"""Throw-away databases disappear, also after a failure; the PII key is never silently replaced."""

from __future__ import annotations

import uuid

import pytest

from tests.conftest import require_service
from warehouse.errors import WarehouseError
from warehouse.postgres import (
    admin_url,
    create_database,
    database_exists,
    drop_roles,
    install_pii_hash_key,
    role_names,
    setup_roles,
    throwaway_database,
)

pytestmark = pytest.mark.postgres


@pytest.fixture(scope="module")
def server_url() -> str:
    require_service("PostgreSQL", "127.0.0.1", 5432)
    return admin_url()


def test_throwaway_database_is_dropped_after_a_failure(server_url: str) -> None:
    with pytest.raises(RuntimeError), throwaway_database(server_url, "larkspur_test") as name:
        assert database_exists(server_url, name)
        raise RuntimeError("a failing test")
    assert not database_exists(server_url, name)


def test_an_existing_database_is_never_created_over(server_url: str) -> None:
    with throwaway_database(server_url, "larkspur_test") as name:
        with pytest.raises(WarehouseError, match="already exists"):
            create_database(server_url, name)
        assert database_exists(server_url, name)


def test_pii_hash_key_is_replaced_only_on_purpose(
    server_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("WAREHOUSE_PG_ROLE_PREFIX", f"lk{uuid.uuid4().hex[:8]}_")
    monkeypatch.delenv("WAREHOUSE_PII_HASH_KEY", raising=False)
    try:
        with throwaway_database(server_url, "larkspur_test") as name:
            with pytest.raises(WarehouseError, match="no key for hashing personal data"):
                install_pii_hash_key(server_url, name)
            setup_roles(server_url, name)
            install_pii_hash_key(server_url, name, "first-key")
            install_pii_hash_key(server_url, name, "first-key")
            with pytest.raises(WarehouseError, match="already has a different PII hash key"):
                install_pii_hash_key(server_url, name, "second-key")
            install_pii_hash_key(server_url, name, "second-key", replace=True)
    finally:
        drop_roles(server_url, role_names())


def test_names_that_need_quoting_are_refused(server_url: str) -> None:
    with pytest.raises(WarehouseError, match="not a usable database name"):
        create_database(server_url, 'larkspur"; drop database postgres; --')
    with pytest.raises(WarehouseError, match="not a plain PostgreSQL name"):
        role_names("Bad-Prefix")
