"""Evidence files on report items: the liaison uploads and deletes them while the item may be
changed; whoever may read the report downloads them. Files are never served from MEDIA_URL.

On the report page the evidence controls sit inside the report's own form (forms cannot nest),
so an upload or a delete posts the whole form here with `formaction`: these views read only
their own field (`file`) and leave the report's text to the draft kept in the browser.
"""

from __future__ import annotations

from django.conf import settings
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.contrib.auth.views import redirect_to_login
from django.core.exceptions import PermissionDenied
from django.core.files.uploadedfile import UploadedFile
from django.db import transaction
from django.http import FileResponse, Http404, HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect
from django.urls import reverse
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST, require_safe

from plans.roles import liaison_department_id
from reports import services
from reports.evidence import MAX_FILES_PER_ITEM, FileType, Refused, check_upload
from reports.models import Evidence, Report, ReportItem


def _visible_evidence(user):
    return Evidence.objects.filter(item__report__in=Report.objects.visible_to(user))


def _check_may_change(user, report: Report, item: ReportItem) -> None:
    """403 unless the user is the report's department's liaison and the item may be changed
    now: the report is editable, and the item is returned if only some items were."""
    if liaison_department_id(user) != report.department_id or not report.is_editable:
        raise PermissionDenied
    if item.pk not in {i.pk for i in services._editable_items(report)[0]}:
        raise PermissionDenied


def _locked(report: Report) -> Report:
    """The report row, locked for this transaction: checked again there, so a report submitted
    meanwhile gets no new file, and two uploads at once cannot pass the limit together."""
    return Report.objects.select_for_update(of=("self",)).select_related("period").get(pk=report.pk)


def _back_to(item: ReportItem) -> HttpResponse:
    return redirect(f"{reverse('report-detail', args=[item.report_id])}#item-{item.pk}")


def _one_file(request: HttpRequest) -> UploadedFile:
    files = request.FILES.getlist("file")
    if not files:
        raise Refused(_("请先选择要上传的文件。"))
    if len(files) > 1:
        raise Refused(_("一次只能上传一个文件,请逐项选择并上传。"))
    return files[0]


def _store(item: ReportItem, upload: UploadedFile, *, name: str, file_type: FileType, by):
    """Write the file and its row, both or neither; refused past MAX_FILES_PER_ITEM."""
    evidence = Evidence(
        item=item,
        name=name,
        size=upload.size,
        content_type=file_type.content_type,
        uploaded_by=by,
    )
    with transaction.atomic():
        _check_may_change(by, _locked(item.report), item)
        if item.evidence.count() >= MAX_FILES_PER_ITEM:
            raise Refused(
                _("每个事项最多上传 %(n)s 个文件,请先删除不需要的文件。")
                % {"n": MAX_FILES_PER_ITEM}
            )
        evidence.file.save(name, upload, save=False)  # under a random name: evidence_path
        try:
            evidence.save()
        except BaseException:
            evidence.file.delete(save=False)
            raise
    return evidence


@require_POST
def evidence_upload(request: HttpRequest, pk: int, item_pk: int) -> HttpResponse:
    """Attach one file (field `file`) to an item; every refusal says why and stores nothing."""
    if not request.user.is_authenticated:
        return redirect_to_login(reverse("report-detail", args=[pk]))
    report = get_object_or_404(
        Report.objects.visible_to(request.user).select_related("period"), pk=pk
    )
    item = get_object_or_404(report.items.select_related("report"), pk=item_pk)
    _check_may_change(request.user, report, item)
    try:
        upload = _one_file(request)
        name, file_type = check_upload(
            upload.name or "", upload.size, upload, max_bytes=settings.EVIDENCE_MAX_BYTES
        )
        evidence = _store(item, upload, name=name, file_type=file_type, by=request.user)
    except Refused as exc:
        messages.error(request, exc.message)
    else:
        messages.success(request, _("已上传“%(name)s”。") % {"name": evidence.name})
    return _back_to(item)


@require_POST
def evidence_delete(request: HttpRequest, pk: int) -> HttpResponse:
    """Remove a file: the row now, the file on disk once the deletion is committed."""
    if not request.user.is_authenticated:
        return redirect_to_login(reverse("report-home"))
    evidence = get_object_or_404(
        _visible_evidence(request.user).select_related("item__report"), pk=pk
    )
    item = evidence.item
    with transaction.atomic():
        _check_may_change(request.user, _locked(item.report), item)
        storage, stored = evidence.file.storage, evidence.file.name
        evidence.delete()
        transaction.on_commit(lambda: storage.delete(stored))
    messages.success(request, _("已删除“%(name)s”。") % {"name": evidence.name})
    return _back_to(item)


@login_required
@require_safe
def evidence_download(request: HttpRequest, pk: int) -> FileResponse:
    """The file as an attachment, under the name it was uploaded as, to readers of the report."""
    evidence = get_object_or_404(_visible_evidence(request.user), pk=pk)
    try:
        file = evidence.file.storage.open(evidence.file.name, "rb")
    except FileNotFoundError:
        raise Http404(_("文件已不存在。")) from None
    response = FileResponse(
        file, as_attachment=True, filename=evidence.name, content_type=evidence.content_type
    )
    response["X-Content-Type-Options"] = "nosniff"
    return response
