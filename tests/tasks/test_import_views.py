"""The office's task import pages: upload, preview, confirm; who may; what each page costs."""

from __future__ import annotations

import datetime as dt
import io
import os
from pathlib import Path

import openpyxl
import pytest
from django.contrib.auth.models import Group
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from plans.models import Department, Jurisdiction, OfficeScope, Plan
from tasks import import_views
from tasks.import_plan import NEW, unknown_key
from tasks.models import Task
from tasks.table import TASK_TABLE_HEADERS, task_table_row

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def media(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path
    return tmp_path


def xlsx(*rows: list[object]) -> bytes:
    book = openpyxl.Workbook()
    book.active.title = "任务进展"
    book.active.append(list(TASK_TABLE_HEADERS))
    for row in rows:
        book.active.append(row)
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()


def own_table(code: str) -> bytes:
    tasks = Task.objects.filter(plan__code=code).with_departments().order_by("position")
    return xlsx(*[list(task_table_row(task)) for task in tasks])


def upload(client: Client, data: bytes, name: str = "任务表.xlsx", code: str = "liucheng"):
    return client.post(
        reverse("task-import", args=[code]), {"file": SimpleUploadedFile(name, data)}
    )


def confirm(client: Client, response, code: str = "liucheng", **choices):
    fingerprint = response.context["preview"].fingerprint
    data = {"action": "confirm", "fingerprint": fingerprint, **choices}
    return client.post(reverse("task-import-confirm", args=[code]), data)


def kept_files(media: Path) -> list[Path]:
    return sorted((media / "imports").glob("*")) if (media / "imports").exists() else []


CHANGED = [
    ["二、(一)1", "改写后的示范性养护机构任务。", "县民政局", "", ""],
    ["九、1", "新增的一项任务。", "县民政局", "县文旅局", "2020年"],
]


def test_the_upload_page_explains_what_the_import_does(office_client):
    response = office_client.get(reverse("task-import", args=["liucheng"]))
    assert response.status_code == 200
    assert "上传并预览" in response.text
    assert "不会删除" in response.text


def test_the_plan_dashboard_links_the_import_for_the_office_only(office_client, leader_user):
    url = reverse("task-import", args=["liucheng"])
    assert url in office_client.get(reverse("plan-detail", args=["liucheng"])).text
    leader = Client()
    leader.force_login(leader_user)
    assert url not in leader.get(reverse("plan-detail", args=["liucheng"])).text


def test_uploading_shows_the_preview_and_writes_nothing(office_client, media):
    before = list(Task.objects.filter(plan__code="liucheng").values_list("clause", "text"))
    response = upload(office_client, xlsx(*CHANGED))
    assert response.status_code == 200
    preview = response.context["preview"]
    assert [r.clause for r in preview.updates] == ["二、(一)1"]
    assert [r.clause for r in preview.creates] == ["九、1"]
    assert [u.cited for u in preview.unknown] == ["县文旅局"]
    assert "改写后的示范性养护机构任务。" in response.text
    assert "待确认的部门" in response.text
    assert list(Task.objects.filter(plan__code="liucheng").values_list("clause", "text")) == before
    assert len(kept_files(media)) == 1


def test_confirming_writes_the_import_and_removes_the_kept_file(office_client, media):
    plan = Plan.objects.get(code="liucheng")
    response = upload(office_client, xlsx(*CHANGED))
    answer = confirm(office_client, response, **{unknown_key("县文旅局"): NEW})
    assert answer.status_code == 302
    assert answer["Location"] == plan.get_absolute_url()
    assert Task.objects.get(plan=plan, clause="二、(一)1").text == "改写后的示范性养护机构任务。"
    assert (
        Task.objects.get(plan=plan, clause="九、1").links.get(role="lead").department.name
        == "县民政局"
    )
    assert Department.objects.filter(jurisdiction=plan.jurisdiction, name="县文旅局").exists()
    assert kept_files(media) == []
    assert Plan.objects.get(pk=plan.pk).progress_version > plan.progress_version
    page = office_client.get(answer["Location"])
    assert "已导入任务表:新增 1 项,修改 1 项,新建部门 1 个。" in page.text


def test_confirming_twice_writes_once(office_client):
    response = upload(office_client, xlsx(["九、1", "新增的一项任务。", "县民政局", "", ""]))
    confirm(office_client, response)
    again = confirm(office_client, response)
    assert again.status_code == 302
    assert again["Location"] == reverse("task-import", args=["liucheng"])
    assert Task.objects.filter(plan__code="liucheng", clause="九、1").count() == 1


def test_an_unknown_department_must_be_chosen_before_confirming(office_client):
    response = upload(office_client, xlsx(*CHANGED))
    answer = confirm(office_client, response)
    assert answer.status_code == 400
    assert "还有未确认的部门" in answer.text
    assert not Task.objects.filter(plan__code="liucheng", clause="九、1").exists()


def test_choosing_departments_can_refresh_the_preview_without_writing(office_client):
    upload(office_client, xlsx(*CHANGED))
    civil = Department.objects.get(jurisdiction__name="柳城县", name="县民政局")
    answer = office_client.post(
        reverse("task-import-confirm", args=["liucheng"]),
        {"action": "refresh", unknown_key("县文旅局"): str(civil.pk)},
    )
    assert answer.status_code == 200
    assert not answer.context["preview"].needs_choice
    assert not Task.objects.filter(plan__code="liucheng", clause="九、1").exists()


def test_a_plan_changed_after_the_preview_shows_a_new_preview_and_writes_nothing(office_client):
    response = upload(office_client, xlsx(*CHANGED))
    Task.objects.filter(plan__code="liucheng", clause="二、(一)2").update(schedule="别人刚改的")
    answer = confirm(office_client, response, **{unknown_key("县文旅局"): NEW})
    assert answer.status_code == 409
    assert "预览之后,方案的任务或部门已被修改" in answer.text
    assert answer.context["preview"].fingerprint != response.context["preview"].fingerprint
    assert not Task.objects.filter(plan__code="liucheng", clause="九、1").exists()


def test_a_file_altered_on_disk_after_the_preview_is_not_used(office_client, media):
    response = upload(office_client, xlsx(*CHANGED))
    [kept] = kept_files(media)
    kept.write_bytes(xlsx(["九、2", "别人塞进来的任务。", "县民政局", "", ""]))
    answer = confirm(office_client, response, **{unknown_key("县文旅局"): NEW})
    assert answer.status_code == 302
    assert answer["Location"] == reverse("task-import", args=["liucheng"])
    assert not Task.objects.filter(plan__code="liucheng", clause__in=["九、1", "九、2"]).exists()


def test_confirming_without_an_upload_sends_back_to_the_upload_page(office_client):
    answer = office_client.post(
        reverse("task-import-confirm", args=["liucheng"]), {"action": "confirm"}
    )
    assert answer.status_code == 302
    assert answer["Location"] == reverse("task-import", args=["liucheng"])


def test_a_file_uploaded_for_one_plan_cannot_be_confirmed_into_another(office_client):
    response = upload(office_client, xlsx(*CHANGED))
    answer = confirm(office_client, response, code="panjin", **{unknown_key("县文旅局"): NEW})
    assert answer["Location"] == reverse("task-import", args=["panjin"])
    assert not Task.objects.filter(clause="九、1").exists()


def test_a_file_with_nothing_new_confirms_to_no_change(office_client):
    response = upload(office_client, own_table("liucheng"))
    assert response.context["preview"].unchanged == 29
    assert "没有需要写入的变化" in response.text


@pytest.mark.parametrize(
    ("name", "data", "message"),
    [
        ("任务表.xlsx", b"", "文件是空的"),
        ("任务表.docx", b"PK", "只能导入 Excel 工作簿"),
        ("任务表.xlsx", b"<html>not a workbook</html>", "文件不是 Excel 工作簿"),
        ("任务表.xlsx", xlsx()[:200], "文件不是 Excel 工作簿"),
    ],
)
def test_a_hostile_file_gets_a_message_and_nothing_is_kept(
    office_client, media, name, data, message
):
    response = upload(office_client, data, name=name)
    assert response.status_code == 400
    assert message in response.text
    assert kept_files(media) == []


def test_a_file_over_the_limit_is_refused_before_it_is_read(office_client, settings, media):
    settings.IMPORT_MAX_BYTES = 2_000
    response = upload(office_client, own_table("liucheng"))
    assert response.status_code == 400
    assert "文件过大" in response.text
    assert kept_files(media) == []


def test_an_empty_sheet_gets_a_message(office_client):
    book = openpyxl.Workbook()
    out = io.BytesIO()
    book.save(out)
    response = upload(office_client, out.getvalue())
    assert response.status_code == 400
    assert "工作簿是空的" in response.text


def test_rejected_rows_are_listed_with_their_reasons(office_client):
    response = upload(
        office_client,
        xlsx(
            ["二、(一)1", "", "县民政局", "", ""],
            ["九、1", "甲", "", "", ""],
            ["九、1", "乙", "", "", ""],
        ),
    )
    assert response.status_code == 200
    assert "工作任务为空" in response.text
    assert "序号“九、1”重复(第 3、4 行)" in response.text


def test_a_new_upload_replaces_the_kept_file(office_client, media):
    upload(office_client, xlsx(*CHANGED))
    upload(office_client, own_table("liucheng"))
    assert len(kept_files(media)) == 1


@pytest.fixture
def panjin_office(django_user_model):
    user = django_user_model.objects.create_user("panjin-office", password="x-2026-panjin")
    user.groups.add(Group.objects.get(name="office"))
    OfficeScope.objects.create(user=user).jurisdictions.add(Jurisdiction.objects.get(name="盘锦市"))
    client = Client()
    client.force_login(user)
    return client


def test_an_office_account_imports_only_into_the_plans_it_manages(panjin_office):
    assert panjin_office.get(reverse("task-import", args=["panjin"])).status_code == 200
    assert panjin_office.get(reverse("task-import", args=["liucheng"])).status_code == 403
    assert upload(panjin_office, xlsx(*CHANGED)).status_code == 403
    answer = panjin_office.post(
        reverse("task-import-confirm", args=["liucheng"]), {"action": "confirm"}
    )
    assert answer.status_code == 403


def test_the_confirm_address_answers_only_post(office_client):
    assert office_client.get(reverse("task-import-confirm", args=["liucheng"])).status_code == 405


@pytest.mark.parametrize("code", ["liucheng", "xianyang"])
def test_the_preview_costs_a_fixed_number_of_queries(
    office_client, django_assert_max_num_queries, code
):
    data = own_table(code)
    # session, user, groups, scope, plan, tasks, links, sections, departments, aliases,
    # and the session's save (with its savepoint): the same for 29 tasks as for 57
    with django_assert_max_num_queries(13):
        response = upload(office_client, data, code=code)
    assert response.context["preview"].unchanged == Task.objects.filter(plan__code=code).count()


def test_confirming_costs_queries_in_proportion_to_the_rows_written_only(
    office_client, django_assert_max_num_queries
):
    response = upload(office_client, xlsx(["九、1", "新增的一项任务。", "县民政局", "", ""]))
    # 30 for the rows, +1 for the admin-log entries (one insert for all), +1 for their content
    # type (cached for the process after the first import)
    with django_assert_max_num_queries(32):
        confirm(office_client, response)


def test_an_upload_left_longer_than_it_is_kept_expires(office_client, media):
    response = upload(office_client, xlsx(["九、1", "新增的一项任务。", "县民政局", "", ""]))
    session = office_client.session
    pending = session[import_views.SESSION_KEY]
    pending["at"] = (
        timezone.now() - import_views.KEEP_UPLOAD - dt.timedelta(minutes=1)
    ).isoformat()
    session[import_views.SESSION_KEY] = pending
    session.save()
    answer = confirm(office_client, response)
    assert answer["Location"] == reverse("task-import", args=["liucheng"])
    assert kept_files(media) == []
    assert not Task.objects.filter(plan__code="liucheng", clause="九、1").exists()


def test_files_abandoned_by_other_sessions_are_removed_by_the_next_upload(office_client, media):
    folder = media / "imports"
    folder.mkdir()
    old = folder / "abandoned.xlsx"
    old.write_bytes(b"old")
    stale = (timezone.now() - import_views.KEEP_UPLOAD - dt.timedelta(minutes=1)).timestamp()
    os.utime(old, (stale, stale))
    recent = folder / "someone-elses-preview.xlsx"
    recent.write_bytes(b"new")
    upload(office_client, own_table("liucheng"))
    assert not old.exists()
    assert recent.exists()
