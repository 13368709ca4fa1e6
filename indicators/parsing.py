"""Read what office staff type: a number as they write it ("1,200", "1，200", "６０", "60%"),
and notes pasted from browsers and Word. Pure."""

from __future__ import annotations

import re
import unicodedata
from decimal import Decimal

from django.core.exceptions import ValidationError
from django.utils.translation import gettext as _

PERCENT = "%"
MAX_INTEGER_DIGITS = 12  # Measurement.value is max_digits=14, decimal_places=2
MAX_DECIMAL_PLACES = 2
MAX_LENGTH = 40  # longer than any number this accepts: refuse before doing any work on it

# ASCII digits only: `\d` would also take Arabic-Indic or Devanagari digits.
_NUMBER = re.compile(r"(?P<int>[0-9]+|[0-9]{1,3}(?:,[0-9]{3})+)(?:\.(?P<frac>[0-9]+))?")
_COMMA_NUMBER = re.compile(r"[0-9][0-9,]*(?:\.[0-9]+)?")
# NFKC turns full-width "－" into "-" but leaves these minus signs alone.
_MINUS_SIGNS = str.maketrans({"\u2212": "-", "\u2013": "-", "\ufe63": "-"})


def parse_amount(text: str, *, unit: str) -> Decimal:
    """The non-negative amount in `text`, for an indicator counted in `unit`.

    Full-width digits and commas (NFKC), thousands separators and surrounding spaces are
    accepted; a trailing "%" only when the unit is "%". Everything else, exponents, NaN,
    hexadecimal and Chinese numerals included, raises ValidationError with a message in Chinese.
    """
    if text is None:
        text = ""
    if len(text) > MAX_LENGTH * 4:
        raise ValidationError(_("输入过长,请只填写一个数值。"), code="too_long")
    text = unicodedata.normalize("NFKC", text).translate(_MINUS_SIGNS).strip()
    if not text:
        raise ValidationError(_("请填写数值。"), code="required")
    if len(text) > MAX_LENGTH:
        raise ValidationError(_("输入过长,请只填写一个数值。"), code="too_long")

    if text.endswith(PERCENT):
        if unit != PERCENT:
            raise ValidationError(
                _("该指标的单位是“%(unit)s”,请不要填写百分号。"),
                code="percent_sign",
                params={"unit": unit},
            )
        text = text[:-1].rstrip()

    negative = text.startswith("-")
    digits = text[1:] if negative else text
    match = _NUMBER.fullmatch(digits)
    if match is None:
        if _COMMA_NUMBER.fullmatch(digits) and "," in digits:
            raise ValidationError(
                _("千分位逗号的位置不对,例如 1,200 或 12,000。"), code="bad_grouping"
            )
        raise ValidationError(_("请输入阿拉伯数字,例如 300 或 1,200。"), code="invalid")
    if negative:
        raise ValidationError(_("数值不能为负数。"), code="negative")

    integer = match["int"].replace(",", "").lstrip("0")
    fraction = match["frac"] or ""
    if len(integer) > MAX_INTEGER_DIGITS:
        raise ValidationError(
            _("数值过大:整数部分最多%(digits)s位。"),
            code="too_many_digits",
            params={"digits": MAX_INTEGER_DIGITS},
        )
    if len(fraction) > MAX_DECIMAL_PLACES:
        raise ValidationError(
            _("小数最多保留%(places)s位。"),
            code="too_many_decimals",
            params={"places": MAX_DECIMAL_PLACES},
        )

    value = Decimal(f"{integer or '0'}.{fraction}" if fraction else integer or "0")
    if unit == PERCENT and value > 100:
        raise ValidationError(_("百分比应在0到100之间。"), code="percent_range")
    return value


def format_for_input(value: Decimal | None) -> str:
    """A stored value as it goes back into an input: 1200.00 → "1200", 3.70 → "3.7"; "" for none."""
    if value is None:
        return ""
    number = Decimal(value)
    if number == number.to_integral_value():
        return f"{number.quantize(Decimal(1)):f}"
    return f"{number.normalize():f}"


# Word pastes a manual line break as \x0b and a page break as \x0c; Unicode has separators too.
_LINE_BREAKS = str.maketrans(dict.fromkeys("\x0b\x0c\x85\u2028\u2029", "\n"))
_KEPT_CONTROLS = frozenset("\t\n\r\x0b\x0c\x85")


def normalize_note(text: str) -> str:
    """Browsers send line breaks as CRLF, Word as \\x0b; store and compare them all as LF."""
    return text.replace("\r\n", "\n").replace("\r", "\n").translate(_LINE_BREAKS).strip()


def has_control_characters(text: str) -> bool:
    """Invisible control characters other than line breaks and tabs (NUL, escape, bell...)."""
    return any(unicodedata.category(c) == "Cc" and c not in _KEPT_CONTROLS for c in text)
