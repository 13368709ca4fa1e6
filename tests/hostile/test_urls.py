"""Hostile addresses: unknown codes and periods, odd primary keys, other departments' reports,
SQL-looking query strings, the API with bad tokens and dates, open redirects and missing CSRF.

Every answer is a page the user can read in Chinese (a 404, 403 or 400 page, or the page itself
with the odd parameter ignored), never a 500, and nothing changes.
"""

from __future__ import annotations

import pytest
from django.contrib.auth import get_user_model
from django.test import Client
from django.urls import reverse
from django.utils.http import url_has_allowed_host_and_scheme

from indicators.models import Measurement
from plans.models import ApiToken
from reports.models import Report
from tasks.models import Task
from tests.hostile.conftest import (
    SCRIPT,
    assert_nothing_live,
    assert_says_in_chinese,
    client_for,
    page_data,
    report_state,
)

pytestmark = pytest.mark.django_db

LONG = "x" * 5000
SQL = "'; DROP TABLE plans_plan; --"


# -- Unknown things answer 404 in Chinese --------------------------------------------------------


@pytest.mark.parametrize(
    "path",
    [
        "/plans/no-such-plan/",
        f"/plans/{'a' * 300}/",
        "/plans/liucheng%00/",
        "/plans/liucheng/%00/",
        "/plans/..%2F..%2Fetc%2Fpasswd/",
        f"/plans/{SQL}/",
        "/plans/liucheng/indicators/no-such-indicator/",
        "/plans/liucheng/tasks/abc/",
        "/plans/liucheng/tasks/99999999999999999999999/",
        "/plans/liucheng/tasks/-1/",
        "/departments/99999999999999999999999/",
        "/departments/1 OR 1=1/",
        "/reports/99999999999999999999999/",
        "/reports/abc/",
        "/reports/evidence/99999999999999999999999/",
        f"/{LONG}/",
    ],
)
def test_unknown_addresses_answer_a_chinese_404(office_client, path):
    response = office_client.get(path)
    assert response.status_code == 404
    assert_says_in_chinese(response, "页面不存在")
    assert_nothing_live(response.content.decode())


def test_a_task_of_another_plan_is_not_found_under_this_plan(office_client):
    task = Task.objects.filter(plan__code="panjin").first()
    response = office_client.get(reverse("task-detail", args=["liucheng", task.pk]))
    assert response.status_code == 404
    assert_says_in_chinese(response, "页面不存在")


@pytest.mark.parametrize(
    "period",
    [
        "2019-13",
        "2019-01",
        "9999-07",
        "0000-12",
        "2019-07%00",
        "٢٠١٩-07",
        "２０１９-07",
        "2019-7",
        LONG,
    ],
)
@pytest.mark.parametrize("name", ["report-board", "period-edit", "measurement-grid"])
def test_a_period_that_is_not_the_plans_answers_a_chinese_404(office_client, name, period):
    folder = {"report-board": "reports", "period-edit": "periods", "measurement-grid": "values"}
    response = office_client.get(f"/plans/liucheng/{folder[name]}/{period}/")
    assert response.status_code == 404
    assert_says_in_chinese(response)


@pytest.mark.parametrize("period", ["2019-13", "9999-07", "0000-12", "2019-07%00", "٢٠١٩-07"])
def test_a_liaison_starting_a_report_for_a_bad_period_gets_a_404_and_no_report(
    liaison_client, period
):
    before = Report.objects.count()
    response = liaison_client.post(f"/plans/liucheng/reports/{period}/mine/")
    assert response.status_code == 404
    assert_says_in_chinese(response)
    assert Report.objects.count() == before


# -- Odd query strings are ignored, not obeyed ---------------------------------------------------


