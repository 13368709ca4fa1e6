"""How numbers read on screen: 300.00 → "300", 3.07 stays "3.07", 12811 → "12,811"."""

from __future__ import annotations

from decimal import Decimal


def format_amount(value: Decimal | int | float | None, unit: str = "") -> str:
    """Show a value the way the documents write it, without trailing zeros; '—' when missing."""
    if value is None:
        return "—"
    number = Decimal(str(value))
    text = f"{number:,.0f}" if number == number.to_integral_value() else f"{number.normalize():,f}"
    if unit == "%":
        return f"{text}%"
    return f"{text} {unit}".strip() if unit else text
