"""STO01 stock file writer and STO03/OF03 error report reader."""

from __future__ import annotations

import csv
import io

import pytest

from mirakl_sync.errors import ResponseValidationError
from mirakl_sync.mirakl.models import (
    STOCK_CSV_HEADER,
    ImportErrorLine,
    StockUpdate,
    order_stock_updates,
    parse_error_report,
    stock_csv,
)
from tests.openapi_spec import operation

HEADER = b'"offer-sku";"quantity";"warehouse-code";"update-delete"\n'


# ------------------------------------------------------------------------------------------------
# stock_csv
# ------------------------------------------------------------------------------------------------


def test_stock_csv_exact_bytes() -> None:
    updates = [
        StockUpdate(offer_sku="SKU-A", quantity=5, warehouse_code="W1"),
        StockUpdate(offer_sku="SKU-B", quantity=0),
        StockUpdate(offer_sku="SKU-A", quantity=7, warehouse_code="W2"),
        StockUpdate(offer_sku='odd;"sku"', quantity=12, update_delete="update"),
    ]
    assert stock_csv(updates) == (
        HEADER
        + b'"SKU-A";"5";"W1";""\n'
        + b'"SKU-A";"7";"W2";""\n'
        + b'"SKU-B";"0";"";""\n'
        + b'"odd;""sku""";"12";"";"update"\n'
    )


def test_stock_csv_header_matches_spec() -> None:
    _, _, op = operation("STO01")
    description = op["requestBody"]["content"]["multipart/form-data"]["schema"]["properties"][
        "file"
    ]["description"]
    assert HEADER.decode().strip() in description
    assert ";".join(f'"{h}"' for h in STOCK_CSV_HEADER) + "\n" == HEADER.decode()


def test_stock_csv_is_utf8_and_parses_back() -> None:
    data = stock_csv([StockUpdate(offer_sku="café-1", quantity=3)])
    rows = list(csv.reader(io.StringIO(data.decode("utf-8")), delimiter=";"))
    assert rows == [list(STOCK_CSV_HEADER), ["café-1", "3", "", ""]]


def test_stock_csv_empty_is_header_only() -> None:
    assert stock_csv([]) == HEADER


def test_order_stock_updates_matches_file_lines() -> None:
    updates = [
        StockUpdate(offer_sku="B", quantity=1, warehouse_code="W1"),
        StockUpdate(offer_sku="A", quantity=2),
        StockUpdate(offer_sku="B", quantity=3, warehouse_code="W2"),
    ]
    ordered = order_stock_updates(updates)
    assert [(u.offer_sku, u.warehouse_code) for u in ordered] == [
        ("B", "W1"),
        ("B", "W2"),
        ("A", None),
    ]
    lines = stock_csv(updates).decode().splitlines()
    for index, update in enumerate(ordered):
        assert lines[index + 1].startswith(f'"{update.offer_sku}";"{update.quantity}"')


@pytest.mark.parametrize(
    "kwargs",
    [
        {"offer_sku": "", "quantity": 1},
        {"offer_sku": "   ", "quantity": 1},
        {"offer_sku": "A\nB", "quantity": 1},
        {"offer_sku": "A", "quantity": -1},
        {"offer_sku": "A", "quantity": 1.0},
        {"offer_sku": "A", "quantity": "5"},
        {"offer_sku": "A", "quantity": True},
        {"offer_sku": "A", "quantity": 1, "warehouse_code": ""},
        {"offer_sku": "A", "quantity": 1, "update_delete": "upsert"},
    ],
)
def test_invalid_stock_update(kwargs: dict[str, object]) -> None:
    with pytest.raises(ValueError):
        StockUpdate(**kwargs)  # type: ignore[arg-type]


def test_sku_both_global_and_per_warehouse_is_rejected() -> None:
    with pytest.raises(ValueError, match="both globally and per warehouse"):
        stock_csv(
            [
                StockUpdate(offer_sku="A", quantity=1),
                StockUpdate(offer_sku="A", quantity=1, warehouse_code="W1"),
            ]
        )
    with pytest.raises(ValueError, match="both globally and per warehouse"):
        stock_csv(
            [
                StockUpdate(offer_sku="A", quantity=1, warehouse_code="W1"),
                StockUpdate(offer_sku="A", quantity=1),
            ]
        )


