"""Hypothesis stateful testing of the order lifecycle: through the HTTP API and the operator
actions, no illegal transition is reachable, every write the model allows succeeds, and every
legal transition of the model is reachable."""

from __future__ import annotations

from datetime import timedelta

import httpx
from hypothesis import HealthCheck, settings
from hypothesis import strategies as st
from hypothesis.stateful import Bundle, RuleBasedStateMachine, invariant, rule

from mirakl_sync.sandbox import DEFAULT_API_KEY, MiraklSandbox
from mirakl_sync.sandbox.mirakl import MiraklError
from mirakl_sync.sandbox.scenarios import drive_order_to

#: (state, action) -> next state, for a single-line order. Anything else must be refused.
LEGAL: dict[tuple[str, str], str] = {
    ("STAGING", "validate"): "WAITING_ACCEPTANCE",
    ("WAITING_ACCEPTANCE", "accept"): "WAITING_DEBIT",
    ("WAITING_ACCEPTANCE", "refuse"): "REFUSED",
    ("WAITING_ACCEPTANCE", "expire"): "REFUSED",
    ("WAITING_DEBIT", "request_debit"): "WAITING_DEBIT_PAYMENT",
    ("WAITING_DEBIT", "confirm_payment"): "SHIPPING",
    ("WAITING_DEBIT", "refuse_payment"): "CANCELED",
    ("WAITING_DEBIT_PAYMENT", "confirm_payment"): "SHIPPING",
    ("WAITING_DEBIT_PAYMENT", "refuse_payment"): "CANCELED",
    ("SHIPPING", "ship"): "SHIPPED",
    ("SHIPPING", "cancel"): "CANCELED",
    ("SHIPPED", "receive"): "RECEIVED",
    ("RECEIVED", "close"): "CLOSED",
}
ACTIONS = sorted({a for _, a in LEGAL} - {"expire"})
WINDOW = timedelta(days=3)


class OrderLifecycle(RuleBasedStateMachine):
    orders = Bundle("orders")

    def __init__(self) -> None:
        super().__init__()
        self.sandbox = MiraklSandbox(enforce_frequencies=False, acceptance_window=WINDOW)
        self.sandbox.add_offer("SKU", quantity=10_000)
        self.client = self.sandbox.client(headers={"Authorization": DEFAULT_API_KEY})
        self.model: dict[str, str] = {}

    @rule(target=orders, staging=st.booleans())
    def place(self, staging: bool) -> str:
        state = "STAGING" if staging else "WAITING_ACCEPTANCE"
        order = self.sandbox.place_order([("SKU", 1)], state=state)
        self.model[order.order_id] = state
        return order.order_id

    def _http(self, order_id: str, action: str) -> int:
        line = self.sandbox.order(order_id).lines[0].order_line_id
        if action in ("accept", "refuse"):
            body = {"order_lines": [{"id": line, "accepted": action == "accept"}]}
            r = self.client.put(f"/api/orders/{order_id}/accept", json=body)
        elif action == "ship":
            r = self.client.put(f"/api/orders/{order_id}/ship")
        else:
            r = self.client.put(f"/api/orders/{order_id}/cancel")
        if r.status_code >= 400:
            assert r.status_code == 400, r.text
            assert r.json()["code"] == "ORDER_INVALID_STATE"
        return r.status_code

    @rule(order_id=orders, action=st.sampled_from(ACTIONS))
    def act(self, order_id: str, action: str) -> None:
        before = self.model[order_id]
        expected = LEGAL.get((before, action))
        if action in ("accept", "refuse", "ship", "cancel"):
            ok = self._http(order_id, action) < 400
        else:
            method = getattr(
                self.sandbox,
                {
                    "receive": "receive_order",
                    "close": "close_order",
                    "validate": "validate_order",
                }.get(action, action),
            )
            try:
                method(order_id)
                ok = True
            except MiraklError as error:
                ok = False
                code = error.code
            if not ok:
                assert code == "ORDER_INVALID_STATE"
        assert ok == (expected is not None), (before, action)
        if expected is not None:
            self.model[order_id] = expected

    @rule(hours=st.integers(min_value=1, max_value=80))
    def advance(self, hours: int) -> None:
        now = self.sandbox.clock.now() + timedelta(hours=hours)
        for order_id, state in self.model.items():
            order = self.sandbox.state.orders[order_id]
            if state == "WAITING_ACCEPTANCE" and order.acceptance_deadline <= now:
                self.model[order_id] = "REFUSED"
        self.sandbox.clock.advance(hours=hours)

    @invariant()
    def states_match_the_model(self) -> None:
        for order_id, state in self.model.items():
            order = self.sandbox.state.orders[order_id]
            assert order.state == state, order_id
            assert order.lines[0].state == state
            if state == "REFUSED" and order.acceptance_decision_date is None:
                assert order.last_updated_date == order.acceptance_deadline

    def teardown(self) -> None:
        self.client.close()


TestOrderLifecycle = OrderLifecycle.TestCase
TestOrderLifecycle.settings = settings(
    max_examples=100,
    stateful_step_count=40,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow],
)


def test_every_legal_transition_is_reachable() -> None:
    sandbox = MiraklSandbox(enforce_frequencies=False, acceptance_window=WINDOW)
    sandbox.add_offer("SKU", quantity=1000)
    client = sandbox.client(headers={"Authorization": DEFAULT_API_KEY})
    covered = set()
    for (state, action), target in LEGAL.items():
        order = sandbox.place_order([("SKU", 1)], state="STAGING")
        drive_order_to(sandbox, order, state)
        assert order.state == state
        oid, line = order.order_id, order.lines[0].order_line_id
        if action in ("accept", "refuse"):
            body = {"order_lines": [{"id": line, "accepted": action == "accept"}]}
            assert client.put(f"/api/orders/{oid}/accept", json=body).status_code == 204
        elif action == "ship":
            assert client.put(f"/api/orders/{oid}/ship").status_code == 204
        elif action == "cancel":
            assert client.put(f"/api/orders/{oid}/cancel").status_code == 204
        elif action == "expire":
            sandbox.clock.advance(WINDOW)
        else:
            method = {
                "receive": "receive_order",
                "close": "close_order",
                "validate": "validate_order",
            }
            getattr(sandbox, method.get(action, action))(oid)
        assert order.state == target, (state, action)
        covered.add((state, action))
    assert covered == set(LEGAL)
    assert isinstance(client, httpx.Client)
