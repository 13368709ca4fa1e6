from decimal import Decimal

import pytest

from indicators.formatting import format_amount


@pytest.mark.parametrize(
    ("value", "unit", "expected"),
    [
        (Decimal("300.00"), "张", "300 张"),
        (Decimal("1200"), "", "1,200"),
        (Decimal("3.07"), "个", "3.07 个"),
        (Decimal("4.50"), "", "4.5"),
        (Decimal("60.00"), "%", "60%"),
        (Decimal("12811"), "个", "12,811 个"),
        (None, "张", "—"),
        (0, "", "0"),
    ],
)
def test_amounts_read_as_the_documents_write_them(value, unit, expected):
    assert format_amount(value, unit) == expected