@pytest.mark.parametrize(
    "query",
    [
        "period=2019-13",
        "period=9999-12-31",
        "period=0000-12-31",
        "period=0001-06-30",
        "period=2019-02-30",
        "period=%00",
        f"period={SCRIPT}",
        f"status={SCRIPT}",
        f"department={SQL}",
        "department=1 OR 1=1",
        "section=99999999999999999999999",
        "section=-1",
        f"i-sort={SQL}",
        "t-sort=__class__",
        "i-page=abc",
        "t-page=99999999999999999999",
        "i-per_page=-1",
        "t-per_page=-5",
        "i-per_page=0",
        "i-per_page=99999999999999999999",
        "department=²",
        "section=١",
        f"date={SCRIPT}",
    ],
)
@pytest.mark.parametrize("name", ["plan-detail", "plan-document", "overview"])
def test_pages_ignore_hostile_query_parameters(office_client, name, query):
    url = reverse(name, args=["liucheng"] if name != "overview" else [])
    response = office_client.get(f"{url}?{query}")
    assert response.status_code == 200
    assert_nothing_live(response.content.decode())


@pytest.mark.parametrize(
    "query", ["period=2019-13", "period=9999-12-31", f"period={SQL}", "period=%00"]
)
@pytest.mark.parametrize("name", ["indicator-detail", "measurement-edit", "task-update"])
def test_item_pages_ignore_a_hostile_period(office_client, name, query):
    if name == "task-update":
        args = ["liucheng", Task.objects.filter(plan__code="liucheng").first().pk]
    else:
        args = ["liucheng", "new-beds"]
    response = office_client.get(f"{reverse(name, args=args)}?{query}")
    assert response.status_code == 200


@pytest.mark.parametrize(
    ("url", "query"),
    [
        ("/plans/liucheng/reports/2019-07/", "per_page=-1"),
        ("/plans/liucheng/reports/2019-07/", "per_page=-1&page=2"),
        ("department", "l-per_page=-1"),
        ("department", "s-per_page=-3&s-page=-1"),
    ],
)
def test_a_negative_page_size_is_ignored(office_client, url, query):
    if url == "department":
        from plans.models import Department

        url = Department.objects.get(
            jurisdiction__name="柳城县", name="县民政局"
        ).get_absolute_url()
    response = office_client.get(f"{url}?{query}")
    assert response.status_code == 200


@pytest.mark.parametrize("version", ["abc", SCRIPT, "99999999999999999999999", "-1", "%00"])
def test_the_history_page_ignores_an_unknown_version(liaison_client, report, version):
    response = liaison_client.get(f"{reverse('report-history', args=[report.pk])}?v={version}")
    assert response.status_code == 200
    assert_nothing_live(response.content.decode())


# -- Another department's report (IDOR) ----------------------------------------------------------


@pytest.mark.parametrize("name", ["report-detail", "report-history"])
def test_another_departments_liaison_cannot_read_the_report(other_liaison, report, name):
    response = client_for(other_liaison).get(reverse(name, args=[report.pk]))
    assert response.status_code == 404
    assert_says_in_chinese(response, "页面不存在")


@pytest.mark.parametrize(
    ("name", "status"),
    [
        ("report-edit", 404),
        ("report-return", 404),
        ("report-accept", 404),
        ("report-comment", 404),
    ],
)
def test_another_departments_liaison_cannot_change_the_report(other_liaison, report, name, status):
    before = report_state(report)
    data = {**page_data(report), "comment": "越权"}
    response = client_for(other_liaison).post(reverse(name, args=[report.pk]), data)
    assert response.status_code == status
    assert_says_in_chinese(response)
    assert report_state(report) == before


@pytest.mark.parametrize("name", ["report-return", "report-accept", "report-reopen"])
def test_the_reports_own_liaison_cannot_review_it(liaison_client, report, name):
    before = report_state(report)
    response = liaison_client.post(reverse(name, args=[report.pk]), {"comment": "自己退回"})
    assert response.status_code == 403
    assert_says_in_chinese(response, "没有权限")
    assert report_state(report) == before


# -- Missing CSRF token --------------------------------------------------------------------------


