"""What a task-table import would do (pure), and writing it (all or nothing)."""

from __future__ import annotations

import io

import openpyxl
import pytest
from django.apps import apps
from django.db import DatabaseError

from plans.models import Department, DepartmentAlias, Plan
from reports.models import ReportingPeriod
from tasks import import_plan
from tasks.import_plan import (
    NEW,
    SKIP,
    DepartmentIndex,
    ExistingLink,
    ExistingTask,
    PlanChanged,
    PlanSnapshot,
    SectionRef,
    build_preview,
    department_key,
    derive_title,
    load_snapshot,
    match_department,
    own_number,
    plan_import_apply,
    unknown_key,
)
from tasks.importing import TableEntry, read_task_table, table_entries
from tasks.models import Task, TaskDepartment
from tasks.table import TASK_TABLE_HEADERS, task_table_row
from tests.builders import make_department, make_plan, make_section, make_task

SEED_PLANS = ["liucheng", "panjin", "liuzhou", "xianyang"]

LIUCHENG = DepartmentIndex(
    jurisdiction="柳城县",
    level="county",
    names={"县民政局": 1, "县财政局": 2, "团县委": 3, "各乡镇人民政府": 4},
    aliases={"民政局": 1, "各乡镇": 4},
    labels={1: "县民政局", 2: "县财政局", 3: "团县委", 4: "各乡镇人民政府"},
)


# -- departments -----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("cited", "department"),
    [
        ("县民政局", 1),
        ("民政局", 1),  # a known alias
        ("柳城县民政局", 1),  # the jurisdiction's name in front
        ("柳城民政局", 1),
        (" 县 民政局\n", 1),  # whitespace from a line break in the cell
        ("县财政局", 2),
        ("财政局", 2),  # the level prefix taken off both sides
        ("柳城县财政局", 2),
        ("团县委", 3),
        ("各乡镇", 4),
        ("市民政局", None),  # another level: not certain
        ("县卫生局", None),
        ("", None),
    ],
)
def test_a_department_is_matched_only_when_the_match_is_certain(cited, department):
    assert match_department(cited, LIUCHENG) == department


def test_two_candidates_are_never_guessed_between():
    index = DepartmentIndex(
        jurisdiction="柳城县",
        level="county",
        names={"县民政局": 1, "民政局": 5},
        aliases={},
        labels={1: "县民政局", 5: "民政局"},
    )
    assert match_department("柳城县民政局", index) is None
    assert match_department("民政局", index) == 5  # an exact name is certain


@pytest.mark.parametrize(
    ("name", "key"),
    [("柳城县民政局", "民政局"), ("县民政局", "民政局"), ("县", "县"), ("团县委", "团县委")],
)
def test_the_department_key_drops_the_jurisdiction_or_level_in_front(name, key):
    assert department_key(name, LIUCHENG.prefixes()) == key


def test_a_citys_prefixes_are_its_name_with_and_without_the_level():
    index = DepartmentIndex("咸阳市", "city", {}, {}, {})
    assert index.prefixes() == ["咸阳市", "咸阳", "市"]


# -- the preview, without a database -------------------------------------------------------------


SECTIONS = (SectionRef(10, "一、", "一、", "总体目标"), SectionRef(11, "二、", "二、", "主要任务"))


def existing(clause: str, **kw) -> ExistingTask:
    fields = {
        "id": 100 + len(clause),
        "clause": clause,
        "title": "原标题",
        "text": "原文。",
        "schedule": "",
        "section_id": 11,
        "parent_id": None,
        "lead": (ExistingLink(1, "县民政局"),),
        "support": (),
    }
    fields.update(kw)
    return ExistingTask(**fields)


def snapshot(*tasks: ExistingTask, sections=SECTIONS) -> PlanSnapshot:
    return PlanSnapshot(tasks=tasks, sections=sections, departments=LIUCHENG)


