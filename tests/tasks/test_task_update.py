"""Office staff record a task's progress: a new state each time, and deliverables' dates."""

from __future__ import annotations

import datetime as dt
import re

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from tasks.models import Deliverable, Task, TaskUpdate
from tests.builders import make_plan, make_task

pytestmark = pytest.mark.django_db


def task_with_deliverables(plan: str = "liucheng") -> Task:
    return (
        Task.objects.filter(plan__code=plan, deliverables__isnull=False)
        .select_related("plan")
        .order_by("position", "pk")
        .first()
    )


def update_url(task: Task, period: str | None = None) -> str:
    url = reverse("task-update", args=[task.plan.code, task.pk])
    return f"{url}?period={period}" if period else url


def form_data(client, task: Task, **changes) -> dict[str, str]:
    """What the form sends back as it opened, with `changes` typed in."""
    form = client.get(update_url(task)).context["form"]
    data = {}
    for name in form.fields:
        value = form[name].value()
        data[name] = value.isoformat() if isinstance(value, dt.date) else (value or "")
    data.update(changes)
    return data


def page(response) -> str:
    return response.content.decode().split("<main", 1)[1]


def test_office_opens_the_form_with_the_current_state_and_the_latest_period(office_client):
    task = task_with_deliverables()
    TaskUpdate.objects.create(task=task, state="delayed", as_of=dt.date(2019, 6, 30))
    response = office_client.get(update_url(task))
    assert response.status_code == 200
    form = response.context["form"]
    assert form["state"].value() == "delayed"
    assert form["as_of"].value() == "2020-12-31"
    html = page(response)
    for deliverable in task.deliverables.all():
        assert f'name="completed_{deliverable.pk}"' in html
    assert 'type="date"' in html
    assert f'<label for="{form["note"].id_for_label}">' in html


def test_the_period_in_the_address_is_preselected(office_client):
    task = task_with_deliverables()
    response = office_client.get(update_url(task, "2019-07"))
    assert response.context["form"]["as_of"].value() == "2019-06-30"


def test_saving_appends_an_update_and_never_edits_old_ones(office_client, office_user):
    task = task_with_deliverables()
    old = TaskUpdate.objects.create(
        task=task, state="not_started", as_of=dt.date(2018, 6, 30), note="旧记录"
    )
    data = form_data(office_client, task, state="in_progress", as_of="2019-06-30", note="已开工")
    response = office_client.post(update_url(task), data)
    assert response.status_code == 302
    assert response["Location"] == task.get_absolute_url()
    assert TaskUpdate.objects.filter(task=task).count() == 2
    old.refresh_from_db()
    assert (old.state, old.note, old.as_of) == ("not_started", "旧记录", dt.date(2018, 6, 30))
    new = TaskUpdate.objects.filter(task=task).exclude(pk=old.pk).get()
    assert (new.state, new.as_of, new.note) == ("in_progress", dt.date(2019, 6, 30), "已开工")
    assert new.created_by == office_user
    messages = [str(m) for m in response.wsgi_request._messages]
    assert messages == [f"已记录任务 {task.clause} 的进展:推进中。"]


def test_a_completion_date_is_saved_with_named_fields_and_its_history(office_client):
    task = task_with_deliverables()
    deliverable = task.deliverables.first()
    others = {d.pk: d.completed_on for d in task.deliverables.exclude(pk=deliverable.pk)}
    data = form_data(office_client, task, state="done", note="")
    data[f"completed_{deliverable.pk}"] = "2019-06-20"
    with CaptureQueriesContext(connection) as ctx:
        response = office_client.post(update_url(task), data)
    assert response.status_code == 302
    deliverable.refresh_from_db()
    assert deliverable.completed_on == dt.date(2019, 6, 20)
    assert {d.pk: d.completed_on for d in task.deliverables.exclude(pk=deliverable.pk)} == others
    updates = [
        q["sql"] for q in ctx.captured_queries if q["sql"].startswith('UPDATE "tasks_deliverable"')
    ]
    assert len(updates) == 1
    assert "completed_on" in updates[0] and "description" not in updates[0]
    assert deliverable.history.first().history_user.username == "office"
    html = page(office_client.get(task.get_absolute_url()))
    assert "— → 2019-06-20" in html
    assert "民政局办公室" in html


def test_changing_and_removing_a_completion_date_shows_old_and_new(office_client):
    task = task_with_deliverables()
    deliverable = task.deliverables.first()
    name = f"completed_{deliverable.pk}"
    for day in ["2019-06-20", "2019-07-01", ""]:
        data = form_data(office_client, task, **{name: day})
        assert office_client.post(update_url(task), data).status_code == 302
    html = page(office_client.get(task.get_absolute_url()))
    assert "2019-06-20 → 2019-07-01" in html
    assert "2019-07-01 → 未完成" in html
    assert html.index("2019-07-01 → 未完成") < html.index("2019-06-20 → 2019-07-01")


@pytest.mark.parametrize(
    ("day", "message"),
    [
        ("tomorrow", "完成日期不能晚于今天"),  # worked out when the test runs, not collected
        (dt.date(2017, 12, 31), "完成日期不能早于方案起始年份(2018年)。"),
        ("2019-02-30", "输入一个有效的日期。"),
        ("明天", "输入一个有效的日期。"),
    ],
)
def test_a_wrong_completion_date_is_refused_and_nothing_saved(office_client, day, message):
    task = task_with_deliverables()
    deliverable = task.deliverables.first()
    data = form_data(office_client, task, note="不应保存")
    if day == "tomorrow":
        day = timezone.localdate() + dt.timedelta(days=1)
    data[f"completed_{deliverable.pk}"] = day.isoformat() if isinstance(day, dt.date) else day
    response = office_client.post(update_url(task), data)
    assert response.status_code == 200
    assert message in response.content.decode()
    assert not TaskUpdate.objects.filter(task=task).exists()
    deliverable.refresh_from_db()
    assert deliverable.completed_on is None