def test_a_post_without_the_csrf_token_is_refused_in_chinese_and_saves_nothing(
    liaison_user, report, item
):
    client = Client(enforce_csrf_checks=True)
    client.force_login(liaison_user)
    before = report_state(report)
    data = page_data(report)
    data[f"item-{item.pk}-progress"] = "伪造请求"
    response = client.post(reverse("report-edit", args=[report.pk]), data)
    assert response.status_code == 403
    assert_says_in_chinese(response, "页面已失效")
    assert report_state(report) == before


def test_an_office_post_without_the_csrf_token_stores_no_value(office_user):
    client = Client(enforce_csrf_checks=True)
    client.force_login(office_user)
    before = Measurement.objects.count()
    url = reverse("measurement-edit", args=["liucheng", "new-beds"])
    response = client.post(url, {"period": "2019-12-31", "value": "300"})
    assert response.status_code == 403
    assert_says_in_chinese(response)
    assert Measurement.objects.count() == before


# -- Open redirects ------------------------------------------------------------------------------

HOSTILE_NEXT = [
    "https://evil.example/",
    "//evil.example/",
    "/\\evil.example/",
    "\\\\evil.example",
    "https:evil.example",
    "javascript:alert(1)",
    " https://evil.example",
    "http://testserver@evil.example/",
]


def stays_here(location: str) -> bool:
    return url_has_allowed_host_and_scheme(location, allowed_hosts={"testserver"}) and (
        "evil.example" not in location
    )


@pytest.mark.parametrize("target", HOSTILE_NEXT)
def test_the_language_switch_never_redirects_off_site(office_client, target):
    response = office_client.post(reverse("set_language"), {"language": "en", "next": target})
    assert response.status_code == 302
    assert stays_here(response["Location"]), response["Location"]


@pytest.mark.parametrize("target", HOSTILE_NEXT)
def test_logging_in_never_redirects_off_site(client, target, settings):
    response = client.post(
        reverse("login"),
        {"username": "office", "password": "office-demo-2026", "next": target},
    )
    assert response.status_code == 302
    assert stays_here(response["Location"]), response["Location"]


@pytest.mark.parametrize("target", ['"><script>alert(1)</script>', "javascript:alert(1)"])
def test_the_login_page_shows_a_hostile_next_escaped(client, target):
    response = client.get(reverse("login"), {"next": target})
    assert response.status_code == 200
    assert_nothing_live(response.content.decode())


@pytest.mark.parametrize("target", HOSTILE_NEXT[:3])
def test_logging_out_never_redirects_off_site(office_client, target):
    response = office_client.post(reverse("logout"), {"next": target})
    assert response.status_code == 302
    assert stays_here(response["Location"]), response["Location"]


# -- The JSON API --------------------------------------------------------------------------------


@pytest.fixture
def api_key(office_user) -> str:
    _, key = ApiToken.objects.issue(user=office_user, name="省平台")
    return key


def api(path: str = "liucheng", query: str = "", **headers):
    return Client().get(f"/api/plans/{path}/progress{query}", **headers)


@pytest.mark.parametrize(
    "authorization",
    [
        None,
        "",
        "Bearer",
        "Bearer ",
        "Bearer wrong-token",
        "Bearer " + "x" * 10_000,
        f"Bearer {SQL}",
        "Bearer ' OR 1=1 --",
        "Basic b2ZmaWNlOm9mZmljZS1kZW1vLTIwMjY=",
        "Token abc",
    ],
)
def test_the_api_refuses_missing_or_wrong_tokens_with_a_json_401(authorization):
    headers = {} if authorization is None else {"HTTP_AUTHORIZATION": authorization}
    response = api(**headers)
    assert response.status_code == 401
    assert "令牌" in response.json()["error"] or "登录" in response.json()["error"]


def test_the_api_refuses_a_token_of_a_deactivated_user(api_key, office_user):
    get_user_model().objects.filter(pk=office_user.pk).update(is_active=False)
    response = api(HTTP_AUTHORIZATION=f"Bearer {api_key}")
    assert response.status_code == 401
    assert "令牌无效" in response.json()["error"]