def entry(clause: str, text: str = "原文。", row: int = 2, **kw) -> TableEntry:
    fields = {
        "row": row,
        "clause": clause,
        "number": clause,
        "parent_clause": None,
        "title": None,
        "text": text,
        "lead": ("县民政局",),
        "support": (),
        "schedule": "",
        "chapter": "",
    }
    fields.update(kw)
    return TableEntry(**fields)


def test_a_row_like_its_task_is_unchanged_whatever_its_whitespace():
    preview = build_preview([entry("1", "原 文。\n")], snapshot(existing("1")))
    assert preview.unchanged == 1
    assert not preview.has_writes


def test_a_changed_text_and_department_list_are_shown_field_by_field():
    row = entry("1", "新的原文。", lead=("县民政局", "财政局"))
    [plan] = build_preview([row], snapshot(existing("1"))).updates
    assert [(c.name, c.label, c.old, c.new) for c in plan.changes] == [
        ("text", "工作任务", "原文。", "新的原文。"),
        ("lead", "牵头单位", "县民政局", "县民政局、财政局"),
    ]
    assert [(link.cited, link.department_id) for link in plan.lead] == [
        ("县民政局", 1),
        ("财政局", 2),
    ]


def test_a_different_spelling_of_the_same_department_is_a_change_of_spelling():
    [plan] = build_preview([entry("1", lead=("民政局",))], snapshot(existing("1"))).updates
    assert [(c.old, c.new) for c in plan.changes] == [("县民政局", "民政局")]


def test_a_new_clause_is_created_with_a_title_number_and_section():
    text = "建设8个居家养老服务站(点);每站配备人员。"
    [plan] = build_preview([entry("二、(二)1", text, chapter="二、主要任务")], snapshot()).creates
    assert (plan.title, plan.number, plan.section_id, plan.section_label) == (
        "建设8个居家养老服务站(点)",
        "1",
        11,
        "二、主要任务",
    )


@pytest.mark.parametrize(
    ("rows", "tasks", "section"),
    [
        ([entry("9", chapter="一、总体目标")], (), 10),  # the chapter names a section
        ([entry("9", chapter="一、")], (), 10),  # by its path
        ([entry("一、5")], (existing("1", section_id=11),), 10),  # the clause's own section
        ([entry("9.1", parent_clause="9")], (existing("9", section_id=10),), 10),  # the parent's
        ([entry("1"), entry("2", row=3)], (existing("1", section_id=10),), 10),  # the row above's
        ([entry("9", chapter="十、不存在的章节")], (), 10),  # else the plan's first section
    ],
)
def test_a_new_tasks_section_comes_from_its_chapter_parent_neighbour_or_the_first(
    rows, tasks, section
):
    preview = build_preview(rows, snapshot(*tasks))
    assert preview.creates[-1].section_id == section


def test_a_new_task_in_a_plan_without_sections_is_rejected():
    [plan] = build_preview([entry("1")], snapshot(sections=())).rejects
    assert plan.reasons == ("方案还没有章节,无法新增任务",)


@pytest.mark.parametrize(
    ("row", "reason"),
    [
        (entry("", "甲"), "序号为空"),
        (entry("1", ""), "工作任务为空"),
        (entry("1", "  \n"), "工作任务为空"),
        (entry("1", "长" * 5001), "工作任务超过 5,000 个字"),
        (entry("1", schedule="长" * 5001), "时间进度超过 5,000 个字"),
        (entry("序" * 61), "序号超过 60 个字"),
        (entry("1", title="题" * 301), "任务标题超过 300 个字"),
        (
            entry("1", lead=("局" * 101,)),
            "牵头单位“局局局局局局局局局局局局局局局局局局局局…”超过 100 个字",
        ),
        (entry("1", lead=("县民政局", "民政局")), "牵头单位中“民政局”重复"),
        (entry("1", problems=("B2 是公式,且没有保存计算结果",)), "B2 是公式,且没有保存计算结果"),
    ],
)
def test_a_bad_row_is_rejected_with_its_reason(row, reason):
    [plan] = build_preview([row], snapshot(existing("1"))).rejects
    assert reason in plan.reasons


