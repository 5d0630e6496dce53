"""``Synchronizer``: runs the jobs of every shop on their intervals, durably.

```python
from mirakl_sync import Synchronizer, SyncConfig

sync = Synchronizer(SyncConfig.from_toml("sync.toml"))
report = sync.run_once()      # every due job once -> RunReport
sync.run_forever()            # until SIGINT/SIGTERM (or stop())
health = sync.health()        # HealthReport
```

Jobs, in the order one round runs them: ``pull_orders`` (OR11), ``acceptance`` (OR21),
``pending`` (sales orders, reservations), ``push_stock`` (STO01/STO02/STO03), ``sales_feed``
(Inventory Planner CSV connectors) and ``reconcile`` (discrepancies and alerts). Each run is
recorded; each job is idempotent and resumable; with a shared database (Postgres) several
workers run side by side, a per-shop job lease making sure one job of one shop runs once at a
time.
"""

from __future__ import annotations

import asyncio
import logging
import os
import signal
import socket
import threading
import time
import uuid
from collections import Counter
from collections.abc import Callable, Iterable, Mapping, Sequence
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from pathlib import Path
from types import FrameType, TracebackType
from typing import Literal, Self

from mirakl_sync.alerts import AlertSink
from mirakl_sync.core.discrepancy import Thresholds
from mirakl_sync.core.finance import FinanceReport
from mirakl_sync.core.mapping import MappingEntry, SkuRule
from mirakl_sync.core.models import OrderState
from mirakl_sync.engine.config import JOB_NAMES, SyncConfig
from mirakl_sync.engine.jobs.acceptance import accept_orders, pending_orders
from mirakl_sync.engine.jobs.dispatch import (
    FulfilmentSource,
    HostFulfilment,
    ReturnLine,
    dispatch,
    plan_cancellation,
    plan_return,
    plan_shipment,
    send_now,
)
from mirakl_sync.engine.jobs.feed import sales_feed
from mirakl_sync.engine.jobs.finance import finance_statement, pull_transactions
from mirakl_sync.engine.jobs.orders import pull_orders, record_orders
from mirakl_sync.engine.jobs.reconcile import full_stock_check, reconcile_shop
from mirakl_sync.engine.jobs.stock import EXPORT_CHUNK_MB, push_stock
from mirakl_sync.engine.protocols import LedgerOrderSink, OrderSink, StockSource
from mirakl_sync.engine.reports import FlowHealth, HealthReport, JobResult, RunReport
from mirakl_sync.engine.runtime import ShopRuntime
from mirakl_sync.errors import CallBudgetExceededError, ConfigurationError, MiraklSyncError
from mirakl_sync.mirakl import MiraklClient
from mirakl_sync.mirakl.models import Order as MiraklOrder
from mirakl_sync.mirakl.models import OrderExportRequest
from mirakl_sync.mirakl.resources.orders import MAX_EXPORT_RANGE
from mirakl_sync.storage import Storage, open_storage
from mirakl_sync.storage.records import DiscrepancyRecord, DiscrepancyStatus, OutboxStatus

logger = logging.getLogger("mirakl_sync.engine")

__all__ = ["Synchronizer"]

#: A job lease outlives any single job run; a crashed worker's leases expire after it, and
#: another worker (or the restarted one, which has a new id) takes the job over.
JOB_LEASE_SECONDS = 300.0


def _utcnow() -> datetime:
    return datetime.now(UTC)


