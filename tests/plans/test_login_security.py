"""Login throttling (django-axes) and the session and CSRF cookie settings."""

from __future__ import annotations

import json
import multiprocessing
import os
import runpy
import subprocess
import sys
from datetime import timedelta

import pytest
from axes.models import AccessAttempt, AccessFailureLog
from django.conf import settings
from django.urls import reverse
from django.utils import timezone

from plans.client_ip import client_ip

pytestmark = pytest.mark.django_db

PASSWORD = "liaison-demo-2026"
IP = "10.1.2.3"
MANAGE = settings.BASE_DIR / "manage.py"


@pytest.fixture(autouse=True)
def fast_passwords(settings, django_user_model):
    """Re-hash the accounts these tests log in to with a fast hasher: dozens of logins."""
    settings.PASSWORD_HASHERS = [
        "django.contrib.auth.hashers.MD5PasswordHasher",
        "django.contrib.auth.hashers.PBKDF2PasswordHasher",
    ]
    for username, password in [("liaison", PASSWORD), ("admin", "admin-demo-2026")]:
        user = django_user_model.objects.get(username=username)
        user.set_password(password)
        user.save(update_fields=["password"])


def log_in(client, password, username="liaison", ip=IP, **headers):
    return client.post(
        reverse("login"), {"username": username, "password": password}, REMOTE_ADDR=ip, **headers
    )


def logged_in(client) -> bool:
    return "_auth_user_id" in client.session


def fail(client, times, username="liaison", ip=IP):
    return [log_in(client, "wrong-password", username, ip) for _ in range(times)]


def test_the_right_password_logs_in(client):
    response = log_in(client, PASSWORD)
    assert response.status_code == 302
    assert logged_in(client)


def test_five_wrong_passwords_lock_the_account_for_that_address(client):
    *first, fifth = fail(client, 5)

    assert [r.status_code for r in first] == [200] * 4
    assert "用户名或密码不正确" in first[-1].content.decode()
    assert fifth.status_code == 429
    page = fifth.content.decode()
    assert "登录已暂时锁定" in page
    assert "连续 5 次密码错误" in page
    assert "请 30 分钟后再试" in page

    right = log_in(client, PASSWORD)  # even the right password, while locked
    assert right.status_code == 429
    assert "登录已暂时锁定" in right.content.decode()
    assert not logged_in(client)


def test_the_lock_holds_only_that_username_from_that_address(client, django_user_model):
    fail(client, 5)

    assert log_in(client, PASSWORD, ip="10.9.9.9").status_code == 302  # another address
    client.logout()
    assert log_in(client, "office-demo-2026", username="office").status_code == 302  # another user


def test_a_successful_login_resets_the_count(client):
    fail(client, 4)
    assert log_in(client, PASSWORD).status_code == 302
    client.logout()

    assert [r.status_code for r in fail(client, 4)] == [200] * 4
    assert log_in(client, PASSWORD).status_code == 302


def test_the_lockout_is_recorded(client):
    fail(client, 5)

    attempt = AccessAttempt.objects.get(username="liaison", ip_address=IP)
    assert attempt.failures_since_start == 5
    assert AccessFailureLog.objects.filter(username="liaison", ip_address=IP).count() == 5
    assert AccessFailureLog.objects.filter(locked_out=True).exists()


def test_the_lock_lifts_after_30_minutes(client):
    fail(client, 5)
    assert log_in(client, PASSWORD).status_code == 429

    AccessAttempt.objects.update(attempt_time=timezone.now() - timedelta(minutes=31))

    assert log_in(client, PASSWORD).status_code == 302


def test_the_admin_login_is_throttled_too(client):
    url = reverse("admin:login")
    for _ in range(5):
        response = client.post(url, {"username": "admin", "password": "wrong"}, REMOTE_ADDR=IP)
    assert response.status_code == 429
    response = client.post(
        url, {"username": "admin", "password": "admin-demo-2026"}, REMOTE_ADDR=IP
    )
    assert response.status_code == 429


def test_session_and_csrf_cookies(client):
    page = client.get(reverse("login"))
    csrf = page.cookies[settings.CSRF_COOKIE_NAME]
    assert csrf["httponly"] is True
    assert csrf["samesite"] == "Lax"

    response = log_in(client, PASSWORD)

    session = response.cookies[settings.SESSION_COOKIE_NAME]
    assert session["httponly"] is True
    assert session["samesite"] == "Lax"
    assert session["max-age"] == "" and session["expires"] == ""  # gone when the browser closes
    assert settings.SESSION_COOKIE_AGE == 8 * 60 * 60  # and on the server after 8 hours


# -- Production settings, in a fresh process ------------------------------------------------------

PRODUCTION = {
    "DJANGO_DEBUG": "false",
    "DJANGO_SECRET_KEY": "test-only-" + "x9Qm3kT7pW" * 6,
    "DJANGO_ALLOWED_HOSTS": "tracker.example.gov.cn",
}


def run_production(*args: str, **extra: str) -> subprocess.CompletedProcess:
    env = {**os.environ, **PRODUCTION, **extra}
    return subprocess.run(  # noqa: S603 - our own manage.py with fixed arguments
        [sys.executable, str(MANAGE), *args],
        env=env,
        cwd=settings.BASE_DIR,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )


