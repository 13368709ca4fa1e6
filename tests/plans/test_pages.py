"""The read-only pages: who may see them, what they show, and how many queries they cost."""

from __future__ import annotations

import re

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from indicators.models import Indicator
from plans.models import Department, Plan
from tasks.models import Task
from tests.builders import (
    link_indicator,
    make_department,
    make_indicator,
    make_plan,
    make_section,
    make_task,
)

pytestmark = pytest.mark.django_db

SEED_CODES = ["liucheng", "panjin", "liuzhou", "xianyang"]


def page_urls() -> list[str]:
    liucheng = Plan.objects.get(code="liucheng")
    task = Task.objects.filter(plan=liucheng).order_by("position").first()
    indicator = Indicator.objects.get(plan=liucheng, code="new-beds")
    dept = Department.objects.get(jurisdiction__name="柳城县", name="县民政局")
    return [
        reverse("home"),
        reverse("plan-document", args=["liucheng"]),
        indicator.get_absolute_url(),
        task.get_absolute_url(),
        reverse("department-list"),
        dept.get_absolute_url(),
    ]


def test_every_page_needs_a_login(client):
    for url in page_urls():
        response = client.get(url)
        assert response.status_code == 302, url
        assert response["Location"].startswith(reverse("login"))


def test_every_page_answers_for_a_logged_in_user(client, leader_user):
    client.force_login(leader_user)
    for url in page_urls():
        assert client.get(url).status_code == 200, url


def test_home_lists_the_four_plans_with_counts(office_client):
    response = office_client.get(reverse("home"))
    plans = {p.code: p for p in response.context["plans"]}
    assert set(SEED_CODES) <= set(plans)
    liucheng = plans["liucheng"]
    assert liucheng.indicator_count == Indicator.objects.filter(plan__code="liucheng").count()
    assert liucheng.task_count == Task.objects.filter(plan__code="liucheng").count()
    assert plans["xianyang"].task_count == 33
    assert "柳城政办〔2018〕34号" in response.content.decode()


@pytest.mark.parametrize("code", SEED_CODES)
def test_plan_page_shows_every_task_and_indicator(office_client, code):
    response = office_client.get(reverse("plan-document", args=[code]))
    html = response.content.decode()
    for task in Task.objects.filter(plan__code=code):
        assert task.clause in html
    for indicator in Indicator.objects.filter(plan__code=code):
        assert indicator.get_absolute_url() in html


def test_plan_page_shows_milestones_by_year_and_the_conflict(office_client):
    response = office_client.get(reverse("plan-document", args=["liucheng"]))
    names = [column.name for column in response.context["indicator_table"].columns]
    assert names[5:9] == ["year_2018", "year_2019", "year_2020", "final_target"]
    html = response.content.decode()
    row = re.search(r"indicators/new-beds/.*?</tr>", html, re.S).group(0)
    assert re.findall(r"([\d,]+) 张", row) == ["300", "400", "500", "1,200"]
    assert "口径冲突" in html
    assert "附件1" in html  # the annex's numbers stand beside the body's


def test_plan_page_lists_sections_in_document_order(office_client):
    response = office_client.get(reverse("plan-document", args=["liucheng"]))
    paths = [s.path for s in response.context["sections"]]
    assert paths.index("一、") < paths.index("二、") < paths.index("二、(三)") < paths.index("三、")


def test_plan_page_filters_by_department(office_client):
    dept = Department.objects.get(jurisdiction__name="柳城县", name="县卫生计生局")
    url = reverse("plan-document", args=["liucheng"])
    response = office_client.get(url, {"department": dept.pk, "role": "lead"})
    shown = list(response.context["task_table"].data)
    assert shown
    assert all(any(link.department == dept for link in t.lead_links) for t in shown)
    expected = Task.objects.filter(links__department=dept, links__role="lead").count()
    assert len(shown) == expected


def test_plan_page_filters_by_section_with_its_children(office_client):
    plan = Plan.objects.get(code="liucheng")
    section = plan.sections.get(path="二、")
    response = office_client.get(
        reverse("plan-document", args=["liucheng"]), {"section": section.pk}
    )
    clauses = {t.clause for t in response.context["task_table"].data}
    assert clauses
    assert all(c.startswith("二、") for c in clauses)


@pytest.mark.parametrize("bad", ["abc", "999999", "<script>", "1' OR '1'='1", "9" * 400])
def test_plan_page_refuses_a_bad_filter_value_politely(office_client, bad):
    response = office_client.get(
        reverse("plan-document", args=["liucheng"]), {"department": bad, "section": bad}
    )
    assert response.status_code == 200
    assert "<script>" not in response.content.decode().split("<main", 1)[1]


