"""Sessions end after 30 minutes without a request, and 8 hours after the login in any case."""

from __future__ import annotations

import datetime as dt

import pytest
from axes.models import AccessLog
from django.conf import settings as django_settings
from django.urls import reverse
from django.utils import timezone

from plans import sessions
from plans.models import ApiToken
from plans.sessions import Ended, session_end

pytestmark = pytest.mark.django_db

MINUTE = 60
HOUR = 60 * MINUTE


@pytest.mark.parametrize(
    ("elapsed", "idle_for", "ended"),
    [
        (0, 0, None),
        (29 * MINUTE, 29 * MINUTE, None),
        (30 * MINUTE, 30 * MINUTE, Ended.IDLE),
        (7 * HOUR, 29 * MINUTE, None),
        (8 * HOUR - 1, 0, None),
        (8 * HOUR, 0, Ended.ABSOLUTE),
        (9 * HOUR, 2 * HOUR, Ended.ABSOLUTE),  # both: the absolute limit is the reason given
    ],
)
def test_session_end_applies_the_idle_and_the_absolute_limit(elapsed, idle_for, ended):
    now = 1_000_000.0
    assert (
        session_end(
            now=now,
            started=now - elapsed,
            last_seen=now - idle_for,
            idle=dt.timedelta(minutes=30),
            absolute=dt.timedelta(hours=8),
        )
        is ended
    )


class Clock:
    def __init__(self):
        self.moment = timezone.now()

    def __call__(self):
        return self.moment

    def advance(self, **delta):
        self.moment += dt.timedelta(**delta)


@pytest.fixture
def clock(monkeypatch):
    clock = Clock()
    monkeypatch.setattr(sessions, "now", clock)
    return clock


@pytest.fixture
def liaison_client(client, liaison_user, clock):
    client.force_login(liaison_user)
    return client


def logged_in(client) -> bool:
    return "_auth_user_id" in client.session


def test_a_session_used_within_30_minutes_goes_on(liaison_client, clock):
    clock.advance(minutes=29)
    assert liaison_client.get(reverse("home")).status_code == 200
    assert logged_in(liaison_client)


def test_30_minutes_without_a_request_log_the_user_out(liaison_client, clock):
    clock.advance(minutes=30)

    response = liaison_client.get(reverse("overview"))

    assert response.status_code == 302
    assert response["Location"] == f"{reverse('login')}?next={reverse('overview')}"
    assert not logged_in(liaison_client)
    page = liaison_client.get(response["Location"]).content.decode()
    assert "已 30 分钟未操作,为安全起见已自动退出,请重新登录。" in page


def test_each_request_restarts_the_idle_count(liaison_client, clock):
    for _ in range(4):  # two hours of work, a page every 25 minutes
        clock.advance(minutes=25)
        assert liaison_client.get(reverse("home")).status_code == 200
    assert logged_in(liaison_client)


def test_eight_hours_after_login_the_session_ends_however_busy(liaison_client, clock):
    for _ in range(19):  # a page every 25 minutes: 7 h 55 min
        clock.advance(minutes=25)
        assert liaison_client.get(reverse("home")).status_code == 200
    clock.advance(minutes=5)

    response = liaison_client.get(reverse("home"))

    assert response.status_code == 302
    assert not logged_in(liaison_client)
    page = liaison_client.get(response["Location"]).content.decode()
    assert "登录已超过最长时限,为安全起见已自动退出,请重新登录。" in page


def test_the_idle_limit_is_a_setting(liaison_client, clock, settings):
    settings.SESSION_IDLE_TIMEOUT = dt.timedelta(minutes=10)
    clock.advance(minutes=10)
    assert liaison_client.get(reverse("home")).status_code == 302
    assert not logged_in(liaison_client)


def test_reading_pages_within_a_minute_does_not_rewrite_the_session(liaison_client, clock):
    first_seen = liaison_client.session[sessions.LAST_SEEN]
    clock.advance(seconds=30)
    liaison_client.get(reverse("home"))
    assert liaison_client.session[sessions.LAST_SEEN] == first_seen

    clock.advance(seconds=40)
    liaison_client.get(reverse("home"))
    assert liaison_client.session[sessions.LAST_SEEN] == first_seen + 70


def test_a_time_out_is_recorded_as_a_logout(client, clock):
    client.post(
        reverse("login"),
        {"username": "leader", "password": "leader-demo-2026"},
        REMOTE_ADDR="10.4.4.4",
    )
    assert logged_in(client)
    clock.advance(minutes=31)

    client.get(reverse("home"))

    record = AccessLog.objects.get(username="leader", ip_address="10.4.4.4")
    assert record.logout_time is not None


def test_the_settings_keep_both_limits():
    idle, absolute = django_settings.SESSION_IDLE_TIMEOUT, django_settings.SESSION_ABSOLUTE_TIMEOUT
    assert (idle, absolute) == (dt.timedelta(minutes=30), dt.timedelta(hours=8))


@pytest.mark.parametrize(
    ("header", "judged"),
    [("Bearer abc", True), ("bearer abc", True), ("Basic abc", False), ("", False)],
)
def test_judged_by_token_spots_api_requests_with_a_bearer_token(rf, header, judged):
    request = rf.get("/api/", headers={"Authorization": header} if header else {})
    assert sessions.judged_by_token(request) is judged


def test_an_api_request_with_a_token_neither_ends_nor_extends_the_session(
    liaison_client, clock, office_user
):
    _, key = ApiToken.objects.issue(user=office_user, name="省平台")
    url = reverse("api-plan-progress", args=["liucheng"])
    clock.advance(minutes=31)

    answer = liaison_client.get(url, headers={"Authorization": f"Bearer {key}"})

    assert answer.status_code == 200
    assert logged_in(liaison_client)  # the token decided; the session was not looked at
    assert liaison_client.get(reverse("home")).status_code == 302  # and it has still timed out
