"""Offline, stateful simulators of the Mirakl Seller API and the Inventory Planner API.

Test an integration without a live marketplace::

    from mirakl_sync.sandbox import MiraklSandbox

    sandbox = MiraklSandbox()
    sandbox.add_offer("SKU-1", quantity=5)
    order = sandbox.place_order([("SKU-1", 2)])
    client = httpx.Client(transport=sandbox.transport(), base_url="https://mirakl.sandbox")
    client.get("/api/orders", headers={"Authorization": DEFAULT_API_KEY})

Both sandboxes are ``(httpx.Request) -> httpx.Response`` handlers reachable in-process
(:meth:`~BaseSandbox.transport`) or over a loopback HTTP server (:meth:`~BaseSandbox.serve`,
``python -m mirakl_sync.sandbox serve``). Time is a :class:`SandboxClock` that moves only when told;
faults are configured on :class:`Faults`; every request is kept in ``sandbox.calls``.
See ``docs/sandbox.md``.
"""

from __future__ import annotations

from mirakl_sync.sandbox._http import (
    BaseSandbox,
    CallLog,
    FrequencyLimit,
    LoopbackServer,
    RecordedCall,
    SandboxTransport,
)
from mirakl_sync.sandbox.clock import SandboxClock
from mirakl_sync.sandbox.faults import FaultKind, FaultRule, Faults
from mirakl_sync.sandbox.inventory_planner import (
    DEFAULT_ACCOUNT,
    DEFAULT_IP_KEY,
    ConnectorReport,
    InventoryPlannerSandbox,
)
from mirakl_sync.sandbox.mirakl import (
    DEFAULT_API_KEY,
    DEFAULT_SHOP_ID,
    MIRAKL_FREQUENCY_LIMITS,
    MiraklSandbox,
)
from mirakl_sync.sandbox.scenarios import (
    place_orders,
    seed_catalogue,
    simulate_returns,
    simulate_shipments,
)

__all__ = [
    "DEFAULT_ACCOUNT",
    "DEFAULT_API_KEY",
    "DEFAULT_IP_KEY",
    "DEFAULT_SHOP_ID",
    "MIRAKL_FREQUENCY_LIMITS",
    "BaseSandbox",
    "CallLog",
    "ConnectorReport",
    "FaultKind",
    "FaultRule",
    "Faults",
    "FrequencyLimit",
    "InventoryPlannerSandbox",
    "LoopbackServer",
    "MiraklSandbox",
    "RecordedCall",
    "SandboxClock",
    "SandboxTransport",
    "place_orders",
    "seed_catalogue",
    "simulate_returns",
    "simulate_shipments",
]
