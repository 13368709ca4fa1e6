"""Properties of reading typed numbers (indicators/parsing.py), checked with hypothesis."""

from __future__ import annotations

from decimal import Decimal

from django.core.exceptions import ValidationError
from hypothesis import given, settings
from hypothesis import strategies as st

from indicators.parsing import MAX_INTEGER_DIGITS, format_for_input, parse_amount

FAST = settings(max_examples=200, deadline=None)
UNITS = st.sampled_from(["张", "%", "个", "万元"])
FULL_WIDTH = str.maketrans("0123456789,.%", "０１２３４５６７８９，．％")

# Amounts as stored: up to twelve integer digits and two decimal places.
amounts = st.builds(
    lambda units, cents: Decimal(units) + Decimal(cents) / 100,
    st.integers(min_value=0, max_value=10**MAX_INTEGER_DIGITS - 1),
    st.integers(min_value=0, max_value=99),
)
percentages = st.builds(
    lambda hundredths: Decimal(hundredths) / 100, st.integers(min_value=0, max_value=10_000)
)


def written(value: Decimal, *, grouped: bool, places: int) -> str:
    """The value as a person might type it: "1,234.5", "1234.50", "1234"."""
    integer = int(value)
    cents = int((value - integer) * 100)
    text = f"{integer:,}" if grouped else str(integer)
    if places == 1 and cents % 10 == 0:
        text += f".{cents // 10}"
    elif places:
        text += f".{cents:02d}"
    return text


@FAST
@given(text=st.text(max_size=60), unit=UNITS)
def test_any_text_gives_a_non_negative_number_or_a_validation_error(text, unit):
    try:
        value = parse_amount(text, unit=unit)
    except ValidationError as error:
        assert error.messages and all(error.messages)
    else:
        assert isinstance(value, Decimal) and value.is_finite() and value >= 0


@FAST
@given(
    text=st.text(alphabet="0123456789,.%-+ eE０１２３４５６７８９，．％－", max_size=30), unit=UNITS
)
def test_number_like_text_gives_a_non_negative_number_or_a_validation_error(text, unit):
    try:
        value = parse_amount(text, unit=unit)
    except ValidationError:
        return
    assert value >= 0 and value.as_tuple().exponent >= -2
    if unit == "%":
        assert value <= 100


@FAST
@given(
    value=amounts,
    unit=st.sampled_from(["张", "个", "万元"]),
    grouped=st.booleans(),
    places=st.sampled_from([0, 1, 2]),
    full_width=st.booleans(),
    padding=st.sampled_from(["", " ", "\u3000", "\t"]),
)
def test_a_written_amount_reads_back_as_itself(value, unit, grouped, places, full_width, padding):
    if places == 0:
        value = Decimal(int(value))
    elif places == 1:
        value = Decimal(int(value * 10)) / 10
    text = written(value, grouped=grouped, places=places)
    if full_width:
        text = text.translate(FULL_WIDTH)

    assert parse_amount(f"{padding}{text}{padding}", unit=unit) == value


@FAST
@given(value=percentages, sign=st.sampled_from(["", "%", " %", "％"]), full_width=st.booleans())
def test_a_written_percentage_reads_back_as_itself(value, sign, full_width):
    text = written(value, grouped=False, places=2) + sign
    if full_width:
        text = text.translate(FULL_WIDTH)

    assert parse_amount(text, unit="%") == value


@FAST
@given(value=amounts)
def test_a_stored_value_put_back_in_its_input_reads_back_unchanged(value):
    assert parse_amount(format_for_input(value), unit="张") == value


@FAST
@given(value=amounts.filter(lambda v: v > 0), unit=UNITS)
def test_a_negative_amount_is_refused(value, unit):
    try:
        parse_amount(f"-{value}", unit=unit)
    except ValidationError:
        return
    raise AssertionError(f"-{value} was accepted")