def test_duplicate_line_is_rejected() -> None:
    with pytest.raises(ValueError, match="twice"):
        stock_csv([StockUpdate(offer_sku="A", quantity=1), StockUpdate(offer_sku="A", quantity=2)])
    with pytest.raises(ValueError, match="twice"):
        stock_csv(
            [
                StockUpdate(offer_sku="A", quantity=1, warehouse_code="W"),
                StockUpdate(offer_sku="A", quantity=2, warehouse_code="W"),
            ]
        )


def test_stock_csv_rejects_non_updates() -> None:
    with pytest.raises(TypeError):
        stock_csv([("A", 1)])  # type: ignore[list-item]


# ------------------------------------------------------------------------------------------------
# parse_error_report
# ------------------------------------------------------------------------------------------------


def test_sto03_semicolons_quoted() -> None:
    data = b'"2";"Offer not found"\n"5";"Quantity must be positive; got -1"\n'
    assert parse_error_report(data) == [
        ImportErrorLine(line_number=2, reason="Offer not found", raw=("2", "Offer not found")),
        ImportErrorLine(
            line_number=5,
            reason="Quantity must be positive; got -1",
            raw=("5", "Quantity must be positive; got -1"),
        ),
    ]


def test_commas_header_bom_crlf() -> None:
    data = '\ufeffline,error\r\n3,Unknown warehouse\r\n\r\n4,"bad, really"\r\n'.encode()
    result = parse_error_report(data)
    assert [(e.line_number, e.reason) for e in result] == [
        (3, "Unknown warehouse"),
        (4, "bad, really"),
    ]


def test_unquoted_semicolons_with_commas_in_reason() -> None:
    data = b"2;Invalid quantity, must be an integer\n3;Offer SKU unknown\n"
    result = parse_error_report(data)
    assert [(e.line_number, e.reason) for e in result] == [
        (2, "Invalid quantity, must be an integer"),
        (3, "Offer SKU unknown"),
    ]


def test_commas_with_semicolon_in_reason() -> None:
    data = b"2,bad; really bad\n3,unknown\n"
    assert [(e.line_number, e.reason) for e in parse_error_report(data)] == [
        (2, "bad; really bad"),
        (3, "unknown"),
    ]


def test_extra_columns_and_missing_reason() -> None:
    data = b'"2";"Offer not found";"SKU-A";"5"\n"3"\n'
    result = parse_error_report(data)
    assert result[0].raw == ("2", "Offer not found", "SKU-A", "5")
    assert (result[1].line_number, result[1].reason) == (3, "")


def test_empty_and_header_only_reports() -> None:
    assert parse_error_report(b"") == []
    assert parse_error_report(b"\xef\xbb\xbf") == []
    assert parse_error_report(b'"line";"error"\n') == []


def test_latin1_report() -> None:
    data = "2;Quantité invalide\n".encode("latin-1")
    assert parse_error_report(data)[0].reason == "Quantité invalide"


def test_unreadable_row_is_an_error_not_a_success() -> None:
    with pytest.raises(ResponseValidationError) as info:
        parse_error_report(b"2;ok\nabc;what\n")
    assert "row 2" in info.value.details[0]


@pytest.mark.contract
def test_of03_spec_example() -> None:
    """OF03 echoes the submitted columns and appends "error-line";"error-message"."""
    _, _, op = operation("OF03")
    media = op["responses"]["200"]["content"]["application/octet-stream"]
    example = media["examples"]["application/octet-stream-0"]["value"]
    (line,) = parse_error_report(example.encode("utf-8"))
    assert line.line_number == 2
    assert line.reason == "The product does not exist"
    assert line.raw[0] == "OFFER_SKU_004"
    assert len(line.raw) == 34