def test_a_clause_appearing_twice_rejects_both_rows():
    preview = build_preview([entry("1", row=2), entry("1", "别的", row=5)], snapshot())
    assert [p.reasons for p in preview.rejects] == [("序号“1”重复(第 2、5 行)",)] * 2


def test_an_unknown_department_waits_for_the_users_choice():
    rows = [entry("1", lead=("县卫生局",)), entry("2", support=("县卫生局 ",), row=3)]
    preview = build_preview(rows, snapshot())
    [unknown] = preview.unknown
    assert (unknown.cited, unknown.rows, unknown.choice) == ("县卫生局", (2, 3), None)
    assert preview.needs_choice
    assert preview.creates[0].pending == ("县卫生局",)


@pytest.mark.parametrize(
    ("choice", "department", "action"),
    [(NEW, None, "create"), ("2", 2, "create"), (SKIP, None, "reject")],
)
def test_the_users_choice_decides_what_an_unknown_department_is(choice, department, action):
    rows = [entry("1", lead=("县卫生局",))]
    preview = build_preview(rows, snapshot(), {unknown_key("县卫生局"): choice})
    [plan] = preview.rows
    assert not preview.needs_choice
    assert plan.action == action
    if action == "create":
        assert [(link.cited, link.department_id) for link in plan.lead] == [
            ("县卫生局", department)
        ]
    else:
        assert plan.reasons == ("未知部门“县卫生局”(已选择不导入)",)


@pytest.mark.parametrize("choice", ["", "999", "abc", "-1"])
def test_a_choice_naming_no_department_of_the_jurisdiction_counts_as_none(choice):
    preview = build_preview(
        [entry("1", lead=("县卫生局",))], snapshot(), {unknown_key("县卫生局"): choice}
    )
    assert preview.needs_choice


def test_a_title_column_is_compared_only_when_the_file_has_one():
    task = existing("9", title="加强农村养老服务")
    assert build_preview([entry("9", title="加强农村 养老服务")], snapshot(task)).unchanged == 1
    [plan] = build_preview([entry("9", title="农村养老")], snapshot(task)).updates
    assert [c.name for c in plan.changes] == ["title"]


def test_the_fingerprint_moves_with_any_change_of_the_plan():
    base = snapshot(existing("1"))
    assert base.fingerprint() == snapshot(existing("1")).fingerprint()
    assert base.fingerprint() != snapshot(existing("1", schedule="2019年")).fingerprint()
    assert base.fingerprint() != snapshot(existing("1", lead=())).fingerprint()


@pytest.mark.parametrize(
    ("text", "title"),
    [
        ("降低准入门槛。营利性养老机构先登记后备案", "降低准入门槛"),
        ("没有句号的一句话", "没有句号的一句话"),
        ("。", "。"),
        ("长" * 400, "长" * 299 + "…"),
    ],
)
def test_a_new_tasks_title_is_the_first_sentence_of_its_text(text, title):
    assert derive_title(text) == title


@pytest.mark.parametrize(
    ("clause", "parent", "number"),
    [("二、(一)3", None, "3"), ("二、(三)", None, "(三)"), ("5.2", "5", "(2)"), ("12", None, "12")],
)
def test_a_new_tasks_number_is_its_place_in_its_section(clause, parent, number):
    assert own_number(clause, parent) == number


# -- writing -----------------------------------------------------------------------------------


def task_table_workbook(plan: Plan) -> bytes:
    """The five columns of every task of the plan, in document order, as the contract says."""
    book = openpyxl.Workbook()
    sheet = book.active
    sheet.title = "任务进展"
    sheet.append([f"{plan} 任务进展"])
    sheet.append(list(TASK_TABLE_HEADERS))
    for task in Task.objects.filter(plan=plan).with_departments().order_by("position"):
        sheet.append(list(task_table_row(task)))
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()


def preview_of(plan: Plan, data: bytes, choices=None):
    table = read_task_table(data)
    return build_preview(table_entries(table), load_snapshot(plan), choices)


