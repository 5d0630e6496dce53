"""Unit tests of the shared converter machinery (mirakl_sync._serde)."""

from __future__ import annotations

import datetime as dt
import enum
import json
from decimal import Decimal
from typing import Any

import attrs
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from mirakl_sync._serde import (
    json_dumps,
    loads_json,
    make_api_converter,
    parse_datetime,
    structure_or_raise,
    to_wire,
)
from mirakl_sync.errors import ResponseValidationError
from mirakl_sync.mirakl._converter import converter as mirakl_converter
from mirakl_sync.mirakl.models import Order, OrderLine, OrderState


class Color(enum.StrEnum):
    RED = "RED"
    BLUE = "BLUE"


@attrs.frozen(kw_only=True)
class Item:
    code: str
    amount: Decimal | None = None


@attrs.frozen(kw_only=True)
class Sample:
    id: str
    money: Decimal | None = None
    count: int | None = None
    flag: bool | None = None
    when: dt.datetime | None = None
    day: dt.date | None = None
    color: Color | str | None = None
    color_required: Color | str = Color.RED
    items: tuple[Item, ...] = ()
    tags: tuple[str, ...] = ()
    raw: dict[str, Any] | None = None


conv = make_api_converter()


def sample(**fields: Any) -> Sample:
    return conv.structure({"id": "s", **fields}, Sample)


# ------------------------------------------------------------------------------------------------
# Structuring hooks
# ------------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("2019-04-02T14:18:43Z", dt.datetime(2019, 4, 2, 14, 18, 43, tzinfo=dt.UTC)),
        ("2019-04-02T14:58:22.460Z", dt.datetime(2019, 4, 2, 14, 58, 22, 460000, tzinfo=dt.UTC)),
        ("2019-09-01T23:59:59.999Z", dt.datetime(2019, 9, 1, 23, 59, 59, 999000, tzinfo=dt.UTC)),
        ("2024-03-19T00:00:00+00:00", dt.datetime(2024, 3, 19, tzinfo=dt.UTC)),
        ("2024-03-19T02:00:00+02:00", dt.datetime(2024, 3, 19, tzinfo=dt.UTC)),
        ("2017-02-20T10:45:53+01", dt.datetime(2017, 2, 20, 9, 45, 53, tzinfo=dt.UTC)),
        ("2024-03-19T00:00:00", dt.datetime(2024, 3, 19, tzinfo=dt.UTC)),
        ("2024-03-19", dt.datetime(2024, 3, 19, tzinfo=dt.UTC)),
        ("2024-03-19t10:00:00z", dt.datetime(2024, 3, 19, 10, tzinfo=dt.UTC)),
    ],
)
def test_datetimes_become_aware_utc(text: str, expected: dt.datetime) -> None:
    value = sample(when=text).when
    assert value == expected
    assert value is not None
    assert value.utcoffset() == dt.timedelta(0)
    assert value.tzinfo is dt.UTC


@pytest.mark.parametrize("bad", ["yesterday", "2024-13-01T00:00:00Z", 1700000000, ""])
def test_bad_datetimes_are_validation_errors(bad: object) -> None:
    with pytest.raises(ResponseValidationError) as info:
        structure_or_raise(conv, {"id": "s", "when": bad}, Sample)
    assert any("$.when" in d for d in info.value.details)


def test_parse_datetime_rejects_non_strings() -> None:
    with pytest.raises(TypeError):
        parse_datetime(12.5)


def test_dates() -> None:
    assert sample(day="2026-03-08").day == dt.date(2026, 3, 8)
    assert sample(day="2026-03-08T10:00:00Z").day == dt.date(2026, 3, 8)


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        (1.5, Decimal("1.5")),
        (0.1, Decimal("0.1")),
        (173, Decimal("173")),
        ("1", Decimal("1")),
        (" 12.340 ", Decimal("12.340")),
        (Decimal("0.30"), Decimal("0.30")),
        (-0.5, Decimal("-0.5")),
        (1e-7, Decimal("1E-7")),
    ],
)
def test_decimals_are_exact(raw: object, expected: Decimal) -> None:
    value = sample(money=raw).money
    assert isinstance(value, Decimal)
    assert value == expected
    assert str(value) == str(expected)


