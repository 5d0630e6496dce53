"""Request bodies built from the request models validate against Mirakl's request schemas."""

from __future__ import annotations

import datetime as dt
import json
from decimal import Decimal
from typing import Any

import pytest

from mirakl_sync._serde import json_dumps, to_wire
from mirakl_sync.mirakl._converter import converter
from mirakl_sync.mirakl.models import (
    AmountCode,
    CancelationRequest,
    LineDecision,
    OfferExportRequest,
    OrderExportRequest,
    OrderState,
    OrderTaxMode,
    RefundRequest,
    TrackingUpdate,
)
from tests.openapi_spec import request_body_validator

JSON = Any

T0 = dt.datetime(2024, 3, 1, tzinfo=dt.UTC)
T1 = dt.datetime(2024, 3, 31, 23, 59, 59, 999000, tzinfo=dt.UTC)


def through_json(body: JSON) -> JSON:
    """What the server receives: the body serialised by json_dumps, parsed back."""
    return json.loads(json_dumps(body))


def validate(op: str, body: JSON) -> JSON:
    wire = through_json(body)
    errors = sorted(request_body_validator(op).iter_errors(wire), key=str)
    assert not errors, [e.message for e in errors]
    return wire


def full_refund() -> RefundRequest:
    return RefundRequest(
        order_line_id="Order_00010-A-1",
        amount=Decimal("6.82"),
        shipping_amount=Decimal("1.79"),
        reason_code="15",
        quantity=1,
        currency_iso_code="EUR",
        taxes=(AmountCode(code="tax1", amount=Decimal("0.41")),),
        shipping_taxes=(AmountCode(code="tax1", amount=Decimal("2.24")),),
        fees=(AmountCode(code="fee1", amount=Decimal("0.30")),),
        excluded_from_shipment=False,
    )


@pytest.mark.contract
def test_or21_line_decisions() -> None:
    lines = [LineDecision(id="O-1-1", accepted=True), LineDecision(id="O-1-2", accepted=False)]
    wire = validate("OR21", {"order_lines": [to_wire(converter, line) for line in lines]})
    assert wire == {
        "order_lines": [{"id": "O-1-1", "accepted": True}, {"id": "O-1-2", "accepted": False}]
    }


@pytest.mark.contract
@pytest.mark.parametrize(
    "update",
    [
        TrackingUpdate(carrier_code="UPS", tracking_number="1Z999"),
        TrackingUpdate(
            carrier_name="Local", carrier_url="https://t.example/1", tracking_number="1"
        ),
        TrackingUpdate(
            carrier_code="DHL",
            carrier_name="DHL",
            carrier_standard_code="DHL",
            carrier_url="https://dhl.example/{trackingId}",
            tracking_number="42",
        ),
    ],
)
def test_or23_tracking(update: TrackingUpdate) -> None:
    wire = validate("OR23", to_wire(converter, update))
    assert None not in wire.values()


@pytest.mark.contract
def test_or28_refunds() -> None:
    minimal = RefundRequest(
        order_line_id="L-1", amount=Decimal(10), shipping_amount=Decimal(0), reason_code="15"
    )
    body = {
        "order_tax_mode": "TAX_INCLUDED",
        "refunds": [to_wire(converter, full_refund()), to_wire(converter, minimal)],
    }
    wire = validate("OR28", body)
    assert wire["refunds"][1] == {
        "order_line_id": "L-1",
        "amount": 10,
        "shipping_amount": 0,
        "reason_code": "15",
    }
    text = json_dumps(body)
    assert '"amount":6.82' in text
    assert '"amount":0.30' in text


@pytest.mark.contract
def test_or30_cancelations() -> None:
    cancel = CancelationRequest(
        order_line_id="L-1",
        quantity=1,
        amount=Decimal("12.34"),
        shipping_amount=Decimal("1.23"),
        reason_code="34",
        currency_iso_code="USD",
        taxes=(AmountCode(code="tax1", amount=Decimal("0.75")),),
        shipping_taxes=(AmountCode(code="tax1", amount=Decimal("1.54")),),
        fees=(AmountCode(code="fee1", amount=Decimal("0.35")),),
    )
    wire = validate("OR30", {"cancelations": [to_wire(converter, cancel)]})
    assert wire["cancelations"][0]["quantity"] == 1


@pytest.mark.contract
def test_or13_order_export() -> None:
    request = OrderExportRequest(
        start_date=T0,
        end_date=T1,
        start_update_date=T0,
        end_update_date=T1,
        order_state_codes=(OrderState.SHIPPING, OrderState.SHIPPED, "NEW_STATE"),
        channel_codes=("FR", "US"),
        only_null_channel=False,
        fulfillment_center_codes="DEFAULT",
        order_tax_mode=OrderTaxMode.TAX_EXCLUDED,
        items_per_chunk=100_000,
        megabytes_per_chunk=100,
    )
    wire = validate("OR13", to_wire(converter, request))
    assert wire["start_date"] == "2024-03-01T00:00:00Z"
    assert wire["end_date"] == "2024-03-31T23:59:59.999Z"
    assert wire["order_state_codes"] == ["SHIPPING", "SHIPPED", "NEW_STATE"]
    assert wire["order_tax_mode"] == "TAX_EXCLUDED"
    minimal = validate("OR13", to_wire(converter, OrderExportRequest(start_date=T0, end_date=T1)))
    assert minimal == {"start_date": "2024-03-01T00:00:00Z", "end_date": "2024-03-31T23:59:59.999Z"}


@pytest.mark.contract
def test_of52_offer_export() -> None:
    full = OfferExportRequest(
        export_type="application/json",
        include_inactive_offers=True,
        include_fields=("offer-id", "shop-sku", "quantity"),
        rename_fields={"offer-id": "offerId"},
        channel_codes=("FR",),
        shipping_zones=("DOM1",),
        ongoing_discount_campaign_identifiers=("camp-1",),
        items_per_chunk=10_000,
        megabytes_per_chunk=10,
    )
    validate("OF52", to_wire(converter, full))
    delta = validate("OF52", to_wire(converter, OfferExportRequest(last_request_date=T0)))
    assert delta == {"last_request_date": "2024-03-01T00:00:00Z"}
    assert validate("OF52", to_wire(converter, OfferExportRequest())) == {}


def test_of52_inactive_offers_only_in_full_mode() -> None:
    with pytest.raises(ValueError, match="include_inactive_offers"):
        OfferExportRequest(last_request_date=T0, include_inactive_offers=True)


@pytest.mark.contract
def test_invalid_body_is_caught_by_the_schema() -> None:
    """Guard: the validator really checks (a refund without reason_code fails)."""
    wire = through_json({"refunds": [{"order_line_id": "L", "amount": 1, "shipping_amount": 0}]})
    assert list(request_body_validator("OR28").iter_errors(wire))
