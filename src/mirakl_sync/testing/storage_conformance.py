"""The storage conformance suite: the pytest tests every storage backend must pass.

Use it by subclassing :class:`StorageConformance` in a test module and overriding the
``storage`` fixture so that it yields a fresh, empty storage and closes it afterwards::

    import pytest
    from mirakl_sync.testing.storage_conformance import StorageConformance

    class TestMyBackend(StorageConformance):
        @pytest.fixture
        def storage(self, tmp_path):
            store = MyBackend(tmp_path / "state")
            yield store
            store.close()

Every test only uses the public :class:`~mirakl_sync.storage.base.Storage` protocol, so it runs
unchanged against any backend. The suite covers every protocol method, transaction atomicity
(an exception inside ``transaction()`` rolls everything back), shop scoping, hostile strings on
every write path, the outbox lifecycle, leases and concurrent claims from several threads.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from datetime import UTC, datetime, timedelta, timezone
from decimal import Decimal
from typing import Any

import pytest

from mirakl_sync.errors import StorageError
from mirakl_sync.storage.base import PublishedLevelsStore, Storage
from mirakl_sync.storage.errors import (
    InvalidTransitionError,
    InvalidValueError,
    LeaseLostError,
    RecordNotFoundError,
)
from mirakl_sync.storage.records import (
    MAX_ID_LENGTH,
    MAX_SHOP_LENGTH,
    AlertDelivery,
    DiscrepancyStatus,
    JSONValue,
    LedgerEvent,
    LedgerLine,
    LedgerOrder,
    MappingRecord,
    OutboxItem,
    OutboxStatus,
    PendingImport,
    PublishedStock,
)

__all__ = ["HOSTILE_IDENTIFIERS", "HOSTILE_TEXT", "REJECTED_IDENTIFIERS", "StorageConformance"]

T0 = datetime(2026, 3, 1, 12, 0, 0, 123456, tzinfo=UTC)


def at(seconds: float) -> datetime:
    """``T0`` plus ``seconds``."""
    return T0 + timedelta(seconds=seconds)


#: Identifiers every backend must store and return exactly.
HOSTILE_IDENTIFIERS: tuple[str, ...] = (
    "plain-id",
    "'; DROP TABLE outbox; --",
    'it\'s "quoted" `twice`',
    "back\\slash \\' \\\"",
    "%s %(name)s ? ?1 :name $1 {}",
    "unicode é ü ß 中文 عربى \u202e\u200b zero-width",
    "emoji 🚀🧪 and combining e\u0301",
    "new\nline\ttab\rcarriage",
    "  padded  ",
    "NULL",
    "a" * MAX_ID_LENGTH,
    "🚀" * MAX_ID_LENGTH,
)

#: Free text (cursors, payloads, errors) every backend must store and return exactly.
HOSTILE_TEXT: tuple[str, ...] = (
    *HOSTILE_IDENTIFIERS,
    "",
    "nul\x00inside\x00",
    "lone surrogate \ud800 here",
    "\x01\x02\x1b[31m control",
    "x" * 1_000_000,
)

#: Identifiers every backend must refuse with ``InvalidValueError`` (and store nothing).
REJECTED_IDENTIFIERS: tuple[str, ...] = (
    "nul\x00inside",
    "lone surrogate \udc00",
    "a" * (MAX_ID_LENGTH + 1),
)


def _shop_of(value: str) -> str:
    return value[:MAX_SHOP_LENGTH] or "shop"


def _order(shop: str, order_id: str, **kw: Any) -> LedgerOrder:
    fields: dict[str, Any] = {
        "shop": shop,
        "order_id": order_id,
        "mirakl_state": "WAITING_ACCEPTANCE",
        "ledger_state": "NEW",
        "created_at": T0,
        "updated_at": T0,
    }
    fields.update(kw)
    return LedgerOrder(**fields)


def _line(shop: str, order_id: str, line_id: str, **kw: Any) -> LedgerLine:
    fields: dict[str, Any] = {
        "shop": shop,
        "order_id": order_id,
        "line_id": line_id,
        "offer_sku": "SKU-1",
        "quantity": 1,
        "mirakl_state": "WAITING_ACCEPTANCE",
        "ledger_state": "NEW",
        "updated_at": T0,
    }
    fields.update(kw)
    return LedgerLine(**fields)


def _stock(shop: str, sku: str, qty: int, warehouse: str = "", **kw: Any) -> PublishedStock:
    fields: dict[str, Any] = {
        "shop": shop,
        "offer_sku": sku,
        "warehouse": warehouse,
        "quantity": qty,
        "content_hash": f"h{qty}",
        "confirmed_at": T0,
    }
    fields.update(kw)
    return PublishedStock(**fields)


class _Boom(Exception):
    """Raised inside transactions to test rollback."""


def _raise_in_transaction(storage: Storage, *writes: Callable[[], object]) -> None:
    with storage.transaction():
        for write in writes:
            write()
        raise _Boom


def _rolled_back(storage: Storage, *writes: Callable[[], object]) -> None:
    """Run ``writes`` in one transaction that then raises; check the exception escapes."""
    with pytest.raises(_Boom):
        _raise_in_transaction(storage, *writes)


class StorageConformance:
    """Base class of the conformance suite: override the ``storage`` fixture."""

    @pytest.fixture
    def storage(self) -> Storage:
        """Yield a fresh, empty storage (override this in the subclass)."""
        pytest.fail("override the 'storage' fixture to yield the backend under test")

    # ------------------------------------------------------------------ protocol shape

    def test_is_a_storage(self, storage: Storage) -> None:
        assert isinstance(storage, Storage)

    # ------------------------------------------------------------------ checkpoints

    def test_checkpoint_set_get_replace(self, storage: Storage) -> None:
        assert storage.get_checkpoint("s1", "orders") is None
        cp = storage.set_checkpoint("s1", "orders", {"watermark": "2026-01-01T00:00:00Z"}, now=T0)
        assert cp.cursor == {"watermark": "2026-01-01T00:00:00Z"}
        assert cp.updated_at == T0
        assert storage.get_checkpoint("s1", "orders") == cp
        cp2 = storage.set_checkpoint("s1", "orders", ["slice", 1, Decimal("2.50")], now=at(5))
        assert storage.get_checkpoint("s1", "orders") == cp2
        assert cp2.cursor == ["slice", 1, Decimal("2.50")]
        storage.set_checkpoint("s1", "stock", None, now=at(1))
        assert [c.flow for c in storage.list_checkpoints("s1")] == ["orders", "stock"]
        assert storage.list_checkpoints("s2") == []

    def test_checkpoint_written_with_data_in_one_transaction(self, storage: Storage) -> None:
        _rolled_back(
            storage,
            lambda: storage.put_order(_order("s1", "O-1")),
            lambda: storage.set_checkpoint("s1", "orders", "cursor-2", now=T0),
        )
        assert storage.get_order("s1", "O-1") is None
        assert storage.get_checkpoint("s1", "orders") is None
        with storage.transaction():
            storage.put_order(_order("s1", "O-1"))
            storage.set_checkpoint("s1", "orders", "cursor-2", now=T0)
        assert storage.get_order("s1", "O-1") is not None
        cp = storage.get_checkpoint("s1", "orders")
        assert cp is not None
        assert cp.cursor == "cursor-2"

    # ------------------------------------------------------------------ ledger

    def test_order_round_trip_exact(self, storage: Storage) -> None:
        order = _order(
            "s1",
            "O-1",
            mirakl_updated_at=at(3),
            sales_order_ref="SO-9",
            total_price=Decimal("1234.50"),
            commission=Decimal("-0.005"),
            data={"currency": "EUR", "rate": Decimal("0.1"), "tags": ["a", "b"], "n": 3},
        )
        storage.put_order(order)
        assert storage.get_order("s1", "O-1") == order
        got = storage.get_order("s1", "O-1")
        assert got is not None
        assert str(got.total_price) == "1234.50"
        assert str(got.commission) == "-0.005"
        updated = _order("s1", "O-1", ledger_state="ACCEPTED", updated_at=at(10))
        storage.put_order(updated)
        assert storage.get_order("s1", "O-1") == updated
        assert storage.get_order("s1", "O-2") is None

    def test_list_orders_filters_and_order(self, storage: Storage) -> None:
        for oid, state, mstate in [
            ("O-3", "NEW", "WAITING_ACCEPTANCE"),
            ("O-1", "ACCEPTED", "SHIPPING"),
            ("O-2", "NEW", "STAGING"),
        ]:
            storage.put_order(_order("s1", oid, ledger_state=state, mirakl_state=mstate))
        storage.put_order(_order("s2", "O-9"))
        assert [o.order_id for o in storage.list_orders("s1")] == ["O-1", "O-2", "O-3"]
        assert [o.order_id for o in storage.list_orders("s1", ledger_states=["NEW"])] == [
            "O-2",
            "O-3",
        ]
        assert [
            o.order_id for o in storage.list_orders("s1", mirakl_states={"SHIPPING", "STAGING"})
        ] == ["O-1", "O-2"]
        assert [o.order_id for o in storage.list_orders("s1", limit=2)] == ["O-1", "O-2"]
        assert storage.list_orders("s1", ledger_states=[]) == []

    def test_lines_reservations_and_feed_status(self, storage: Storage) -> None:
        storage.put_lines(
            [
                _line("s1", "O-1", "L2", offer_sku="A", reserved_quantity=2, price=Decimal("9.90")),
                _line("s1", "O-1", "L1", offer_sku="B", reserved_quantity=1, feed_status="PENDING"),
                _line(
                    "s1", "O-2", "L1", offer_sku="A", reserved_quantity=3, feed_status="EXPORTED"
                ),
                _line("s1", "O-3", "L1", offer_sku="C", reserved_quantity=0),
                _line("s2", "O-1", "L1", offer_sku="A", reserved_quantity=50),
            ]
        )
        lines = storage.get_lines("s1", "O-1")
        assert [ln.line_id for ln in lines] == ["L1", "L2"]
        assert lines[1].price == Decimal("9.90")
        assert storage.reservations("s1") == {"A": 5, "B": 1}
        assert storage.reservations("s3") == {}
        pending = storage.list_lines("s1", feed_statuses=["PENDING"])
        assert [(ln.order_id, ln.line_id) for ln in pending] == [("O-1", "L1")]
        assert len(storage.list_lines("s1")) == 4
        assert len(storage.list_lines("s1", limit=3)) == 3
        # replace a line: the reservation is released and the feed status moves on
        storage.put_lines(
            [_line("s1", "O-2", "L1", offer_sku="A", reserved_quantity=0, feed_status="DONE")]
        )
        assert storage.reservations("s1") == {"A": 2, "B": 1}
        assert storage.list_lines("s1", feed_statuses=["EXPORTED"]) == []
        storage.put_lines([])

    def test_events_are_idempotent(self, storage: Storage) -> None:
        ev = LedgerEvent(
            shop="s1",
            event_id="refund:RMA-1",
            order_id="O-1",
            kind="REFUND",
            payload={"amount": Decimal("10.00"), "lines": [{"id": "L1", "qty": 1}]},
            recorded_at=at(2),
        )
        assert storage.record_event(ev) is True
        other = LedgerEvent(
            shop="s1", event_id="refund:RMA-1", order_id="O-2", kind="X", recorded_at=at(9)
        )
        assert storage.record_event(other) is False
        ship = LedgerEvent(
            shop="s1", event_id="ship:1", order_id="O-2", kind="SHIPMENT", recorded_at=at(1)
        )
        assert storage.record_event(ship) is True
        assert storage.list_events("s1") == [ship, ev]
        assert storage.list_events("s1", order_id="O-1") == [ev]
        assert storage.list_events("s2") == []

    # ------------------------------------------------------------------ outbox

    def test_enqueue_is_idempotent_per_shop_key(self, storage: Storage) -> None:
        item = storage.enqueue(
            "s1", "accept:O-1", kind="accept", payload={"lines": {"L1": True}}, now=T0
        )
        assert item.status is OutboxStatus.PLANNED
        assert item.attempts == 0
        assert item.next_attempt_at == T0
        assert item.created_at == T0
        assert item.lease_owner is None
        again = storage.enqueue("s1", "accept:O-1", kind="other", payload={"x": 1}, now=at(5))
        assert again == item
        assert storage.get_item("s1", "accept:O-1") == item
        other_shop = storage.enqueue("s2", "accept:O-1", kind="accept", payload=None, now=T0)
        assert other_shop.shop == "s2"
        assert other_shop.id != item.id
        assert len(storage.list_items()) == 2
        assert storage.get_item("s3", "accept:O-1") is None

    def test_enqueue_returns_existing_item_in_any_status(self, storage: Storage) -> None:
        storage.enqueue("s1", "k", kind="accept", payload=1, now=T0)
        (claimed,) = storage.claim(worker="w", now=T0, lease_seconds=30)
        storage.mark_sent("s1", "k", worker="w", now=at(1))
        done = storage.complete("s1", "k", worker="w", now=at(2))
        assert storage.enqueue("s1", "k", kind="accept", payload=2, now=at(3)) == done
        assert storage.count_items()[OutboxStatus.CONFIRMED] == 1
        assert claimed.attempts == 1

    def test_outbox_full_lifecycle(self, storage: Storage) -> None:
        storage.enqueue("s1", "k1", kind="accept", payload={"a": 1}, now=T0)
        items = storage.claim(worker="w1", now=at(1), lease_seconds=60)
        assert len(items) == 1
        item = items[0]
        assert item.key == "k1"
        assert item.lease_owner == "w1"
        assert item.lease_expires_at == at(61)
        assert item.attempts == 1
        assert item.status is OutboxStatus.PLANNED
        sent = storage.mark_sent("s1", "k1", worker="w1", now=at(2))
        assert sent.status is OutboxStatus.SENT
        assert sent.lease_owner == "w1"
        assert sent.updated_at == at(2)
        done = storage.complete("s1", "k1", worker="w1", now=at(3))
        assert done.status is OutboxStatus.CONFIRMED
        assert done.lease_owner is None
        assert done.lease_expires_at is None
        assert done.payload == {"a": 1}
        assert storage.claim(worker="w1", now=at(1000), lease_seconds=60) == []
        assert storage.get_item("s1", "k1") == done

    def test_complete_can_replace_the_payload(self, storage: Storage) -> None:
        for key in ("big", "kept"):
            storage.enqueue("s1", key, kind="STO01", payload={"lines": [["", "A", 1]]}, now=T0)
            storage.claim(worker="w", now=at(1), lease_seconds=60, shop="s1")
            storage.mark_sent("s1", key, worker="w", now=at(2))
        done = storage.complete("s1", "big", worker="w", now=at(3), payload={"count": 1})
        assert done.status is OutboxStatus.CONFIRMED
        assert done.payload == {"count": 1}
        assert storage.get_item("s1", "big") == done
        # Without a payload (or with None) the payload is kept.
        kept = storage.complete("s1", "kept", worker="w", now=at(3), payload=None)
        assert kept.payload == {"lines": [["", "A", 1]]}
        # Only a confirmation by the lease holder writes it.
        storage.enqueue("s1", "other", kind="STO01", payload=[1], now=T0)
        storage.claim(worker="w", now=at(4), lease_seconds=60, shop="s1")
        storage.mark_sent("s1", "other", worker="w", now=at(5))
        with pytest.raises(LeaseLostError):
            storage.complete("s1", "other", worker="x", now=at(6), payload=[2])
        assert storage.get_item("s1", "other").payload == [1]  # type: ignore[union-attr]
        with pytest.raises(InvalidValueError):
            storage.complete("s1", "other", worker="w", now=at(6), payload={1: object()})  # type: ignore[dict-item]
        assert storage.get_item("s1", "other").status is OutboxStatus.SENT  # type: ignore[union-attr]

    def test_claim_respects_due_time_order_limit_and_shop(self, storage: Storage) -> None:
        storage.enqueue("s1", "late", kind="k", payload=None, now=T0, next_attempt_at=at(100))
        storage.enqueue("s1", "b", kind="k", payload=None, now=T0, next_attempt_at=at(2))
        storage.enqueue("s1", "a", kind="k", payload=None, now=T0, next_attempt_at=at(2))
        storage.enqueue("s2", "c", kind="k", payload=None, now=T0, next_attempt_at=at(1))
        assert storage.claim(worker="w", now=at(0.5), lease_seconds=10) == []
        got = storage.claim(worker="w", now=at(5), lease_seconds=1000, limit=10, shop="s1")
        assert [i.key for i in got] == ["b", "a"]  # same due time: creation order
        got = storage.claim(worker="w", now=at(5), lease_seconds=1000, limit=10)
        assert [i.key for i in got] == ["c"]
        got = storage.claim(worker="w", now=at(200), lease_seconds=10, limit=1)
        assert [i.key for i in got] == ["late"]

    def test_claim_never_returns_a_leased_item_until_it_expires(self, storage: Storage) -> None:
        storage.enqueue("s1", "k", kind="k", payload=None, now=T0)
        assert len(storage.claim(worker="w1", now=T0, lease_seconds=30)) == 1
        assert storage.claim(worker="w2", now=at(29), lease_seconds=30) == []
        # w1 crashed: at expiry w2 takes over, with one more attempt
        taken = storage.claim(worker="w2", now=at(30), lease_seconds=30)
        assert [(i.lease_owner, i.attempts) for i in taken] == [("w2", 2)]
        with pytest.raises(LeaseLostError):
            storage.mark_sent("s1", "k", worker="w1", now=at(31))
        with pytest.raises(LeaseLostError):
            storage.complete("s1", "k", worker="w1", now=at(31))
        with pytest.raises(LeaseLostError):
            storage.fail("s1", "k", worker="w1", now=at(31), error="late")
        with pytest.raises(LeaseLostError):
            storage.park("s1", "k", worker="w1", now=at(31), reason="late")
        with pytest.raises(LeaseLostError):
            storage.release("s1", "k", worker="w1", now=at(31))
        with pytest.raises(LeaseLostError):
            storage.extend_lease("s1", "k", worker="w1", now=at(31), lease_seconds=5)
        storage.mark_sent("s1", "k", worker="w2", now=at(32))
        assert storage.complete("s1", "k", worker="w2", now=at(33)).status is (
            OutboxStatus.CONFIRMED
        )

    def test_expired_lease_not_taken_over_can_still_complete(self, storage: Storage) -> None:
        storage.enqueue("s1", "k", kind="k", payload=None, now=T0)
        storage.claim(worker="w1", now=T0, lease_seconds=5)
        storage.mark_sent("s1", "k", worker="w1", now=at(1))
        assert storage.complete("s1", "k", worker="w1", now=at(60)).status is (
            OutboxStatus.CONFIRMED
        )

    def test_sent_item_is_reclaimed_after_lease_expiry(self, storage: Storage) -> None:
        storage.enqueue("s1", "k", kind="k", payload=None, now=T0)
        storage.claim(worker="w1", now=T0, lease_seconds=5)
        storage.mark_sent("s1", "k", worker="w1", now=at(1))
        (again,) = storage.claim(worker="w2", now=at(6), lease_seconds=5)
        assert again.status is OutboxStatus.SENT
        assert again.lease_owner == "w2"
        with pytest.raises(InvalidTransitionError):
            storage.mark_sent("s1", "k", worker="w2", now=at(7))
        assert storage.complete("s1", "k", worker="w2", now=at(7)).status is (
            OutboxStatus.CONFIRMED
        )

    def test_unclaimed_item_cannot_be_completed(self, storage: Storage) -> None:
        storage.enqueue("s1", "k", kind="k", payload=None, now=T0)
        with pytest.raises(LeaseLostError):
            storage.mark_sent("s1", "k", worker="w", now=T0)
        with pytest.raises(RecordNotFoundError):
            storage.complete("s1", "missing", worker="w", now=T0)
        with pytest.raises(RecordNotFoundError):
            storage.replan("s1", "missing", now=T0, next_attempt_at=T0)
        assert isinstance(LeaseLostError("x"), StorageError)

    def test_status_transitions_are_validated(self, storage: Storage) -> None:
        storage.enqueue("s1", "k", kind="k", payload=None, now=T0)
        storage.claim(worker="w", now=T0, lease_seconds=60)
        with pytest.raises(InvalidTransitionError):
            storage.complete("s1", "k", worker="w", now=at(1))  # PLANNED -> CONFIRMED
        assert storage.get_item("s1", "k") is not None
        item = storage.get_item("s1", "k")
        assert item is not None
        assert item.status is OutboxStatus.PLANNED
        with pytest.raises(InvalidTransitionError):
            storage.replan("s1", "k", now=at(1), next_attempt_at=at(2))  # PLANNED -> PLANNED
        storage.mark_sent("s1", "k", worker="w", now=at(1))
        storage.complete("s1", "k", worker="w", now=at(2))
        with pytest.raises(InvalidTransitionError):
            storage.replan("s1", "k", now=at(3), next_attempt_at=at(3))  # CONFIRMED is final
        assert isinstance(InvalidTransitionError("x"), StorageError)

    def test_fail_and_replan(self, storage: Storage) -> None:
        storage.enqueue("s1", "k", kind="k", payload=None, now=T0)
        storage.claim(worker="w", now=T0, lease_seconds=60)
        storage.mark_sent("s1", "k", worker="w", now=at(1))
        failed = storage.fail("s1", "k", worker="w", now=at(2), error="HTTP 400: bad sku")
        assert failed.status is OutboxStatus.FAILED
        assert failed.last_error == "HTTP 400: bad sku"
        assert failed.lease_owner is None
        assert failed.next_attempt_at is None
        assert storage.claim(worker="w", now=at(1000), lease_seconds=60) == []
        replanned = storage.replan("s1", "k", now=at(3), next_attempt_at=at(50))
        assert replanned.status is OutboxStatus.PLANNED
        assert replanned.next_attempt_at == at(50)
        assert replanned.last_error == "HTTP 400: bad sku"
        assert storage.claim(worker="w", now=at(49), lease_seconds=60) == []
        (again,) = storage.claim(worker="w", now=at(50), lease_seconds=60)
        assert again.attempts == 2
        # PLANNED may fail directly (nothing was sent)
        assert storage.fail("s1", "k", worker="w", now=at(51), error="").status is (
            OutboxStatus.FAILED
        )

    def test_park_and_redrive(self, storage: Storage) -> None:
        storage.enqueue("s1", "k", kind="k", payload=None, now=T0)
        storage.claim(worker="w", now=T0, lease_seconds=60)
        parked = storage.park("s1", "k", worker="w", now=at(1), reason="retries exhausted")
        assert parked.status is OutboxStatus.PARKED
        assert parked.last_error == "retries exhausted"
        assert storage.count_items(shop="s1")[OutboxStatus.PARKED] == 1
        assert storage.claim(worker="w", now=at(1000), lease_seconds=60) == []
        storage.replan("s1", "k", now=at(2), next_attempt_at=at(2))
        assert [i.key for i in storage.claim(worker="w2", now=at(2), lease_seconds=5)] == ["k"]

    def test_release_and_extend_lease(self, storage: Storage) -> None:
        storage.enqueue("s1", "k", kind="k", payload=None, now=T0)
        storage.claim(worker="w", now=T0, lease_seconds=10)
        extended = storage.extend_lease("s1", "k", worker="w", now=at(8), lease_seconds=10)
        assert extended.lease_expires_at == at(18)
        assert storage.claim(worker="w2", now=at(15), lease_seconds=10) == []
        released = storage.release(
            "s1", "k", worker="w", now=at(16), retry_at=at(40), error="429 Retry-After: 24"
        )
        assert released.lease_owner is None
        assert released.status is OutboxStatus.PLANNED
        assert released.next_attempt_at == at(40)
        assert released.last_error == "429 Retry-After: 24"
        assert storage.claim(worker="w2", now=at(39), lease_seconds=10) == []
        storage.claim(worker="w2", now=at(40), lease_seconds=10)
        kept = storage.release("s1", "k", worker="w2", now=at(41))
        assert kept.next_attempt_at == at(41)
        assert kept.last_error == "429 Retry-After: 24"
        with pytest.raises(InvalidValueError):
            storage.claim(worker="w", now=at(41), lease_seconds=0)

    def test_list_and_count_items(self, storage: Storage) -> None:
        for i in range(5):
            storage.enqueue("s1", f"k{i}", kind="k", payload=i, now=at(i))
        storage.enqueue("s2", "k0", kind="k", payload=None, now=T0)
        storage.claim(worker="w", now=at(10), lease_seconds=5, limit=2, shop="s1")
        storage.mark_sent("s1", "k0", worker="w", now=at(11))
        storage.park("s1", "k1", worker="w", now=at(11), reason="no")
        counts = storage.count_items(shop="s1")
        assert counts == {
            OutboxStatus.PLANNED: 3,
            OutboxStatus.SENT: 1,
            OutboxStatus.CONFIRMED: 0,
            OutboxStatus.FAILED: 0,
            OutboxStatus.PARKED: 1,
        }
        assert sum(storage.count_items().values()) == 6
        assert [i.key for i in storage.list_items(shop="s1")] == ["k0", "k1", "k2", "k3", "k4"]
        planned = storage.list_items(shop="s1", statuses=[OutboxStatus.PLANNED], limit=2)
        assert [i.key for i in planned] == ["k2", "k3"]
        assert [i.payload for i in planned] == [2, 3]
        assert len(storage.list_items(statuses=[OutboxStatus.PLANNED])) == 4

    def test_list_items_by_kind(self, storage: Storage) -> None:
        for i, kind in enumerate(["OR21", "STO01", "OR24", "STO01", "OR21"]):
            storage.enqueue("s1", f"k{i}", kind=kind, payload={"i": i}, now=at(i))
        storage.enqueue("s2", "k9", kind="OR21", payload=None, now=T0)
        got = storage.list_items(shop="s1", kinds=["OR21", "OR24"])
        assert [(i.key, i.kind) for i in got] == [("k0", "OR21"), ("k2", "OR24"), ("k4", "OR21")]
        assert [i.payload for i in got] == [{"i": 0}, {"i": 2}, {"i": 4}]
        assert [i.key for i in storage.list_items(kinds=["OR21"])] == ["k0", "k4", "k9"]
        assert storage.list_items(shop="s1", kinds=[]) == []
        assert storage.list_items(shop="s1", kinds=["nope"]) == []
        planned = storage.list_items(shop="s1", statuses=[OutboxStatus.PLANNED], kinds=["STO01"])
        assert [i.key for i in planned] == ["k1", "k3"]
        with pytest.raises(InvalidValueError):
            storage.list_items(kinds="OR21")

    def test_claim_is_rolled_back_with_its_transaction(self, storage: Storage) -> None:
        storage.enqueue("s1", "k", kind="k", payload=None, now=T0)
        claimed: list[OutboxItem] = []
        _rolled_back(
            storage, lambda: claimed.extend(storage.claim(worker="w", now=T0, lease_seconds=60))
        )
        assert len(claimed) == 1
        item = storage.get_item("s1", "k")
        assert item is not None
        assert item.lease_owner is None
        assert item.attempts == 0

    def test_concurrent_claims_from_threads_never_overlap(self, storage: Storage) -> None:
        total = 120
        for i in range(total):
            storage.enqueue("s1", f"k{i:04d}", kind="k", payload=i, now=T0)
        seen: list[str] = []
        errors: list[BaseException] = []
        lock = threading.Lock()

        def work(name: str) -> None:
            try:
                while True:
                    items = storage.claim(worker=name, now=at(1), lease_seconds=600, limit=3)
                    if not items:
                        return
                    for item in items:
                        storage.mark_sent(item.shop, item.key, worker=name, now=at(2))
                        storage.complete(item.shop, item.key, worker=name, now=at(3))
                        with lock:
                            seen.append(item.key)
            except BaseException as exc:  # pragma: no cover - reported below
                errors.append(exc)

        threads = [threading.Thread(target=work, args=(f"w{n}",)) for n in range(4)]
        for t in threads:
            t.start()
        for t in threads:
            t.join(timeout=120)
        assert not errors, errors
        assert len(seen) == total
        assert len(set(seen)) == total
        assert storage.count_items()[OutboxStatus.CONFIRMED] == total

    # ------------------------------------------------------------------ published stock

    def test_published_stock_upsert_and_list(self, storage: Storage) -> None:
        rows = [
            _stock("s1", "B", 3),
            _stock("s1", "A", 5, warehouse="WH-2"),
            _stock("s1", "A", 4),
            _stock("s2", "A", 100),
        ]
        assert storage.put_published(rows) == 4
        assert storage.put_published(iter([])) == 0
        assert storage.get_published("s1", "A") == rows[2]
        assert storage.get_published("s1", "A", "WH-2") == rows[1]
        assert storage.get_published("s1", "A", "WH-9") is None
        assert [(r.offer_sku, r.warehouse) for r in storage.list_published("s1")] == [
            ("A", ""),
            ("A", "WH-2"),
            ("B", ""),
        ]
        assert [r.offer_sku for r in storage.list_published("s1", offer_skus=["B", "Z"])] == ["B"]
        newer = _stock("s1", "A", 0, content_hash="h-zero", confirmed_at=at(9))
        storage.put_published([newer])
        assert storage.get_published("s1", "A") == newer
        assert storage.delete_published("s1", "A", "WH-2") is True
        assert storage.delete_published("s1", "A", "WH-2") is False
        assert len(storage.list_published("s1")) == 2

    def test_published_levels_are_the_listing_by_column(self, storage: Storage) -> None:
        """Optional (``PublishedLevelsStore``): skipped for a storage without it."""
        if not isinstance(storage, PublishedLevelsStore):
            pytest.skip("this storage has no published_levels() (optional)")
        assert storage.published_levels("s1") == {}
        rows = [
            _stock("s1", "B", 2),
            _stock("s1", "A", 7, warehouse="WH-2"),
            _stock("s1", "A", 1),
            _stock("s1", "C", 0, warehouse="WH-2"),
            _stock("s2", "A", 100),
        ]
        storage.put_published(rows)
        assert storage.published_levels("s1") == {
            "": (["A", "B"], [1, 2]),
            "WH-2": (["A", "C"], [7, 0]),
        }
        assert storage.published_levels("s2") == {"": (["A"], [100])}
        storage.delete_published("s1", "A", "WH-2")
        storage.delete_published("s1", "C", "WH-2")
        assert storage.published_levels("s1") == {"": (["A", "B"], [1, 2])}

    def test_put_published_in_bulk(self, storage: Storage) -> None:
        rows = [_stock("s1", f"SKU-{i:05d}", i) for i in range(2000)]
        assert storage.put_published(rows) == 2000
        assert storage.put_published(rows[:1000]) == 1000
        listed = storage.list_published("s1")
        assert len(listed) == 2000
        assert listed[1234] == rows[1234]

    def test_pending_imports(self, storage: Storage) -> None:
        imp = PendingImport(
            shop="s1",
            import_id="2001",
            kind="STO01",
            status="SUBMITTED",
            lines={"SKU-1": 4, "SKU-2": 0},
            submitted_at=at(2),
            updated_at=at(2),
        )
        older = PendingImport(
            shop="s1",
            import_id="2000",
            kind="STO01",
            status="RUNNING",
            submitted_at=at(1),
            updated_at=at(1),
        )
        storage.put_pending_import(imp)
        storage.put_pending_import(older)
        assert storage.get_pending_import("s1", "2001") == imp
        assert storage.list_pending_imports("s1") == [older, imp]
        assert storage.list_pending_imports("s1", statuses=["RUNNING"]) == [older]
        done = PendingImport(
            shop="s1",
            import_id="2001",
            kind="STO01",
            status="COMPLETE_WITH_ERRORS",
            lines={"SKU-1": 4},
            error="line 2: unknown offer",
            submitted_at=at(2),
            updated_at=at(30),
        )
        storage.put_pending_import(done)
        assert storage.get_pending_import("s1", "2001") == done
        assert storage.delete_pending_import("s1", "2001") is True
        assert storage.delete_pending_import("s1", "2001") is False
        assert storage.get_pending_import("s2", "2000") is None

    # ------------------------------------------------------------------ mappings

    def test_mappings(self, storage: Storage) -> None:
        simple = MappingRecord(
            shop="s1", offer_sku="OF-1", components=(("ITEM-1", 1),), updated_at=T0
        )
        bundle = MappingRecord(
            shop="s1",
            offer_sku="OF-0",
            components=(("ITEM-1", 2), ("ITEM-2", 1)),
            source="import",
            updated_at=at(1),
        )
        storage.put_mapping(simple)
        storage.put_mapping(bundle)
        assert storage.get_mapping("s1", "OF-1") == simple
        assert storage.list_mappings("s1") == [bundle, simple]
        assert storage.list_mappings("s2") == []
        pack = MappingRecord(
            shop="s1", offer_sku="OF-1", components=(("ITEM-1", 6),), updated_at=at(2)
        )
        storage.put_mapping(pack)
        assert storage.get_mapping("s1", "OF-1") == pack
        assert storage.delete_mapping("s1", "OF-1") is True
        assert storage.delete_mapping("s1", "OF-1") is False
        with pytest.raises(InvalidValueError):
            storage.put_mapping(
                MappingRecord(shop="s1", offer_sku="X", components=(), updated_at=T0)
            )
        with pytest.raises(InvalidValueError):
            storage.put_mapping(
                MappingRecord(shop="s1", offer_sku="X", components=(("I", 0),), updated_at=T0)
            )

    # ------------------------------------------------------------------ discrepancies

    def test_discrepancy_dedupe_resolve_reopen(self, storage: Storage) -> None:
        first = storage.observe_discrepancy(
            "s1", "UNMAPPED_SKU:X", kind="UNMAPPED_SKU", severity="high", now=T0, details={"n": 1}
        )
        assert first.status is DiscrepancyStatus.OPEN
        assert (first.first_seen, first.last_seen, first.occurrences) == (T0, T0, 1)
        second = storage.observe_discrepancy(
            "s1",
            "UNMAPPED_SKU:X",
            kind="UNMAPPED_SKU",
            severity="critical",
            now=at(60),
            details={"n": 2},
        )
        assert (second.first_seen, second.last_seen, second.occurrences) == (T0, at(60), 2)
        assert second.severity == "critical"
        assert second.details == {"n": 2}
        assert storage.get_discrepancy("s1", "UNMAPPED_SKU:X") == second
        resolved = storage.resolve_discrepancy("s1", "UNMAPPED_SKU:X", now=at(120))
        assert resolved is not None
        assert resolved.status is DiscrepancyStatus.RESOLVED
        assert resolved.resolved_at == at(120)
        again = storage.resolve_discrepancy("s1", "UNMAPPED_SKU:X", now=at(130))
        assert again == resolved
        assert storage.resolve_discrepancy("s1", "nope", now=at(130)) is None
        reopened = storage.observe_discrepancy(
            "s1", "UNMAPPED_SKU:X", kind="UNMAPPED_SKU", severity="high", now=at(200)
        )
        assert reopened.status is DiscrepancyStatus.OPEN
        assert (reopened.first_seen, reopened.occurrences, reopened.resolved_at) == (
            at(200),
            1,
            None,
        )

    def test_list_discrepancies(self, storage: Storage) -> None:
        storage.observe_discrepancy("s2", "b", kind="K", severity="low", now=T0)
        storage.observe_discrepancy("s1", "b", kind="K", severity="low", now=at(1))
        storage.observe_discrepancy("s1", "a", kind="K", severity="low", now=at(2))
        storage.resolve_discrepancy("s1", "a", now=at(3))
        assert [(d.shop, d.key) for d in storage.list_discrepancies()] == [
            ("s1", "b"),
            ("s1", "a"),
            ("s2", "b"),
        ]
        assert [d.key for d in storage.list_discrepancies(shop="s1")] == ["b", "a"]
        opened = storage.list_discrepancies(shop="s1", status=DiscrepancyStatus.OPEN)
        assert [d.key for d in opened] == ["b"]
        resolved = storage.list_discrepancies(status=DiscrepancyStatus.RESOLVED)
        assert [d.key for d in resolved] == ["a"]

    def test_alert_deliveries(self, storage: Storage) -> None:
        pending = AlertDelivery(
            shop="s1", discrepancy_key="k1", sink="webhook", status="PENDING", attempts=0
        )
        storage.put_alert_delivery(pending)
        assert storage.get_alert_delivery("s1", "k1", "webhook") == pending
        sent = AlertDelivery(
            shop="s1",
            discrepancy_key="k1",
            sink="webhook",
            status="SENT",
            attempts=2,
            last_attempt_at=at(5),
            delivered_at=at(5),
            last_error="timeout on attempt 1",
        )
        storage.put_alert_delivery(sent)
        log = AlertDelivery(shop="s1", discrepancy_key="k1", sink="log", status="SENT")
        storage.put_alert_delivery(log)
        other = AlertDelivery(shop="s1", discrepancy_key="k0", sink="log", status="SENT")
        storage.put_alert_delivery(other)
        assert storage.get_alert_delivery("s1", "k1", "webhook") == sent
        assert storage.list_alert_deliveries("s1") == [other, log, sent]
        assert storage.list_alert_deliveries("s1", discrepancy_key="k1") == [log, sent]
        assert storage.get_alert_delivery("s2", "k1", "webhook") is None

    # ------------------------------------------------------------------ runs

    def test_runs(self, storage: Storage) -> None:
        run = storage.start_run("s1", "orders", "r1", now=T0)
        assert (run.job, run.started_at, run.finished_at, run.outcome) == ("orders", T0, None, None)
        assert dict(run.counts) == {}
        with pytest.raises(StorageError):
            storage.start_run("s1", "orders", "r1", now=at(1))
        done = storage.finish_run(
            "s1", "r1", now=at(5), outcome="success", counts={"orders": 12, "accepted": 11}
        )
        assert done.finished_at == at(5)
        assert dict(done.counts) == {"orders": 12, "accepted": 11}
        assert storage.get_run("s1", "r1") == done
        storage.start_run("s1", "stock", "r2", now=at(10))
        storage.start_run("s1", "orders", "r3", now=at(20))
        storage.finish_run("s1", "r3", now=at(21), outcome="failed", error="HTTP 500")
        storage.start_run("s2", "orders", "r4", now=at(30))
        assert [r.run_id for r in storage.list_runs("s1")] == ["r3", "r2", "r1"]
        assert [r.run_id for r in storage.list_runs("s1", job="orders")] == ["r3", "r1"]
        assert [r.run_id for r in storage.list_runs("s1", limit=1)] == ["r3"]
        failed = storage.get_run("s1", "r3")
        assert failed is not None
        assert failed.error == "HTTP 500"
        with pytest.raises(RecordNotFoundError):
            storage.finish_run("s1", "nope", now=at(1), outcome="success")
        assert storage.get_run("s2", "r1") is None

    # ------------------------------------------------------------------ job leases

    def test_job_leases(self, storage: Storage) -> None:
        lease = storage.claim_job("s1", "orders", worker="w1", now=T0, lease_seconds=60)
        assert lease is not None
        assert (lease.owner, lease.acquired_at, lease.expires_at) == ("w1", T0, at(60))
        assert storage.claim_job("s1", "orders", worker="w2", now=at(59), lease_seconds=60) is None
        assert storage.claim_job("s2", "orders", worker="w2", now=at(1), lease_seconds=60)
        assert storage.claim_job("s1", "stock", worker="w2", now=at(1), lease_seconds=60)
        renewed = storage.claim_job("s1", "orders", worker="w1", now=at(30), lease_seconds=60)
        assert renewed is not None
        assert (renewed.acquired_at, renewed.expires_at) == (T0, at(90))
        assert storage.claim_job("s1", "orders", worker="w2", now=at(89), lease_seconds=60) is None
        taken = storage.claim_job("s1", "orders", worker="w2", now=at(90), lease_seconds=60)
        assert taken is not None
        assert (taken.owner, taken.acquired_at) == ("w2", at(90))
        assert storage.get_job_lease("s1", "orders") == taken
        assert storage.release_job("s1", "orders", worker="w1") is False
        assert storage.release_job("s1", "orders", worker="w2") is True
        assert storage.get_job_lease("s1", "orders") is None
        assert storage.claim_job("s1", "orders", worker="w3", now=at(91), lease_seconds=1)

    # ------------------------------------------------------------------ transactions

    def test_transaction_rolls_back_every_kind_of_write(self, storage: Storage) -> None:
        storage.enqueue("s1", "existing", kind="k", payload=None, now=T0)
        storage.claim(worker="w", now=T0, lease_seconds=60)
        storage.put_published([_stock("s1", "A", 1)])
        _rolled_back(
            storage,
            lambda: self._write_everything(storage, "s1", "x"),
            lambda: storage.mark_sent("s1", "existing", worker="w", now=at(1)),
            lambda: storage.put_published([_stock("s1", "A", 99)]),
            lambda: storage.delete_published("s1", "A"),
        )
        self._assert_nothing_written(storage, "s1", "x")
        existing = storage.get_item("s1", "existing")
        assert existing is not None
        assert existing.status is OutboxStatus.PLANNED
        published = storage.get_published("s1", "A")
        assert published is not None
        assert published.quantity == 1

    def test_transaction_commits_and_reads_its_own_writes(self, storage: Storage) -> None:
        with storage.transaction():
            self._write_everything(storage, "s1", "x")
            assert storage.get_order("s1", "x") is not None
            assert storage.get_item("s1", "x") is not None
        assert storage.get_order("s1", "x") is not None
        assert storage.get_checkpoint("s1", "x") is not None
        assert storage.count_items(shop="s1")[OutboxStatus.PLANNED] == 1

    def test_nested_transactions_join_the_outer_one(self, storage: Storage) -> None:
        def inner() -> None:
            with storage.transaction():
                storage.set_checkpoint("s1", "b", 2, now=T0)

        _rolled_back(storage, lambda: storage.set_checkpoint("s1", "a", 1, now=T0), inner)
        assert storage.list_checkpoints("s1") == []
        with storage.transaction():
            storage.set_checkpoint("s1", "a", 1, now=T0)
            with storage.transaction():
                storage.set_checkpoint("s1", "b", 2, now=T0)
        assert len(storage.list_checkpoints("s1")) == 2

    def test_inner_failure_caught_in_outer_block_rolls_back(self, storage: Storage) -> None:
        def outer() -> None:
            with storage.transaction():
                storage.set_checkpoint("s1", "a", 1, now=T0)
                _rolled_back(storage, lambda: storage.set_checkpoint("s1", "b", 2, now=T0))

        with pytest.raises(StorageError, match="inner transaction"):
            outer()
        assert storage.list_checkpoints("s1") == []
        # the storage is usable afterwards
        storage.set_checkpoint("s1", "c", 3, now=T0)
        assert [c.flow for c in storage.list_checkpoints("s1")] == ["c"]

    def test_failed_write_inside_transaction_rolls_back_everything(self, storage: Storage) -> None:
        def writes() -> None:
            with storage.transaction():
                storage.set_checkpoint("s1", "a", 1, now=T0)
                storage.set_checkpoint("s1", "b", object(), now=T0)  # type: ignore[arg-type]

        with pytest.raises(InvalidValueError):
            writes()
        assert storage.list_checkpoints("s1") == []

    @staticmethod
    def _write_everything(storage: Storage, shop: str, ident: str) -> None:
        storage.set_checkpoint(shop, ident, {"c": ident}, now=T0)
        storage.put_order(_order(shop, ident, data={"d": ident}))
        storage.put_lines([_line(shop, ident, ident, reserved_quantity=1, data=[ident])])
        storage.record_event(
            LedgerEvent(
                shop=shop, event_id=ident, order_id=ident, kind=ident, payload=ident, recorded_at=T0
            )
        )
        storage.enqueue(shop, ident, kind=ident, payload={ident: ident}, now=T0)
        storage.put_published([_stock(shop, ident, 7, warehouse=ident, content_hash=ident)])
        storage.put_pending_import(
            PendingImport(
                shop=shop,
                import_id=ident,
                kind=ident,
                status=ident,
                lines={ident: 1},
                error=ident,
                submitted_at=T0,
                updated_at=T0,
            )
        )
        storage.put_mapping(
            MappingRecord(
                shop=shop, offer_sku=ident, components=((ident, 2),), source=ident, updated_at=T0
            )
        )
        storage.observe_discrepancy(
            shop, ident, kind=ident, severity=ident, now=T0, details={"x": ident}
        )
        storage.put_alert_delivery(
            AlertDelivery(
                shop=shop, discrepancy_key=ident, sink=ident, status=ident, last_error=ident
            )
        )
        storage.start_run(shop, ident, ident, now=T0)
        storage.claim_job(shop, ident, worker=ident, now=T0, lease_seconds=60)

    @staticmethod
    def _assert_nothing_written(storage: Storage, shop: str, ident: str) -> None:
        assert storage.get_checkpoint(shop, ident) is None
        assert storage.get_order(shop, ident) is None
        assert storage.get_lines(shop, ident) == []
        assert storage.list_events(shop, order_id=ident) == []
        assert storage.get_item(shop, ident) is None
        assert storage.get_published(shop, ident, ident) is None
        assert storage.get_pending_import(shop, ident) is None
        assert storage.get_mapping(shop, ident) is None
        assert storage.get_discrepancy(shop, ident) is None
        assert storage.get_alert_delivery(shop, ident, ident) is None
        assert storage.get_run(shop, ident) is None
        assert storage.get_job_lease(shop, ident) is None

    # ------------------------------------------------------------------ shop scoping

    def test_everything_is_scoped_by_shop(self, storage: Storage) -> None:
        self._write_everything(storage, "shop-a", "same-id")
        self._assert_nothing_written(storage, "shop-b", "same-id")
        assert storage.list_checkpoints("shop-b") == []
        assert storage.list_orders("shop-b") == []
        assert storage.list_lines("shop-b") == []
        assert storage.reservations("shop-b") == {}
        assert storage.list_events("shop-b") == []
        assert storage.list_items(shop="shop-b") == []
        assert storage.claim(worker="w", now=at(1), lease_seconds=5, shop="shop-b") == []
        assert storage.list_published("shop-b") == []
        assert storage.list_pending_imports("shop-b") == []
        assert storage.list_mappings("shop-b") == []
        assert storage.list_discrepancies(shop="shop-b") == []
        assert storage.list_alert_deliveries("shop-b") == []
        assert storage.list_runs("shop-b") == []
        # the same keys in another shop are independent rows
        self._write_everything(storage, "shop-b", "same-id")
        assert storage.reservations("shop-a") == {"SKU-1": 1}
        assert storage.reservations("shop-b") == {"SKU-1": 1}
        assert len(storage.list_items()) == 2

    # ------------------------------------------------------------------ values

    def test_timestamps_are_normalised_to_utc(self, storage: Storage) -> None:
        paris = timezone(timedelta(hours=2))
        local = datetime(2026, 3, 1, 14, 0, 0, 123456, tzinfo=paris)
        cp = storage.set_checkpoint("s1", "f", None, now=local)
        stored = storage.get_checkpoint("s1", "f")
        assert stored is not None
        assert stored.updated_at == local
        assert stored.updated_at.utcoffset() == timedelta(0)
        assert cp.updated_at.utcoffset() == timedelta(0)
        item = storage.enqueue("s1", "k", kind="k", payload=None, now=local)
        assert item.created_at.utcoffset() == timedelta(0)
        assert item.created_at.microsecond == 123456

    def test_naive_datetimes_are_refused(self, storage: Storage) -> None:
        naive = datetime(2026, 3, 1, 12, 0, 0)
        with pytest.raises(InvalidValueError):
            storage.set_checkpoint("s1", "f", None, now=naive)
        with pytest.raises(InvalidValueError):
            storage.enqueue("s1", "k", kind="k", payload=None, now=naive)
        with pytest.raises(InvalidValueError):
            storage.put_order(_order("s1", "O", created_at=naive))
        with pytest.raises(InvalidValueError):
            storage.claim(worker="w", now=naive, lease_seconds=5)
        assert storage.get_checkpoint("s1", "f") is None
        assert storage.get_item("s1", "k") is None

    def test_json_payloads_are_exact(self, storage: Storage) -> None:
        payload: JSONValue = {
            "int": 12345678901234567890,
            "neg": -1,
            "dec": Decimal("0.10"),
            "dec_int": Decimal("12"),
            "dec_exp": Decimal("1E+3"),
            "tiny": Decimal("-0.000000000000000000001"),
            "float": 1.5,
            "bool": True,
            "none": None,
            "nested": {"list": [1, "two", [3.25]], "empty": {}},
            "tuple": (1, 2),
            "unicode 🚀": "é\x00\ud800",
        }
        item = storage.enqueue("s1", "k", kind="k", payload=payload, now=T0)
        stored = storage.get_item("s1", "k")
        assert stored is not None
        for got in (item.payload, stored.payload):
            assert isinstance(got, dict)
            assert got["int"] == 12345678901234567890
            assert got["dec"] == Decimal("0.10")
            assert str(got["dec"]) == "0.10"
            assert isinstance(got["dec_int"], Decimal)
            assert got["dec_int"] == Decimal("12")
            assert got["dec_exp"] == Decimal("1E+3")
            assert got["tiny"] == Decimal("-0.000000000000000000001")
            assert got["float"] == Decimal("1.5")
            assert got["bool"] is True
            assert got["none"] is None
            assert got["nested"] == {"list": [1, "two", [Decimal("3.25")]], "empty": {}}
            assert got["tuple"] == [1, 2]
            assert got["unicode 🚀"] == "é\x00\ud800"

    def test_returned_payloads_are_copies(self, storage: Storage) -> None:
        storage.enqueue("s1", "k", kind="k", payload={"a": [1]}, now=T0)
        got = storage.get_item("s1", "k")
        assert got is not None
        assert isinstance(got.payload, dict)
        got.payload["a"].append(2)
        again = storage.get_item("s1", "k")
        assert again is not None
        assert again.payload == {"a": [1]}

    @pytest.mark.parametrize(
        "bad",
        [
            pytest.param(float("nan"), id="nan"),
            pytest.param(Decimal("Infinity"), id="decimal-inf"),
            pytest.param({1: "int key"}, id="int-key"),
            pytest.param({"set": {1, 2}}, id="set"),
            pytest.param(object(), id="object"),
            pytest.param(b"bytes", id="bytes"),
        ],
    )
    def test_non_json_payloads_are_refused(self, storage: Storage, bad: Any) -> None:
        with pytest.raises(InvalidValueError):
            storage.enqueue("s1", "k", kind="k", payload=bad, now=T0)
        with pytest.raises(InvalidValueError):
            storage.set_checkpoint("s1", "f", bad, now=T0)
        assert storage.get_item("s1", "k") is None
        assert storage.get_checkpoint("s1", "f") is None

    def test_money_must_be_finite_decimal(self, storage: Storage) -> None:
        with pytest.raises(InvalidValueError):
            storage.put_order(_order("s1", "O", total_price=12.5))
        with pytest.raises(InvalidValueError):
            storage.put_order(_order("s1", "O", commission=Decimal("NaN")))
        with pytest.raises(InvalidValueError):
            storage.put_lines([_line("s1", "O", "L", quantity=-1)])
        assert storage.get_order("s1", "O") is None
        big = Decimal("123456789012345678901234567890.123456789")
        storage.put_order(_order("s1", "O", total_price=big))
        got = storage.get_order("s1", "O")
        assert got is not None
        assert got.total_price == big
        assert str(got.total_price) == str(big)

    # ------------------------------------------------------------------ hostile strings

    @pytest.mark.parametrize("value", HOSTILE_IDENTIFIERS, ids=lambda v: repr(v)[:24])
    def test_hostile_identifiers_round_trip_on_every_write_path(
        self, storage: Storage, value: str
    ) -> None:
        shop = _shop_of(value)
        storage.set_checkpoint(shop, value, {value: value}, now=T0)
        cp = storage.get_checkpoint(shop, value)
        assert cp is not None
        assert (cp.shop, cp.flow, cp.cursor) == (shop, value, {value: value})

        order = _order(
            shop,
            value,
            mirakl_state=value,
            ledger_state=value,
            sales_order_ref=value,
            data={value: [value]},
        )
        storage.put_order(order)
        assert storage.get_order(shop, value) == order
        assert storage.list_orders(shop, ledger_states=[value]) == [order]
        line = _line(
            shop,
            value,
            value,
            offer_sku=value,
            mirakl_state=value,
            ledger_state=value,
            feed_status=value,
            reserved_quantity=2,
            data=value,
        )
        storage.put_lines([line])
        assert storage.get_lines(shop, value) == [line]
        assert storage.list_lines(shop, feed_statuses=[value]) == [line]
        assert storage.reservations(shop) == {value: 2}
        event = LedgerEvent(
            shop=shop, event_id=value, order_id=value, kind=value, payload=value, recorded_at=T0
        )
        assert storage.record_event(event) is True
        assert storage.record_event(event) is False
        assert storage.list_events(shop, order_id=value) == [event]

        item = storage.enqueue(shop, value, kind=value, payload={value: value}, now=T0)
        assert storage.get_item(shop, value) == item
        (claimed,) = storage.claim(worker=value, now=T0, lease_seconds=60, shop=shop)
        assert claimed.lease_owner == value
        storage.mark_sent(shop, value, worker=value, now=at(1))
        failed = storage.fail(shop, value, worker=value, now=at(2), error=value)
        assert failed.last_error == value

        stock = _stock(shop, value, 3, warehouse=value, content_hash=value)
        storage.put_published([stock])
        assert storage.get_published(shop, value, value) == stock
        assert storage.list_published(shop, offer_skus=[value]) == [stock]
        pending = PendingImport(
            shop=shop,
            import_id=value,
            kind=value,
            status=value,
            lines={value: 3},
            error=value,
            submitted_at=T0,
            updated_at=T0,
        )
        storage.put_pending_import(pending)
        assert storage.get_pending_import(shop, value) == pending
        assert storage.list_pending_imports(shop, statuses=[value]) == [pending]
        mapping = MappingRecord(
            shop=shop, offer_sku=value, components=((value, 2),), source=value, updated_at=T0
        )
        storage.put_mapping(mapping)
        assert storage.get_mapping(shop, value) == mapping

        disc = storage.observe_discrepancy(
            shop, value, kind=value, severity=value, now=T0, details={value: value}
        )
        assert storage.get_discrepancy(shop, value) == disc
        assert disc.details == {value: value}
        delivery = AlertDelivery(
            shop=shop, discrepancy_key=value, sink=value, status=value, last_error=value
        )
        storage.put_alert_delivery(delivery)
        assert storage.get_alert_delivery(shop, value, value) == delivery

        storage.start_run(shop, value, value, now=T0)
        run = storage.finish_run(
            shop, value, now=at(1), outcome=value, counts={value: 1}, error=value
        )
        assert storage.get_run(shop, value) == run
        assert storage.list_runs(shop, job=value) == [run]
        lease = storage.claim_job(shop, value, worker=value, now=T0, lease_seconds=5)
        assert lease is not None
        assert storage.get_job_lease(shop, value) == lease
        assert storage.release_job(shop, value, worker=value) is True

        # nothing leaked into another shop, and the tables are intact
        self._assert_nothing_written(storage, "other-shop", value)
        assert sum(storage.count_items().values()) == 1
        assert storage.delete_mapping(shop, value) is True
        assert storage.delete_published(shop, value, value) is True
        assert storage.delete_pending_import(shop, value) is True

    @pytest.mark.parametrize("text", HOSTILE_TEXT, ids=lambda v: repr(v)[:24])
    def test_hostile_free_text_round_trips_exactly(self, storage: Storage, text: str) -> None:
        storage.set_checkpoint("s1", "f", text, now=T0)
        cp = storage.get_checkpoint("s1", "f")
        assert cp is not None
        assert cp.cursor == text
        storage.enqueue("s1", "k", kind="k", payload={"t": text, "l": [text]}, now=T0)
        storage.claim(worker="w", now=T0, lease_seconds=60)
        storage.release("s1", "k", worker="w", now=T0, error=text)
        item = storage.get_item("s1", "k")
        assert item is not None
        assert item.payload == {"t": text, "l": [text]}
        assert item.last_error == text
        storage.claim(worker="w", now=T0, lease_seconds=60)
        parked = storage.park("s1", "k", worker="w", now=T0, reason=text)
        assert parked.last_error == text
        storage.put_order(_order("s1", "O", data={"note": text}))
        got = storage.get_order("s1", "O")
        assert got is not None
        assert got.data == {"note": text}
        storage.put_pending_import(
            PendingImport(
                shop="s1",
                import_id="i",
                kind="k",
                status="s",
                lines=[text],
                error=text,
                submitted_at=T0,
                updated_at=T0,
            )
        )
        imp = storage.get_pending_import("s1", "i")
        assert imp is not None
        assert (imp.lines, imp.error) == ([text], text)
        storage.put_alert_delivery(
            AlertDelivery(shop="s1", discrepancy_key="d", sink="s", status="x", last_error=text)
        )
        delivery = storage.get_alert_delivery("s1", "d", "s")
        assert delivery is not None
        assert delivery.last_error == text
        storage.start_run("s1", "j", "r", now=T0)
        run = storage.finish_run("s1", "r", now=T0, outcome="failed", error=text)
        assert run.error == text
        again = storage.get_run("s1", "r")
        assert again is not None
        assert again.error == text
        disc = storage.observe_discrepancy(
            "s1", "d", kind="k", severity="s", now=T0, details=[text]
        )
        assert disc.details == [text]

    @pytest.mark.parametrize("value", REJECTED_IDENTIFIERS, ids=lambda v: repr(v)[:24])
    def test_invalid_identifiers_are_refused_on_every_write_path(
        self, storage: Storage, value: str
    ) -> None:
        writes: list[Callable[[], object]] = [
            lambda: storage.set_checkpoint("s1", value, None, now=T0),
            lambda: storage.put_order(_order("s1", value)),
            lambda: storage.put_order(_order("s1", "O", sales_order_ref=value)),
            lambda: storage.put_lines([_line("s1", "O", value)]),
            lambda: storage.put_lines([_line("s1", "O", "L", offer_sku=value)]),
            lambda: storage.record_event(
                LedgerEvent(shop="s1", event_id=value, order_id="O", kind="k", recorded_at=T0)
            ),
            lambda: storage.enqueue("s1", value, kind="k", payload=None, now=T0),
            lambda: storage.enqueue("s1", "k", kind=value, payload=None, now=T0),
            lambda: storage.claim(worker=value, now=T0, lease_seconds=5),
            lambda: storage.put_published([_stock("s1", value, 1)]),
            lambda: storage.put_published([_stock("s1", "A", 1, warehouse=value)]),
            lambda: storage.put_pending_import(
                PendingImport(
                    shop="s1",
                    import_id=value,
                    kind="k",
                    status="s",
                    submitted_at=T0,
                    updated_at=T0,
                )
            ),
            lambda: storage.put_mapping(
                MappingRecord(shop="s1", offer_sku="X", components=((value, 1),), updated_at=T0)
            ),
            lambda: storage.observe_discrepancy("s1", value, kind="k", severity="s", now=T0),
            lambda: storage.put_alert_delivery(
                AlertDelivery(shop="s1", discrepancy_key="d", sink=value, status="x")
            ),
            lambda: storage.start_run("s1", value, "r", now=T0),
            lambda: storage.claim_job("s1", value, worker="w", now=T0, lease_seconds=5),
            lambda: storage.set_checkpoint(value, "f", None, now=T0),
        ]
        for write in writes:
            with pytest.raises(InvalidValueError):
                write()
        assert storage.list_checkpoints("s1") == []
        assert storage.list_orders("s1") == []
        assert storage.list_lines("s1") == []
        assert storage.list_items() == []
        assert storage.list_published("s1") == []
        assert storage.list_mappings("s1") == []
        assert storage.list_discrepancies() == []
        assert storage.list_runs("s1") == []

    def test_shop_key_limits(self, storage: Storage) -> None:
        longest = "🚀" * MAX_SHOP_LENGTH
        storage.set_checkpoint(longest, "f", 1, now=T0)
        assert storage.list_checkpoints(longest)[0].shop == longest
        for bad in ("", "x" * (MAX_SHOP_LENGTH + 1), "a\x00b"):
            with pytest.raises(InvalidValueError):
                storage.set_checkpoint(bad, "f", 1, now=T0)
            with pytest.raises(InvalidValueError):
                storage.list_orders(bad)

    def test_wrong_types_are_refused(self, storage: Storage) -> None:
        with pytest.raises(InvalidValueError):
            storage.enqueue("s1", 42, kind="k", payload=None, now=T0)  # type: ignore[arg-type]
        with pytest.raises(InvalidValueError):
            storage.put_order("not an order")  # type: ignore[arg-type]
        with pytest.raises(InvalidValueError):
            storage.put_lines([_line("s1", "O", "L", quantity=True)])
        with pytest.raises(InvalidValueError):
            storage.list_orders("s1", limit=0)
        with pytest.raises(InvalidValueError):
            storage.list_orders("s1", ledger_states="NEW")
        assert storage.list_items() == []