def test_float_money_adds_up_exactly() -> None:
    total = sum((sample(money=x).money or Decimal(0) for x in (0.1, 0.2)), Decimal(0))
    assert total == Decimal("0.3")  # 0.1 + 0.2 == 0.30000000000000004 in binary floats


@pytest.mark.parametrize("bad", [True, "abc", "NaN", "Infinity", [1], {"a": 1}])
def test_bad_decimals_fail(bad: object) -> None:
    with pytest.raises(ResponseValidationError):
        structure_or_raise(conv, {"id": "s", "money": bad}, Sample)


@pytest.mark.parametrize(
    ("raw", "expected"), [(5, 5), (5.0, 5), ("5000", 5000), (Decimal("7.0"), 7), (" 3 ", 3)]
)
def test_ints_from_numbers_and_strings(raw: object, expected: int) -> None:
    value = sample(count=raw).count
    assert value == expected
    assert type(value) is int


@pytest.mark.parametrize("bad", [1.5, "1.5", "x", True, Decimal("2.5")])
def test_non_integral_ints_fail(bad: object) -> None:
    with pytest.raises(ResponseValidationError):
        structure_or_raise(conv, {"id": "s", "count": bad}, Sample)


@pytest.mark.parametrize(
    ("raw", "expected"), [(True, True), (False, False), ("true", True), ("FALSE", False)]
)
def test_bools(raw: object, expected: bool) -> None:
    assert sample(flag=raw).flag is expected


@pytest.mark.parametrize("bad", ["yes", 1, 0, "1"])
def test_bad_bools_fail(bad: object) -> None:
    with pytest.raises(ResponseValidationError):
        structure_or_raise(conv, {"id": "s", "flag": bad}, Sample)


def test_tolerant_enums() -> None:
    assert sample(color="RED").color is Color.RED
    unknown = sample(color="GREEN").color
    assert unknown == "GREEN"
    assert type(unknown) is str
    assert sample(color_required="PURPLE").color_required == "PURPLE"
    assert sample().color is None


def test_tolerant_enum_rejects_non_strings() -> None:
    with pytest.raises(ResponseValidationError):
        structure_or_raise(conv, {"id": "s", "color": 3}, Sample)


def test_nulls_mean_absent() -> None:
    value = sample(money=None, items=None, tags=None, color=None, raw=None, color_required=None)
    assert value == Sample(id="s")


def test_extra_keys_ignored_and_ids_from_numbers() -> None:
    value = sample(unknown={"deep": [1]}, items=[{"code": 15, "amount": "2", "new": True}])
    assert value.items == (Item(code="15", amount=Decimal(2)),)


def test_arrays_must_be_arrays() -> None:
    with pytest.raises(ResponseValidationError):
        structure_or_raise(conv, {"id": "s", "tags": "abc"}, Sample)
    with pytest.raises(ResponseValidationError):
        structure_or_raise(conv, {"id": "s", "items": {"code": "x"}}, Sample)


def test_strings_must_be_strings() -> None:
    with pytest.raises(ResponseValidationError):
        structure_or_raise(conv, {"id": {"nested": 1}}, Sample)
    with pytest.raises(ResponseValidationError):
        structure_or_raise(conv, {"id": True}, Sample)


# ------------------------------------------------------------------------------------------------
# structure_or_raise
# ------------------------------------------------------------------------------------------------


def test_structure_or_raise_details_and_context() -> None:
    body = {"id": "s", "items": [{"code": "a"}, {"amount": "x"}], "count": "many", "pad": "x" * 900}
    with pytest.raises(ResponseValidationError) as info:
        structure_or_raise(
            conv, body, Sample, operation="OR11", method="GET", url="https://m.example/api/orders"
        )
    error = info.value
    assert error.operation == "OR11"
    assert error.method == "GET"
    assert error.url == "https://m.example/api/orders"
    assert "$.count" in " ".join(error.details)
    assert "$.items[1].code" in " ".join(error.details)
    assert len(error.body_excerpt) == 500
    assert error.body_excerpt.startswith('{"id":"s"')
    assert "OR11" in str(error)