class Synchronizer:
    """Keeps Mirakl shops and the inventory system in step (see the module doc).

    Args:
        config: the validated :class:`SyncConfig`.
        mirakl: one client per shop key (default: built from the config), or one client when
            the config has one shop.
        inventory_planner: the Inventory Planner client behind the default stock source.
        storage: a storage URL or instance (default: ``config.storage``).
        alerts: alert sinks for new discrepancies.
        stock_source: where available stock comes from (default: Inventory Planner variants).
        order_sink: where sales orders are created (default: the ledger itself).
        mapping: explicit offer -> item mappings (stored mappings and identity apply too).
        rules: SKU rules (prefix/suffix per marketplace, multipacks).
        thresholds: discrepancy thresholds.
        clock: the current time (tests and the sandbox pass their clock).
        worker_id: this worker's name in leases (default: host:pid:random).
        feed_directory: where the Inventory Planner feed files are written (default: the
            config's ``feeds.directory``).
    """

    def __init__(
        self,
        config: SyncConfig,
        *,
        mirakl: MiraklClient | Mapping[str, MiraklClient] | None = None,
        inventory_planner: object | None = None,
        storage: str | Storage | None = None,
        alerts: Sequence[AlertSink] = (),
        stock_source: StockSource | None = None,
        order_sink: OrderSink | None = None,
        mapping: Iterable[MappingEntry] = (),
        rules: Iterable[SkuRule] = (),
        thresholds: Thresholds | None = None,
        clock: Callable[[], datetime] = _utcnow,
        worker_id: str | None = None,
        feed_directory: str | Path | None = None,
        fulfilment_source: FulfilmentSource | None = None,
    ) -> None:
        self.config = config
        self._clock = clock
        self.worker_id = worker_id or f"{socket.gethostname()}:{os.getpid()}:{uuid.uuid4().hex[:8]}"
        self.storage: Storage = open_storage(storage if storage is not None else config.storage)
        self.alerts = tuple(alerts) if alerts else self._configured_sinks()
        names = [sink.name for sink in self.alerts]
        if len(set(names)) != len(names):
            raise ConfigurationError(
                "alert sinks need distinct names (delivery is recorded per sink name)"
            )
        self.feed_directory = Path(feed_directory or config.feeds.directory)
        self._owned_clients: list[MiraklClient] = []
        clients = self._clients(mirakl)
        source = stock_source or self._default_stock_source(inventory_planner)
        sink = order_sink or LedgerOrderSink()
        entries = tuple(mapping)
        rule_list = tuple(rules)
        self.runtimes: dict[str, ShopRuntime] = {
            shop.key: ShopRuntime(
                config=shop,
                mirakl=clients[shop.key],
                storage=self.storage,
                stock_source=source,
                order_sink=sink,
                now=clock,
                worker=self.worker_id,
                thresholds=thresholds or Thresholds(),
                mapping_entries=entries,
                mapping_rules=rule_list,
            )
            for shop in config.shops
        }
        self.fulfilment_source = fulfilment_source
        self._stop = threading.Event()
        self._in_round = False

    def __repr__(self) -> str:
        shops = ", ".join(self.runtimes)
        return f"Synchronizer(shops=[{shops}], worker={self.worker_id!r})"

    # -- construction helpers -------------------------------------------------------------

    def _clients(
        self, mirakl: MiraklClient | Mapping[str, MiraklClient] | None
    ) -> dict[str, MiraklClient]:
        if isinstance(mirakl, MiraklClient):
            if len(self.config.shops) != 1:
                raise ConfigurationError("pass one Mirakl client per shop key for several shops")
            return {self.config.shops[0].key: mirakl}
        given = dict(mirakl or {})
        clients: dict[str, MiraklClient] = {}
        for shop in self.config.shops:
            if shop.key in given:
                clients[shop.key] = given[shop.key]
                continue
            client = MiraklClient(shop.base_url, shop.api_key, shop_id=shop.shop_id)
            self._owned_clients.append(client)
            clients[shop.key] = client
        return clients

    def _configured_sinks(self) -> tuple[AlertSink, ...]:
        from mirakl_sync.alerts import Route, load_sink

        sinks = []
        for entry in self.config.alerts:
            route = Route(
                min_severity=entry.min_severity,
                owners=frozenset(entry.owners) if entry.owners is not None else None,
                kinds=frozenset(entry.kinds) if entry.kinds is not None else None,
            )
            sinks.append(load_sink(entry.sink, route=route, **dict(entry.options)))
        return tuple(sinks)

    def _default_stock_source(self, inventory_planner: object | None) -> StockSource:
        from mirakl_sync.engine.sources import InventoryPlannerStockSource
        from mirakl_sync.inventory_planner import InventoryPlannerClient

        if isinstance(inventory_planner, InventoryPlannerClient):
            return InventoryPlannerStockSource(inventory_planner)
        ip = self.config.inventory_planner
        if ip is None:
            raise ConfigurationError(
                "no stock source: configure [inventory_planner] or pass stock_source="
            )
        return InventoryPlannerStockSource(
            InventoryPlannerClient(ip.api_key, ip.account, base_url=ip.base_url)
        )

    # -- running --------------------------------------------------------------------------

    def _run_job(self, runtime: ShopRuntime, job: str) -> Counter[str]:
        if job == "pull_orders":
            return pull_orders(runtime)
        if job == "acceptance":
            return accept_orders(runtime)
        if job == "pending":
            return pending_orders(runtime)
        if job == "push_stock":
            return push_stock(runtime)
        if job == "stock_full":
            return full_stock_check(runtime, self.alerts)
        if job == "sales_feed":
            return sales_feed(runtime, self.feed_directory / runtime.shop, self.config.feeds.kind)
        if job == "dispatch":
            return dispatch(runtime, self.fulfilment_source)
        if job == "finance":
            return pull_transactions(runtime)
        if job == "reconcile":
            return reconcile_shop(runtime, self.alerts)[1]
        raise ConfigurationError(f"unknown job {job!r}")

    def _last_start(self, shop: str, job: str) -> datetime | None:
        runs = self.storage.list_runs(shop, job=job, limit=1)
        return runs[0].started_at if runs else None

    def is_due(self, shop: str, job: str) -> bool:
        return self.config.jobs.is_due(job, self._last_start(shop, job), self._clock())

    def run_job(self, shop: str, job: str) -> JobResult:
        """Run one job of one shop now (recorded as a run), unless another worker holds it."""
        runtime = self.runtimes[shop]
        if not self._in_round:  # a job run on its own reads fresh stock
            runtime.forget_stock_levels()
        started = self._clock()
        run_id = f"{job}:{started.isoformat()}:{uuid.uuid4().hex[:8]}"
        lease = self.storage.claim_job(
            shop, job, worker=self.worker_id, now=started, lease_seconds=JOB_LEASE_SECONDS
        )
        if lease is None:
            return JobResult(
                shop=shop,
                job=job,
                run_id=run_id,
                started_at=started,
                finished_at=started,
                outcome="skipped",
            )
        self.storage.start_run(shop, job, run_id, now=started)
        counts: Counter[str] = Counter()
        error: str | None = None
        outcome = "success"
        try:
            counts = self._run_job(runtime, job)
        except MiraklSyncError as exc:
            outcome, error = "failed", f"{type(exc).__name__}: {exc}"
            logger.warning(
                "job %s of shop %s failed: %s",
                job,
                shop,
                error,
                extra={"shop": shop, "job": job, "run_id": run_id},
            )
        except Exception as exc:  # a bug or a plug-in failure must not stop the other jobs
            outcome, error = "failed", f"{type(exc).__name__}: {exc}"
            logger.exception(
                "job %s of shop %s crashed", job, shop, extra={"shop": shop, "job": job}
            )
        finished = self._clock()
        clean = {k: int(v) for k, v in counts.items() if isinstance(v, int)}
        self.storage.finish_run(
            shop, run_id, now=finished, outcome=outcome, counts=clean, error=error
        )
        self.storage.release_job(shop, job, worker=self.worker_id)
        return JobResult(
            shop=shop,
            job=job,
            run_id=run_id,
            started_at=started,
            finished_at=finished,
            outcome=outcome,
            counts=clean,
            error=error,
        )

    def run_once(self, *, jobs: Iterable[str] | None = None, force: bool = False) -> RunReport:
        """Run every due job (or only ``jobs``; ``force`` ignores the intervals) of every shop."""
        wanted = list(jobs) if jobs is not None else list(JOB_NAMES)
        unknown = set(wanted) - set(JOB_NAMES)
        if unknown:
            raise ConfigurationError(f"unknown job(s): {', '.join(sorted(unknown))}")
        results = []
        for shop, runtime in self.runtimes.items():
            # The jobs of one round share one read of the stock source.
            runtime.forget_stock_levels()
            self._in_round = True
            try:
                for job in JOB_NAMES:
                    if job in wanted and (force or self.is_due(shop, job)):
                        results.append(self.run_job(shop, job))
            finally:
                self._in_round = False
                runtime.forget_stock_levels()
        return RunReport(results=tuple(results))

    async def arun_once(
        self, *, jobs: Iterable[str] | None = None, force: bool = False
    ) -> RunReport:
        """``run_once`` without blocking the event loop (runs in a worker thread)."""
        return await asyncio.to_thread(self.run_once, jobs=jobs, force=force)

    def next_due_in(self) -> float:
        """Seconds until the next job of any shop is due (0 when one is due now)."""
        now = self._clock()
        waits = []
        for shop in self.runtimes:
            for job in JOB_NAMES:
                last = self._last_start(shop, job)
                if last is None:
                    return 0.0
                waits.append((last + self.config.jobs.interval(job) - now).total_seconds())
        return max(0.0, min(waits)) if waits else 0.0

    def stop(self) -> None:
        """Ask ``run_forever`` to return after the current job."""
        self._stop.set()

    def run_forever(
        self,
        *,
        sleep: Callable[[float], None] | None = None,
        max_rounds: int | None = None,
        on_round: Callable[[RunReport], None] | None = None,
    ) -> None:
        """Run due jobs until :meth:`stop`, SIGINT or SIGTERM (handled gracefully when called
        from the main thread: the current job finishes, then the loop returns)."""
        previous: dict[signal.Signals, object] = {}

        def handle(signum: int, frame: FrameType | None) -> None:
            logger.info("signal %s: stopping after the current job", signum)
            self._stop.set()

        if threading.current_thread() is threading.main_thread():
            for sig in (signal.SIGINT, signal.SIGTERM):
                previous[sig] = signal.signal(sig, handle)
        rounds = 0
        try:
            while not self._stop.is_set():
                report = self.run_once()
                if on_round is not None:
                    on_round(report)
                rounds += 1
                if max_rounds is not None and rounds >= max_rounds:
                    break
                wait = max(1.0, self.next_due_in())
                if sleep is not None:
                    sleep(wait)
                else:
                    self._stop.wait(wait)
        finally:
            for sig, handler in previous.items():
                signal.signal(sig, handler)  # type: ignore[arg-type]

    # -- host events: dispatch, returns, cancellations -----------------------------------------

    def _shop_of(self, order_id: str, shop: str | None) -> ShopRuntime:
        if shop is not None:
            return self.runtimes[shop]
        if len(self.runtimes) == 1:
            return next(iter(self.runtimes.values()))
        for runtime in self.runtimes.values():
            if self.storage.get_order(runtime.shop, order_id) is not None:
                return runtime
        raise ConfigurationError(f"order {order_id!r} is in no shop's ledger; pass shop=")

    def record_shipment(
        self,
        order_id: str,
        lines: Sequence[str] | None = None,
        *,
        carrier_code: str | None = None,
        carrier_name: str | None = None,
        carrier_url: str | None = None,
        tracking_number: str | None = None,
        shipped_at: datetime | None = None,
        event_id: str | None = None,
        shop: str | None = None,
    ) -> dict[str, str | None]:
        """The host's warehouse shipped (some lines of) an order: OR23 tracking (when given)
        then OR24 ship, recorded durably at once and sent immediately.

        ``event_id`` identifies the fulfilment (default: derived from the arguments), so
        calling twice for the same parcel plans nothing new. Returns each outbox key with the
        outcome of the immediate attempt (``confirmed``, ``retry``... or ``None`` when not due).
        """
        runtime = self._shop_of(order_id, shop)
        ident = event_id or "ship:" + ":".join(
            [order_id, ",".join(sorted(lines or [])), tracking_number or "", carrier_code or ""]
        )
        keys = plan_shipment(
            runtime,
            HostFulfilment(
                event_id=ident,
                order_id=order_id,
                line_ids=tuple(lines or ()),
                carrier_code=carrier_code,
                carrier_name=carrier_name,
                carrier_url=carrier_url,
                tracking_number=tracking_number,
                shipped_at=shipped_at,
            ),
        )
        return send_now(runtime, keys)

    def record_return(
        self,
        order_id: str,
        lines_with_amounts: Sequence[ReturnLine] | Mapping[str, Decimal],
        reason_code: str,
        *,
        return_id: str,
        currency: str | None = None,
        shop: str | None = None,
    ) -> str | None:
        """The host accepted a return: exactly one OR28 refund for ``return_id`` (the ledger
        key), by amount, taxes added in proportion when the order has taxes. Sent at once and
        retried; returns the outcome of the immediate attempt."""
        runtime = self._shop_of(order_id, shop)
        lines = (
            [
                ReturnLine(order_line_id=line_id, amount=Decimal(amount))
                for line_id, amount in lines_with_amounts.items()
            ]
            if isinstance(lines_with_amounts, Mapping)
            else list(lines_with_amounts)
        )
        key = plan_return(
            runtime,
            order_id,
            lines,
            return_id=return_id,
            reason_code=reason_code,
            currency=currency,
        )
        return send_now(runtime, [key])[key]

    def record_cancellation(
        self,
        order_id: str,
        lines: Sequence[str] | None = None,
        *,
        reason_code: str | None = None,
        cancel_id: str | None = None,
        shop: str | None = None,
    ) -> str | None:
        """Cancel a whole order (OR29) or some lines in full (OR30, with ``reason_code``)."""
        runtime = self._shop_of(order_id, shop)
        key = plan_cancellation(
            runtime, order_id, lines=lines, reason_code=reason_code, cancel_id=cancel_id
        )
        return send_now(runtime, [key])[key]

    def finance_statement(self, shop: str | None = None) -> FinanceReport:
        """Per-order and per-month finance of a shop (order value, commission as a service
        line, refunds, payout, TL02 view and differences)."""
        runtime = self.runtimes[shop] if shop else next(iter(self.runtimes.values()))
        return finance_statement(runtime)

    def backfill(
        self,
        shop: str,
        *,
        since: datetime,
        until: datetime | None = None,
        by: Literal["updated", "created"] = "updated",
        sleep: Callable[[float], None] = time.sleep,
        batch_size: int = 500,
    ) -> Counter[str]:
        """Load every order updated (or created) in ``[since, until)`` into the ledger through
        Mirakl's asynchronous export (OR13, OR14, OR15), in windows of at most a year.

        Use it for a first import or after a long outage; the incremental OR11 pull takes over
        from there. Waits (``sleep``) when OR13's budget (one export per 5 minutes) is spent.
        """
        runtime = self.runtimes[shop]
        end_all = until or self._clock()
        counts: Counter[str] = Counter()
        start = since
        while start < end_all:
            end = min(end_all, start + MAX_EXPORT_RANGE)
            if by == "updated":
                request = OrderExportRequest(
                    start_update_date=start,
                    end_update_date=end,
                    megabytes_per_chunk=EXPORT_CHUNK_MB,
                )
            else:
                request = OrderExportRequest(
                    start_date=start, end_date=end, megabytes_per_chunk=EXPORT_CHUNK_MB
                )
            while True:
                try:
                    orders = runtime.mirakl.orders.export(request)
                    batch: list[MiraklOrder] = []
                    for order in orders:
                        batch.append(order)
                        if len(batch) >= batch_size:
                            with self.storage.transaction():
                                counts.update(record_orders(runtime, batch, self._clock()))
                            batch = []
                    with self.storage.transaction():
                        counts.update(record_orders(runtime, batch, self._clock()))
                    break
                except CallBudgetExceededError as error:
                    sleep(error.retry_after or 1.0)
            counts["windows"] += 1
            start = end
        return counts

    # -- health ---------------------------------------------------------------------------

    def health(self) -> HealthReport:
        """The health report: per flow last success, backlog, oldest pending, parked items,
        minimum acceptance-deadline slack, open discrepancies."""
        now = self._clock()
        flows = []
        backlog = parked = failed = waiting = failed_alerts = 0
        oldest: datetime | None = None
        slack: timedelta | None = None
        severities: Counter[str] = Counter()
        for shop, runtime in self.runtimes.items():
            for job in JOB_NAMES:
                runs = self.storage.list_runs(shop, job=job, limit=20)
                ok = [r.finished_at for r in runs if r.outcome == "success" and r.finished_at]
                last_success = max(ok) if ok else None
                interval = self.config.jobs.interval(job)
                stale = last_success is None or now - last_success > 3 * interval
                flows.append(
                    FlowHealth(
                        shop=shop,
                        job=job,
                        last_success=last_success,
                        last_outcome=runs[0].outcome if runs else None,
                        last_error=runs[0].error if runs else None,
                        stale=stale,
                    )
                )
            counts = self.storage.count_items(shop=shop)
            backlog += counts[OutboxStatus.PLANNED] + counts[OutboxStatus.SENT]
            parked += counts[OutboxStatus.PARKED]
            failed += counts[OutboxStatus.FAILED]
            for item in self.storage.list_items(
                shop=shop, statuses=[OutboxStatus.PLANNED, OutboxStatus.SENT], limit=1
            ):
                oldest = item.created_at if oldest is None else min(oldest, item.created_at)
            policy = runtime.acceptance_policy
            for _, order in runtime.orders(states=[OrderState.WAITING_ACCEPTANCE]):
                waiting += 1
                left = order.created_at + policy.window_for(order.marketplace) - now
                slack = left if slack is None else min(slack, left)
            for record in self.storage.list_discrepancies(shop=shop, status=DiscrepancyStatus.OPEN):
                severities[record.severity] += 1
            failed_alerts += sum(
                1 for d in self.storage.list_alert_deliveries(shop) if d.status == "failed"
            )
        return HealthReport(
            generated_at=now,
            flows=tuple(flows),
            backlog=backlog,
            oldest_pending=(now - oldest) if oldest is not None else None,
            parked=parked,
            failed=failed,
            min_acceptance_slack=slack,
            orders_waiting_acceptance=waiting,
            open_discrepancies=dict(severities),
            failed_alert_deliveries=failed_alerts,
        )

    def open_discrepancies(self) -> list[DiscrepancyRecord]:
        """Every open discrepancy of every shop."""
        return [
            record
            for shop in self.runtimes
            for record in self.storage.list_discrepancies(shop=shop, status=DiscrepancyStatus.OPEN)
        ]

    def health_html(self, *, title: str = "mirakl_sync health") -> str:
        """The health report as a self-contained HTML page."""
        return self.health().to_html(self.open_discrepancies(), title=title)

    # -- lifecycle ------------------------------------------------------------------------

    def close(self) -> None:
        """Close the clients this synchronizer created and the storage."""
        for client in self._owned_clients:
            client.close()
        self.storage.close()

    def __enter__(self) -> Self:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.close()