@pytest.mark.parametrize(
    "date",
    [
        "2019-02-30",
        "2019-13-01",
        "0000-12-31",
        "20191231",
        "2019-12-31T00:00",
        "٢٠١٩-١٢-٣١",
        "２０１９-１２-３１",
        "2019-12-31' OR '1'='1",
        "%00",
        SCRIPT,
        "9" * 1000,
        "-2019-12-31",
    ],
)
def test_the_api_refuses_a_bad_date_with_a_json_400(api_key, date):
    from urllib.parse import quote

    response = api(query=f"?date={quote(date, safe='%')}", HTTP_AUTHORIZATION=f"Bearer {api_key}")
    assert response.status_code == 400
    assert "日期应为 YYYY-MM-DD" in response.json()["error"]


@pytest.mark.parametrize("date", ["9999-12-31", "0001-01-01", "1900-02-28"])
def test_the_api_answers_far_dates_without_error(api_key, date):
    response = api(query=f"?date={date}", HTTP_AUTHORIZATION=f"Bearer {api_key}")
    assert response.status_code == 200
    assert response.json()["indicators"]


@pytest.mark.parametrize("code", ["no-such-plan", "a" * 300, SQL, "liucheng%00", "..%2F..%2Fetc"])
def test_the_api_answers_an_unknown_plan_with_a_json_404(api_key, code):
    response = api(path=code, HTTP_AUTHORIZATION=f"Bearer {api_key}")
    assert response.status_code == 404
    assert "没有" in response.json()["error"]


def test_the_api_refuses_writes_with_a_json_405(api_key):
    response = Client().post("/api/plans/liucheng/progress", HTTP_AUTHORIZATION=f"Bearer {api_key}")
    assert response.status_code == 405
    assert "GET" in response.json()["error"]


# -- Huge request bodies -------------------------------------------------------------------------


def test_a_5_mb_form_body_is_answered_400_in_chinese_and_saves_nothing(
    liaison_client, report, item
):
    before = report_state(report)
    data = page_data(report)
    data[f"item-{item.pk}-progress"] = "长" * (2 * 1024 * 1024)  # 6 MB in UTF-8, URL-encoded more
    response = liaison_client.post(reverse("report-edit", args=[report.pk]), data)
    assert response.status_code == 400
    assert_says_in_chinese(response, "请求无效")
    assert report_state(report) == before


def test_a_form_with_too_many_fields_is_answered_400_in_chinese(office_client):
    before = Measurement.objects.count()
    url = reverse("measurement-grid", args=["liucheng", "2019-12-31"])
    response = office_client.post(url, {f"m{n}-value": "1" for n in range(1100)})
    assert response.status_code == 400
    assert_says_in_chinese(response, "请求无效")
    assert Measurement.objects.count() == before


# -- Hostile headers and cookies -----------------------------------------------------------------


def test_a_foreign_host_header_is_answered_400_in_chinese(office_client):
    response = office_client.get("/", HTTP_HOST="evil.example")
    assert response.status_code == 400
    assert_says_in_chinese(response, "请求无效")


@pytest.mark.parametrize(
    "language",
    ["<script>alert(1)</script>", "zh-hans;q=abc", "x" * 10_000, "\x00", "en;q=1e309, *;q=-1"],
)
def test_a_hostile_accept_language_header_is_ignored(office_client, language):
    response = office_client.get(reverse("home"), HTTP_ACCEPT_LANGUAGE=language)
    assert response.status_code == 200
    assert_nothing_live(response.content.decode())


@pytest.mark.parametrize("language", ["<script>", "xx", "../../etc", ""])
def test_switching_to_an_unknown_language_keeps_the_page_chinese(office_client, language):
    response = office_client.post(reverse("set_language"), {"language": language, "next": "/"})
    assert response.status_code == 302
    page = office_client.get(reverse("home"))
    assert page.status_code == 200
    assert_says_in_chinese(page, "养老服务规划目标跟踪")


def test_the_500_page_is_chinese_and_needs_no_request():
    """Django renders 500.html without a request or context: it must stand on its own."""
    from django.template import loader

    html = loader.get_template("500.html").render()
    assert "系统出错" in html and "<script" not in html