@pytest.mark.parametrize("body", [None, "string", 3, [], [{"id": "s"}], Decimal("1.5")])
def test_structure_or_raise_non_objects(body: object) -> None:
    with pytest.raises(ResponseValidationError):
        structure_or_raise(conv, body, Sample)


def test_structure_or_raise_returns_model() -> None:
    assert structure_or_raise(conv, {"id": "s"}, Sample) == Sample(id="s")


json_values = st.recursive(
    st.none()
    | st.booleans()
    | st.integers()
    | st.floats(allow_nan=True, allow_infinity=True)
    | st.decimals(allow_nan=True, allow_infinity=True)
    | st.text(max_size=12)
    | st.sampled_from(
        ["2019-04-02T14:18:43Z", "WAITING_ACCEPTANCE", "BRAND_NEW", "5000", "1.5", "true"]
    ),
    lambda children: (
        st.lists(children, max_size=4)
        | st.dictionaries(
            st.sampled_from(
                [
                    "order_id",
                    "order_lines",
                    "order_line_id",
                    "order_state",
                    "price",
                    "quantity",
                    "created_date",
                    "customer",
                    "taxes",
                    "refunds",
                    "channel",
                    "x",
                ]
            )
            | st.text(max_size=6),
            children,
            max_size=6,
        )
    ),
    max_leaves=25,
)

order_like = st.fixed_dictionaries(
    {},
    optional={
        "order_id": json_values,
        "order_state": json_values,
        "price": json_values,
        "created_date": json_values,
        "customer": json_values,
        "channel": json_values,
        "order_lines": st.lists(
            st.fixed_dictionaries(
                {},
                optional={
                    "order_line_id": json_values,
                    "quantity": json_values,
                    "order_line_state": json_values,
                    "taxes": json_values,
                    "refunds": json_values,
                    "price_unit": json_values,
                },
            ),
            max_size=3,
        )
        | json_values,
    },
)


@settings(max_examples=300, deadline=None)
@given(st.one_of(json_values, order_like))
def test_structure_or_raise_never_leaks_other_errors(data: object) -> None:
    order: Order | None = None
    failure: ResponseValidationError | None = None
    try:
        order = structure_or_raise(mirakl_converter, data, Order, operation="OR11")
    except ResponseValidationError as error:  # anything else fails the test
        failure = error
    if failure is not None:
        assert failure.operation == "OR11"
        assert isinstance(failure.details, tuple)
        assert failure.details
        assert len(failure.body_excerpt) <= 500
    else:
        assert isinstance(order, Order)
        assert isinstance(order.order_id, str)
        assert all(isinstance(line, OrderLine) for line in order.order_lines)
        assert order.order_state is None or isinstance(order.order_state, str)


# ------------------------------------------------------------------------------------------------
# Requests: to_wire, json_dumps, loads_json
# ------------------------------------------------------------------------------------------------


@attrs.frozen(kw_only=True)
class Body:
    name: str
    amount: Decimal
    when: dt.datetime | None = None
    state: OrderState | str | None = None
    states: tuple[OrderState | str, ...] | None = None
    items: tuple[Item, ...] | None = None
    note: str | None = None


def test_to_wire_drops_none_recursively() -> None:
    body = Body(
        name="n",
        amount=Decimal("10.50"),
        when=dt.datetime(2024, 3, 19, 2, 0, tzinfo=dt.timezone(dt.timedelta(hours=2))),
        state=OrderState.SHIPPING,
        states=(OrderState.SHIPPED, "NEW_STATE"),
        items=(Item(code="a"), Item(code="b", amount=Decimal("0.10"))),
    )
    wire = to_wire(conv, body)
    assert wire == {
        "name": "n",
        "amount": Decimal("10.50"),
        "when": "2024-03-19T00:00:00Z",
        "state": "SHIPPING",
        "states": ["SHIPPED", "NEW_STATE"],
        "items": [{"code": "a"}, {"code": "b", "amount": Decimal("0.10")}],
    }
    assert type(wire["state"]) is str
    assert all(type(s) is str for s in wire["states"])
    assert "note" not in wire


