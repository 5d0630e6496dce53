"""Multiple-shipment models: ST01 shipment creation (request and result), ST11 shipments.

Multi-shipment (several shipments per order, partial quantities per order line) is a platform
feature: PC01 ``features.shipment.multi_shipment`` tells whether the operator enabled it.

Response models are tolerant like every Mirakl model: Mirakl's own ST01/ST11 examples send
``quantity: 0`` where the schema's minimum is 1, and ``null`` for ``last_updated_date``; both
parse. The request models (``ShipmentCreate`` and its parts) check what Mirakl would refuse
before any I/O.
"""

from __future__ import annotations

import datetime as dt
import enum
import re
from collections.abc import Iterable

import attrs

from mirakl_sync.mirakl.models.common import AdditionalField
from mirakl_sync.mirakl.models.orders import ShippingFrom, Warehouse

__all__ = [
    "MAX_SHIPMENTS_PER_CALL",
    "Shipment",
    "ShipmentCreate",
    "ShipmentDebitState",
    "ShipmentDeliveryEstimate",
    "ShipmentError",
    "ShipmentLine",
    "ShipmentLineCreate",
    "ShipmentLocation",
    "ShipmentMilestone",
    "ShipmentMilestoneInfo",
    "ShipmentOrigin",
    "ShipmentPaymentDetails",
    "ShipmentResult",
    "ShipmentState",
    "ShipmentTracking",
    "ShipmentTrackingCreate",
    "TrackingDate",
    "TrackingMilestoneType",
    "TrackingValidityStatus",
]

#: ST01 accepts at most 1000 shipments per call.
MAX_SHIPMENTS_PER_CALL = 1000

_INVOICE_REFERENCE = re.compile(r"[0-9a-zA-Z_-]*")


class ShipmentState(enum.StrEnum):
    """Shipment status (ST01/ST11 ``status``)."""

    SHIPPING = "SHIPPING"
    READY_FOR_PICK_UP = "READY_FOR_PICK_UP"
    SHIPMENT_PREPARED = "SHIPMENT_PREPARED"
    SHIPPED = "SHIPPED"
    TO_COLLECT = "TO_COLLECT"
    RECEIVED = "RECEIVED"
    CANCELED = "CANCELED"
    CLOSED = "CLOSED"


class ShipmentDebitState(enum.StrEnum):
    """Customer debit status of a shipment (ST01/ST11 ``status_customer_debit``)."""

    NO_DEBIT = "NO_DEBIT"
    NOT_STARTED = "NOT_STARTED"
    WAITING_TAX_CONFIRMATION = "WAITING_TAX_CONFIRMATION"
    WAITING_OPERATOR_SYSTEM_CONTACT = "WAITING_OPERATOR_SYSTEM_CONTACT"
    WAITING_DEBIT_CONFIRMATION = "WAITING_DEBIT_CONFIRMATION"
    DEBIT_OK = "DEBIT_OK"
    CANCELED = "CANCELED"


class TrackingValidityStatus(enum.StrEnum):
    """Whether Mirakl could verify a shipment's tracking (``tracking.validity_status``)."""

    MISSING_TRACKING = "MISSING_TRACKING"
    UNVERIFIED = "UNVERIFIED"
    UNCOVERED = "UNCOVERED"
    INVALID = "INVALID"
    VERIFIED = "VERIFIED"


class TrackingMilestoneType(enum.StrEnum):
    """A delivery stage reported by the carrier (``tracking.milestones[].type``)."""

    IN_TRANSIT = "IN_TRANSIT"
    OUT_FOR_DELIVERY = "OUT_FOR_DELIVERY"
    TO_COLLECT = "TO_COLLECT"
    DELIVERED = "DELIVERED"
    EXCEPTION = "EXCEPTION"


# ------------------------------------------------------------------------------------------------
# ST01 request
# ------------------------------------------------------------------------------------------------


def _non_empty(instance: object, attribute: attrs.Attribute[str], value: str) -> None:
    if not isinstance(value, str) or not value.strip():
        raise ValueError(f"{attribute.name} must be a non-empty string")


