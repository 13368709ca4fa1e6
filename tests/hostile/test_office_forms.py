"""Hostile input in the office's forms: values, the entry grid, task progress, periods and
review comments. Each refusal says why in Chinese and leaves every stored row as it was."""

from __future__ import annotations

import pytest
from django.urls import reverse
from django.utils import timezone
from django.utils.html import escape

from indicators.models import Indicator, Measurement
from reports import services
from reports.models import Report, ReportEvent, ReportingPeriod
from tasks.models import Deliverable, Task, TaskUpdate
from tests.hostile.conftest import (
    IMG,
    SCRIPT,
    assert_nothing_live,
    assert_says_in_chinese,
    messages_of,
    report_state,
)

pytestmark = pytest.mark.django_db

YEAR_END = "2019-12-31"


def indicator(code: str = "new-beds") -> Indicator:
    return Indicator.objects.select_related("plan").get(plan__code="liucheng", code=code)


def measurements() -> list[tuple]:
    return list(
        Measurement.objects.order_by("pk").values_list(
            "pk", "indicator_id", "period_end", "value", "note"
        )
    )


def value_form(**changes) -> dict[str, str]:
    """The single-value form as a fresh page for 2019全年 sends it, with `changes` typed in."""
    data = {
        "period": YEAR_END,
        "started_period": YEAR_END,
        "value": "",
        "note": "",
        "started_from": "",
        "started_note": "",
    }
    data.update(changes)
    return data


def post_value(client, item: Indicator, **changes):
    return client.post(
        reverse("measurement-edit", args=["liucheng", item.code]), value_form(**changes)
    )


# -- One value ------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("code", "typed", "message"),
    [
        ("new-beds", "1e309", "请输入阿拉伯数字"),
        ("new-beds", "-Infinity", "请输入阿拉伯数字"),
        ("new-beds", "nan", "请输入阿拉伯数字"),
        ("new-beds", "٣٠٠", "请输入阿拉伯数字"),  # Arabic-Indic 300
        ("new-beds", "-0.01", "数值不能为负数"),
        ("new-beds", "1" * 13, "数值过大"),
        ("new-beds", "1 OR 1=1", "请输入阿拉伯数字"),
        ("new-beds", "300; DROP TABLE plans_plan", "请输入阿拉伯数字"),
        ("new-beds", SCRIPT, "请输入阿拉伯数字"),
        ("health-management-rate", "100.5", "百分比应在0到100之间"),
        ("health-management-rate", "1000%", "百分比应在0到100之间"),
    ],
)
def test_a_bad_value_is_refused_in_chinese_and_nothing_is_stored(
    office_client, code, typed, message
):
    before = measurements()
    response = post_value(office_client, indicator(code), value=typed)
    assert response.status_code == 200
    assert_says_in_chinese(response, message)
    assert_nothing_live(response.content.decode())
    assert measurements() == before


@pytest.mark.parametrize(
    "period", ["2019-02-30", "2019-12-30", "9999-12-31", "0000-12-31", SCRIPT, ""]
)
def test_a_period_outside_the_plan_is_refused(office_client, period):
    before = measurements()
    response = post_value(office_client, indicator(), value="300", period=period)
    assert_says_in_chinese(response, "报告期")
    assert_nothing_live(response.content.decode())
    assert measurements() == before


@pytest.mark.parametrize(
    ("note", "message"),
    [
        ("长" * 100_000, "5000"),
        ("统计\x00数据", "控制字符"),
        ("统计\x1b数据", "控制字符"),
    ],
)
def test_a_bad_note_is_refused_and_nothing_is_stored(office_client, note, message):
    before = measurements()
    response = post_value(office_client, indicator(), value="300", note=note)
    assert_says_in_chinese(response, message)
    assert measurements() == before


def test_a_note_pasted_from_word_keeps_its_line_breaks(office_client):
    item = indicator()
    assert post_value(office_client, item, value="300", note="第一行\x0b第二行").status_code == 302
    assert Measurement.objects.get(indicator=item, period_end=YEAR_END).note == "第一行\n第二行"


