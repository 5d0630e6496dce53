"""Platform models: PC01 platform configuration, RE01 reasons, SH21 carriers."""

from __future__ import annotations

from typing import Any

import attrs

from mirakl_sync.mirakl.models.common import OrderAcceptanceMode, OrderTaxMode, ReasonType

__all__ = [
    "Carrier",
    "OrderWorkflowFeatures",
    "PlatformConfiguration",
    "PlatformFeatures",
    "Reason",
    "ReturnsFeatures",
    "ShipmentFeatures",
]


@attrs.frozen(kw_only=True)
class OrderWorkflowFeatures:
    """PC01 ``features.order_workflows``.

    ``order_acceptance`` says whether shops must accept orders (NOT_AUTOMATIC), never do
    (AUTOMATIC) or both; ``shipping_and_billing_details_before_acceptance`` whether OR11 shows
    addresses before acceptance.
    """

    order_acceptance: OrderAcceptanceMode | str | None = None
    shipping_and_billing_details_before_acceptance: bool | None = None
    no_customer_payment_confirmation: bool | None = None
    pause_debit_workflow: bool | None = None
    pay_on_due_date: bool | None = None
    pay_on_shipment: bool | None = None
    sellers_edit_shipping_origin: bool | None = None


@attrs.frozen(kw_only=True)
class ShipmentFeatures:
    """PC01 ``features.shipment``: whether ST01 multi-shipment is enabled."""

    multi_shipment: bool | None = None
    multi_part_item_shipment: bool | None = None


@attrs.frozen(kw_only=True)
class ReturnsFeatures:
    """PC01 ``features.returns``: returns management (RT*) per platform model."""

    marketplace: bool | None = None
    drop_ship: bool | None = None
    one_creditor: bool | None = None


@attrs.frozen(kw_only=True)
class PlatformFeatures:
    """The PC01 ``features`` an integration uses (everything is also in ``raw``)."""

    order_workflows: OrderWorkflowFeatures | None = None
    shipment: ShipmentFeatures | None = None
    returns: ReturnsFeatures | None = None
    order_tax_mode: OrderTaxMode | str | None = None
    multi_currency: bool | None = None
    lead_time_to_ship_by_sellers_enabled: str | None = None
    operator_csv_delimiter: str | None = None
    offer_prices_decimals: str | None = None


@attrs.frozen(kw_only=True)
class PlatformConfiguration:
    """Platform configuration (PC01 ``GET /api/platform/configuration``).

    ``timezone`` is the platform's time zone (deadlines are end-of-day there); ``raw`` holds the
    whole response body as received, for settings not modelled here.
    """

    platform_name: str | None = None
    tenant_name: str | None = None
    timezone: str | None = None
    features: PlatformFeatures | None = None
    modules: dict[str, Any] | None = None
    platform_configuration: dict[str, Any] | None = None
    raw: dict[str, Any] = attrs.field(factory=dict)


@attrs.frozen(kw_only=True)
class Reason:
    """A reason code (RE01 ``reasons[]``).

    Use type REFUND reasons for OR28, CANCELATION for OR30, INCIDENT_CLOSE for OR64;
    ``is_shop_right`` tells whether the shop may use it.
    """

    code: str
    label: str | None = None
    type: ReasonType | str | None = None
    is_shop_right: bool | None = None


@attrs.frozen(kw_only=True)
class Carrier:
    """A registered carrier (SH21 ``carriers[]``); its ``code`` goes into OR23 ``carrier_code``.

    ``tracking_url`` may contain a ``{trackingId}`` placeholder.
    """

    code: str
    label: str | None = None
    standard_code: str | None = None
    tracking_url: str | None = None
