"""Password rules: long enough, and of enough kinds of character (等保2.0 "复杂度要求")."""

from __future__ import annotations

from django.core.exceptions import ValidationError
from django.utils.translation import gettext as _


def character_classes(password: str) -> int:
    """How many of the four kinds a password uses: lower-case, upper-case, digits, others.

    Letters without case (Chinese characters) count as "others", like punctuation and spaces.
    """
    kinds = set()
    for char in password:
        if char.islower():
            kinds.add("lower")
        elif char.isupper():
            kinds.add("upper")
        elif char.isdigit():
            kinds.add("digit")
        else:
            kinds.add("other")
    return len(kinds)


def password_breaches(password: str, *, min_length: int, min_classes: int) -> list[str]:
    """The rules a password breaks, by code: "too_short", "too_simple"; empty when it passes."""
    breaches = []
    if len(password) < min_length:
        breaches.append("too_short")
    if character_classes(password) < min_classes:
        breaches.append("too_simple")
    return breaches


class PasswordRulesValidator:
    """Django password validator for the two rules, with its messages in Chinese.

    It replaces Django's MinimumLengthValidator, whose message Django 5.2 no longer translates.
    """

    def __init__(self, min_length: int = 10, min_classes: int = 3):
        self.min_length = min_length
        self.min_classes = min_classes

    def _messages(self) -> dict[str, str]:
        n = {"length": self.min_length, "classes": self.min_classes}
        return {
            "too_short": _("密码太短,至少需要 %(length)d 个字符。") % n,
            "too_simple": _(
                "密码须包含小写字母、大写字母、数字、其他符号四类中的至少 %(classes)d 类。"
            )
            % n,
        }

    def validate(self, password: str, user=None) -> None:
        breaches = password_breaches(
            password, min_length=self.min_length, min_classes=self.min_classes
        )
        if breaches:
            messages = self._messages()
            raise ValidationError(
                [ValidationError(messages[code], code=f"password_{code}") for code in breaches]
            )

    def get_help_text(self) -> str:
        return _(
            "密码至少 %(length)d 个字符,且包含小写字母、大写字母、数字、其他符号四类中的至少 "
            "%(classes)d 类。"
        ) % {"length": self.min_length, "classes": self.min_classes}