def test_production_settings_pass_the_deployment_checks():
    result = run_production("check", "--deploy", "--fail-level", "WARNING")
    assert result.returncode == 0, result.stdout + result.stderr


def test_production_cookies_and_throttle_settings():
    names = [
        "SESSION_COOKIE_SECURE",
        "SESSION_COOKIE_HTTPONLY",
        "SESSION_COOKIE_SAMESITE",
        "SESSION_EXPIRE_AT_BROWSER_CLOSE",
        "CSRF_COOKIE_SECURE",
        "CSRF_COOKIE_HTTPONLY",
        "CSRF_COOKIE_SAMESITE",
        "AXES_ENABLED",
        "AXES_FAILURE_LIMIT",
        "AXES_LOCKOUT_PARAMETERS",
        "AUTHENTICATION_BACKENDS",
        "MIDDLEWARE",
    ]
    code = (
        "import json; from django.conf import settings as s; "
        f"print(json.dumps({{n: getattr(s, n) for n in {names!r}}}))"
    )
    result = run_production("shell", "-c", code, AXES_FAILURE_LIMIT="3")
    assert result.returncode == 0, result.stderr
    values = json.loads(result.stdout.strip().splitlines()[-1])

    assert values["SESSION_COOKIE_SECURE"] is True
    assert values["SESSION_COOKIE_HTTPONLY"] is True
    assert values["SESSION_COOKIE_SAMESITE"] == "Lax"
    assert values["SESSION_EXPIRE_AT_BROWSER_CLOSE"] is True
    assert values["CSRF_COOKIE_SECURE"] is True
    assert values["CSRF_COOKIE_HTTPONLY"] is True
    assert values["CSRF_COOKIE_SAMESITE"] == "Lax"
    assert values["AXES_ENABLED"] is True
    assert values["AXES_FAILURE_LIMIT"] == 3  # from the environment
    assert values["AXES_LOCKOUT_PARAMETERS"] == [["username", "ip_address"]]
    assert values["AUTHENTICATION_BACKENDS"][0] == "axes.backends.AxesStandaloneBackend"
    assert values["MIDDLEWARE"][-1] == "axes.middleware.AxesMiddleware"


# -- Behind a reverse proxy -----------------------------------------------------------------------


@pytest.mark.parametrize(
    ("remote", "forwarded", "trusted", "ip"),
    [
        ("10.1.1.1", "", [], "10.1.1.1"),
        ("10.1.1.1", "6.6.6.6", [], "10.1.1.1"),  # no proxy trusted: the header is ignored
        ("127.0.0.1", "10.2.2.2", ["127.0.0.1"], "10.2.2.2"),
        ("127.0.0.1", "6.6.6.6, 10.2.2.2", ["127.0.0.1"], "10.2.2.2"),  # left part is forged
        ("127.0.0.1", "10.2.2.2, 10.0.0.5", ["127.0.0.1", "10.0.0.5"], "10.2.2.2"),
        ("127.0.0.1", "", ["127.0.0.1"], "127.0.0.1"),
        ("10.9.9.9", "10.2.2.2", ["127.0.0.1"], "10.9.9.9"),  # not from our proxy
    ],
)
def test_client_ip_believes_x_forwarded_for_only_from_a_trusted_proxy(
    remote, forwarded, trusted, ip
):
    assert client_ip(remote, forwarded, trusted) == ip


def test_behind_the_proxy_the_lock_holds_the_users_address_not_the_proxys(client, settings):
    settings.TRUSTED_PROXIES = ["127.0.0.1"]
    for _ in range(5):
        log_in(client, "wrong", ip="127.0.0.1", HTTP_X_FORWARDED_FOR="10.5.5.5")

    assert AccessFailureLog.objects.filter(ip_address="10.5.5.5").count() == 5
    locked = log_in(client, PASSWORD, ip="127.0.0.1", HTTP_X_FORWARDED_FOR="10.5.5.5")
    assert locked.status_code == 429
    elsewhere = log_in(client, PASSWORD, ip="127.0.0.1", HTTP_X_FORWARDED_FOR="10.6.6.6")
    assert elsewhere.status_code == 302


# -- gunicorn (config/gunicorn.py) ----------------------------------------------------------------

GUNICORN = settings.BASE_DIR / "config" / "gunicorn.py"


def test_gunicorn_reads_its_settings_from_the_environment(monkeypatch):
    monkeypatch.setenv("GUNICORN_BIND", "0.0.0.0:8080")
    monkeypatch.setenv("GUNICORN_WORKERS", "3")
    config = runpy.run_path(str(GUNICORN))
    assert config["bind"] == ["0.0.0.0:8080"]
    assert config["workers"] == 3
    assert config["wsgi_app"] == "config.wsgi:application"
    assert config["accesslog"] == "-"


def test_gunicorn_defaults_to_two_workers_a_core_plus_one(monkeypatch):
    monkeypatch.delenv("GUNICORN_WORKERS", raising=False)
    monkeypatch.setattr(multiprocessing, "cpu_count", lambda: 4)
    assert runpy.run_path(str(GUNICORN))["workers"] == 9


def test_gunicorn_refuses_a_worker_count_that_is_not_a_number(monkeypatch):
    monkeypatch.setenv("GUNICORN_WORKERS", "many")
    with pytest.raises(SystemExit, match="GUNICORN_WORKERS must be a whole number"):
        runpy.run_path(str(GUNICORN))
