"""The second-factor pages: enrol an authenticator, give its code after login, remove it."""

from __future__ import annotations

import math
import unicodedata
from base64 import b32encode

import segno
from django import forms
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils import timezone
from django.utils.http import url_has_allowed_host_and_scheme
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_POST
from django_otp import DEVICE_ID_SESSION_KEY
from django_otp import login as otp_login
from django_otp.plugins.otp_totp.models import TOTPDevice

from plans.otp import ENROL, STEP, confirmed_device, is_eligible, mark_session


def normalize_code(text: str) -> str | None:
    """The six digits of a code as typed ("123 456", full-width "１２３４５６"), or None."""
    digits = "".join(unicodedata.normalize("NFKC", text).split())
    if len(digits) == 6 and digits.isascii() and digits.isdigit():
        return digits
    return None


class CodeForm(forms.Form):
    code = forms.CharField(
        label=gettext_lazy("验证码"),
        max_length=20,
        widget=forms.TextInput(
            attrs={"inputmode": "numeric", "autocomplete": "one-time-code", "autofocus": True}
        ),
    )

    def clean_code(self) -> str:
        code = normalize_code(self.cleaned_data["code"])
        if code is None:
            raise forms.ValidationError(_("请输入验证器应用中显示的 6 位数字。"))
        return code


def check_code(device: TOTPDevice, code: str) -> str | None:
    """Try a code on a device: None when right, else why not (wrong, or too many tries)."""
    allowed, data = device.verify_is_allowed()
    if not allowed:
        wait = (data or {}).get("locked_until")
        seconds = max(1, math.ceil((wait - timezone.now()).total_seconds())) if wait else 1
        return _("错误次数过多,请 %(seconds)d 秒后再试。") % {"seconds": seconds}
    if device.verify_token(code):
        return None
    return _("验证码不正确,请输入验证器应用中当前显示的 6 位数字。")


def _next_url(request: HttpRequest, default: str = "home") -> str:
    target = request.POST.get("next") or request.GET.get("next") or ""
    if url_has_allowed_host_and_scheme(
        target, allowed_hosts={request.get_host()}, require_https=request.is_secure()
    ):
        return target
    return default


def _setup_context(request: HttpRequest, device: TOTPDevice, form: CodeForm) -> dict:
    qr = segno.make(device.config_url, error="m")
    secret = b32encode(device.bin_key).decode()
    return {
        "form": form,
        "qr_svg": qr.svg_inline(
            omitsize=True, dark="#000", light="#fff", title=_("两步验证二维码")
        ),
        "secret": " ".join(secret[i : i + 4] for i in range(0, len(secret), 4)),
        "next": _next_url(request, ""),
    }


@login_required
def otp_setup(request: HttpRequest) -> HttpResponse:
    """Show the authenticator's state; without one, a QR code to scan and a code to confirm."""
    if not is_eligible(request.user):
        raise PermissionDenied
    device = confirmed_device(request.user)
    if device is not None:
        return render(
            request, "registration/otp_setup.html", {"device": device, "form": CodeForm()}
        )

    # The same unconfirmed secret until it is confirmed, so a reload keeps the scanned code valid.
    pending = TOTPDevice.objects.filter(user=request.user, confirmed=False).order_by("pk").first()
    if pending is None:
        pending = TOTPDevice.objects.create(
            user=request.user, name="authenticator", confirmed=False
        )
    form = CodeForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        error = check_code(pending, form.cleaned_data["code"])
        if error is None:
            pending.confirmed = True
            pending.save(update_fields=["confirmed"])
            request.session.cycle_key()
            otp_login(request, pending)
            request.session.pop(STEP, None)
            messages.success(
                request, _("两步验证已启用。今后登录时,输入密码后还需输入验证器中的 6 位验证码。")
            )
            return redirect(_next_url(request, "otp-setup"))
        form.add_error("code", error)
    return render(request, "registration/otp_setup.html", _setup_context(request, pending, form))


@login_required
def otp_verify(request: HttpRequest) -> HttpResponse:
    """The step after the password: the code from the user's authenticator."""
    device = confirmed_device(request.user)
    if device is None:
        if request.session.get(STEP) == ENROL:
            return redirect("otp-setup")
        request.session.pop(STEP, None)  # the authenticator was removed meanwhile
        return redirect(_next_url(request))
    form = CodeForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        error = check_code(device, form.cleaned_data["code"])
        if error is None:
            request.session.cycle_key()
            otp_login(request, device)
            request.session.pop(STEP, None)
            return redirect(_next_url(request))
        form.add_error("code", error)
    return render(
        request, "registration/otp_verify.html", {"form": form, "next": _next_url(request, "")}
    )


@login_required
@require_POST
def otp_remove(request: HttpRequest) -> HttpResponse:
    """Remove the authenticator; the current code proves the phone is still at hand."""
    if not is_eligible(request.user):
        raise PermissionDenied
    device = confirmed_device(request.user)
    if device is None:
        return redirect("otp-setup")
    form = CodeForm(request.POST)
    if form.is_valid():
        error = check_code(device, form.cleaned_data["code"])
        if error is None:
            TOTPDevice.objects.filter(user=request.user).delete()
            request.session.pop(DEVICE_ID_SESSION_KEY, None)
            mark_session(request, request.user)  # may now owe an enrolment
            messages.success(request, _("两步验证已停用。"))
            return redirect("otp-setup")
        form.add_error("code", error)
    return render(request, "registration/otp_setup.html", {"device": device, "form": form})
