"""The task table's five columns: the contract between the Excel export and the task import."""

from __future__ import annotations

import pytest

from plans.models import Department
from tasks.models import Task, TaskDepartment
from tasks.table import (
    DEPARTMENT_SEPARATOR,
    TASK_TABLE_HEADERS,
    department_cell,
    split_departments,
    task_table_row,
)
from tests.builders import make_department, make_plan, make_task


def link(name: str, position: int, cited: str = "") -> TaskDepartment:
    return TaskDepartment(department=Department(name=name), cited_as=cited, position=position)


def test_the_headers_are_the_five_columns_in_the_documents_order():
    assert TASK_TABLE_HEADERS == ("序号", "工作任务", "牵头单位", "配合单位", "时间进度")


def test_a_department_cell_lists_the_cited_spellings_in_document_order():
    links = [link("县财政局", 2, "财政局"), link("县民政局", 1, "民政局 ")]
    assert department_cell(links) == "民政局 、财政局"


def test_a_department_cell_falls_back_to_the_name_when_no_spelling_was_cited():
    assert department_cell([link("县民政局", 1)]) == "县民政局"


def test_an_empty_department_cell_is_empty():
    assert department_cell([]) == ""


@pytest.mark.parametrize(
    ("cell", "names"),
    [
        ("", []),
        (None, []),
        ("县民政局", ["县民政局"]),
        ("县民政局、县财政局", ["县民政局", "县财政局"]),
        ("市财政局、市残联,各县市区人民政府", ["市财政局", "市残联", "各县市区人民政府"]),
        ("甲,乙;丙;丁/戊", ["甲", "乙", "丙", "丁", "戊"]),
        ("甲\n乙\r\n丙", ["甲", "乙", "丙"]),
        (" 甲 、、 乙 ,", ["甲", "乙"]),
        ("市卫生健康 委员会", ["市卫生健康 委员会"]),
    ],
)
def test_split_departments_reads_what_people_put_between_names(cell, names):
    assert split_departments(cell) == names


def test_splitting_a_department_cell_gives_back_the_cited_names():
    links = [link("甲局", 1, "甲局"), link("乙局", 2, "市卫生健康 委员会"), link("丙", 3)]
    assert split_departments(department_cell(links)) == ["甲局", "市卫生健康 委员会", "丙"]
    assert DEPARTMENT_SEPARATOR == "、"


@pytest.mark.django_db
def test_a_tasks_row_is_its_clause_text_departments_and_schedule():
    plan = make_plan()
    civil, finance, health = (
        make_department(plan.jurisdiction, name) for name in ("县民政局", "县财政局", "县卫生局")
    )
    task = make_task(
        plan,
        clause="二、(一)3",
        text="推进养老床位建设。",
        schedule="2019年6月,完成摸底。",
        lead=[civil],
        support=[health, finance],
    )
    TaskDepartment.objects.filter(task=task, department=health).update(
        position=2, cited_as="卫生局"
    )
    TaskDepartment.objects.filter(task=task, department=finance).update(position=1)
    task = Task.objects.with_departments().get(pk=task.pk)
    assert tuple(task_table_row(task)) == (
        "二、(一)3",
        "推进养老床位建设。",
        "县民政局",
        "县财政局、卫生局",
        "2019年6月,完成摸底。",
    )


@pytest.mark.django_db
def test_every_seed_task_gives_a_row_of_five_texts_with_its_clause_first(
    django_assert_max_num_queries,
):
    with django_assert_max_num_queries(2):
        tasks = list(Task.objects.with_departments().order_by("plan", "position"))
        rows = [task_table_row(task) for task in tasks]
    assert len(rows) == 29 + 14 + 22 + 57
    assert all(len(row) == len(TASK_TABLE_HEADERS) for row in rows)
    assert [row.number for row in rows] == [task.clause for task in tasks]
    assert all(isinstance(value, str) for row in rows for value in row)