def test_unknown_plan_is_404(office_client):
    assert office_client.get(reverse("plan-document", args=["nowhere"])).status_code == 404
    assert office_client.get("/plans/liucheng/indicators/nope/").status_code == 404
    assert office_client.get("/plans/panjin/tasks/999999/").status_code == 404


def test_a_task_is_only_found_under_its_own_plan(office_client):
    task = Task.objects.filter(plan__code="liucheng").first()
    assert office_client.get(f"/plans/panjin/tasks/{task.pk}/").status_code == 404


def test_department_page_lists_what_it_leads_and_supports_across_plans(office_client):
    dept = Department.objects.get(jurisdiction__name="柳城县", name="县民政局")
    response = office_client.get(dept.get_absolute_url())
    lead = {r.task.clause for r in response.context["lead_tasks"].data}
    support = {r.task.clause for r in response.context["supporting_tasks"].data}
    assert "二、(一)1" in lead
    assert lead == set(
        Task.objects.filter(links__department=dept, links__role="lead").values_list(
            "clause", flat=True
        )
    )
    assert support
    assert "民政局" in response.content.decode()  # its other spelling is shown


def test_indicator_page_shows_cumulative_flow_and_sources(office_client):
    indicator = Indicator.objects.get(plan__code="liucheng", code="new-beds")
    response = office_client.get(indicator.get_absolute_url())
    running = [str(total) for _, total in response.context["milestones"]]
    assert [r.split(".")[0] for r in running] == ["300", "700", "1200"]
    assert "二、(一)3" in response.content.decode()


def test_indicator_page_shows_both_sides_of_a_conflict(office_client):
    indicator = Indicator.objects.with_conflict_flag().get(plan__code="liucheng", has_conflict=True)
    html = office_client.get(indicator.get_absolute_url()).content.decode()
    assert "口径冲突" in html
    assert "附件1" in html
    assert indicator.conflict_note in html


def test_pages_switch_to_english(office_client):
    office_client.post(reverse("set_language"), {"language": "en", "next": "/"})
    html = office_client.get(reverse("home")).content.decode()
    assert 'lang="en"' in html
    assert "Plans" in html


def _grow(plan: Plan, n: int) -> None:
    """Add n indicators and n tasks, each with departments and milestones."""
    section = make_section(plan)
    for _ in range(n):
        dept = make_department(plan.jurisdiction)
        ind = make_indicator(plan, section, milestones={2018: "1", 2019: "2"})
        link_indicator(ind, dept)
        make_task(plan, section, lead=[dept], support=[make_department(plan.jurisdiction)])


def _queries(client, url: str) -> int:
    with CaptureQueriesContext(connection) as ctx:
        assert client.get(url).status_code == 200
    return len(ctx.captured_queries)


@pytest.mark.parametrize(
    "url_for",
    [
        lambda plan, dept: reverse("home"),
        lambda plan, dept: reverse("plan-document", args=[plan.code]),
        lambda plan, dept: reverse("department-list"),
        lambda plan, dept: dept.get_absolute_url(),
    ],
    ids=["home", "plan", "departments", "department"],
)
def test_pages_cost_the_same_queries_whatever_the_plan_size(office_client, url_for):
    plan = make_plan()
    dept = make_department(plan.jurisdiction)
    section = make_section(plan)
    make_task(plan, section, lead=[dept], support=[make_department(plan.jurisdiction)])
    _grow(plan, 1)
    small = _queries(office_client, url_for(plan, dept))
    _grow(plan, 30)
    for _ in range(30):
        make_task(plan, section, lead=[dept], support=[make_department(plan.jurisdiction)])
    assert _queries(office_client, url_for(plan, dept)) == small


@pytest.mark.parametrize("code", SEED_CODES)
def test_plan_page_stays_within_a_query_budget(office_client, django_assert_max_num_queries, code):
    with django_assert_max_num_queries(16):
        office_client.get(reverse("plan-document", args=[code]))


def test_indicator_and_task_pages_stay_within_a_query_budget(
    office_client, django_assert_max_num_queries
):
    task = Task.objects.filter(plan__code="xianyang", parent=None, subtasks__isnull=False).first()
    indicator = Indicator.objects.get(plan__code="liucheng", code="new-beds")
    with django_assert_max_num_queries(12):
        office_client.get(task.get_absolute_url())
    with django_assert_max_num_queries(12):
        office_client.get(indicator.get_absolute_url())


def test_every_page_names_the_apps_own_icon_so_browsers_ask_for_no_favicon_ico(client):
    from django.contrib.staticfiles import finders

    response = client.get(reverse("login"))
    assert 'rel="icon" href="/static/img/favicon.svg"' in response.content.decode()
    assert finders.find("img/favicon.svg") is not None