def _positive(instance: object, attribute: attrs.Attribute[int], value: int) -> None:
    if isinstance(value, bool) or not isinstance(value, int) or value < 1:
        raise ValueError(f"{attribute.name} must be an integer >= 1 (got {value!r})")


@attrs.frozen(kw_only=True)
class ShipmentLineCreate:
    """One line of a shipment to create (ST01 ``shipment_lines[]``): ``quantity`` units (>= 1,
    at most what remains to ship on the line) of order line ``order_line_id``."""

    order_line_id: str = attrs.field(validator=_non_empty)
    quantity: int = attrs.field(validator=_positive)
    package_reference: str | None = None


@attrs.frozen(kw_only=True)
class ShipmentTrackingCreate:
    """Carrier and tracking of a shipment to create (ST01 ``tracking``).

    A registered carrier (SH21) needs ``carrier_code`` (and ``tracking_number`` when its URL
    uses one; Mirakl computes the URL); an unregistered one needs ``carrier_name`` and optionally
    ``tracking_url``.
    """

    carrier_code: str | None = None
    carrier_name: str | None = None
    carrier_standard_code: str | None = None
    tracking_number: str | None = None
    tracking_url: str | None = None

    def __attrs_post_init__(self) -> None:
        if not (self.carrier_code or self.carrier_name):
            raise ValueError("ST01 tracking needs carrier_code (registered) or carrier_name")


@attrs.frozen(kw_only=True)
class ShipmentOrigin:
    """Where a shipment leaves from (ST01 ``shipping_from``): a warehouse code."""

    warehouse: Warehouse | None = None


def _invoice_reference(
    instance: object, attribute: attrs.Attribute[str | None], value: str | None
) -> None:
    if value is None:
        return
    if not isinstance(value, str) or len(value) > 255 or not _INVOICE_REFERENCE.fullmatch(value):
        raise ValueError("invoice_reference must be at most 255 characters of [0-9a-zA-Z_-]")


def _to_tuple(value: Iterable[ShipmentLineCreate]) -> tuple[ShipmentLineCreate, ...]:
    return tuple(value)


def _lines(
    instance: object,
    attribute: attrs.Attribute[tuple[ShipmentLineCreate, ...]],
    value: tuple[ShipmentLineCreate, ...],
) -> None:
    if not value:
        raise ValueError("a shipment needs at least one shipment line")
    if not all(isinstance(line, ShipmentLineCreate) for line in value):
        raise TypeError("shipment_lines must be ShipmentLineCreate objects")


@attrs.frozen(kw_only=True)
class ShipmentCreate:
    """One shipment to create with ST01 ``POST /api/shipments``.

    ``shipped=True`` ships it on creation (otherwise it waits in SHIPPING for ST24). Several
    shipments may be created for the same order, each with part of its lines' quantities; the
    order becomes SHIPPED once every unit is in a shipped shipment.

    ``shipment_additional_information`` is not offered: the document types its ``value`` as an
    object in the base schema and as a string in its subtypes and examples.
    """

    order_id: str = attrs.field(validator=_non_empty)
    shipment_lines: tuple[ShipmentLineCreate, ...] = attrs.field(
        converter=_to_tuple, validator=_lines
    )
    tracking: ShipmentTrackingCreate | None = None
    shipped: bool = False
    invoice_reference: str | None = attrs.field(default=None, validator=_invoice_reference)
    shipping_from: ShipmentOrigin | None = None


# ------------------------------------------------------------------------------------------------
# ST01 result, ST11 shipments
# ------------------------------------------------------------------------------------------------


@attrs.frozen(kw_only=True)
class ShipmentLine:
    """A line of a shipment (``shipment_lines[]``); ``offer_sku`` is deprecated by Mirakl.

    ``quantity`` is taken as sent (Mirakl's examples show 0 despite the schema's minimum of 1).
    """

    order_line_id: str | None = None
    offer_sku: str | None = None
    package_reference: str | None = None
    quantity: int | None = None


