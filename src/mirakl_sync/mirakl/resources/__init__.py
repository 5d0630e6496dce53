"""The Mirakl client's resources (sync and async twins)."""

from mirakl_sync.mirakl.resources.finance import AsyncFinance, Finance
from mirakl_sync.mirakl.resources.offers import AsyncOffers, Offers
from mirakl_sync.mirakl.resources.orders import AsyncOrders, Orders
from mirakl_sync.mirakl.resources.platform import AsyncPlatform, Platform
from mirakl_sync.mirakl.resources.shipments import AsyncShipments, Shipments
from mirakl_sync.mirakl.resources.stock import AsyncStock, Stock

__all__ = [
    "AsyncFinance",
    "AsyncOffers",
    "AsyncOrders",
    "AsyncPlatform",
    "AsyncShipments",
    "AsyncStock",
    "Finance",
    "Offers",
    "Orders",
    "Platform",
    "Shipments",
    "Stock",
]