def state_of(plan: Plan):
    """Everything an import may write, to compare before and after."""
    tasks = list(
        Task.objects.filter(plan=plan)
        .order_by("pk")
        .values_list("pk", "clause", "title", "text", "schedule", "section", "parent", "position")
    )
    links = list(
        TaskDepartment.objects.filter(task__plan=plan)
        .order_by("pk")
        .values_list("task", "department", "role", "cited_as", "position")
    )
    departments = list(
        Department.objects.filter(jurisdiction=plan.jurisdiction).values_list("pk", "name")
    )
    aliases = list(
        DepartmentAlias.objects.filter(jurisdiction=plan.jurisdiction).values_list("pk", "name")
    )
    return tasks, links, departments, aliases


@pytest.mark.django_db
@pytest.mark.parametrize("code", SEED_PLANS)
def test_a_plans_own_task_table_imports_back_with_nothing_to_do(code):
    plan = Plan.objects.select_related("jurisdiction").get(code=code)
    preview = preview_of(plan, task_table_workbook(plan))
    assert (len(preview.creates), len(preview.updates), len(preview.rejects)) == (0, 0, 0)
    assert preview.unknown == ()
    assert preview.unchanged == plan.tasks.count()


@pytest.mark.django_db
@pytest.mark.parametrize("code", SEED_PLANS)
def test_the_exported_report_workbook_imports_back_with_nothing_to_do(code):
    from reports.excel import build_report
    from reports.export import plan_workbook

    plan = Plan.objects.select_related("jurisdiction").get(code=code)
    period = ReportingPeriod.objects.filter(plan=plan).order_by("year", "kind").first()
    out = io.BytesIO()
    build_report(plan_workbook(period)).save(out)
    preview = preview_of(plan, out.getvalue())
    assert (len(preview.creates), len(preview.updates), len(preview.rejects)) == (0, 0, 0)
    assert preview.unknown == ()
    assert preview.unchanged == plan.tasks.count()


def xianyang_published_layout(plan: Plan) -> bytes:
    """Xianyang's table as published: chapter rows, 工作任务 over two columns, merged cells."""
    book = openpyxl.Workbook()
    sheet = book.active
    sheet.append(["咸阳市加快推进养老服务体系建设重点任务分工"])
    sheet.append(["序号", "工作任务", None, "牵头单位", "配合单位", "时间进度"])
    sheet.merge_cells("B2:C2")
    tasks = list(Task.objects.filter(plan=plan).with_departments().select_related("section"))
    children: dict[int, list[Task]] = {}
    for task in tasks:
        if task.parent_id:
            children.setdefault(task.parent_id, []).append(task)
    section = None
    for task in sorted((t for t in tasks if not t.parent_id), key=lambda t: t.position):
        if task.section_id != section:
            section = task.section_id
            sheet.append([f"{task.section.number}{task.section.title}"])
            sheet.merge_cells(f"A{sheet.max_row}:F{sheet.max_row}")
        rows = sorted(children.get(task.pk, []), key=lambda t: t.position) or [task]
        first = sheet.max_row + 1
        for row in rows:
            cells = task_table_row(row)
            sheet.append(
                [task.clause, task.title, cells.text, cells.lead, cells.support, cells.schedule]
            )
        if len(rows) > 1:
            sheet.merge_cells(f"A{first}:A{sheet.max_row}")
            sheet.merge_cells(f"B{first}:B{sheet.max_row}")
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()


@pytest.mark.django_db
def test_xianyangs_published_layout_of_its_own_tasks_imports_back_with_nothing_to_do():
    plan = Plan.objects.select_related("jurisdiction").get(code="xianyang")
    preview = preview_of(plan, xianyang_published_layout(plan))
    assert [(r.clause, r.changes, r.reasons) for r in preview.rows if r.action != "unchanged"] == []
    assert preview.unchanged == 57