@pytest.mark.parametrize(
    ("field", "value"),
    [
        ("state", "finished"),
        ("state", ""),
        ("as_of", "2030-12-31"),
        ("as_of", "2019-03-31"),
        ("as_of", "<script>"),
        ("note", "进" * 5001),
        ("note", "x" * 100_000),
    ],
)
def test_a_bad_state_period_or_note_is_refused(office_client, field, value):
    task = task_with_deliverables()
    response = office_client.post(
        update_url(task), form_data(office_client, task, **{field: value})
    )
    assert response.status_code == 200
    assert response.context["form"].errors[field]
    assert not TaskUpdate.objects.filter(task=task).exists()


def test_a_note_of_five_thousand_characters_is_accepted(office_client):
    task = task_with_deliverables()
    data = form_data(office_client, task, note="进" * 5000)
    assert office_client.post(update_url(task), data).status_code == 302
    assert len(TaskUpdate.objects.get(task=task).note) == 5000


def test_a_note_with_html_is_shown_escaped_and_sql_is_stored_literally(office_client):
    task = task_with_deliverables()
    script = '<script>alert("x")</script>'
    sql = "'); DROP TABLE tasks_taskupdate; --"
    for note in [script, sql]:
        data = form_data(office_client, task, note=note)
        assert office_client.post(update_url(task), data).status_code == 302
    assert set(TaskUpdate.objects.filter(task=task).values_list("note", flat=True)) == {script, sql}
    html = page(office_client.get(task.get_absolute_url()))
    assert "<script>alert" not in html
    assert "&lt;script&gt;alert(&quot;x&quot;)&lt;/script&gt;" in html
    assert "&#x27;); DROP TABLE tasks_taskupdate; --" in html


def test_the_task_page_lists_updates_newest_first_with_who_and_when(office_client):
    task = task_with_deliverables()
    for state, note in [("not_started", "第一次"), ("in_progress", "第二次"), ("done", "第三次")]:
        data = form_data(office_client, task, state=state, note=note, as_of="2019-12-31")
        office_client.post(update_url(task), data)
    response = office_client.get(task.get_absolute_url())
    html = page(response)
    assert html.index("第三次") < html.index("第二次") < html.index("第一次")
    assert "当前状态:<strong>已完成</strong>" in html
    assert re.search(r"截至 2019-12-31 · 民政局办公室 · \d{4}-\d\d-\d\d \d\d:\d\d", html)
    assert [u.note for u in response.context["updates"]] == ["第三次", "第二次", "第一次"]


def test_the_task_page_offers_the_update_link_to_office_staff_only(
    office_client, client, leader_user
):
    task = task_with_deliverables()
    assert update_url(task) in page(office_client.get(task.get_absolute_url()))
    client.force_login(leader_user)
    html = page(client.get(task.get_absolute_url()))
    assert update_url(task) not in html
    assert "更新进展" not in html
    assert "进展记录" in html


@pytest.mark.parametrize("who", ["leader_user", "liaison_user", "outsider_user"])
def test_only_office_staff_may_open_or_post_the_update_form(client, request, who):
    task = task_with_deliverables()
    deliverable = task.deliverables.first()
    client.force_login(request.getfixturevalue(who))
    assert client.get(update_url(task)).status_code == 403
    data = {"state": "done", "as_of": "2019-12-31", f"completed_{deliverable.pk}": "2019-06-01"}
    assert client.post(update_url(task), data).status_code == 403
    assert not TaskUpdate.objects.filter(task=task).exists()
    deliverable.refresh_from_db()
    assert deliverable.completed_on is None


def test_anonymous_users_are_sent_to_log_in(client):
    task = task_with_deliverables()
    response = client.get(update_url(task))
    assert response.status_code == 302
    assert response["Location"].startswith(reverse("login"))
    assert client.post(update_url(task), {"state": "done"}).status_code == 302
    assert not TaskUpdate.objects.filter(task=task).exists()


def test_a_task_is_only_updated_under_its_own_plan(office_client):
    task = task_with_deliverables()
    assert office_client.get(f"/plans/panjin/tasks/{task.pk}/update/").status_code == 404


def _queries(client, url: str) -> int:
    with CaptureQueriesContext(connection) as ctx:
        assert client.get(url).status_code == 200
    return len(ctx.captured_queries)


def test_the_task_page_costs_the_same_queries_however_long_its_history(office_client, office_user):
    plan = make_plan()
    task = make_task(plan)
    first = Deliverable.objects.create(
        task=task, description="建成平台", due_text="2019年6月", due_date=dt.date(2019, 6, 30)
    )
    TaskUpdate.objects.create(task=task, state="in_progress", created_by=office_user)
    small = _queries(office_client, task.get_absolute_url())
    for i in range(30):
        TaskUpdate.objects.create(
            task=task, state="in_progress", note=f"第{i}次", created_by=office_user
        )
        Deliverable.objects.create(
            task=task, description=f"成果{i}", due_text="2019年", due_date=dt.date(2019, 12, 31)
        )
        first.completed_on = dt.date(2019, 1, 1) + dt.timedelta(days=i)
        first.save(update_fields=["completed_on"])
    assert _queries(office_client, task.get_absolute_url()) == small
    assert _queries(office_client, update_url(task)) <= 6
