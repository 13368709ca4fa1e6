"""The second factor: office and admin accounts enrol an authenticator app (TOTP), and then
every login owes its code before any page opens."""

from __future__ import annotations

import datetime as dt
import time

import pytest
from django.contrib.auth.models import User
from django.urls import reverse
from django.utils import timezone
from django_otp import DEVICE_ID_SESSION_KEY
from django_otp.oath import TOTP
from django_otp.plugins.otp_totp.models import TOTPDevice

from plans.otp import ENROL, VERIFY, may_use_second_factor, step_after_password
from plans.otp_views import normalize_code

pytestmark = pytest.mark.django_db

WRONG = "Code is wrong"


def code_for(device: TOTPDevice, steps_ahead: int = 0) -> str:
    """The code the user's phone shows now (or `steps_ahead` periods of 30 s later)."""
    totp = TOTP(device.bin_key, device.step, device.t0, device.digits, device.drift)
    totp.time = time.time() + steps_ahead * device.step
    return f"{totp.token():06d}"


def enrolled(user: User) -> TOTPDevice:
    return TOTPDevice.objects.create(user=user, name="phone", confirmed=True)


def locked_pages() -> list[str]:
    return [
        reverse("home"),
        reverse("overview"),
        reverse("plan-detail", args=["liucheng"]),
        reverse("report-home"),
        reverse("otp-remove"),
        reverse("admin:index"),
        reverse("password_change"),
    ]


# -- Who, and what a login owes: pure rules ------------------------------------------------------


@pytest.mark.parametrize(
    ("office", "staff", "superuser", "may"),
    [
        (True, False, False, True),
        (False, True, False, True),
        (False, False, True, True),
        (False, False, False, False),  # liaisons, leaders, no role
    ],
)
def test_office_and_admin_accounts_may_use_a_second_factor(office, staff, superuser, may):
    assert may_use_second_factor(is_office=office, is_staff=staff, is_superuser=superuser) is may


@pytest.mark.parametrize(
    ("has_device", "eligible", "required", "step"),
    [
        (True, True, False, VERIFY),
        (True, False, False, VERIFY),  # a device enrolled before a role changed still counts
        (False, True, False, None),
        (False, True, True, ENROL),
        (False, False, True, None),
    ],
)
def test_step_after_password(has_device, eligible, required, step):
    assert step_after_password(has_device=has_device, eligible=eligible, required=required) == step


@pytest.mark.parametrize(
    ("typed", "code"),
    [
        ("123456", "123456"),
        (" 123 456 ", "123456"),
        ("１２３４５６", "123456"),
        ("12345", None),
        ("1234567", None),
        ("12345a", None),
        ("", None),
    ],
)
def test_normalize_code_reads_six_digits_as_typed(typed, code):
    assert normalize_code(typed) == code


# -- Enrolment -----------------------------------------------------------------------------------


def test_office_staff_enrol_an_authenticator_with_a_qr_code(office_client, office_user):
    page = office_client.get(reverse("otp-setup"))

    assert page.status_code == 200
    html = page.content.decode()
    assert "<svg" in html and "两步验证二维码" in html  # drawn on the server, no script
    device = TOTPDevice.objects.get(user=office_user)
    assert device.confirmed is False
    assert page.context["secret"].replace(" ", "") in html.replace(" ", "")

    response = office_client.post(reverse("otp-setup"), {"code": code_for(device)})

    assert response.status_code == 302
    device.refresh_from_db()
    assert device.confirmed is True
    assert office_client.session[DEVICE_ID_SESSION_KEY] == device.persistent_id
    assert "两步验证已启用" in office_client.get(response["Location"]).content.decode()


def test_reloading_the_enrolment_page_keeps_the_same_secret(office_client, office_user):
    first = office_client.get(reverse("otp-setup")).context["secret"]
    second = office_client.get(reverse("otp-setup")).context["secret"]
    assert first == second
    assert TOTPDevice.objects.filter(user=office_user).count() == 1


def test_a_wrong_code_does_not_enrol_and_says_so_in_chinese(office_client, office_user):
    office_client.get(reverse("otp-setup"))
    device = TOTPDevice.objects.get(user=office_user)
    wrong = f"{(int(code_for(device)) + 1) % 1_000_000:06d}"

    response = office_client.post(reverse("otp-setup"), {"code": wrong})

    assert response.status_code == 200
    assert "验证码不正确,请输入验证器应用中当前显示的 6 位数字。" in response.content.decode()
    device.refresh_from_db()
    assert device.confirmed is False