@pytest.fixture
def small_plan(db):
    plan = make_plan()
    plan = Plan.objects.select_related("jurisdiction").get(pk=plan.pk)
    first = make_section(plan, "一、", number="一、", title="总体目标", position=1)
    make_section(plan, "二、", number="二、", title="主要任务", position=2)
    civil = make_department(plan.jurisdiction, "县民政局")
    finance = make_department(plan.jurisdiction, "县财政局")
    make_task(plan, first, clause="1", text="原文一。", lead=[civil], position=1)
    make_task(plan, first, clause="2", text="原文二。", lead=[finance], position=2)
    return plan


def table(*rows: list[str]) -> bytes:
    book = openpyxl.Workbook()
    book.active.append(list(TASK_TABLE_HEADERS))
    for row in rows:
        book.active.append(row)
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()


CHANGES = table(
    ["1", "改过的原文一。", "县民政局、财政局", "县卫生局", "2019年底"],
    ["2.1", "新的子项。", "县财政局", "", "持续实施"],
    ["3", "新任务。", "卫生局", "", ""],
)


@pytest.mark.django_db
def test_confirming_writes_the_creates_updates_and_new_departments(small_plan, office_user):
    version = small_plan.progress_version
    preview = preview_of(
        small_plan, CHANGES, {unknown_key("县卫生局"): NEW, unknown_key("卫生局"): NEW}
    )
    assert [u.cited for u in preview.unknown] == ["县卫生局", "卫生局"]
    result = plan_import_apply(plan=small_plan, preview=preview, by=office_user)
    assert (result.created, result.updated, result.departments_created) == (2, 1, 2)

    one = Task.objects.get(plan=small_plan, clause="1")
    assert one.text == "改过的原文一。"
    assert one.schedule == "2019年底"
    assert [
        (x.department.name, x.cited_as, x.role, x.position)
        for x in one.links.order_by("role", "position")
    ] == [
        ("县民政局", "县民政局", "lead", 1),
        ("县财政局", "财政局", "lead", 2),
        ("县卫生局", "县卫生局", "support", 1),
    ]
    sub = Task.objects.get(plan=small_plan, clause="2.1")
    assert (sub.parent.clause, sub.number, sub.section.path, sub.is_ongoing) == (
        "2",
        "(1)",
        "一、",
        True,
    )
    three = Task.objects.get(plan=small_plan, clause="3")
    assert (three.title, three.section.path) == ("新任务", "一、")
    assert three.position > sub.position > 2
    small_plan.refresh_from_db()
    assert small_plan.progress_version > version
    # imported again, the same file has nothing more to do
    again = preview_of(small_plan, CHANGES)
    assert (again.unchanged, again.has_writes, again.unknown) == (3, False, ())


@pytest.mark.django_db
def test_choosing_an_existing_department_remembers_the_spelling_as_an_alias(
    small_plan, office_user
):
    data = table(["3", "新任务。", "民政办", "", ""])
    civil = Department.objects.get(jurisdiction=small_plan.jurisdiction, name="县民政局")
    preview = preview_of(small_plan, data, {unknown_key("民政办"): str(civil.pk)})
    plan_import_apply(plan=small_plan, preview=preview, by=office_user)
    link = TaskDepartment.objects.get(task__plan=small_plan, task__clause="3")
    assert (link.department, link.cited_as) == (civil, "民政办")
    assert DepartmentAlias.objects.filter(department=civil, name="民政办").exists()
    assert preview_of(small_plan, data).unchanged == 1


@pytest.mark.django_db
def test_a_preview_with_a_pending_department_cannot_be_written(small_plan, office_user):
    preview = preview_of(small_plan, CHANGES)
    before = state_of(small_plan)
    with pytest.raises(ValueError):
        plan_import_apply(plan=small_plan, preview=preview, by=office_user)
    assert state_of(small_plan) == before


