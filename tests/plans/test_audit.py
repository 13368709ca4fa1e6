"""Audit records of logins and changes: kept at least six months, read-only in the admin."""

from __future__ import annotations

import datetime as dt
import io
import os
import subprocess
import sys
from decimal import Decimal

import pytest
from axes.models import AccessFailureLog, AccessLog
from django.conf import settings
from django.core.management import call_command
from django.core.management.base import CommandError
from django.urls import reverse
from django.utils import timezone

from indicators.models import Measurement
from plans.audit import history_models, login_username, retention_refusal
from tests.builders import make_indicator, make_plan

pytestmark = pytest.mark.django_db

HistoricalMeasurement = Measurement.history.model


def days_ago(days: int) -> dt.datetime:
    return timezone.now() - dt.timedelta(days=days)


def login_record(username: str, age_days: int) -> AccessLog:
    record = AccessLog.objects.create(username=username, ip_address="10.0.0.1", user_agent="t")
    AccessLog.objects.filter(pk=record.pk).update(attempt_time=days_ago(age_days))
    return record


def failure_record(username: str, age_days: int) -> AccessFailureLog:
    record = AccessFailureLog.objects.create(
        username=username, ip_address="10.0.0.1", user_agent="t"
    )
    AccessFailureLog.objects.filter(pk=record.pk).update(attempt_time=days_ago(age_days))
    return record


@pytest.mark.parametrize(
    ("days", "minimum", "refused"),
    [(183, 183, False), (400, 183, False), (182, 183, True), (0, 183, True), (200, 365, True)],
)
def test_retention_refusal_refuses_anything_younger_than_the_minimum(days, minimum, refused):
    assert (retention_refusal(days, minimum) is not None) is refused


def test_the_retention_setting_is_at_least_six_months():
    assert settings.AUDIT_RETENTION_DAYS >= 183


def run_check(**extra: str) -> subprocess.CompletedProcess:
    return subprocess.run(  # noqa: S603 - our own manage.py with fixed arguments
        [sys.executable, str(settings.BASE_DIR / "manage.py"), "check"],
        env={**os.environ, **extra},
        cwd=settings.BASE_DIR,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )


def test_a_retention_setting_under_six_months_stops_the_app():
    result = run_check(AUDIT_RETENTION_DAYS="90")
    assert result.returncode != 0
    assert "AUDIT_RETENTION_DAYS must be at least 183" in result.stderr


# -- What is recorded ----------------------------------------------------------------------------


def test_logins_logouts_and_failures_are_recorded(client, settings, liaison_user):
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
    liaison_user.set_password("liaison-demo-2026")
    liaison_user.save()
    url = reverse("login")

    client.post(url, {"username": "liaison", "password": "wrong"}, REMOTE_ADDR="10.7.7.7")
    client.post(
        url, {"username": "liaison", "password": "liaison-demo-2026"}, REMOTE_ADDR="10.7.7.7"
    )
    client.post(reverse("logout"), REMOTE_ADDR="10.7.7.7")

    assert AccessFailureLog.objects.filter(username="liaison", ip_address="10.7.7.7").count() == 1
    login = AccessLog.objects.get(username="liaison", ip_address="10.7.7.7")
    assert login.logout_time is not None


def test_changes_are_recorded_with_who_and_when(office_user):
    plan = make_plan()
    measurement = Measurement.objects.create(
        indicator=make_indicator(plan), period_end=dt.date(2019, 12, 31), value=Decimal(5)
    )
    measurement.value = Decimal(7)
    measurement._change_reason = "test"
    measurement.save()
    assert [h.value for h in measurement.history.order_by("history_id")] == [5, 7]
    assert HistoricalMeasurement in history_models()


# -- Pruning -------------------------------------------------------------------------------------


def test_prune_audit_deletes_only_login_records_older_than_n_days():
    old = [login_record("old", 400), failure_record("old", 300)]
    young = [login_record("young", 100), failure_record("young", 199)]

    call_command("prune_audit", "--older-than-days", "200", stdout=io.StringIO())

    assert not AccessLog.objects.filter(pk=old[0].pk).exists()
    assert not AccessFailureLog.objects.filter(pk=old[1].pk).exists()
    assert AccessLog.objects.filter(pk=young[0].pk).exists()
    assert AccessFailureLog.objects.filter(pk=young[1].pk).exists()


@pytest.mark.parametrize("days", ["182", "30", "0", "-5"])
def test_prune_audit_refuses_fewer_days_than_the_retention(days):
    record = login_record("old", 400)
    with pytest.raises(CommandError, match="kept at least 183 days"):
        call_command("prune_audit", "--older-than-days", days)
    assert AccessLog.objects.filter(pk=record.pk).exists()