@attrs.frozen(kw_only=True)
class TrackingDate:
    """A carrier date split as Mirakl sends it: ``date`` (``2024-02-08``), ``time``
    (``hh:mm[:ss]``) and ``offset`` (``±hh:mm`` or ``Z``), each possibly null. Kept as strings."""

    date: str | None = None
    time: str | None = None
    offset: str | None = None


@attrs.frozen(kw_only=True)
class ShipmentDeliveryEstimate:
    """The carrier's delivery window (``carrier_expected_delivery_date``)."""

    earliest: TrackingDate | None = None
    latest: TrackingDate | None = None


@attrs.frozen(kw_only=True)
class ShipmentLocation:
    """The last location the carrier reported (``last_known_location``)."""

    location: str | None = None
    occurrence_date: TrackingDate | None = None


@attrs.frozen(kw_only=True)
class ShipmentMilestoneInfo:
    """Detail of a milestone (``milestones[].additional_info``), e.g. DELIVERY_ATTEMPTED."""

    type: str | None = None
    occurrence_date: TrackingDate | None = None


@attrs.frozen(kw_only=True)
class ShipmentMilestone:
    """A delivery stage from the carrier (``milestones[]``)."""

    type: TrackingMilestoneType | str | None = None
    occurrence_date: TrackingDate | None = None
    additional_info: ShipmentMilestoneInfo | None = None


@attrs.frozen(kw_only=True)
class ShipmentTracking:
    """Carrier tracking of a shipment (ST01/ST11 ``tracking``).

    The schema names the delivery window ``carrier_expected_delivery_date``; Mirakl's ST11
    example sends ``carrier_estimated_delivery_date``: both are read.
    """

    carrier_code: str | None = None
    carrier_name: str | None = None
    carrier_standard_code: str | None = None
    tracking_number: str | None = None
    tracking_url: str | None = None
    validity_status: TrackingValidityStatus | str | None = None
    carrier_expected_delivery_date: ShipmentDeliveryEstimate | None = None
    carrier_estimated_delivery_date: ShipmentDeliveryEstimate | None = None
    last_known_location: ShipmentLocation | None = None
    milestones: tuple[ShipmentMilestone, ...] = ()


@attrs.frozen(kw_only=True)
class ShipmentPaymentDetails:
    """Customer payment of a shipment (pay-on-shipment workflows; ``payment_details``)."""

    customer_debited_date: dt.datetime | None = None
    transaction_date: dt.datetime | None = None
    transaction_number: str | None = None


@attrs.frozen(kw_only=True)
class Shipment:
    """A shipment (ST01 ``shipment_success[]``, ST11 ``data[]``).

    ``status`` moves SHIPPING -> SHIPPED (-> RECEIVED -> CLOSED); ``last_updated_date`` is null
    on a shipment never updated since its creation.
    """

    id: str
    order_id: str
    status: ShipmentState | str | None = None
    status_customer_debit: ShipmentDebitState | str | None = None
    created_date: dt.datetime | None = None
    last_updated_date: dt.datetime | None = None
    shipped_date: dt.datetime | None = None
    invoice_reference: str | None = None
    shipment_lines: tuple[ShipmentLine, ...] = ()
    tracking: ShipmentTracking | None = None
    shipping_from: ShippingFrom | None = None
    payment_details: ShipmentPaymentDetails | None = None
    shipment_additional_information: tuple[AdditionalField, ...] = ()


@attrs.frozen(kw_only=True)
class ShipmentError:
    """A shipment ST01 refused (``shipment_errors[]``): its order and Mirakl's message."""

    order_id: str | None = None
    message: str | None = None


@attrs.frozen(kw_only=True)
class ShipmentResult:
    """ST01 answer: shipments created and shipments refused (partial success is normal).

    Errors carry only the order id, not the position in the request: when several shipments of
    one call are for the same order, re-read them with ST11 to know which were created.
    """

    shipment_success: tuple[Shipment, ...] = ()
    shipment_errors: tuple[ShipmentError, ...] = ()
