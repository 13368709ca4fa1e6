"""The access matrix: every URL of the site, for every role, answers as expected.

A new URL fails `test_every_url_is_in_the_matrix` until its row is added here, so access is a
decision made for each page, not an accident of which links a menu shows.
"""

from __future__ import annotations

import pytest
from django.contrib.auth import get_user_model
from django.core.files.base import ContentFile
from django.test import Client
from django.urls import URLPattern, URLResolver, get_resolver, reverse

from plans.models import Department
from reports import services
from reports.models import Evidence, Report, ReportingPeriod
from tasks.models import Task

pytestmark = pytest.mark.django_db

ROLES = ["anonymous", "outsider", "liaison", "other_liaison", "leader", "office"]
LOGIN = "login"  # a redirect to the login page
R = "read"  # 200 for everyone logged in, login for the anonymous

# url name → expected GET answer per role, in ROLES order (an int is a status code).
GET = {
    "home": R,
    "overview": R,
    "plan-detail": R,
    "plan-document": R,
    "department-list": R,
    "department-detail": R,
    "indicator-detail": R,
    "task-detail": R,
    "measurement-edit": (LOGIN, 403, 403, 403, 403, 200),
    "measurement-grid": (LOGIN, 403, 403, 403, 403, 200),
    "task-update": (LOGIN, 403, 403, 403, 403, 200),
    "task-import": (LOGIN, 403, 403, 403, 403, 200),
    "report-home": R,
    "report-detail": (LOGIN, 404, 200, 404, 200, 200),
    "report-history": (LOGIN, 404, 200, 404, 200, 200),
    "report-start": (LOGIN, 403, 200, 200, 403, 403),
    "report-board": (LOGIN, 403, 403, 403, 200, 200),
    "report-circular": (LOGIN, 403, 403, 403, 200, 200),
    "report-circular-export": (LOGIN, 403, 403, 403, 200, 200),
    "report-export": (LOGIN, 403, 403, 403, 200, 200),
    "report-export-department": (LOGIN, 404, 200, 404, 200, 200),
    "period-list": (LOGIN, 403, 403, 403, 200, 200),
    "period-edit": (LOGIN, 403, 403, 403, 403, 200),
    "api-plan-progress": (401, 200, 200, 200, 200, 200),
    "api-openapi": (200, 200, 200, 200, 200, 200),
    "healthz": (200, 200, 200, 200, 200, 200),
    "login": (200, 200, 200, 200, 200, 200),
    "password_change": (LOGIN, 200, 200, 200, 200, 200),
    "password_change_done": (LOGIN, 200, 200, 200, 200, 200),
    "evidence-download": (LOGIN, 404, 200, 404, 200, 200),
    "otp-setup": (LOGIN, 403, 403, 403, 403, 200),  # office and admin accounts only
    "otp-verify": R,  # without an authenticator it sends the user on
}
# POST-only actions on the liaison's report: who may, and what the others get.
POST = {
    "task-import-confirm": (LOGIN, 403, 403, 403, 403, "ok"),
    "report-edit": (LOGIN, 404, "ok", 404, 403, 403),
    "report-return": (LOGIN, 404, 403, 404, 403, "ok"),
    "report-return-item": (LOGIN, 404, 403, 404, 403, "ok"),
    "report-accept": (LOGIN, 404, 403, 404, 403, "ok"),
    "report-reopen": (LOGIN, 404, 403, 404, 403, "ok"),
    "report-comment": (LOGIN, 404, 403, 404, "ok", "ok"),
    "evidence-upload": (LOGIN, 404, "ok", 404, 403, 403),
    "evidence-delete": (LOGIN, 404, "ok", 404, 403, 403),
    "otp-remove": (LOGIN, 403, 403, 403, 403, "ok"),
}
# Not part of the product's own pages: Django's and the language switch, tested elsewhere.
SKIPPED = {
    "set_language",
    "logout",
    "password_reset",
    "password_reset_done",
    "password_reset_confirm",
    "password_reset_complete",
    None,  # the API's catch-all JSON 404
}


def named_urls(patterns=None) -> set[str | None]:
    names = set()
    for pattern in patterns if patterns is not None else get_resolver().url_patterns:
        if isinstance(pattern, URLResolver):
            if pattern.app_name == "admin":
                continue
            names |= named_urls(pattern.url_patterns)
        elif isinstance(pattern, URLPattern):
            names.add(pattern.name)
    return names


def test_every_url_is_in_the_matrix():
    assert named_urls() - set(GET) - set(POST) - SKIPPED == set()


