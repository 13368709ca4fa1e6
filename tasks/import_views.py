"""The office imports a plan's task table: upload → preview → confirm.

Between preview and confirm the upload waits under MEDIA_ROOT/imports/ under a random name,
named in the session with its SHA-256; confirming re-reads it and recomputes the preview, so
what is written is what the page showed, or, when the plan changed meanwhile, a new preview.
Files are removed on confirm, on a new upload, and once older than KEEP_UPLOAD.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import uuid
from pathlib import Path

from django import forms
from django.conf import settings
from django.contrib import messages
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_http_methods, require_POST

from plans.models import Plan
from plans.roles import office_required
from tasks.import_plan import (
    NEW,
    SKIP,
    ImportPreview,
    PlanChanged,
    build_preview,
    load_snapshot,
    plan_import_apply,
)
from tasks.importing import (
    ImportFileError,
    check_upload,
    max_upload_bytes,
    read_task_table,
    table_entries,
)

SESSION_KEY = "task-import"
KEEP_UPLOAD = dt.timedelta(hours=2)


class TaskImportForm(forms.Form):
    file = forms.FileField(
        label=gettext_lazy("任务表(Excel .xlsx)"),
        widget=forms.ClearableFileInput(attrs={"accept": ".xlsx"}),
        error_messages={"empty": gettext_lazy("文件是空的。")},
    )

    def clean_file(self) -> bytes:
        upload = self.cleaned_data["file"]
        limit = max_upload_bytes()
        if upload.size > limit:  # refused before reading it into memory
            raise forms.ValidationError(
                _("文件过大,上限为 %(limit)s MB。") % {"limit": f"{limit / 1024 / 1024:.1f}"}
            )
        data = upload.read(limit + 1)
        try:
            check_upload(upload.name, data, max_bytes=limit)
        except ImportFileError as error:
            raise forms.ValidationError(str(error)) from None
        return data


def _upload_dir() -> Path:
    return Path(settings.MEDIA_ROOT) / "imports"


def _remove_stale_uploads(now: dt.datetime) -> None:
    folder = _upload_dir()
    if not folder.is_dir():
        return
    cutoff = (now - KEEP_UPLOAD).timestamp()
    for path in folder.glob("*.xlsx"):
        if path.stat().st_mtime < cutoff:
            path.unlink(missing_ok=True)


def _forget_upload(request: HttpRequest) -> None:
    pending = request.session.pop(SESSION_KEY, None)
    if pending:
        (_upload_dir() / f"{pending['token']}.xlsx").unlink(missing_ok=True)


def _keep_upload(request: HttpRequest, plan: Plan, name: str, data: bytes) -> None:
    _forget_upload(request)
    _remove_stale_uploads(timezone.now())
    folder = _upload_dir()
    folder.mkdir(parents=True, exist_ok=True)
    token = uuid.uuid4().hex
    (folder / f"{token}.xlsx").write_bytes(data)
    request.session[SESSION_KEY] = {
        "plan": plan.code,
        "token": token,
        "sha256": hashlib.sha256(data).hexdigest(),
        "name": name[:200],
        "at": timezone.now().isoformat(),
    }


def _kept_upload(request: HttpRequest, plan: Plan) -> tuple[bytes, str] | None:
    """The file this session uploaded for this plan, if it is still there and unaltered."""
    pending = request.session.get(SESSION_KEY)
    if not pending or pending.get("plan") != plan.code:
        return None
    if timezone.now() - dt.datetime.fromisoformat(pending["at"]) > KEEP_UPLOAD:
        _forget_upload(request)
        return None
    path = _upload_dir() / f"{pending['token']}.xlsx"
    try:
        data = path.read_bytes()
    except OSError:
        return None
    if hashlib.sha256(data).hexdigest() != pending["sha256"]:
        return None
    return data, pending["name"]


def _preview(plan: Plan, data: bytes, choices: dict[str, str]) -> ImportPreview:
    table = read_task_table(data)
    return build_preview(table_entries(table), load_snapshot(plan), choices, ignored=table.ignored)


def _get_plan(code: str) -> Plan:
    return get_object_or_404(Plan.objects.select_related("jurisdiction"), code=code)


def _render_preview(
    request: HttpRequest, plan: Plan, preview: ImportPreview, name: str, status: int = 200
) -> HttpResponse:
    departments = sorted(preview.departments.items(), key=lambda item: item[1])
    return render(
        request,
        "tasks/import_preview.html",
        {
            "plan": plan,
            "preview": preview,
            "file_name": name,
            "departments": departments,
            "NEW": NEW,
            "SKIP": SKIP,
        },
        status=status,
    )


@office_required
@require_http_methods(["GET", "HEAD", "POST"])
def task_import(request: HttpRequest, code: str) -> HttpResponse:
    """Upload a task table and see what importing it would do; nothing is written here."""
    plan = _get_plan(code)
    if request.method == "POST":
        form = TaskImportForm(request.POST, request.FILES)
    else:
        form = TaskImportForm()
    if form.is_bound and form.is_valid():
        data = form.cleaned_data["file"]
        name = request.FILES["file"].name
        try:
            preview = _preview(plan, data, {})
        except ImportFileError as error:
            form.add_error("file", str(error))
        else:
            _keep_upload(request, plan, name, data)
            return _render_preview(request, plan, preview, name)
    status = 400 if form.errors else 200
    return render(
        request,
        "tasks/import_upload.html",
        {"plan": plan, "form": form, "limit_mb": f"{max_upload_bytes() / 1024 / 1024:.0f}"},
        status=status,
    )


@office_required
@require_POST
def task_import_confirm(request: HttpRequest, code: str) -> HttpResponse:
    """Write the previewed import, or show the preview again with the choices made."""
    plan = _get_plan(code)
    kept = _kept_upload(request, plan)
    if kept is None:
        messages.error(request, _("没有待确认的导入文件,或文件已过期,请重新上传。"))
        return redirect("task-import", code=plan.code)
    data, name = kept
    choices = {k: v for k, v in request.POST.items() if k.startswith("dept-")}
    try:
        preview = _preview(plan, data, choices)
    except ImportFileError as error:  # it was read once already; only a changed setting gets here
        _forget_upload(request)
        messages.error(request, str(error))
        return redirect("task-import", code=plan.code)

    if request.POST.get("action") != "confirm":
        return _render_preview(request, plan, preview, name)
    if request.POST.get("fingerprint") != preview.fingerprint:
        messages.warning(
            request,
            _("预览之后,方案的任务或部门已被修改。下面是按最新数据重新生成的预览,请核对后再确认。"),
        )
        return _render_preview(request, plan, preview, name, status=409)
    if preview.needs_choice:
        messages.error(request, _("还有未确认的部门,请为每个部门选择对应的部门或新建。"))
        return _render_preview(request, plan, preview, name, status=400)
    if not preview.has_writes:
        _forget_upload(request)
        messages.info(request, _("没有需要导入的变化,方案保持不变。"))
        return redirect(plan)
    try:
        result = plan_import_apply(plan=plan, preview=preview, by=request.user)
    except PlanChanged:
        preview = _preview(plan, data, choices)
        messages.warning(
            request,
            _("预览之后,方案的任务或部门已被修改。下面是按最新数据重新生成的预览,请核对后再确认。"),
        )
        return _render_preview(request, plan, preview, name, status=409)
    _forget_upload(request)
    messages.success(
        request,
        _("已导入任务表:新增 %(created)s 项,修改 %(updated)s 项,新建部门 %(departments)s 个。")
        % {
            "created": result.created,
            "updated": result.updated,
            "departments": result.departments_created,
        },
    )
    return redirect(plan)
