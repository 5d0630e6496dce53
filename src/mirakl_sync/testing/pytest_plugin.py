"""pytest fixtures to test an integration built on ``mirakl_sync`` offline, on the sandboxes.

Enable it with ``-p mirakl_sync.testing.pytest_plugin`` on the command line, or in a
``conftest.py``::

    pytest_plugins = ["mirakl_sync.testing.pytest_plugin"]

Then use the fixtures in any test::

    def test_my_stock_job(mirakl_sandbox, mirakl_client, sandbox_clock):
        mirakl_sandbox.add_offer("MUG-1", quantity=0)
        my_app.push_stock(mirakl_client, {"MUG-1": 4})
        sandbox_clock.advance(minutes=1)  # imports complete in simulated time
        assert mirakl_sandbox.offer("MUG-1").quantity == 4

Fixtures (all function-scoped, so every test starts from an empty world):

* ``sandbox_clock``: the :class:`~mirakl_sync.sandbox.SandboxClock` both sandboxes and both
  clients share (starts at 2026-01-05 09:00 UTC, moves only when told);
* ``mirakl_sandbox``: a :class:`~mirakl_sync.sandbox.MiraklSandbox` on that clock (shop
  :data:`~mirakl_sync.sandbox.DEFAULT_SHOP_ID`, Mirakl's call frequencies enforced);
* ``inventory_planner_sandbox``: an :class:`~mirakl_sync.sandbox.InventoryPlannerSandbox` on that
  clock, with one warehouse named :data:`IP_WAREHOUSE` (``"main"``);
* ``mirakl_client``: a :class:`~mirakl_sync.mirakl.MiraklClient` talking to the Mirakl sandbox
  in-process (no socket), whose clock and sleep are the sandbox clock: waiting for a rate-limit
  budget or polling an import advances simulated time instead of blocking;
* ``inventory_planner_client``: the same for :class:`~mirakl_sync.inventory_planner
  .InventoryPlannerClient`;
* ``mirakl_vcr_config``: :func:`mirakl_sync.testing.vcr.vcr_config` (secrets and personal data
  filtered); return it from your own ``vcr_config`` fixture to use it with pytest-recording.

Override any of them in your ``conftest.py`` (same name) to change a default, e.g. a seeded
sandbox with faults.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Any, Final

import pytest

from mirakl_sync.inventory_planner import InventoryPlannerClient
from mirakl_sync.mirakl import MiraklClient
from mirakl_sync.sandbox import (
    DEFAULT_ACCOUNT,
    DEFAULT_API_KEY,
    DEFAULT_IP_KEY,
    DEFAULT_SHOP_ID,
    InventoryPlannerSandbox,
    MiraklSandbox,
    SandboxClock,
)
from mirakl_sync.testing.vcr import vcr_config

__all__ = [
    "INVENTORY_PLANNER_SANDBOX_URL",
    "IP_WAREHOUSE",
    "MIRAKL_SANDBOX_URL",
    "inventory_planner_client",
    "inventory_planner_sandbox",
    "mirakl_client",
    "mirakl_sandbox",
    "mirakl_vcr_config",
    "sandbox_clock",
]

#: The base URL the ``mirakl_client`` fixture uses (the sandbox answers on any host).
MIRAKL_SANDBOX_URL: Final = "https://mirakl.sandbox"
#: The base URL the ``inventory_planner_client`` fixture uses.
INVENTORY_PLANNER_SANDBOX_URL: Final = "https://ip.sandbox"
#: The warehouse the ``inventory_planner_sandbox`` fixture creates.
IP_WAREHOUSE: Final = "main"


@pytest.fixture
def sandbox_clock() -> SandboxClock:
    """The simulated clock shared by both sandboxes and both clients."""
    return SandboxClock()


@pytest.fixture
def mirakl_sandbox(sandbox_clock: SandboxClock) -> MiraklSandbox:
    """An empty Mirakl sandbox (one shop, call frequencies enforced) on ``sandbox_clock``."""
    return MiraklSandbox(clock=sandbox_clock)


@pytest.fixture
def inventory_planner_sandbox(sandbox_clock: SandboxClock) -> InventoryPlannerSandbox:
    """An Inventory Planner sandbox with one warehouse (``"main"``) on ``sandbox_clock``."""
    sandbox = InventoryPlannerSandbox(clock=sandbox_clock)
    sandbox.add_warehouse(IP_WAREHOUSE)
    return sandbox


def _sleeper(clock: SandboxClock) -> Callable[[float], None]:
    def sleep(seconds: float) -> None:
        clock.advance(seconds=seconds)

    return sleep


@pytest.fixture
def mirakl_client(
    mirakl_sandbox: MiraklSandbox, sandbox_clock: SandboxClock
) -> Iterator[MiraklClient]:
    """A :class:`MiraklClient` on the Mirakl sandbox's in-process transport, in simulated time."""
    client = MiraklClient(
        MIRAKL_SANDBOX_URL,
        DEFAULT_API_KEY,
        shop_id=DEFAULT_SHOP_ID,
        transport=mirakl_sandbox.transport(),
        now=sandbox_clock.now,
        sleep=_sleeper(sandbox_clock),
    )
    try:
        yield client
    finally:
        client.close()


@pytest.fixture
def inventory_planner_client(
    inventory_planner_sandbox: InventoryPlannerSandbox, sandbox_clock: SandboxClock
) -> Iterator[InventoryPlannerClient]:
    """An :class:`InventoryPlannerClient` on the Inventory Planner sandbox, in simulated time."""
    client = InventoryPlannerClient(
        DEFAULT_IP_KEY,
        DEFAULT_ACCOUNT,
        base_url=INVENTORY_PLANNER_SANDBOX_URL,
        transport=inventory_planner_sandbox.transport(),
        now=sandbox_clock.now,
        sleep=_sleeper(sandbox_clock),
    )
    try:
        yield client
    finally:
        client.close()


@pytest.fixture
def mirakl_vcr_config() -> dict[str, Any]:
    """The VCR configuration that keeps credentials and personal data out of cassettes."""
    return vcr_config()