@pytest.fixture
def cast(django_user_model, office_user, leader_user, liaison_user):
    User = get_user_model()
    return {
        "anonymous": None,
        "outsider": django_user_model.objects.create_user("nobody", password="x-2026-nobody"),
        "liaison": liaison_user,
        "other_liaison": User.objects.get(username="liaison2"),
        "leader": leader_user,
        "office": office_user,
    }


@pytest.fixture
def report(liaison_user, settings, tmp_path):
    period = ReportingPeriod.objects.get(plan__code="liucheng", kind="half", year=2019)
    department = Department.objects.get(jurisdiction__name="柳城县", name="县民政局")
    report = services.report_open(period=period, department=department, by=liaison_user)
    settings.MEDIA_ROOT = tmp_path
    evidence = Evidence(
        item=report.items.first(), name="证明.pdf", size=9, content_type="application/pdf"
    )
    evidence.file.save("证明.pdf", ContentFile(b"%PDF-1.4\n"), save=False)
    evidence.save()
    return report


def url_for(name: str, report: Report) -> str:
    task = Task.objects.filter(plan__code="liucheng").order_by("position").first()
    args = {
        "plan-detail": ["liucheng"],
        "plan-document": ["liucheng"],
        "department-detail": [report.department_id],
        "indicator-detail": ["liucheng", "new-beds"],
        "measurement-edit": ["liucheng", "new-beds"],
        "measurement-grid": ["liucheng", "2019-12-31"],
        "task-detail": ["liucheng", task.pk],
        "task-update": ["liucheng", task.pk],
        "task-import": ["liucheng"],
        "task-import-confirm": ["liucheng"],
        "report-start": ["liucheng", "2019-07"],
        "report-board": ["liucheng", "2019-07"],
        "report-circular": ["liucheng", "2019-07"],
        "report-circular-export": ["liucheng", "2019-07"],
        "report-export": ["liucheng", "2019-07"],
        "period-list": ["liucheng"],
        "period-edit": ["liucheng", "2019-07"],
        "api-plan-progress": ["liucheng"],
    }.get(name)
    evidence = Evidence.objects.filter(item__report=report).first()
    if name == "evidence-upload":
        args = [report.pk, evidence.item_id]
    elif name in ("evidence-download", "evidence-delete"):
        args = [evidence.pk]
    if name.startswith("report-") and args is None and name != "report-home":
        args = [report.pk]
    return reverse(name, args=args or [])


def client_for(user) -> Client:
    client = Client()
    if user is not None:
        client.force_login(user)
    return client


def check(response, expected, name: str, role: str) -> None:
    where = f"{name} as {role}"
    if expected == LOGIN:
        assert response.status_code == 302, where
        assert response["Location"].startswith(reverse("login")), where
    elif expected == "ok":
        assert response.status_code in (200, 302), where
        if response.status_code == 302:
            assert not response["Location"].startswith(reverse("login")), where
    else:
        assert response.status_code == expected, where


@pytest.mark.parametrize("name", sorted(GET))
def test_get_answers_each_role_as_the_matrix_says(cast, report, name):
    url = url_for(name, report)
    expected = GET[name]
    if expected == R:
        expected = (LOGIN, 200, 200, 200, 200, 200)
    for role, answer in zip(ROLES, expected, strict=True):
        response = client_for(cast[role]).get(url)
        if answer == 200 and response.status_code == 302:
            # A page may send a role elsewhere (the report home sends the office to its
            # boards); it must not send a logged-in user to the login page.
            assert not response["Location"].startswith(reverse("login")), (name, role)
            continue
        check(response, answer, name, role)


@pytest.mark.parametrize("name", sorted(POST))
def test_actions_are_refused_to_the_wrong_roles_and_change_nothing(cast, report, name):
    url = url_for(name, report)
    for role, answer in zip(ROLES, POST[name], strict=True):
        if answer == "ok":
            continue
        before = (report.state, report.version, report.events.count())
        response = client_for(cast[role]).post(url, {"comment": "越权操作", "action": "save"})
        check(response, answer, name, role)
        report.refresh_from_db()
        assert (report.state, report.version, report.events.count()) == before, (name, role)


def test_a_liaison_cannot_reach_another_departments_report_by_typing_its_url(cast, report):
    other = client_for(cast["other_liaison"])
    for name in ("report-detail", "report-history"):
        assert other.get(url_for(name, report)).status_code == 404
    response = other.post(url_for("report-edit", report), {"action": "submit"})
    assert response.status_code == 404
    report.refresh_from_db()
    assert report.state == Report.State.DRAFT
