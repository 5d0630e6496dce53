from __future__ import annotations

from collections.abc import Iterator

import httpx
import pytest

from mirakl_sync.sandbox import (
    DEFAULT_ACCOUNT,
    DEFAULT_API_KEY,
    DEFAULT_IP_KEY,
    InventoryPlannerSandbox,
    MiraklSandbox,
)

BASE = "https://mirakl.sandbox.test"
IP_BASE = "https://ip.sandbox.test"


@pytest.fixture
def mirakl() -> MiraklSandbox:
    sandbox = MiraklSandbox(seed=7)
    sandbox.add_shop(2002, name="Second shop", api_key=DEFAULT_API_KEY, warehouses=["WH-B"])
    sandbox.add_offer("SKU-1", quantity=10, price="12.50")
    sandbox.add_offer("SKU-2", quantity=5, price="30.00", warehouses={"WH-A": 3, "WH-B": 2})
    sandbox.add_offer("SKU-3", quantity=0, price="7.99")
    return sandbox


@pytest.fixture
def client(mirakl: MiraklSandbox) -> Iterator[httpx.Client]:
    with httpx.Client(
        transport=mirakl.transport(), base_url=BASE, headers={"Authorization": DEFAULT_API_KEY}
    ) as c:
        yield c


@pytest.fixture
def ip() -> InventoryPlannerSandbox:
    return InventoryPlannerSandbox(seed=3)


@pytest.fixture
def ip_client(ip: InventoryPlannerSandbox) -> Iterator[httpx.Client]:
    headers = {"Authorization": DEFAULT_IP_KEY, "Account": DEFAULT_ACCOUNT}
    with httpx.Client(transport=ip.transport(), base_url=IP_BASE, headers=headers) as c:
        yield c


def stock_file(*rows: tuple[str, str, str, str]) -> dict[str, tuple[str, bytes, str]]:
    lines = ['"offer-sku";"quantity";"warehouse-code";"update-delete"']
    lines += [";".join(f'"{cell}"' for cell in row) for row in rows]
    return {"file": ("stock.csv", ("\n".join(lines) + "\n").encode(), "text/csv")}
