"""Job "push_stock": publishable quantities to Mirakl through STO01, confirmed by STO02/STO03.

1. Pending imports are tracked first (STO02, within its 15 s budget); a finished import confirms
   its lines as published, and its error lines (STO03) are kept for the reconciliation, which
   turns them into ``STOCK_IMPORT_ERROR`` / ``MISSING_OFFER`` discrepancies.
2. While an import is unresolved nothing else is pushed: at most one pending push per SKU.
3. The offers that exist on Mirakl come from an OF52 export (full once a day, differential
   otherwise), cached in the storage: quantities are only computed for offers Mirakl has.
4. The core computes the publishable quantity of every offer (per Mirakl warehouse when
   ``warehouse_codes`` are configured) and the delta against the last *confirmed* state; an empty
   delta sends nothing. The delta (absolute quantities) is planned in the outbox under a key that
   includes the number of imports already confirmed, so a crash re-sends the same import and a
   new change gets a new one.
"""

from __future__ import annotations

import json
import logging
from collections import Counter
from collections.abc import Collection
from datetime import datetime, timedelta
from typing import Any, cast

import attrs

from mirakl_sync.core.mapping import MappingTable
from mirakl_sync.core.models import ItemSku, OfferSku, WarehouseCode
from mirakl_sync.core.quantities import OfferQuantities
from mirakl_sync.core.stock import (
    StockState,
    publishable_by_warehouse,
    resolve_and_publish,
    stock_delta,
)
from mirakl_sync.engine.failpoints import crash_point
from mirakl_sync.engine.outbox import OutboxExecutor, Verdict
from mirakl_sync.engine.runtime import ShopRuntime
from mirakl_sync.errors import (
    APIError,
    CallBudgetExceededError,
    NotFoundError,
    PermissionDeniedError,
    RateLimitError,
)
from mirakl_sync.mirakl.models import (
    OfferExportRequest,
    OfferImportStatus,
    StockImportStatus,
    StockUpdate,
    order_stock_updates,
    parse_error_report,
)
from mirakl_sync.storage.base import LEVEL_FIELDS, PublishedLevelsStore, levels_by_warehouse
from mirakl_sync.storage.records import JSONValue, OutboxItem, PendingImport, PublishedStock

logger = logging.getLogger("mirakl_sync.engine.stock")

__all__ = ["STO01", "compute_target", "push_stock", "track_imports"]

STO01 = "STO01"
OF01 = "OF01"
STOCK_FLOW = "stock"
#: The offer export's cursor (``full_at``, ``exported_at``), written every cycle.
OFFERS_FLOW = "offers"
#: The offer catalogue (``{"skus": [...]}``, sorted), rewritten only when the set of offers
#: changes: a catalogue of a million SKUs is tens of MB of JSON.
CATALOGUE_FLOW = "offer_catalogue"
FULL_EXPORT_EVERY = timedelta(hours=24)
#: Export chunks small enough for the client's response size limit (64 MiB by default); Mirakl
#: defaults to 512 MB chunks.
EXPORT_CHUNK_MB = 50
OPEN_STATUSES = frozenset({"SUBMITTED", "WAITING", "RUNNING", "QUEUED"})


def stock_via(runtime: ShopRuntime) -> str:
    """``"STO01"``, or ``"OF01"`` when configured or when the operator turned out to have no
    stock API (STO01 answered 404/403: remembered in the storage)."""
    if runtime.config.stock_via == OF01:
        return OF01
    checkpoint = runtime.storage.get_checkpoint(runtime.shop, STOCK_FLOW)
    if checkpoint is not None and isinstance(checkpoint.cursor, dict):
        return str(checkpoint.cursor.get("via", STO01))
    return STO01


def _stock_cursor(runtime: ShopRuntime) -> dict[str, Any]:
    checkpoint = runtime.storage.get_checkpoint(runtime.shop, STOCK_FLOW)
    if checkpoint is None or not isinstance(checkpoint.cursor, dict):
        return {}
    return dict(checkpoint.cursor)