def test_a_save_over_a_value_changed_meanwhile_is_refused_and_keeps_the_other_value(
    office_client, office_user
):
    item = indicator()
    Measurement.objects.create(
        indicator=item,
        period_end=YEAR_END,
        value=650,
        entered_by=office_user,
        entered_at=timezone.now(),
    )
    before = measurements()
    # The page was opened while the value was still empty.
    response = post_value(office_client, item, value="300")
    assert_says_in_chinese(response, "该数值已被", "修改为 650")
    assert measurements() == before


def test_a_hostile_note_is_shown_escaped_on_the_indicator_page(office_client):
    item = indicator()
    assert post_value(office_client, item, value="300", note=f"{SCRIPT}{IMG}").status_code == 302
    html = office_client.get(item.get_absolute_url()).content.decode()
    assert_nothing_live(html)
    assert escape(SCRIPT) in html


# -- The grid -------------------------------------------------------------------------------------


def grid_post(client, rows: dict[str, str], period: str = YEAR_END):
    """The grid with every row untouched except `rows` ({"<code>": value})."""
    url = reverse("measurement-grid", args=["liucheng", period])
    grid = client.get(url).context["grid"]
    data = {}
    for row in grid:
        for name in ("value", "note", "started_from", "started_note"):
            data[row.add_prefix(name)] = row[name].value() or ""
        if row.indicator.code in rows:
            data[row.add_prefix("value")] = rows[row.indicator.code]
    return client.post(url, data)


def test_one_bad_row_in_the_grid_saves_no_row(office_client):
    before = measurements()
    response = grid_post(office_client, {"new-beds": "300", "health-management-rate": "120%"})
    assert_says_in_chinese(response, "本次未保存任何数值", "百分比应在0到100之间")
    assert measurements() == before


def test_a_grid_row_for_an_indicator_of_another_plan_is_ignored(office_client):
    other = Indicator.objects.filter(plan__code="panjin").first()
    before = measurements()
    url = reverse("measurement-grid", args=["liucheng", YEAR_END])
    response = office_client.post(url, {f"m{other.pk}-value": "999", f"m{other.pk}-note": "越界"})
    assert response.status_code in (200, 302)
    assert measurements() == before


# -- Task progress --------------------------------------------------------------------------------


@pytest.fixture
def task_with_deliverable() -> Task:
    deliverable = (
        Deliverable.objects.filter(task__plan__code="liucheng").select_related("task").first()
    )
    return deliverable.task


def task_data(task: Task, **changes) -> dict[str, str]:
    data = {"state": "in_progress", "as_of": YEAR_END, "note": "推进中"}
    for deliverable in task.deliverables.all():
        data[f"completed_{deliverable.pk}"] = ""
    data.update(changes)
    return data


def task_rows(task: Task) -> tuple:
    return (
        list(TaskUpdate.objects.filter(task=task).values_list("pk", "state", "note")),
        list(task.deliverables.values_list("pk", "completed_on")),
    )


@pytest.mark.parametrize(
    ("field", "sent", "message"),
    [
        ("state", "finished", "选择"),
        ("state", SCRIPT, "选择"),
        ("as_of", "2019-02-30", "选择"),
        ("as_of", "2019-12-30", "选择"),
        ("as_of", "1 OR 1=1", "选择"),
        ("note", "长" * 100_000, "5000"),
        ("note", "进展\x00", "控制字符"),
        ("completed", "2019-02-30", "日期"),
        ("completed", "2019-13-01", "日期"),
        ("completed", "0000-01-01", "日期"),
        ("completed", "9999-12-31", "完成日期不能晚于今天"),
        ("completed", "1900-01-01", "完成日期不能早于方案起始年份"),
        ("completed", "'; DROP TABLE plans_plan; --", "日期"),
    ],
)
def test_bad_task_progress_is_refused_and_nothing_is_recorded(
    office_client, task_with_deliverable, field, sent, message
):
    task = task_with_deliverable
    if field == "completed":
        field = f"completed_{task.deliverables.first().pk}"
    before = task_rows(task)
    url = reverse("task-update", args=["liucheng", task.pk])
    response = office_client.post(url, task_data(task, **{field: sent}))
    assert response.status_code == 200
    assert_says_in_chinese(response, message)
    assert_nothing_live(response.content.decode())
    assert task_rows(task) == before


