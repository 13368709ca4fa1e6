"""Hostile evidence uploads: path tricks and disguises in file names, wrong contents, empty and
oversized files, and other departments' items. A refusal says why in Chinese and leaves no row
and no file; an accepted file lands under a random name inside the report's own folder."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse
from django.utils.html import escape

from reports.models import Evidence, ReportItem
from tests.hostile.conftest import (
    assert_nothing_live,
    assert_says_in_chinese,
    client_for,
    messages_of,
)
from tests.reports.test_evidence_rules import EXE_BYTES, HTML_BYTES, PDF_BYTES, SVG_BYTES, png_bytes

pytestmark = pytest.mark.django_db


def upload(client, item: ReportItem, name: str, content: bytes):
    url = reverse("evidence-upload", args=[item.report_id, item.pk])
    return client.post(url, {"file": SimpleUploadedFile(name, content)})


def files_under(root: Path) -> list[Path]:
    return sorted(p for p in root.rglob("*") if p.is_file()) if root.exists() else []


def assert_refused(response, item: ReportItem, media: Path, reason: str) -> None:
    assert response.status_code == 302
    assert response["Location"].startswith(reverse("report-detail", args=[item.report_id]))
    assert_says_in_chinese(response, reason)
    assert not Evidence.objects.exists()
    assert files_under(media) == []


@pytest.mark.parametrize(
    ("name", "content", "reason"),
    [
        ("../../etc/passwd", PDF_BYTES, "只能上传"),
        ("..\\..\\windows\\win.ini", PDF_BYTES, "只能上传"),
        ("evil.pdf\x00.exe", PDF_BYTES, "只能上传"),  # the NUL is dropped: "evil.pdf.exe"
        ("evil.pdf.exe", EXE_BYTES, "只能上传"),
        ("invoice\u202efdp.exe", EXE_BYTES, "只能上传"),  # shows as "invoiceexe.pdf"
        ("setup.pdf", EXE_BYTES, "文件内容不是"),  # an .exe named .pdf
        ("page.pdf", HTML_BYTES, "文件内容不是"),
        ("drawing.png", SVG_BYTES, "文件内容不是"),
        ("photo.pdf", png_bytes(), "不符"),
        ("empty.pdf", b"", "空"),
        ("a" * 300 + ".pdf", PDF_BYTES, "过长"),
        ("长" * 250 + ".pdf", PDF_BYTES, "过长"),
        ("NUL.pdf", PDF_BYTES, "保留"),
        ("lpt1.pdf", PDF_BYTES, "保留"),
        ("   .pdf", PDF_BYTES, "无效"),
        ("...pdf", PDF_BYTES, "无效"),
        ("x.pdf\u2028.exe", PDF_BYTES, "只能上传"),  # the separator is dropped: "x.pdf.exe"
        ("report.PHP", PDF_BYTES, "只能上传"),
        ("report.html", HTML_BYTES, "只能上传"),
        ("'; DROP TABLE plans_plan; --", PDF_BYTES, "只能上传"),
    ],
)
def test_refused_uploads_leave_no_row_and_no_file(
    liaison_client, item, media, name, content, reason
):
    response = upload(liaison_client, item, name, content)
    assert_refused(response, item, media, reason)


def test_a_file_over_the_limit_is_refused(liaison_client, item, media, settings):
    settings.EVIDENCE_MAX_BYTES = 1024 * 1024
    big = PDF_BYTES + b"0" * (settings.EVIDENCE_MAX_BYTES + 1 - len(PDF_BYTES))
    response = upload(liaison_client, item, "扫描件.pdf", big)
    assert_refused(response, item, media, "过大")


@pytest.mark.parametrize(
    ("name", "kept"),
    [
        ("..\\..\\x.pdf", "x.pdf"),
        ("../../../../tmp/x.pdf", "x.pdf"),
        ("C:\\Windows\\x.pdf", "x.pdf"),
        ("x.exe.pdf", "x.exe.pdf"),
        ("证明\u202egpj.pdf", "证明gpj.pdf"),  # the override is not printable: dropped
        ("&lt;b&gt;x.pdf", "<b>x.pdf"),  # Django unescapes entities in names
    ],
)
def test_accepted_names_lose_their_path_and_the_file_lands_under_a_random_name(
    liaison_client, item, media, tmp_path, name, kept
):
    response = upload(liaison_client, item, name, PDF_BYTES)
    assert response.status_code == 302
    evidence = Evidence.objects.get()
    assert evidence.name == kept
    assert re.fullmatch(rf"evidence/{item.report_id}/[0-9a-f]{{32}}\.pdf", evidence.file.name)
    # Nothing was written anywhere but the report's folder under MEDIA_ROOT.
    assert [p.relative_to(media).as_posix() for p in files_under(tmp_path)] == [evidence.file.name]


@pytest.mark.parametrize(
    "name",
    [
        '"><img src=x onerror=alert(1)>.pdf',
        "<script>alert(1)<\\script>.pdf",
        "a&quot;onmouseover=alert(1).pdf",
    ],
)
def test_a_hostile_file_name_is_shown_escaped_on_the_report_and_in_the_admin(
    liaison_client, office_user, admin_client, item, name
):
    assert upload(liaison_client, item, name, PDF_BYTES).status_code == 302
    evidence = Evidence.objects.get()
    pages = [
        liaison_client.get(reverse("report-detail", args=[item.report_id])),
        client_for(office_user).get(reverse("report-detail", args=[item.report_id])),
        admin_client.get(reverse("admin:reports_evidence_changelist")),
        admin_client.get(reverse("admin:reports_evidence_change", args=[evidence.pk])),
    ]
    for response in pages:
        assert response.status_code == 200
        html = response.content.decode()
        assert_nothing_live(html)
        assert 'onmouseover=alert(1)"' not in html
        assert escape(evidence.name) in html


def test_a_pdf_with_html_inside_downloads_as_an_attachment_never_as_a_page(
    liaison_client, item, media
):
    polyglot = PDF_BYTES + b"<html><script>alert(document.cookie)</script></html>"
    assert upload(liaison_client, item, "证明.pdf", polyglot).status_code == 302
    response = liaison_client.get(Evidence.objects.get().get_absolute_url())
    assert response["Content-Type"] == "application/pdf"
    assert response["Content-Disposition"].startswith("attachment;")
    assert response["X-Content-Type-Options"] == "nosniff"


def test_an_item_of_another_departments_report_takes_no_file(
    liaison_client, other_liaison, item, media, period
):
    from plans.models import Department
    from reports import services

    other = services.report_open(
        period=period,
        department=Department.objects.get(pk=other_liaison.liaison.department_id),
        by=other_liaison,
    )
    foreign = other.items.first()
    # Their report's address: 404. Our report's address with their item: 404 too.
    assert upload(liaison_client, foreign, "证明.pdf", PDF_BYTES).status_code == 404
    url = reverse("evidence-upload", args=[item.report_id, foreign.pk])
    response = liaison_client.post(url, {"file": SimpleUploadedFile("证明.pdf", PDF_BYTES)})
    assert response.status_code == 404
    assert_says_in_chinese(response, "页面不存在")
    assert not Evidence.objects.exists() and files_under(media) == []


def test_deleting_another_departments_file_is_404_and_keeps_it(
    liaison_client, other_liaison, item, media
):
    assert upload(liaison_client, item, "证明.pdf", PDF_BYTES).status_code == 302
    evidence = Evidence.objects.get()
    response = client_for(other_liaison).post(reverse("evidence-delete", args=[evidence.pk]))
    assert response.status_code == 404
    assert Evidence.objects.filter(pk=evidence.pk).exists()
    assert (media / evidence.file.name).exists()


def test_an_upload_without_a_file_field_says_so(liaison_client, item, media):
    url = reverse("evidence-upload", args=[item.report_id, item.pk])
    response = liaison_client.post(url, {"file": "../../etc/passwd"})
    assert_refused(response, item, media, "请先选择")
    assert messages_of(response)


def test_a_malformed_multipart_body_is_answered_400_in_chinese(liaison_client, item, media):
    url = reverse("evidence-upload", args=[item.report_id, item.pk])
    body = b'--xyz\r\nContent-Disposition: form-data; name="file"; filename="a.pdf"\r\n\r\n%PDF-'
    response = liaison_client.generic(
        "POST", url, body, content_type="multipart/form-data; boundary="
    )
    assert response.status_code == 400
    assert_says_in_chinese(response, "请求无效")
    assert not Evidence.objects.exists() and files_under(media) == []


def test_a_hundred_and_one_files_at_once_are_answered_400_in_chinese(liaison_client, item, media):
    url = reverse("evidence-upload", args=[item.report_id, item.pk])
    files = [SimpleUploadedFile(f"{n}.pdf", PDF_BYTES) for n in range(101)]
    response = liaison_client.post(url, {"file": files})
    assert response.status_code == 400
    assert_says_in_chinese(response, "请求无效")
    assert not Evidence.objects.exists() and files_under(media) == []