def test_to_wire_naive_datetime_is_utc() -> None:
    wire = to_wire(conv, Body(name="n", amount=Decimal(1), when=dt.datetime(2024, 1, 2, 3, 4, 5)))
    assert wire["when"] == "2024-01-02T03:04:05Z"


def test_to_wire_needs_an_object() -> None:
    with pytest.raises(TypeError):
        to_wire(conv, [Item(code="a")])


@pytest.mark.parametrize(
    ("value", "text"),
    [
        (Decimal("0.30"), "0.30"),
        (Decimal("0.1") + Decimal("0.2"), "0.3"),
        (Decimal("1E+2"), "100"),
        (Decimal("1E-8"), "0.00000001"),
        (Decimal("-12.345678901234567890"), "-12.345678901234567890"),
        (Decimal("123456789012345678901234567890.01"), "123456789012345678901234567890.01"),
    ],
)
def test_json_dumps_keeps_decimal_digits(value: Decimal, text: str) -> None:
    assert json_dumps({"amount": value}) == '{"amount":' + text + "}"
    assert loads_json(json_dumps({"amount": value}))["amount"] == value


def test_json_dumps_general() -> None:
    data = {
        "s": 'quote " and é',
        "n": None,
        "t": True,
        "f": False,
        "i": 3,
        "x": 1.5,
        "l": [1, (2, 3)],
        "when": dt.datetime(2024, 1, 1, tzinfo=dt.UTC),
        "day": dt.date(2024, 1, 1),
        "e": OrderState.SHIPPED,
    }
    text = json_dumps(data)
    assert json.loads(text) == {
        "s": 'quote " and é',
        "n": None,
        "t": True,
        "f": False,
        "i": 3,
        "x": 1.5,
        "l": [1, [2, 3]],
        "when": "2024-01-01T00:00:00Z",
        "day": "2024-01-01",
        "e": "SHIPPED",
    }


@pytest.mark.parametrize("bad", [Decimal("NaN"), Decimal("Infinity"), float("nan")])
def test_json_dumps_rejects_non_finite(bad: object) -> None:
    with pytest.raises(ValueError):
        json_dumps({"a": bad})


@pytest.mark.parametrize("bad", [{1: "a"}, {"a": object()}, {"a": {1, 2}}])
def test_json_dumps_rejects_non_json(bad: object) -> None:
    with pytest.raises(TypeError):
        json_dumps(bad)


def test_loads_json_decimal_numbers() -> None:
    data = loads_json(b'{"a": 0.1, "b": 2, "c": [1.50], "d": "x"}')
    assert data == {"a": Decimal("0.1"), "b": 2, "c": [Decimal("1.50")], "d": "x"}
    assert isinstance(data["a"], Decimal)
    assert type(data["b"]) is int
    assert loads_json('{"a": 1}') == {"a": 1}


def test_loads_json_rejects_garbage() -> None:
    with pytest.raises(ValueError):
        loads_json(b"<html>")


def test_round_trip_through_wire() -> None:
    body = Body(name="n", amount=Decimal("0.10"), states=(OrderState.SHIPPED,))
    parsed = conv.structure(loads_json(json_dumps(to_wire(conv, body))), Body)
    assert parsed == body
    assert str(parsed.amount) == "0.10"


@pytest.mark.parametrize(
    ("value", "text"),
    [
        (dt.datetime(2024, 1, 1, 0, 0, 0, 999000, tzinfo=dt.UTC), "2024-01-01T00:00:00.999Z"),
        (dt.datetime(2024, 1, 1, 0, 0, 0, 123456, tzinfo=dt.UTC), "2024-01-01T00:00:00.123456Z"),
        (dt.datetime(2024, 1, 1, tzinfo=dt.UTC), "2024-01-01T00:00:00Z"),
    ],
)
def test_datetime_wire_format(value: dt.datetime, text: str) -> None:
    assert conv.unstructure(value) == text
    assert parse_datetime(text) == value