def test_a_hostile_task_note_is_shown_escaped_on_the_task_and_plan_pages(
    office_client, task_with_deliverable
):
    task = task_with_deliverable
    url = reverse("task-update", args=["liucheng", task.pk])
    assert office_client.post(url, task_data(task, note=f"{SCRIPT}{IMG}")).status_code == 302
    for page in (
        task.get_absolute_url(),
        reverse("plan-detail", args=["liucheng"]) + f"?period={YEAR_END}",
    ):
        response = office_client.get(page)
        assert response.status_code == 200
        assert_nothing_live(response.content.decode())


# -- Reporting periods ----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("deadline", "message"),
    [
        ("2019-02-30", "日期"),
        ("0000-07-31", "日期"),
        ("9999-12-31", "截止日期不能晚于"),
        ("2019-01-01", "截止日期不能早于"),
        ("", "必填"),
        (SCRIPT, "日期"),
        ("2019-07-31' OR '1'='1", "日期"),
    ],
)
def test_a_bad_deadline_is_refused_and_the_period_is_unchanged(office_client, deadline, message):
    period = ReportingPeriod.objects.get(plan__code="liucheng", kind="half", year=2019)
    before = (period.deadline, period.is_open, period.history.count())
    url = reverse("period-edit", args=["liucheng", "2019-07"])
    response = office_client.post(url, {"deadline": deadline, "is_open": "on"})
    assert response.status_code == 200
    assert_says_in_chinese(response, message)
    assert_nothing_live(response.content.decode())
    period.refresh_from_db()
    assert (period.deadline, period.is_open, period.history.count()) == before


# -- Review comments ------------------------------------------------------------------------------


@pytest.fixture
def submitted(report, liaison_user, monkeypatch) -> Report:
    monkeypatch.setattr(services, "check_for_submission", lambda report: {})
    return services.report_submit(report=report, by=liaison_user, version=report.version)


@pytest.mark.parametrize("step", ["report-return", "report-reopen", "report-comment"])
@pytest.mark.parametrize(
    ("comment", "message"),
    [
        ("", "请填写"),
        ("   \n\t ", "请填写"),
        ("长" * 100_000, "过长"),
        ("意见\x00", "控制字符"),
        ("意见\x1b[0m", "控制字符"),
    ],
)
def test_a_bad_review_comment_is_refused_and_the_report_is_unchanged(
    office_client, submitted, step, comment, message
):
    before = report_state(submitted)
    response = office_client.post(reverse(step, args=[submitted.pk]), {"comment": comment})
    assert response.status_code == 302
    assert_says_in_chinese(response, message)
    assert report_state(submitted) == before


@pytest.mark.parametrize(
    "sent",
    [
        {"item": "abc"},
        {"item": "1 OR 1=1"},
        {"item": "-1"},
        {"item": "9" * 30},
        {"item": "²"},  # a digit to str.isdigit, not to int()
        {"value": "¹²"},
        {"item": "١٢"},  # Arabic-Indic digits
        {"value": "1e309"},
        {"item": "", "value": ""},
    ],
)
def test_returning_an_item_that_is_not_in_the_report_changes_nothing(
    office_client, submitted, sent
):
    before = report_state(submitted)
    url = reverse("report-return-item", args=[submitted.pk])
    response = office_client.post(url, {"comment": "请补充", **sent})
    assert response.status_code in (302, 404)
    if response.status_code == 302:
        assert_says_in_chinese(response, "请指定要退回的一个事项")
    assert report_state(submitted) == before


def test_returning_an_item_of_another_report_is_404_and_changes_nothing(
    office_client, submitted, other_liaison, period
):
    from plans.models import Department

    other = services.report_open(
        period=period,
        department=Department.objects.get(pk=other_liaison.liaison.department_id),
        by=other_liaison,
    )
    before = (report_state(submitted), report_state(other))
    url = reverse("report-return-item", args=[submitted.pk])
    response = office_client.post(url, {"comment": "请补充", "item": str(other.items.first().pk)})
    assert response.status_code == 404
    assert (report_state(submitted), report_state(other)) == before


