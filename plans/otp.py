"""The second factor (TOTP, django-otp): who may or must use it, and the gate after login.

The password login leaves a mark in the session when a code is still owed: "verify" for a user
with a confirmed authenticator, "enrol" for an office or admin account that must set one up
(OTP_REQUIRED_FOR_OFFICE). Until the mark is cleared by a right code, every page sends the user
to that step. Deciding at login keeps ordinary pages free of extra queries.
"""

from __future__ import annotations

from django.conf import settings
from django.contrib.auth import user_logged_in
from django.dispatch import receiver
from django.shortcuts import redirect
from django.urls import reverse
from django.utils.http import urlencode
from django_otp.plugins.otp_totp.models import TOTPDevice

from plans.roles import can_edit_plans
from plans.sessions import judged_by_token

STEP = "otp_step"  # "verify" or "enrol" while a code is owed
ELIGIBLE = "otp_eligible"  # the user menu shows the 2FA page to these accounts
VERIFY = "verify"
ENROL = "enrol"

# Pages a user owing a code may still open: the steps themselves, logging out, the language.
OPEN_WHILE_PENDING = {"otp-verify", "otp-setup", "logout", "login", "set_language"}


def may_use_second_factor(*, is_office: bool, is_staff: bool, is_superuser: bool) -> bool:
    """Office staff and administrators may enrol an authenticator; others are not offered it."""
    return is_office or is_staff or is_superuser


def step_after_password(*, has_device: bool, eligible: bool, required: bool) -> str | None:
    """What a login still owes after the right password: a code, an enrolment, or nothing."""
    if has_device:
        return VERIFY
    if eligible and required:
        return ENROL
    return None


def is_eligible(user) -> bool:
    return may_use_second_factor(
        is_office=can_edit_plans(user), is_staff=user.is_staff, is_superuser=user.is_superuser
    )


def confirmed_device(user) -> TOTPDevice | None:
    return TOTPDevice.objects.filter(user=user, confirmed=True).order_by("pk").first()


def mark_session(request, user) -> None:
    """Note in the session what this login still owes (called at login and after changes)."""
    eligible = is_eligible(user)
    step = step_after_password(
        has_device=confirmed_device(user) is not None,
        eligible=eligible,
        required=settings.OTP_REQUIRED_FOR_OFFICE,
    )
    request.session[ELIGIBLE] = eligible
    if step is None:
        request.session.pop(STEP, None)
    else:
        request.session[STEP] = step


@receiver(user_logged_in, dispatch_uid="plans.otp.mark_session")
def _on_login(sender, request, user, **kwargs):
    if request is not None and hasattr(request, "session"):
        mark_session(request, user)


class SecondFactorMiddleware:
    """Send a session that still owes a code to the verify (or enrol) step, admin included."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        return self.get_response(request)

    def process_view(self, request, view_func, view_args, view_kwargs):
        if judged_by_token(request) or not request.user.is_authenticated:
            return None
        step = request.session.get(STEP)
        # By name, so the admin's own login and logout stay open as well.
        if step is None or request.resolver_match.url_name in OPEN_WHILE_PENDING:
            return None
        target = "otp-verify" if step == VERIFY else "otp-setup"
        return redirect(f"{reverse(target)}?{urlencode({'next': request.get_full_path()})}")
