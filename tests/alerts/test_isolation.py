"""Sink isolation in the engine: one failing sink never stops another, and it is retried."""

from __future__ import annotations

from pathlib import Path

from mirakl_sync.alerts import Alert, Route, RoutedSink, WebhookSink
from mirakl_sync.engine.jobs.reconcile import reconcile_shop
from tests.alerts.conftest import SECRET, Receiver
from tests.engine.world import SHOP, ListSink, World, make_world, stock


class FlakySink:
    """Fails until ``healthy`` is set."""

    def __init__(self, name: str = "flaky") -> None:
        self.name = name
        self.healthy = False
        self.calls = 0
        self.alerts: list[Alert] = []

    def send(self, alert: Alert) -> None:
        self.calls += 1
        if not self.healthy:
            raise ConnectionError("pager service unavailable")
        self.alerts.append(alert)


def unmapped_world(tmp_path: Path) -> World:
    world = make_world(tmp_path)
    stock(world, "MUG", 10)
    world.mirakl.add_offer("GHOST-1", quantity=4, price="5.00")  # no inventory item
    world.run_for(minutes=10)
    assert "UNMAPPED_SKU" in {a.kind for a in world.sink.alerts}
    return world


def test_failing_sink_does_not_stop_the_others_and_is_retried(tmp_path: Path) -> None:
    world = unmapped_world(tmp_path)
    runtime = world.sync.runtimes[SHOP]
    flaky, good = FlakySink(), ListSink()
    good.name = "good"

    _, counts = reconcile_shop(runtime, [flaky, good])
    keys = {a.key for a in good.alerts}
    assert any(k.startswith("UNMAPPED_SKU:") for k in keys)
    assert counts["alerts_failed"] == len(keys)
    assert counts["alerts_sent"] == len(keys)
    storage = world.sync.storage
    for key in keys:
        failed = storage.get_alert_delivery(SHOP, key, "flaky")
        assert failed is not None
        assert failed.status == "failed"
        assert failed.attempts == 1
        assert failed.last_error == "ConnectionError: pager service unavailable"
        delivered = storage.get_alert_delivery(SHOP, key, "good")
        assert delivered is not None
        assert delivered.status == "delivered"
    assert world.sync.health().failed_alert_deliveries == len(keys)

    # Next reconciliation: still failing -> attempts grow; the good sink is not sent twice.
    reconcile_shop(runtime, [flaky, good])
    assert len(good.alerts) == len(keys)
    record = storage.get_alert_delivery(SHOP, next(iter(keys)), "flaky")
    assert record is not None
    assert record.attempts == 2

    # The sink recovers: the failed deliveries go out and health is clean again.
    flaky.healthy = True
    reconcile_shop(runtime, [flaky, good])
    assert {a.key for a in flaky.alerts} == keys
    assert world.sync.health().failed_alert_deliveries == 0
    assert len(good.alerts) == len(keys)


def test_real_webhook_failure_is_isolated_and_recorded_without_secrets(
    tmp_path: Path, receiver: Receiver
) -> None:
    world = unmapped_world(tmp_path)
    runtime = world.sync.runtimes[SHOP]
    receiver.script = [(503, {})] * 50
    webhook = WebhookSink(receiver.url, secret=SECRET, max_retries=1, sleep=lambda s: None)
    finance_inbox = ListSink()
    finance_only = RoutedSink(finance_inbox, Route(min_severity="info", owners={"finance"}))
    finance_only.name = "finance"
    good = ListSink()
    good.name = "good"

    reconcile_shop(runtime, [webhook, finance_only, good])
    assert good.alerts
    assert all(r.verified for r in receiver.requests)
    failed = [d for d in world.sync.storage.list_alert_deliveries(SHOP) if d.sink == "webhook"]
    assert failed
    assert {d.status for d in failed} == {"failed"}
    for delivery in failed:
        assert delivery.last_error is not None
        assert delivery.last_error.startswith("ServerError:")
        assert "503" in delivery.last_error
        assert SECRET not in delivery.last_error
        assert "tokenpath" not in delivery.last_error
    # The route rejected every (non-finance) alert: a successful no-op for the engine.
    routed = [d for d in world.sync.storage.list_alert_deliveries(SHOP) if d.sink == "finance"]
    assert routed
    assert {d.status for d in routed} == {"delivered"}
    assert finance_inbox.alerts == []

    receiver.script = []  # the receiver recovers
    reconcile_shop(runtime, [webhook, finance_only, good])
    statuses = {
        d.status for d in world.sync.storage.list_alert_deliveries(SHOP) if d.sink == "webhook"
    }
    assert statuses == {"delivered"}
    assert world.sync.health().failed_alert_deliveries == 0