def stock_pools(runtime: ShopRuntime) -> dict[WarehouseCode, dict[ItemSku, int]]:
    """Stock per Mirakl warehouse code: one global pool (``""``) unless ``warehouse_codes`` maps
    inventory warehouses to Mirakl codes (unmapped inventory warehouses are not published).
    OF01 files carry one quantity per offer: with OF01 there is always one global pool."""
    codes = runtime.config.warehouse_codes if stock_via(runtime) == STO01 else {}
    pools: dict[str, dict[str, int]] = {}
    for warehouse, items in runtime.stock_levels().items():
        code = "" if not codes else codes.get(warehouse, "")
        if codes and not code:
            continue
        pool = pools.get(code)
        if pool is None:  # the code's first inventory warehouse: nothing to add up yet
            if set(map(type, items.values())) <= {int}:
                pools[code] = dict(items)  # already ints (the usual case): a C-level copy
            else:
                pools[code] = dict(zip(items, map(int, items.values()), strict=True))
            continue
        get = pool.get
        for sku, quantity in items.items():
            pool[sku] = get(sku, 0) + int(quantity)
    return cast("dict[WarehouseCode, dict[ItemSku, int]]", pools)


def stored_catalogue(runtime: ShopRuntime) -> list[str]:
    """The offer SKUs of the last export, sorted (``[]`` before the first one)."""
    for flow in (CATALOGUE_FLOW, OFFERS_FLOW):  # the export cursor held them until 0.1.0
        checkpoint = runtime.storage.get_checkpoint(runtime.shop, flow)
        if checkpoint is not None and isinstance(checkpoint.cursor, dict):
            skus = checkpoint.cursor.get("skus")
            if isinstance(skus, list):
                return [str(sku) for sku in skus]
    return []


def save_catalogue(
    runtime: ShopRuntime, cursor: dict[str, Any], catalogue: list[str] | None
) -> None:
    """Write the export ``cursor`` and, when given (the set of offers changed), the sorted
    ``catalogue``, in one transaction."""
    storage, shop, now = runtime.storage, runtime.shop, runtime.now()
    if cursor.pop("skus", None) is not None and catalogue is None:
        catalogue = stored_catalogue(runtime)  # moved out of a cursor written before 0.1.0
    with storage.transaction():
        storage.set_checkpoint(shop, OFFERS_FLOW, cursor, now=now)
        if catalogue is not None:
            storage.set_checkpoint(shop, CATALOGUE_FLOW, {"skus": catalogue}, now=now)


def offer_catalogue(runtime: ShopRuntime) -> list[str]:
    """The shop's offer SKUs on Mirakl (OF52 export; full daily, differential otherwise).

    The catalogue is stored again only when the set of offers changed: the differential export
    of a cycle mostly lists offers whose stock we just pushed."""
    storage, shop, now = runtime.storage, runtime.shop, runtime.now()
    checkpoint = storage.get_checkpoint(shop, OFFERS_FLOW)
    cursor: dict[str, Any] = (
        dict(checkpoint.cursor) if checkpoint and isinstance(checkpoint.cursor, dict) else {}
    )
    stored = stored_catalogue(runtime)
    full_at = datetime.fromisoformat(cursor["full_at"]) if "full_at" in cursor else None
    exported_at = datetime.fromisoformat(cursor["exported_at"]) if "exported_at" in cursor else None
    changed: list[str] | None = None  # the new catalogue, when the set of offers changed
    try:
        if full_at is None or now - full_at >= FULL_EXPORT_EVERY:
            fresh = sorted(
                {
                    o.shop_sku
                    for o in runtime.mirakl.offers.export(
                        OfferExportRequest(megabytes_per_chunk=EXPORT_CHUNK_MB)
                    )
                    if not o.deleted
                }
            )
            if fresh != stored:
                changed = fresh
            cursor["full_at"] = now.isoformat()
        elif exported_at is not None:
            request = OfferExportRequest(
                last_request_date=exported_at, megabytes_per_chunk=EXPORT_CHUNK_MB
            )
            deleted: dict[str, bool] = {}  # each offer's last state in the export
            for offer in runtime.mirakl.offers.export(request):
                deleted[offer.shop_sku] = bool(offer.deleted)
            if deleted:
                skus = set(stored)
                after = skus.difference(sku for sku, gone in deleted.items() if gone)
                after.update(sku for sku, gone in deleted.items() if not gone)
                if after != skus:
                    changed = sorted(after)
    except APIError as error:
        if not stored:
            raise
        # The cached catalogue is good enough until the export works again.
        logger.info(
            "offer export failed (%s); using the cached catalogue",
            error,
            extra={"shop": shop, "operation": "OF52"},
        )
        return stored
    cursor["exported_at"] = now.isoformat()
    save_catalogue(runtime, cursor, changed)
    return changed if changed is not None else stored


