"""Reading numbers as office staff type them: pure, no database."""

from __future__ import annotations

import random
from decimal import Decimal

import pytest
from django.core.exceptions import ValidationError

from indicators.parsing import format_for_input, parse_amount

D = Decimal


@pytest.mark.parametrize(
    ("text", "unit", "expected"),
    [
        ("60", "%", D("60")),
        ("60%", "%", D("60")),
        ("60 %", "%", D("60")),
        ("60.0", "%", D("60")),
        ("60.5", "%", D("60.5")),
        ("0", "%", D("0")),
        ("100", "%", D("100")),
        ("100%", "%", D("100")),
        ("1,200", "张", D("1200")),
        ("1，200", "张", D("1200")),  # full-width comma
        ("12,811", "个", D("12811")),
        ("1,234,567.89", "万元", D("1234567.89")),
        ("６０", "%", D("60")),  # full-width digits
        ("５０％", "%", D("50")),  # full-width percent sign
        ("１，２００．５", "张", D("1200.5")),
        ("  300  ", "张", D("300")),
        ("\u3000300\u3000", "张", D("300")),  # ideographic spaces
        ("\t300\n", "张", D("300")),
        ("0300", "张", D("300")),
        ("0.5", "%", D("0.5")),
        ("3.07", "张", D("3.07")),
        ("999999999999.99", "张", D("999999999999.99")),
        ("000000000000001", "张", D("1")),
    ],
)
def test_parse_amount_accepts_what_people_type(text, unit, expected):
    assert parse_amount(text, unit=unit) == expected


@pytest.mark.parametrize(
    ("text", "unit", "message"),
    [
        ("三百", "张", "请输入阿拉伯数字,例如 300 或 1,200。"),
        ("三百张", "张", "请输入阿拉伯数字,例如 300 或 1,200。"),
        ("300张", "张", "请输入阿拉伯数字,例如 300 或 1,200。"),
        ("-5", "张", "数值不能为负数。"),
        ("-1,200", "张", "数值不能为负数。"),
        ("－5", "张", "数值不能为负数。"),  # full-width minus
        ("\u22125", "张", "数值不能为负数。"),  # minus sign
        ("--5", "张", "请输入阿拉伯数字,例如 300 或 1,200。"),
        ("+5", "张", "请输入阿拉伯数字,例如 300 或 1,200。"),
        ("101", "%", "百分比应在0到100之间。"),
        ("100.01", "%", "百分比应在0到100之间。"),
        ("150%", "%", "百分比应在0到100之间。"),
        ("", "张", "请填写数值。"),
        ("   ", "张", "请填写数值。"),
        ("\u3000", "张", "请填写数值。"),
        ("1234567890123", "张", "数值过大:整数部分最多12位。"),
        ("1,234,567,890,123", "张", "数值过大:整数部分最多12位。"),
        ("1.234", "张", "小数最多保留2位。"),
        ("60.000", "%", "小数最多保留2位。"),
        ("1e5", "张", "请输入阿拉伯数字,例如 300 或 1,200。"),
        ("1E5", "张", "请输入阿拉伯数字,例如 300 或 1,200。"),
        ("NaN", "张", "请输入阿拉伯数字,例如 300 或 1,200。"),
        ("nan", "张", "请输入阿拉伯数字,例如 300 或 1,200。"),
        ("sNaN", "张", "请输入阿拉伯数字,例如 300 或 1,200。"),
        ("Infinity", "张", "请输入阿拉伯数字,例如 300 或 1,200。"),
        ("-Infinity", "张", "请输入阿拉伯数字,例如 300 或 1,200。"),
        ("inf", "张", "请输入阿拉伯数字,例如 300 或 1,200。"),
        ("0x10", "张", "请输入阿拉伯数字,例如 300 或 1,200。"),
        ("0b101", "张", "请输入阿拉伯数字,例如 300 或 1,200。"),
        ("1_000", "张", "请输入阿拉伯数字,例如 300 或 1,200。"),
        ("1 200", "张", "请输入阿拉伯数字,例如 300 或 1,200。"),
        ("1.2.3", "张", "请输入阿拉伯数字,例如 300 或 1,200。"),
        (".5", "张", "请输入阿拉伯数字,例如 300 或 1,200。"),
        ("5.", "张", "请输入阿拉伯数字,例如 300 或 1,200。"),
        ("٣٠٠", "张", "请输入阿拉伯数字,例如 300 或 1,200。"),  # Arabic-Indic digits
        ("%", "%", "请输入阿拉伯数字,例如 300 或 1,200。"),
        ("1,2", "张", "千分位逗号的位置不对,例如 1,200 或 12,000。"),
        ("12,00", "张", "千分位逗号的位置不对,例如 1,200 或 12,000。"),
        ("1,,200", "张", "千分位逗号的位置不对,例如 1,200 或 12,000。"),
        ("60%", "张", "该指标的单位是“张”,请不要填写百分号。"),
        ("<script>", "张", "请输入阿拉伯数字,例如 300 或 1,200。"),
        ("1; DROP TABLE x", "张", "请输入阿拉伯数字,例如 300 或 1,200。"),
        ("9" * 100_000, "张", "输入过长,请只填写一个数值。"),
        ("1" * 41, "张", "输入过长,请只填写一个数值。"),
    ],
)
def test_parse_amount_refuses_anything_else_with_a_chinese_message(text, unit, message):
    with pytest.raises(ValidationError) as excinfo:
        parse_amount(text, unit=unit)
    assert excinfo.value.messages == [message]


