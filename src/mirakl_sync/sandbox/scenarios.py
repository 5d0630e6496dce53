"""Scenario helpers: populate the sandboxes with realistic data in one call.

They act on the simulators directly (as the marketplace's customers and operator would), so they
add no entries to the call history. Randomness comes from the sandbox's seeded generator: the same
seed gives the same catalogue and orders.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from decimal import Decimal

from mirakl_sync.sandbox.inventory_planner.app import InventoryPlannerSandbox
from mirakl_sync.sandbox.mirakl.app import MiraklSandbox
from mirakl_sync.sandbox.mirakl.state import Order, Refund

__all__ = [
    "DEFAULT_ORDER_MIX",
    "drive_order_to",
    "place_orders",
    "seed_catalogue",
    "simulate_returns",
    "simulate_shipments",
]

#: share of orders left in each state by :func:`place_orders`
DEFAULT_ORDER_MIX: Mapping[str, float] = {
    "STAGING": 0.05,
    "WAITING_ACCEPTANCE": 0.30,
    "WAITING_DEBIT": 0.05,
    "SHIPPING": 0.20,
    "SHIPPED": 0.15,
    "RECEIVED": 0.10,
    "CLOSED": 0.05,
    "REFUSED": 0.05,
    "CANCELED": 0.05,
}


def seed_catalogue(
    n: int,
    *,
    mirakl: MiraklSandbox | None = None,
    ip: InventoryPlannerSandbox | None = None,
    shop_id: int | None = None,
    warehouse: str = "main",
    mirakl_warehouses: Sequence[str] = (),
    prefix: str = "SKU-",
    max_quantity: int = 50,
) -> list[str]:
    """Create ``n`` SKUs: a Mirakl offer and/or an Inventory Planner variant for each.

    IP stock is put in ``warehouse``; Mirakl stock is global, or split over
    ``mirakl_warehouses`` when given. Returns the SKUs.
    """
    rng = (mirakl.state.rng if mirakl else None) or __import__("random").Random(
        ip.seed if ip else 0
    )
    skus = [f"{prefix}{i:04d}" for i in range(1, n + 1)]
    for sku in skus:
        quantity = rng.randint(0, max_quantity)
        price = Decimal(rng.randint(500, 20000)) / 100
        if mirakl is not None:
            if mirakl_warehouses:
                split = {w: rng.randint(0, max_quantity) for w in mirakl_warehouses}
                mirakl.add_offer(sku, shop_id=shop_id, price=price, warehouses=split)
            else:
                mirakl.add_offer(sku, shop_id=shop_id, price=price, quantity=quantity)
        if ip is not None:
            ip.add_variant(
                sku,
                stock={warehouse: quantity},
                price=price,
                cost_price=(price * Decimal("0.45")).quantize(Decimal("0.01")),
                daily_sales=round(rng.uniform(0.1, 3.0), 2),
                vendor=rng.choice(("Acme", "Globex", "Initech")),
            )
    return skus


def drive_order_to(mirakl: MiraklSandbox, order: Order, target: str) -> Order:
    """Move a new order along Mirakl's lifecycle until it is in ``target``."""
    state = mirakl.state
    oid = order.order_id
    lines = [{"id": ln.order_line_id, "accepted": True} for ln in order.lines]
    with mirakl._lock:
        if target == "STAGING":
            return order
        if order.state == "STAGING":
            state.validate(oid)
        if target == "WAITING_ACCEPTANCE":
            return order
        if target == "REFUSED":
            refused = [{**d, "accepted": False} for d in lines]
            return state.accept(order.shop_id, oid, refused)
        state.accept(order.shop_id, oid, lines)
        if target == "WAITING_DEBIT":
            return order
        if target == "WAITING_DEBIT_PAYMENT":
            return state.request_debit(oid)
        state.confirm_payment(oid)
        if target == "SHIPPING":
            return order
        if target == "CANCELED":
            return state.cancel_order(order.shop_id, oid)
        state.update_tracking(
            order.shop_id, oid, {"carrier_code": "UPS", "tracking_number": f"1Z{oid}"}
        )
        state.ship(order.shop_id, oid)
        if target == "SHIPPED":
            return order
        state.receive(oid)
        if target == "RECEIVED":
            return order
        if target == "CLOSED":
            return state.close(oid)
    raise ValueError(f"cannot drive an order to {target}")


def place_orders(
    mirakl: MiraklSandbox,
    m: int,
    *,
    shop_id: int | None = None,
    mix: Mapping[str, float] | None = None,
    max_lines: int = 3,
    max_quantity: int = 3,
) -> list[Order]:
    """Place ``m`` orders on existing offers, leaving them in a realistic mix of states.

    Orders are spread over the hour before now; each is then driven through the real lifecycle
    (acceptance, payment, tracking, shipment...) to its drawn state.
    """
    state = mirakl.state
    rng = state.rng
    shop = state.shop(shop_id)
    offers = [o.shop_sku for o in state.shop_offers(shop.shop_id)]
    if not offers:
        raise ValueError("seed a catalogue first (no offers)")
    weights = dict(mix or DEFAULT_ORDER_MIX)
    targets = rng.choices(list(weights), weights=list(weights.values()), k=m)
    now = mirakl.clock.now()
    out = []
    for target in targets:
        count = rng.randint(1, min(max_lines, len(offers)))
        lines = [(sku, rng.randint(1, max_quantity)) for sku in rng.sample(offers, count)]
        start = "STAGING" if target == "STAGING" else "WAITING_ACCEPTANCE"
        with mirakl._lock:
            order = state.place_order(shop.shop_id, lines, state=start, created=now)
        out.append(drive_order_to(mirakl, order, target))
    return out


def simulate_shipments(
    mirakl: MiraklSandbox, *, fraction: float = 1.0, carrier: str = "UPS"
) -> list[Order]:
    """Ship (tracking + OR24-equivalent) a share of the orders waiting in SHIPPING."""
    state = mirakl.state
    shipped = []
    with mirakl._lock:
        waiting = state.orders_in("SHIPPING")
        for order in waiting[: round(len(waiting) * fraction)]:
            number = f"TRK{state.rng.randint(10**9, 10**10 - 1)}"
            state.update_tracking(
                order.shop_id, order.order_id, {"carrier_code": carrier, "tracking_number": number}
            )
            shipped.append(state.ship(order.shop_id, order.order_id))
    return shipped


def simulate_returns(
    mirakl: MiraklSandbox, count: int, *, reason_code: str = "16", partial: bool = False
) -> list[Refund]:
    """Refund ``count`` shipped/received lines (full, or half the amount when ``partial``)."""
    state = mirakl.state
    refunds: list[Refund] = []
    with mirakl._lock:
        candidates = [
            (order, line)
            for order in state.orders_in("SHIPPED", "RECEIVED")
            for line in order.lines
            if line.can_refund
        ]
        for order, line in candidates[:count]:
            amount = (
                (line.remaining_amount / 2).quantize(Decimal("0.01"))
                if partial
                else line.remaining_amount
            )
            item = {
                "order_line_id": line.order_line_id,
                "amount": str(amount),
                "shipping_amount": "0",
                "reason_code": reason_code,
                "quantity": line.quantity,
            }
            refunds.extend(r for _, r in state.refund(order.shop_id, [item]))
    return refunds