def compute_target(runtime: ShopRuntime, offers: list[str]) -> tuple[MappingTable, StockState]:
    """The core's publishable quantities for ``offers`` (mapping + reservations + policy)."""
    pools = stock_pools(runtime)
    if len(pools) == 1:
        # One pool (the usual case): it is the map's item catalogue as it is, so resolving the
        # offers reads their quantities in the same pass (resolve_and_publish), with no copy.
        ((code, pool),) = pools.items()
        sku_map = runtime.sku_map(items=pool)
        table, quantities = resolve_and_publish(
            sku_map,
            offers,
            pool,
            reserved=runtime.reserved_items(sku_map),
            policy=runtime.stock_policy,
            marketplace=runtime.config.marketplace,
        )
        return table, {code: quantities}
    items: set[str] = set()
    for pool in pools.values():
        items.update(pool)
    sku_map = runtime.sku_map(items=items)
    table = sku_map.resolve_many(offers, runtime.config.marketplace)
    reserved = runtime.reserved_items(sku_map)
    # Reservations are not tied to a warehouse: every pool holds them back (never oversell).
    target = publishable_by_warehouse(
        table,
        pools or {WarehouseCode(""): {}},
        reserved_by_warehouse=dict.fromkeys(pools or {WarehouseCode(""): {}}, reserved),
        policy=runtime.stock_policy,
        marketplace=runtime.config.marketplace,
    )
    return table, target


def last_published(runtime: ShopRuntime) -> StockState:
    """The last confirmed state, per warehouse code, in storage's order (by offer SKU), by
    column (:class:`~mirakl_sync.core.quantities.OfferQuantities`: no dict per pool). Read
    with ``published_levels()`` when the storage has it (no record per row), else grouped
    from ``list_published()``."""
    storage = runtime.storage
    if isinstance(storage, PublishedLevelsStore):
        levels = storage.published_levels(runtime.shop)
    else:
        levels = levels_by_warehouse(list(map(LEVEL_FIELDS, storage.list_published(runtime.shop))))
    return {
        WarehouseCode(wh): OfferQuantities._of_columns(cast("list[OfferSku]", offers), quantities)
        for wh, (offers, quantities) in levels.items()
    }