def test_a_hostile_comment_is_shown_escaped_to_the_liaison(
    office_client, liaison_client, submitted
):
    url = reverse("report-return", args=[submitted.pk])
    assert office_client.post(url, {"comment": f"{SCRIPT}\n{IMG}"}).status_code == 302
    assert ReportEvent.objects.filter(report=submitted, comment__contains=SCRIPT).exists()
    for client in (liaison_client, office_client):
        response = client.get(submitted.get_absolute_url())
        html = response.content.decode()
        assert_nothing_live(html)
        assert escape(SCRIPT) in html


def test_returning_the_same_report_twice_says_why_the_second_time(office_client, submitted):
    url = reverse("report-return", args=[submitted.pk])
    assert office_client.post(url, {"comment": "请补充"}).status_code == 302
    before = report_state(submitted)
    response = office_client.post(url, {"comment": "请补充"})
    assert_says_in_chinese(response, "只能退回已报送")
    assert report_state(submitted) == before
    assert messages_of(response)


def test_accepting_twice_writes_the_measurements_once(office_client, submitted):
    url = reverse("report-accept", args=[submitted.pk])
    assert office_client.post(url).status_code == 302
    before = (report_state(submitted), measurements(), TaskUpdate.objects.count())
    response = office_client.post(url)
    assert_says_in_chinese(response, "只能采纳已报送的报告")
    assert (report_state(submitted), measurements(), TaskUpdate.objects.count()) == before


# -- The board's filter ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    "query",
    [
        "q='; DROP TABLE plans_plan; --",
        "q=1 OR 1=1",
        f"q={'长' * 60}",
        "q=%00",
        "state=hacked",
        f"state={SCRIPT}",
        f"q={IMG}",
        "sort=__class__",
        "sort=-department'; --",
        "page=abc",
        "page=-1",
        "page=99999999999999999999999",
        "view=<script>",
    ],
)
def test_the_board_answers_hostile_filters_without_error(office_client, query):
    url = reverse("report-board", args=["liucheng", "2019-07"])
    response = office_client.get(f"{url}?{query}")
    assert response.status_code == 200
    assert_nothing_live(response.content.decode())


@pytest.mark.parametrize(("query", "message"), [(f"q={'长' * 60}", "50"), ("state=hacked", "选择")])
def test_an_invalid_board_filter_says_what_is_wrong(office_client, query, message):
    url = reverse("report-board", args=["liucheng", "2019-07"])
    response = office_client.get(f"{url}?{query}")
    assert response.status_code == 200
    errors = response.content.decode().split('class="error"', 1)
    assert len(errors) == 2 and message in errors[1][:200]


def test_posting_the_same_value_twice_stores_it_once(office_client):
    item = indicator()
    assert post_value(office_client, item, value="300").status_code == 302
    history = Measurement.history.filter(indicator_id=item.pk).count()
    # The same form sent again (a double click, or the browser's resend).
    response = post_value(office_client, item, value="300")
    assert_says_in_chinese(response, "该数值已被")
    assert Measurement.objects.filter(indicator=item).count() == 1
    assert Measurement.history.filter(indicator_id=item.pk).count() == history


@pytest.mark.parametrize("started", ["<script>", "1e309", "999", "'; --"])
def test_a_tampered_starting_value_is_refused_as_a_conflict(office_client, office_user, started):
    item = indicator()
    before = measurements()
    response = post_value(office_client, item, value="300", started_from=started)
    assert_says_in_chinese(response, "该数值已被")
    assert_nothing_live(response.content.decode())
    assert measurements() == before


@pytest.mark.parametrize(
    ("username", "password"),
    [("office\x00", "x"), ("' OR 1=1 --", "' OR 1=1 --"), (SCRIPT, "x"), ("长" * 150, "x")],
)
def test_a_hostile_login_is_refused_in_chinese(client, username, password):
    response = client.post(reverse("login"), {"username": username, "password": password})
    assert response.status_code == 200
    assert_says_in_chinese(response, "用户名或密码不正确")
    assert_nothing_live(response.content.decode())
    assert "_auth_user_id" not in client.session


def test_a_100000_character_user_name_is_refused_in_chinese(client):
    response = client.post(reverse("login"), {"username": "长" * 100_000, "password": "x"})
    assert response.status_code == 200
    assert_says_in_chinese(response, "用户名或密码不正确")
    assert "_auth_user_id" not in client.session