@pytest.mark.django_db
def test_a_plan_changed_after_the_preview_is_not_written(small_plan, office_user):
    preview = preview_of(
        small_plan, CHANGES, {unknown_key("县卫生局"): SKIP, unknown_key("卫生局"): SKIP}
    )
    Task.objects.filter(plan=small_plan, clause="2").update(schedule="别人刚改的")
    before = state_of(small_plan)
    with pytest.raises(PlanChanged):
        plan_import_apply(plan=small_plan, preview=preview, by=office_user)
    assert state_of(small_plan) == before


@pytest.mark.django_db
def test_rejected_rows_are_not_written_and_the_rest_is(small_plan, office_user):
    data = table(["1", "", "县民政局", "", ""], ["4", "第四项。", "县民政局", "", ""])
    preview = preview_of(small_plan, data)
    assert [r.action for r in preview.rows] == ["reject", "create"]
    plan_import_apply(plan=small_plan, preview=preview, by=office_user)
    assert Task.objects.get(plan=small_plan, clause="1").text == "原文一。"
    assert Task.objects.filter(plan=small_plan, clause="4").exists()


def all_rows() -> dict[str, list[tuple]]:
    """Every row of every table, in primary-key order."""
    rows = {}
    for model in apps.get_models():
        names = [f.attname for f in model._meta.concrete_fields]
        rows[model._meta.db_table] = list(model._default_manager.order_by("pk").values_list(*names))
    return rows


@pytest.mark.django_db
def test_a_database_error_in_the_middle_of_writing_leaves_everything_as_it_was(
    small_plan, office_user, monkeypatch
):
    preview = preview_of(
        small_plan, CHANGES, {unknown_key("县卫生局"): NEW, unknown_key("卫生局"): NEW}
    )
    before = all_rows()
    real_create = TaskDepartment.objects.create
    written = []

    def failing_create(**kw):
        if len(written) == 4:  # after a department, a task update and links were written
            raise DatabaseError("disk full")
        written.append(real_create(**kw))
        return written[-1]

    monkeypatch.setattr(TaskDepartment.objects, "create", failing_create)
    with pytest.raises(DatabaseError):
        plan_import_apply(plan=small_plan, preview=preview, by=office_user)
    assert len(written) == 4
    assert all_rows() == before


@pytest.mark.django_db
def test_an_import_never_deletes_tasks_the_file_does_not_mention(small_plan, office_user):
    preview = preview_of(small_plan, table(["1", "改过的原文一。", "县民政局", "", ""]))
    plan_import_apply(plan=small_plan, preview=preview, by=office_user)
    assert Task.objects.filter(plan=small_plan, clause="2").exists()


@pytest.mark.django_db
def test_the_snapshot_is_read_in_a_fixed_number_of_queries(django_assert_max_num_queries):
    plan = Plan.objects.select_related("jurisdiction").get(code="xianyang")
    with django_assert_max_num_queries(5):
        snapshot = load_snapshot(plan)
    assert len(snapshot.tasks) == 57
    assert import_plan.squash(" 市卫生健康 委员会 ") == "市卫生健康委员会"


@pytest.mark.django_db
def test_an_import_leaves_who_changed_which_task_from_what_in_the_admin_log(
    small_plan, office_user
):
    from django.contrib.admin.models import ADDITION, CHANGE, LogEntry

    old_text = Task.objects.get(plan=small_plan, clause="1").text
    preview = preview_of(
        small_plan, CHANGES, {unknown_key("县卫生局"): NEW, unknown_key("卫生局"): NEW}
    )
    plan_import_apply(plan=small_plan, preview=preview, by=office_user)

    entries = LogEntry.objects.filter(user=office_user)
    changed = entries.get(action_flag=CHANGE)
    assert changed.object_id == str(Task.objects.get(plan=small_plan, clause="1").pk)
    assert f"{old_text} → 改过的原文一。" in changed.change_message
    added = {(e.content_type.model, e.action_flag) for e in entries.exclude(action_flag=CHANGE)}
    assert added == {("task", ADDITION), ("department", ADDITION)}
    assert entries.filter(content_type__model="task", action_flag=ADDITION).count() == 2
    assert entries.filter(content_type__model="department").count() == 2