@attrs.define
class StockImportHandler:
    """STO01 through the outbox. Quantities are absolute, so a lost answer is simply sent
    again (a duplicate import sets the same quantities)."""

    runtime: ShopRuntime

    def send(self, item: OutboxItem) -> Any:
        payload = item.payload
        assert isinstance(payload, dict)
        updates = [
            StockUpdate(offer_sku=sku, quantity=int(qty), warehouse_code=wh or None)
            for wh, sku, qty in payload["lines"]
        ]
        if stock_via(self.runtime) == STO01:
            try:
                result = self.runtime.mirakl.stock.import_quantities(updates)
            except (NotFoundError, PermissionDeniedError) as error:
                # The operator has no stock API: OF01 from now on (Mirakl's fallback).
                logger.warning(
                    "STO01 unavailable (%s): using OF01 for stock",
                    error,
                    extra={"shop": self.runtime.shop, "operation": "STO01"},
                )
                cursor = _stock_cursor(self.runtime)
                cursor["via"] = OF01
                self.runtime.storage.set_checkpoint(
                    self.runtime.shop, STOCK_FLOW, cursor, now=self.runtime.now()
                )
            else:
                return {"import_id": result.import_id, "kind": STO01}
        offer_import = self.runtime.mirakl.offers.import_file(
            of01_stock_file(updates), filename="stock.csv", import_mode="NORMAL"
        )
        return {"import_id": str(offer_import.import_id), "kind": OF01}

    def verify(self, item: OutboxItem) -> Verdict:
        return Verdict.NOT_APPLIED

    def compact(self, item: OutboxItem) -> JSONValue:
        """Once sent, the lines live in the pending import (for STO02/STO03) and then in the
        published stock: the outbox keeps their count and hash, not a catalogue of JSON per
        push."""
        payload = item.payload
        assert isinstance(payload, dict)
        return {"count": len(payload["lines"]), "hash": payload["hash"]}

    def confirmed(self, item: OutboxItem, result: Any) -> None:
        if not isinstance(result, dict) or "import_id" not in result:
            return
        payload = item.payload
        assert isinstance(payload, dict)
        now = self.runtime.now()
        self.runtime.storage.put_pending_import(
            PendingImport(
                shop=self.runtime.shop,
                import_id=str(result["import_id"]),
                kind=str(result.get("kind", STO01)),
                status="SUBMITTED",
                lines={"lines": payload["lines"], "hash": payload["hash"]},
                submitted_at=now,
                updated_at=now,
            )
        )

    def failed(self, item: OutboxItem, reason: str) -> None:
        return None


def of01_stock_file(updates: list[StockUpdate]) -> bytes:
    """A minimal OF01 file (NORMAL mode: only the columns present are updated) with absolute
    quantities, lines in :func:`order_stock_updates` order (line ``i + 2`` is update ``i``)."""
    rows = ["sku;quantity;update-delete"]
    for update in order_stock_updates(updates):
        if update.warehouse_code:
            raise ValueError("OF01 stock files carry one global quantity per offer")
        rows.append(f"{update.offer_sku};{update.quantity};update")
    return ("\n".join(rows) + "\n").encode("utf-8")


def _written_order(lines: list[list[Any]]) -> list[list[Any]]:
    """The lines in the order the STO01 file lists them (STO03 line numbers refer to it)."""
    updates = [
        StockUpdate(offer_sku=str(sku), quantity=int(qty), warehouse_code=str(wh) or None)
        for wh, sku, qty in lines
    ]
    return [[u.warehouse_code or "", u.offer_sku, u.quantity] for u in order_stock_updates(updates)]


