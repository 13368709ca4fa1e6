"""Password rules: at least 10 characters from at least three of the four kinds."""

from __future__ import annotations

import pytest
from django.contrib.auth.password_validation import (
    password_validators_help_texts,
    validate_password,
)
from django.core.exceptions import ValidationError

from plans.passwords import PasswordRulesValidator, character_classes, password_breaches


@pytest.mark.parametrize(
    ("password", "kinds"),
    [
        ("", 0),
        ("abcdefghij", 1),
        ("ABCDEFGHIJ", 1),
        ("1234567890", 1),
        ("abcdeFGHIJ", 2),
        ("abcde12345", 2),
        ("abc-def-gh", 2),
        ("office-demo-2026", 3),
        ("Office-demo-2026", 4),
        ("Abcdef1234", 3),
        ("养老服务abc123", 3),  # Chinese characters count as "other"
        ("ABC 123 def", 4),  # so does a space
        ("１２３ａｂｃ", 2),  # full-width digits and letters keep their kind
    ],
)
def test_character_classes_counts_the_kinds_a_password_uses(password, kinds):
    assert character_classes(password) == kinds


@pytest.mark.parametrize(
    ("password", "breaches"),
    [
        ("Abcdef-123", []),
        ("Abc-123", ["too_short"]),
        ("abcdefghijk", ["too_simple"]),
        ("abc", ["too_short", "too_simple"]),
        ("", ["too_short", "too_simple"]),
    ],
)
def test_password_breaches_names_each_rule_broken(password, breaches):
    assert password_breaches(password, min_length=10, min_classes=3) == breaches


@pytest.mark.parametrize(
    "password",
    ["office-demo-2026", "leader-demo-2026", "liaison-demo-2026", "admin-demo-2026"],
)
def test_the_demo_passwords_pass_every_rule(password):
    validate_password(password)


@pytest.mark.parametrize("password", ["Ab1-", "Short-1a"])
def test_a_password_under_ten_characters_is_refused_in_chinese(password):
    with pytest.raises(ValidationError) as refused:
        validate_password(password)
    assert "密码太短,至少需要 10 个字符。" in refused.value.messages


@pytest.mark.parametrize("password", ["abcdefghijkl", "abcdefgh1234", "ABCDEFGH!!!!"])
def test_a_password_of_fewer_than_three_kinds_is_refused_in_chinese(password):
    with pytest.raises(ValidationError) as refused:
        validate_password(password)
    messages = refused.value.messages
    assert "密码须包含小写字母、大写字母、数字、其他符号四类中的至少 3 类。" in messages


def test_the_validator_takes_another_minimum():
    validator = PasswordRulesValidator(min_length=10, min_classes=4)
    validator.validate("Office-demo-2026")
    with pytest.raises(ValidationError):
        validator.validate("office-demo-2026")


def test_the_rules_are_explained_on_the_password_forms():
    texts = " ".join(password_validators_help_texts())
    assert "密码至少 10 个字符,且包含小写字母、大写字母、数字、其他符号四类中的至少 3 类。" in texts