def test_a_code_that_is_not_six_digits_is_refused_in_chinese(office_client):
    office_client.get(reverse("otp-setup"))
    response = office_client.post(reverse("otp-setup"), {"code": "abc"})
    assert "请输入验证器应用中显示的 6 位数字。" in response.content.decode()


def test_an_admin_account_may_enrol(client, django_user_model):
    client.force_login(django_user_model.objects.get(username="admin"))
    assert client.get(reverse("otp-setup")).status_code == 200


def test_liaisons_and_leaders_are_not_offered_a_second_factor(client, liaison_user, leader_user):
    for user in (liaison_user, leader_user):
        client.force_login(user)
        assert client.get(reverse("otp-setup")).status_code == 403
        assert "两步验证" not in client.get(reverse("home")).content.decode()
    assert not TOTPDevice.objects.exists()


def test_the_user_menu_links_office_staff_to_the_page(office_client):
    assert reverse("otp-setup") in office_client.get(reverse("home")).content.decode()


# -- The step after the password -----------------------------------------------------------------


def test_after_the_password_every_page_waits_for_the_code(client, office_user):
    enrolled(office_user)
    client.force_login(office_user)

    for url in locked_pages():
        response = client.get(url)
        assert response.status_code == 302, url
        assert response["Location"].startswith(reverse("otp-verify")), url


def test_a_user_owing_a_code_may_still_log_out(client, office_user):
    enrolled(office_user)
    client.force_login(office_user)
    response = client.post(reverse("logout"))
    assert response["Location"] == reverse("login")
    assert "_auth_user_id" not in client.session


def test_the_password_form_login_leads_to_the_code_step(client, office_user, settings):
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
    office_user.set_password("office-demo-2026")
    office_user.save()
    enrolled(office_user)

    response = client.post(
        reverse("login"), {"username": "office", "password": "office-demo-2026"}, follow=True
    )

    assert response.redirect_chain[-1][0].startswith(reverse("otp-verify"))
    assert "请输入手机验证器应用中显示的 6 位验证码。" in response.content.decode()


def test_the_right_code_opens_the_pages_and_returns_to_the_page_asked_for(client, office_user):
    device = enrolled(office_user)
    client.force_login(office_user)
    wanted = reverse("plan-detail", args=["liucheng"])
    verify_url = client.get(wanted)["Location"]

    response = client.post(verify_url, {"code": code_for(device), "next": wanted})

    assert response.status_code == 302
    assert response["Location"] == wanted
    for url in locked_pages()[:3]:
        assert client.get(url).status_code == 200, url


def test_a_wrong_code_keeps_the_pages_locked(client, office_user):
    device = enrolled(office_user)
    client.force_login(office_user)
    wrong = f"{(int(code_for(device)) + 1) % 1_000_000:06d}"

    response = client.post(reverse("otp-verify"), {"code": wrong})

    assert response.status_code == 200
    assert "验证码不正确" in response.content.decode()
    assert client.get(reverse("home"))["Location"].startswith(reverse("otp-verify"))


def test_the_code_step_never_redirects_off_site(client, office_user):
    device = enrolled(office_user)
    client.force_login(office_user)
    response = client.post(
        reverse("otp-verify"), {"code": code_for(device), "next": "https://evil.example/"}
    )
    assert response["Location"] == reverse("home")


def test_guessing_codes_is_throttled(client, office_user, settings):
    settings.OTP_TOTP_THROTTLE_FACTOR = 60  # a minute after the first wrong code, then two ...
    device = enrolled(office_user)
    client.force_login(office_user)
    wrong = f"{(int(code_for(device)) + 1) % 1_000_000:06d}"
    client.post(reverse("otp-verify"), {"code": wrong})

    response = client.post(reverse("otp-verify"), {"code": code_for(device)})  # even the right one

    assert "错误次数过多,请 60 秒后再试。" in response.content.decode()
    assert client.get(reverse("home")).status_code == 302
    device.refresh_from_db()
    assert device.throttling_failure_count == 1

    TOTPDevice.objects.filter(pk=device.pk).update(
        throttling_failure_timestamp=timezone.now() - dt.timedelta(seconds=61)
    )
    response = client.post(reverse("otp-verify"), {"code": code_for(device)})
    assert response.status_code == 302
    assert client.get(reverse("home")).status_code == 200