def track_imports(runtime: ShopRuntime) -> Counter[str]:
    """STO02 (and STO03 on errors) for every open import; confirm the lines that succeeded."""
    storage, shop = runtime.storage, runtime.shop
    counts: Counter[str] = Counter()
    # Open imports only: a finished one (kept for its errors) can hold a whole catalogue's lines.
    for pending in storage.list_pending_imports(shop, statuses=OPEN_STATUSES):
        status: OfferImportStatus | StockImportStatus
        try:
            if pending.kind == OF01:
                status = runtime.mirakl.offers.import_status(pending.import_id)
            else:
                status = runtime.mirakl.stock.import_status(pending.import_id)
        except (CallBudgetExceededError, RateLimitError):
            counts["status_deferred"] += 1
            break
        state = str(status.status or "").upper()
        now = runtime.now()
        if state not in ("COMPLETE", "FAILED"):
            storage.put_pending_import(
                attrs.evolve(pending, status=state or "WAITING", updated_at=now)
            )
            counts["imports_running"] += 1
            continue
        data = pending.lines if isinstance(pending.lines, dict) else {}
        lines = _written_order(list(data.get("lines", [])))
        errors: dict[int, str] = {}
        if state == "FAILED":
            errors = dict.fromkeys(range(len(lines)), "import failed")
        elif status.lines_in_error or status.has_error_report:
            try:
                if pending.kind == OF01:
                    raw = runtime.mirakl.offers.import_error_report(pending.import_id)
                    report = parse_error_report(raw)
                else:
                    report = runtime.mirakl.stock.import_error_report(pending.import_id)
            except (CallBudgetExceededError, RateLimitError):
                counts["report_deferred"] += 1
                break
            errors = {line.line_number - 2: line.reason for line in report}
        ok = [line for index, line in enumerate(lines) if index not in errors]
        error_rows = [
            {
                "line": index + 2,
                "warehouse": lines[index][0],
                "offer_sku": lines[index][1],
                "message": reason,
            }
            for index, reason in sorted(errors.items())
            if 0 <= index < len(lines)
        ]
        with storage.transaction():
            storage.put_published(
                PublishedStock(
                    shop=shop,
                    offer_sku=str(sku),
                    warehouse=str(wh),
                    quantity=int(qty),
                    content_hash=str(data.get("hash", "")),
                    confirmed_at=now,
                )
                for wh, sku, qty in ok
            )
            storage.put_pending_import(
                attrs.evolve(
                    pending,
                    status=state,
                    updated_at=now,
                    error=json.dumps(error_rows) if error_rows else None,
                    # The lines are confirmed (or in ``error``): keep only their count and hash,
                    # not a catalogue's worth of JSON read back by every reconciliation.
                    lines={"count": len(lines), "hash": str(data.get("hash", ""))},
                )
            )
            cursor = _stock_cursor(runtime)
            cursor["imports_done"] = int(cursor.get("imports_done", 0)) + 1
            storage.set_checkpoint(shop, STOCK_FLOW, cursor, now=now)
            # Earlier finished imports are superseded: lines that failed then were not
            # confirmed, so they were in this import again (and fail here again if they still
            # do). Keeping them would hold their STOCK_IMPORT_ERROR open forever.
            for older in storage.list_pending_imports(shop):
                if older.import_id != pending.import_id and older.status not in OPEN_STATUSES:
                    storage.delete_pending_import(shop, older.import_id)
        crash_point("stock.after_import_recorded")
        counts["lines_confirmed"] += len(ok)
        counts["lines_in_error"] += len(error_rows)
        counts["imports_done"] += 1
    return counts


def invalidate_published(runtime: ShopRuntime, offer_skus: Collection[str]) -> int:
    """Forget the confirmed quantities of some offers so the next push sends them again.

    Used after a refusal: some operators set an offer's stock to 0 when an order is refused,
    which our last confirmed state would otherwise hide."""
    forgotten = 0
    # Only these offers' records (every warehouse), not the whole published catalogue.
    for record in runtime.storage.list_published(runtime.shop, offer_skus=offer_skus):
        forgotten += runtime.storage.delete_published(
            runtime.shop, record.offer_sku, record.warehouse
        )
    return forgotten


def _imports_done(runtime: ShopRuntime) -> int:
    return int(_stock_cursor(runtime).get("imports_done", 0))


def push_stock(runtime: ShopRuntime) -> Counter[str]:
    """Track open imports, then push the delta if there is one (see the module doc)."""
    storage, shop = runtime.storage, runtime.shop
    counts = track_imports(runtime)
    executor = OutboxExecutor(
        storage=storage,
        shop=shop,
        worker=runtime.worker,
        now=runtime.now,
        handlers={STO01: StockImportHandler(runtime)},
    )
    # An import planned before a crash is sent before anything new is computed.
    counts.update({f"sto01_{k}": n for k, n in executor.run(kinds={STO01}).items()})
    if storage.list_pending_imports(shop, statuses=OPEN_STATUSES):
        counts["waiting_for_import"] += 1
        return counts
    offers = offer_catalogue(runtime)
    _, target = compute_target(runtime, offers)
    delta = stock_delta(target, last_published(runtime))
    if delta.is_empty:
        counts["unchanged"] += 1
        return counts
    key = f"{STO01}:{_imports_done(runtime)}:{delta.content_hash[:20]}"
    storage.enqueue(
        shop,
        key,
        kind=STO01,
        payload={
            "lines": [[wh, sku, qty] for wh, sku, qty in delta.iter_lines()],
            "hash": delta.content_hash,
        },
        now=runtime.now(),
    )
    crash_point("outbox.after_enqueue")
    counts["lines_planned"] += len(delta)
    counts.update({f"sto01_{k}": n for k, n in executor.run(kinds={STO01}).items()})
    return counts