def test_parse_amount_reads_every_integer_formatted_with_commas():
    rng = random.Random(20260514)  # noqa: S311 - fixed seed, so a failure is reproducible
    numbers = [*range(0, 2_000), *(rng.randrange(10**k) for k in range(1, 13) for _ in range(300))]
    numbers.append(10**12 - 1)
    for n in numbers:
        assert parse_amount(f"{n:,}", unit="张") == n
        assert parse_amount(f"{n:,}".replace(",", "，"), unit="张") == n
        assert parse_amount(str(n), unit="张") == n


def test_parse_amount_reads_full_width_digits_of_any_integer():
    full_width = str.maketrans("0123456789,", "０１２３４５６７８９，")
    rng = random.Random(7)  # noqa: S311
    for _ in range(2_000):
        n = rng.randrange(10**12)
        assert parse_amount(f"{n:,}".translate(full_width), unit="个") == n


def test_parse_amount_refuses_commas_in_the_wrong_places_for_many_integers():
    rng = random.Random(11)  # noqa: S311
    for _ in range(2_000):
        digits = str(rng.randrange(10_000, 10**12))
        cut = rng.randrange(1, len(digits))
        text = f"{digits[:cut]},{digits[cut:]}"
        if len(digits) - cut == 3 and cut <= 3:
            continue  # the one place a lone comma is a thousands separator: "12,345"
        with pytest.raises(ValidationError):
            parse_amount(text, unit="张")


def test_parse_amount_every_percentage_in_hundredths_is_accepted_and_no_more():
    for hundredths in range(0, 10_001, 7):
        value = D(hundredths) / 100
        assert parse_amount(f"{value}%", unit="%") == value
    with pytest.raises(ValidationError):
        parse_amount("100.01", unit="%")


def test_parse_amount_gives_back_the_input_format_of_a_stored_value():
    for stored in ["1200.00", "3.07", "3.70", "0.00", "60", "999999999999.99"]:
        text = format_for_input(D(stored))
        assert "," not in text
        assert parse_amount(text, unit="张") == D(stored)
    assert format_for_input(D("1200.00")) == "1200"
    assert format_for_input(D("3.70")) == "3.7"
    assert format_for_input(None) == ""
