"""Response numbers: exact Decimals, and numbers too long or too large are refused."""

from __future__ import annotations

from decimal import Decimal

import pytest

from mirakl_sync._http._client import MAX_NUMBER_DIGITS, _parse_decimal, loads_body


def _reference(text: str) -> Decimal:
    """The rule, written plainly: at most MAX_NUMBER_DIGITS digits and exponent magnitude."""
    value = Decimal(text)
    digits = len(value.as_tuple().digits)
    if digits > MAX_NUMBER_DIGITS or abs(value.adjusted()) > MAX_NUMBER_DIGITS:
        raise ValueError(text)
    return value


CASES = [
    "0.0",
    "-12.50",
    "1e5",
    "1.5E-7",
    "9" * MAX_NUMBER_DIGITS + ".0",  # one digit too many
    "9" * (MAX_NUMBER_DIGITS - 1) + ".0",  # exactly at the limit
    "0." + "0" * (MAX_NUMBER_DIGITS + 10) + "1",  # long text, one digit, tiny exponent
    "1." + "0" * (MAX_NUMBER_DIGITS + 10),  # long text, many (zero) digits
    "1e" + str(MAX_NUMBER_DIGITS),
    "1e" + str(MAX_NUMBER_DIGITS + 1),
    "1e-999999999",
]


@pytest.mark.parametrize("text", CASES, ids=lambda t: t if len(t) < 20 else f"{len(t)} chars")
def test_parse_decimal_follows_the_rule(text: str) -> None:
    try:
        expected: Decimal | None = _reference(text)
    except ValueError:
        expected = None
    if expected is None:
        with pytest.raises(ValueError, match="out of range"):
            _parse_decimal(text)
    else:
        got = _parse_decimal(text)
        assert got == expected
        assert got.as_tuple() == expected.as_tuple()  # exact digits and exponent


def test_bodies_keep_exact_decimals() -> None:
    assert loads_body(b'{"price": 19.90}') == {"price": Decimal("19.90")}
    with pytest.raises(ValueError):
        loads_body(b'{"price": 1e9999999}')
