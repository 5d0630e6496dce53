"""stock_pools: inventory warehouses become Mirakl stock pools; reserved_items: order lines'
soft reservations in item units."""

from __future__ import annotations

from datetime import UTC, datetime
from decimal import Decimal
from typing import Any, cast

import attrs
import pytest

from mirakl_sync.core import MappingEntry, OfferQuantities, SkuMap
from mirakl_sync.engine import StaticStockSource
from mirakl_sync.engine.config import SyncConfig
from mirakl_sync.engine.jobs.stock import last_published, stock_pools
from mirakl_sync.engine.runtime import ShopRuntime
from mirakl_sync.storage import PublishedLevelsStore, open_storage
from mirakl_sync.storage.memory import MemoryStorage
from mirakl_sync.storage.records import LedgerLine, PublishedStock

LEVELS = {
    "paris": {"A": 3, "B": 1},
    "lyon": {"A": 2, "C": 5},
    "berlin": {"B": 4},
    "depot": {"A": 100},  # no Mirakl code: not published per warehouse
}


def _runtime(**shop: Any) -> ShopRuntime:
    config = SyncConfig.from_mapping(
        {
            "shops": [
                {"key": "s1", "marketplace": "conrad", "base_url": "https://x.example", **shop}
                | {"api_key": "k"}
            ]
        },
        env={},
    )
    return ShopRuntime(
        config=config.shops[0],
        mirakl=cast(Any, None),
        storage=open_storage("memory://"),
        stock_source=StaticStockSource(LEVELS),
        order_sink=cast(Any, None),
        now=lambda: datetime(2026, 1, 1, tzinfo=UTC),
        worker="w",
    )


def test_warehouse_codes_sum_the_inventory_warehouses_per_code() -> None:
    runtime = _runtime(warehouse_codes={"paris": "FR", "lyon": "FR", "berlin": "DE"})
    assert stock_pools(runtime) == {"FR": {"A": 5, "B": 1, "C": 5}, "DE": {"B": 4}}


@pytest.mark.parametrize("shop", [{}, {"stock_via": "OF01", "warehouse_codes": {"paris": "FR"}}])
def test_one_global_pool_without_codes_or_with_of01(shop: dict[str, Any]) -> None:
    """Without codes (or with OF01, one quantity per offer) every warehouse adds up."""
    assert stock_pools(_runtime(**shop)) == {"": {"A": 105, "B": 5, "C": 5}}


def test_pools_are_copies_with_int_quantities() -> None:
    """A host's levels are copied (never aliased, they may change under the SkuMap), and
    quantities of other numeric types become ints."""
    levels: dict[str, dict[str, Any]] = {"only": {"A": 3, "B": 2}}

    class HostSource:  # hands out its own dicts, as a host's source may
        def stock_levels(self, shop: Any) -> dict[str, dict[str, Any]]:
            return levels

    runtime = attrs.evolve(_runtime(), stock_source=HostSource())
    pools = cast("dict[str, dict[str, int]]", stock_pools(runtime))
    assert pools == {"": {"A": 3, "B": 2}}
    assert pools[""] is not levels["only"]
    levels["only"] = {"A": 3.0, "B": True, "C": Decimal("4")}
    pools = cast("dict[str, dict[str, int]]", stock_pools(runtime))
    assert pools == {"": {"A": 3, "B": 1, "C": 4}}
    assert {type(q) for q in pools[""].values()} == {int}


def test_reserved_items_are_offer_reservations_in_item_units() -> None:
    """Lines of several orders for one offer add up; packs and bundles count their components;
    unmapped offers and released lines hold nothing."""
    runtime = _runtime()
    at = datetime(2026, 1, 1, tzinfo=UTC)

    def line(order: str, offer: str, reserved: int) -> LedgerLine:
        return LedgerLine(
            shop="s1",
            order_id=order,
            line_id=f"{order}-{offer}",
            offer_sku=offer,
            quantity=max(reserved, 1),
            reserved_quantity=reserved,
            mirakl_state="SHIPPING",
            ledger_state="ACCEPTED",
            updated_at=at,
        )

    runtime.storage.put_lines(
        [
            line("O-1", "A", 2),
            line("O-2", "A", 1),
            line("O-2", "A-6PK", 1),
            line("O-3", "KIT", 2),
            line("O-3", "NOPE", 4),
            line("O-4", "B", 0),
        ]
    )
    sku_map = SkuMap(
        [
            MappingEntry.single("A-6PK", "A", pack_size=6),
            MappingEntry.bundle("KIT", {"A": 1, "B": 2}),
        ],
        items=["A", "B"],
    )
    assert runtime.reserved_items(sku_map) == {"A": 2 + 1 + 6 + 2, "B": 4}


@pytest.mark.parametrize(
    "rows",
    [
        [("", "B", 2), ("", "A", 1), ("", "C", 0)],
        [("FR", "B", 2), ("", "A", 1), ("DE", "B", 7), ("FR", "A", 4)],
        [],
    ],
)
def test_last_published_is_the_confirmed_state_by_pool(rows: list[tuple[str, str, int]]) -> None:
    """One pool or several, each pool lists its offers in storage's order (by offer SKU)."""
    runtime = _runtime()
    now = datetime(2026, 1, 1, tzinfo=UTC)
    runtime.storage.put_published(
        PublishedStock(
            shop="s1", offer_sku=sku, warehouse=wh, quantity=q, content_hash="h", confirmed_at=now
        )
        for wh, sku, q in rows
    )
    expected: dict[str, dict[str, int]] = {}
    for wh, sku, q in sorted(rows, key=lambda r: (r[1], r[0])):
        expected.setdefault(wh, {})[sku] = q
    state = last_published(runtime)
    assert state == expected
    assert {wh: list(pool) for wh, pool in state.items()} == {
        wh: sorted(pool) for wh, pool in expected.items()
    }
    # Read by column (published_levels); a storage without it is read record by record.
    assert all(isinstance(pool, OfferQuantities) for pool in state.values())
    plugin = _NoLevelsStorage()
    plugin.put_published(runtime.storage.list_published("s1"))
    assert not isinstance(cast(Any, plugin), PublishedLevelsStore)
    by_record = last_published(attrs.evolve(runtime, storage=plugin))
    assert by_record == expected
    assert {wh: list(pool) for wh, pool in by_record.items()} == {
        wh: list(pool) for wh, pool in state.items()
    }


class _NoLevelsStorage(MemoryStorage):
    """A storage plugin without the optional ``published_levels()``."""

    published_levels = None  # type: ignore[assignment]