def test_prune_audit_follows_a_longer_retention_setting(settings):
    settings.AUDIT_RETENTION_DAYS = 365
    with pytest.raises(CommandError, match="kept at least 365 days"):
        call_command("prune_audit", "--older-than-days", "200")


def test_a_dry_run_deletes_nothing(capsys):
    record = login_record("old", 400)
    call_command("prune_audit", "--older-than-days", "183", "--dry-run")
    assert AccessLog.objects.filter(pk=record.pk).exists()
    assert "axes.AccessLog: would delete 1 record(s)" in capsys.readouterr().out


def test_change_history_is_pruned_only_when_asked_and_keeps_each_latest_record():
    measurement = Measurement.objects.create(
        indicator=make_indicator(make_plan()), period_end=dt.date(2019, 12, 31), value=Decimal(1)
    )
    for value in (2, 3):
        measurement.value = Decimal(value)
        measurement.save()
    HistoricalMeasurement.objects.filter(id=measurement.pk).update(history_date=days_ago(400))
    devnull = io.StringIO()

    call_command("prune_audit", "--older-than-days", "200", stdout=devnull)
    assert measurement.history.count() == 3

    call_command("prune_audit", "--older-than-days", "200", "--include-history", stdout=devnull)
    assert [h.value for h in measurement.history.all()] == [3]  # who set today's value stays


# -- Read-only in the admin ----------------------------------------------------------------------


@pytest.fixture
def admin_client(client, django_user_model):
    client.force_login(django_user_model.objects.get(username="admin"))
    return client


def test_superusers_read_the_audit_records_but_cannot_add_change_or_delete_them(admin_client):
    record = login_record("liaison", 1)
    failure = failure_record("liaison", 1)
    measurement = Measurement.objects.create(
        indicator=make_indicator(make_plan()), period_end=dt.date(2019, 12, 31), value=Decimal(1)
    )
    history = measurement.history.get()
    for model, pk in [
        ("axes_accesslog", record.pk),
        ("axes_accessfailurelog", failure.pk),
        ("indicators_historicalmeasurement", history.history_id),
    ]:
        listing = admin_client.get(reverse(f"admin:{model}_changelist"))
        assert listing.status_code == 200, model
        assert reverse(f"admin:{model}_add") not in listing.content.decode(), model
        assert admin_client.get(reverse(f"admin:{model}_add")).status_code == 403, model

        page = admin_client.get(reverse(f"admin:{model}_change", args=[pk]))
        assert page.status_code == 200, model  # shown, read-only
        assert 'name="_save"' not in page.content.decode(), model
        post = admin_client.post(reverse(f"admin:{model}_change", args=[pk]), {"username": "x"})
        assert post.status_code == 403, model
        assert (
            admin_client.post(
                reverse(f"admin:{model}_delete", args=[pk]), {"post": "yes"}
            ).status_code
            == 403
        ), model

    assert AccessLog.objects.get(pk=record.pk).username == "liaison"
    assert measurement.history.count() == 1


def test_the_login_records_filter_by_user_and_date(admin_client):
    login_record("liaison", 1)
    recent, old = login_record("office", 1), login_record("office", 40)
    url = reverse("admin:axes_accesslog_changelist")

    by_user = admin_client.get(url, {"username": "office"}).context["cl"]
    by_date = admin_client.get(url, {"attempt_time__gte": days_ago(7).isoformat()})

    assert {r.pk for r in by_user.result_list} == {recent.pk, old.pk}
    dated = {r.pk for r in by_date.context["cl"].result_list}
    assert recent.pk in dated and old.pk not in dated
    fields = [spec.field_path for spec in by_user.filter_specs]
    assert fields[:2] == ["attempt_time", "username"]


def test_the_change_history_filters_by_user_and_date(admin_client, office_user):
    listing = admin_client.get(reverse("admin:indicators_historicalmeasurement_changelist"))
    fields = [spec.field_path for spec in listing.context["cl"].filter_specs]
    assert fields[:2] == ["history_date", "history_user"]


def test_the_history_page_of_a_value_offers_no_revert(admin_client):
    assert settings.SIMPLE_HISTORY_REVERT_DISABLED is True


@pytest.mark.parametrize(
    ("credentials", "recorded"),
    [
        ({"username": "office"}, "office"),
        ({"username": "长" * 100_000}, "长" * 150),
        ({"username": None}, None),
        ({}, None),
    ],
)
def test_the_login_records_keep_at_most_the_longest_real_user_name(credentials, recorded):
    assert login_username(None, credentials) == recorded