def test_the_admin_site_needs_the_code_too(client, django_user_model):
    admin_user = django_user_model.objects.get(username="admin")
    device = enrolled(admin_user)
    client.force_login(admin_user)
    for name in ("admin:index", "admin:plans_plan_changelist"):
        assert client.get(reverse(name))["Location"].startswith(reverse("otp-verify"))

    client.post(reverse("otp-verify"), {"code": code_for(device)})

    assert client.get(reverse("admin:index")).status_code == 200


def test_an_unconfirmed_device_asks_for_nothing(client, office_user):
    TOTPDevice.objects.create(user=office_user, name="half", confirmed=False)
    client.force_login(office_user)
    assert client.get(reverse("home")).status_code == 200


def test_liaisons_log_in_as_before(client, liaison_user, settings):
    settings.OTP_REQUIRED_FOR_OFFICE = True
    client.force_login(liaison_user)
    assert client.get(reverse("report-home")).status_code == 200
    assert client.get(reverse("otp-verify")).status_code == 302  # nothing owed: sent on


# -- Required for office accounts ----------------------------------------------------------------


def test_when_required_office_staff_without_a_device_are_sent_to_enrol(
    client, office_user, leader_user, settings
):
    settings.OTP_REQUIRED_FOR_OFFICE = True
    client.force_login(office_user)

    response = client.get(reverse("overview"))
    assert response["Location"].startswith(reverse("otp-setup"))
    assert client.get(reverse("otp-verify"))["Location"] == reverse("otp-setup")

    client.get(reverse("otp-setup"))
    device = TOTPDevice.objects.get(user=office_user)
    client.post(reverse("otp-setup"), {"code": code_for(device)})
    assert client.get(reverse("overview")).status_code == 200

    client.force_login(leader_user)  # leaders are not asked
    assert client.get(reverse("overview")).status_code == 200


def test_by_default_office_staff_without_a_device_go_straight_in(office_client):
    assert office_client.get(reverse("overview")).status_code == 200


# -- Removal -------------------------------------------------------------------------------------


def verified_client(client, user) -> tuple:
    device = enrolled(user)
    client.force_login(user)
    client.post(reverse("otp-verify"), {"code": code_for(device)})
    return client, device


def test_removing_the_device_needs_a_right_code(client, office_user):
    client, device = verified_client(client, office_user)
    wrong = f"{(int(code_for(device, 1)) + 1) % 1_000_000:06d}"

    response = client.post(reverse("otp-remove"), {"code": wrong})

    assert "验证码不正确" in response.content.decode()
    assert TOTPDevice.objects.filter(user=office_user).exists()


def test_removing_the_device_ends_the_code_step_at_the_next_login(client, office_user):
    client, device = verified_client(client, office_user)

    response = client.post(reverse("otp-remove"), {"code": code_for(device, 1)})

    assert response["Location"] == reverse("otp-setup")
    assert not TOTPDevice.objects.filter(user=office_user).exists()
    client.logout()
    client.force_login(office_user)
    assert client.get(reverse("home")).status_code == 200


def test_removing_when_required_sends_the_user_back_to_enrol(client, office_user, settings):
    settings.OTP_REQUIRED_FOR_OFFICE = True
    client, device = verified_client(client, office_user)

    client.post(reverse("otp-remove"), {"code": code_for(device, 1)})

    assert client.get(reverse("home"))["Location"].startswith(reverse("otp-setup"))


def test_a_verified_session_costs_no_query_more_per_page_than_one_without_a_device(
    client, office_user, django_assert_num_queries
):
    client.force_login(office_user)
    url = reverse("overview")
    client.get(url)  # fill the cache
    with django_assert_num_queries(3):  # session, user, groups: as README's overview figure
        client.get(url)

    device = enrolled(office_user)
    session = client.session
    session[DEVICE_ID_SESSION_KEY] = device.persistent_id  # as after the right code
    session.save()
    with django_assert_num_queries(3):  # the gate reads the session, never the device
        assert client.get(url).status_code == 200
