"""Evidence files on report items: uploaded by the liaison, read by whoever reads the report."""

from __future__ import annotations

import re
import shutil
from html.parser import HTMLParser
from pathlib import Path

import pytest
from django.conf import settings
from django.contrib.messages import get_messages
from django.core.files.base import ContentFile
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from plans.models import Department
from reports import services
from reports.models import Evidence, Report, ReportingPeriod, ReportItem
from tests.reports.test_evidence_rules import (
    EXE_BYTES,
    HTML_BYTES,
    PDF_BYTES,
    SVG_BYTES,
    docx_bytes,
    png_bytes,
)

pytestmark = pytest.mark.django_db


# -- Set-up ------------------------------------------------------------------------------------


@pytest.fixture(autouse=True)
def media(settings, tmp_path) -> Path:
    """Files go to a folder of the test's own, never to the project's media/."""
    settings.MEDIA_ROOT = tmp_path / "media"
    return settings.MEDIA_ROOT


def client_for(user) -> Client:
    client = Client()
    if user is not None:
        client.force_login(user)
    return client


@pytest.fixture
def liaison_client(liaison_user) -> Client:
    return client_for(liaison_user)


@pytest.fixture
def report(liaison_user) -> Report:
    period = ReportingPeriod.objects.get(plan__code="liucheng", kind="half", year=2019)
    department = Department.objects.get(jurisdiction__name="柳城县", name="县民政局")
    return services.report_open(period=period, department=department, by=liaison_user)


@pytest.fixture
def item(report) -> ReportItem:
    return report.items.order_by("task__position").first()


def upload_url(item: ReportItem) -> str:
    return reverse("evidence-upload", args=[item.report_id, item.pk])


def upload(client, item: ReportItem, name: str, content: bytes, **extra):
    return client.post(upload_url(item), {"file": SimpleUploadedFile(name, content), **extra})


def messages_of(response) -> list[str]:
    """The messages waiting for the next page, this response's last."""
    return [str(m) for m in get_messages(response.wsgi_request)]


def files_under(root: Path) -> list[Path]:
    return sorted(p for p in root.rglob("*") if p.is_file()) if root.exists() else []


def add_file(item: ReportItem, name: str = "证明.pdf", by=None) -> Evidence:
    """An evidence row and its file, without going through the upload page."""
    evidence = Evidence(
        item=item, name=name, size=len(PDF_BYTES), content_type="application/pdf", uploaded_by=by
    )
    evidence.file.save(name, ContentFile(PDF_BYTES), save=False)
    evidence.save()
    return evidence


def submit(report: Report) -> None:
    Report.objects.filter(pk=report.pk).update(
        state=Report.State.SUBMITTED, first_submitted_at=timezone.now()
    )


# -- Upload and download -------------------------------------------------------------------------


def test_liaison_uploads_a_pdf_a_png_and_a_docx(liaison_client, liaison_user, report, item, media):
    samples = [
        ("养老床位验收证明.pdf", PDF_BYTES, "application/pdf", "pdf"),
        ("现场照片.png", png_bytes(), "image/png", "png"),
        (
            "工作总结.docx",
            docx_bytes(),
            "application/vnd.openxmlformats-officedocument.wordprocessingml.document",
            "docx",
        ),
    ]
    for name, content, content_type, extension in samples:
        response = upload(liaison_client, item, name, content)
        assert response.status_code == 302
        assert (
            response["Location"] == f"{reverse('report-detail', args=[report.pk])}#item-{item.pk}"
        )
        assert messages_of(response)[-1] == f"已上传“{name}”。"
        evidence = item.evidence.get(name=name)
        assert (evidence.size, evidence.content_type) == (len(content), content_type)
        assert evidence.uploaded_by == liaison_user
        # Stored under a random name in the report's folder: nothing of the user's name.
        assert re.fullmatch(
            rf"evidence/{report.pk}/[0-9a-f]{{32}}\.{extension}", evidence.file.name
        )
        assert (media / evidence.file.name).read_bytes() == content
    assert len(files_under(media)) == 3


@pytest.mark.parametrize("username", ["liaison", "office", "leader"])
def test_readers_of_the_report_download_the_file_as_an_attachment(
    django_user_model, liaison_client, item, username
):
    upload(liaison_client, item, "养老床位验收证明.pdf", PDF_BYTES)
    evidence = item.evidence.get()
    reader = client_for(django_user_model.objects.get(username=username))
    response = reader.get(reverse("evidence-download", args=[evidence.pk]))
    assert response.status_code == 200
    assert b"".join(response.streaming_content) == PDF_BYTES
    assert response["Content-Type"] == "application/pdf"
    assert response["X-Content-Type-Options"] == "nosniff"
    assert response["Content-Disposition"].startswith("attachment;")
    assert "filename*=utf-8''%E5%85%BB%E8%80%81" in response["Content-Disposition"]


def test_others_cannot_download(django_user_model, liaison_client, outsider_user, item):
    upload(liaison_client, item, "证明.pdf", PDF_BYTES)
    url = reverse("evidence-download", args=[item.evidence.get().pk])
    liaison2 = django_user_model.objects.get(username="liaison2")
    assert client_for(liaison2).get(url).status_code == 404
    assert client_for(outsider_user).get(url).status_code == 404
    anonymous = Client().get(url)
    assert anonymous.status_code == 302
    assert anonymous["Location"].startswith(reverse("login"))
    assert liaison_client.get(reverse("evidence-download", args=[999_999])).status_code == 404


def test_a_file_missing_on_disk_is_404_not_500(liaison_client, item, media):
    upload(liaison_client, item, "证明.pdf", PDF_BYTES)
    evidence = item.evidence.get()
    (media / evidence.file.name).unlink()
    assert liaison_client.get(evidence.get_absolute_url()).status_code == 404


# -- Refusals: a message, the report page, and nothing stored --------------------------------------


def assert_refused(response, item: ReportItem, media: Path, reason: str) -> None:
    assert response.status_code == 302
    assert response["Location"].startswith(reverse("report-detail", args=[item.report_id]))
    assert any(reason in m for m in messages_of(response)), messages_of(response)
    assert not Evidence.objects.filter(item__report=item.report_id).exists()
    assert files_under(media) == []


@pytest.mark.parametrize(
    ("name", "content", "reason"),
    [
        ("通知.pdf", HTML_BYTES, "文件内容不是"),  # an HTML page renamed .pdf
        ("通知.html", HTML_BYTES, "只能上传"),
        ("图标.svg", SVG_BYTES, "只能上传"),
        ("setup.exe", EXE_BYTES, "只能上传"),
        ("照片.pdf", png_bytes(), "不符"),
        ("空白.pdf", b"", "空"),
        ("con.pdf", PDF_BYTES, "保留"),
        ("../../etc/passwd", PDF_BYTES, "只能上传"),  # Django keeps "passwd": no type at all
        ("..\\..\\boot.ini", PDF_BYTES, "只能上传"),
        ("x" * 10_000 + ".pdf", PDF_BYTES, "过长"),  # Django cuts it to 255 characters
        (".pdf", PDF_BYTES, "无效"),
    ],
)
def test_refused_files_leave_nothing_behind(liaison_client, item, media, name, content, reason):
    response = upload(liaison_client, item, name, content)
    assert_refused(response, item, media, reason)


def test_files_over_the_limit_are_refused(liaison_client, item, media, settings):
    settings.EVIDENCE_MAX_BYTES = len(PDF_BYTES) - 1
    response = upload(liaison_client, item, "证明.pdf", PDF_BYTES)
    assert_refused(response, item, media, "过大")
    settings.EVIDENCE_MAX_BYTES = len(PDF_BYTES)
    assert upload(liaison_client, item, "证明.pdf", PDF_BYTES).status_code == 302
    assert item.evidence.count() == 1


def test_a_request_body_over_the_limit_is_answered_400(liaison_client, item, media, settings):
    # Form fields beyond DATA_UPLOAD_MAX_MEMORY_SIZE (files do not count): a clear 400, no 500.
    settings.DATA_UPLOAD_MAX_MEMORY_SIZE = 1000
    response = upload(liaison_client, item, "证明.pdf", PDF_BYTES, progress="很长" * 1000)
    assert response.status_code == 400
    assert files_under(media) == []


def test_no_file_or_two_files_at_once_are_refused(liaison_client, item, media):
    response = liaison_client.post(upload_url(item), {"progress": "只保存了文字"})
    assert_refused(response, item, media, "请先选择")
    two = [SimpleUploadedFile("a.pdf", PDF_BYTES), SimpleUploadedFile("b.pdf", PDF_BYTES)]
    response = liaison_client.post(upload_url(item), {"file": two})
    assert_refused(response, item, media, "一次只能上传一个文件")


def test_an_eleventh_file_is_refused(liaison_client, item, media):
    for n in range(10):
        assert upload(liaison_client, item, f"证明{n}.pdf", PDF_BYTES).status_code == 302
    before = files_under(media)
    response = upload(liaison_client, item, "第十一个.pdf", PDF_BYTES)
    assert any("最多上传 10 个" in m for m in messages_of(response))
    assert item.evidence.count() == 10
    assert files_under(media) == before
    # The limit is per item: the next item takes files.
    other = item.report.items.exclude(pk=item.pk).first()
    assert upload(liaison_client, other, "证明.pdf", PDF_BYTES).status_code == 302


@pytest.mark.parametrize(
    ("sent", "kept"),
    [("a\x00b.pdf", "ab.pdf"), ("a\nb.pdf", "ab.pdf"), ("../../../evil.pdf", "evil.pdf")],
)
def test_names_with_control_characters_or_paths_never_reach_the_disk(
    liaison_client, item, media, tmp_path, sent, kept
):
    """Django's multipart parser keeps only the printable last part of a sent name, before any
    view sees it (reports.evidence.clean_name refuses the raw forms outright): what is left is
    a plain name, and the file lands under a random name in the report's folder all the same."""
    assert upload(liaison_client, item, sent, PDF_BYTES).status_code == 302
    evidence = item.evidence.get()
    assert evidence.name == kept
    assert [p.relative_to(media).as_posix() for p in files_under(tmp_path)] == [evidence.file.name]


# -- Who may upload and delete, and when ---------------------------------------------------------


def test_only_the_liaison_uploads(django_user_model, office_user, leader_user, item, media):
    for user, status in ((office_user, 403), (leader_user, 403)):
        assert upload(client_for(user), item, "证明.pdf", PDF_BYTES).status_code == status
    liaison2 = django_user_model.objects.get(username="liaison2")
    assert upload(client_for(liaison2), item, "证明.pdf", PDF_BYTES).status_code == 404
    anonymous = upload(Client(), item, "证明.pdf", PDF_BYTES)
    assert anonymous.status_code == 302 and anonymous["Location"].startswith(reverse("login"))
    assert files_under(media) == [] and not Evidence.objects.exists()


def test_uploads_need_an_editable_report_and_item(liaison_client, office_user, report, item, media):
    submit(report)
    assert upload(liaison_client, item, "证明.pdf", PDF_BYTES).status_code == 403
    # Returned for one other item only: this one stays as submitted, the returned one takes files.
    report.refresh_from_db()
    other = report.items.exclude(pk=item.pk).first()
    services.report_return_item(report=report, by=office_user, comment="请附验收证明。", item=other)
    assert upload(liaison_client, item, "证明.pdf", PDF_BYTES).status_code == 403
    assert files_under(media) == []
    assert upload(liaison_client, other, "证明.pdf", PDF_BYTES).status_code == 302
    assert other.evidence.count() == 1
    # A closed period takes no files either.
    ReportingPeriod.objects.filter(pk=report.period_id).update(is_open=False)
    assert upload(liaison_client, other, "证明2.pdf", PDF_BYTES).status_code == 403
    assert other.evidence.count() == 1
    # Items of another report are not found under this one.
    url = reverse("evidence-upload", args=[report.pk, 999_999])
    assert (
        liaison_client.post(url, {"file": SimpleUploadedFile("a.pdf", PDF_BYTES)}).status_code
        == 404
    )


def test_deleting_removes_the_row_and_then_the_file(
    liaison_client, item, media, django_capture_on_commit_callbacks
):
    upload(liaison_client, item, "证明.pdf", PDF_BYTES)
    evidence = item.evidence.get()
    stored = media / evidence.file.name
    with django_capture_on_commit_callbacks(execute=True):
        response = liaison_client.post(reverse("evidence-delete", args=[evidence.pk]))
    assert response.status_code == 302
    assert messages_of(response)[-1] == "已删除“证明.pdf”。"
    assert not Evidence.objects.filter(pk=evidence.pk).exists()
    assert not stored.exists()


def test_only_the_liaison_deletes_while_the_item_is_editable(
    django_user_model, office_user, liaison_client, report, item, media
):
    upload(liaison_client, item, "证明.pdf", PDF_BYTES)
    evidence = item.evidence.get()
    url = reverse("evidence-delete", args=[evidence.pk])
    liaison2 = django_user_model.objects.get(username="liaison2")
    assert client_for(office_user).post(url).status_code == 403
    assert client_for(liaison2).post(url).status_code == 404
    assert Client().post(url)["Location"].startswith(reverse("login"))
    submit(report)
    assert liaison_client.post(url).status_code == 403
    assert Evidence.objects.filter(pk=evidence.pk).exists()
    assert (media / evidence.file.name).exists()


# -- The report page and its versions ------------------------------------------------------------


class FormNesting(HTMLParser):
    """The deepest nesting of <form> elements in a page (valid HTML: 1)."""

    def __init__(self):
        super().__init__()
        self.depth = self.deepest = 0

    def handle_starttag(self, tag, attrs):
        if tag == "form":
            self.depth += 1
            self.deepest = max(self.deepest, self.depth)

    def handle_endtag(self, tag):
        if tag == "form":
            self.depth -= 1


def test_the_page_lists_files_and_offers_uploads_to_the_liaison_only(
    liaison_client, office_user, report, item
):
    upload(liaison_client, item, "验收<证明>.pdf", PDF_BYTES)
    evidence = item.evidence.get()
    download = reverse("evidence-download", args=[evidence.pk])
    page = liaison_client.get(reverse("report-detail", args=[report.pk])).content.decode()
    assert "验收&lt;证明&gt;.pdf" in page and f'href="{download}"' in page
    assert f'formaction="{upload_url(item)}"' in page
    assert 'formenctype="multipart/form-data"' in page
    assert f'formaction="{reverse("evidence-delete", args=[evidence.pk])}"' in page
    parser = FormNesting()
    parser.feed(page)
    assert parser.deepest == 1
    # Enter in a field still saves the draft: a save button comes before any evidence button.
    assert page.index('name="action" value="save"') < page.index("formaction=")

    office_page = client_for(office_user).get(reverse("report-detail", args=[report.pk]))
    content = office_page.content.decode()
    assert f'href="{download}"' in content and "formaction=" not in content
    submit(report)
    page = liaison_client.get(reverse("report-detail", args=[report.pk])).content.decode()
    assert f'href="{download}"' in page and "formaction=" not in page


def test_the_page_costs_the_same_queries_with_files(liaison_client, office_user, report, item):
    office = client_for(office_user)
    url = reverse("report-detail", args=[report.pk])

    def queries(client) -> int:
        with CaptureQueriesContext(connection) as ctx:
            assert client.get(url).status_code == 200
        return len(ctx.captured_queries)

    before = (queries(liaison_client), queries(office))
    for entry in report.items.all()[:5]:
        for n in range(3):
            add_file(entry, f"证明{n}.pdf")
    assert (queries(liaison_client), queries(office)) == before


def test_versions_list_the_evidence_names(liaison_client, liaison_user, report, item):
    upload(liaison_client, item, "证明.pdf", PDF_BYTES)
    upload(liaison_client, item, "现场.png", png_bytes())
    report.refresh_from_db()
    services.report_save_draft(
        report=report, by=liaison_user, version=report.version, items={}, values={}
    )
    items = report.events.latest("at", "pk").snapshot["items"]
    mine = next(i for i in items if i["task"] == item.task.clause)
    assert mine["evidence"] == ["证明.pdf", "现场.png"]
    assert all("evidence" not in i for i in items if i is not mine)


@pytest.mark.browser
def test_in_a_browser_enter_still_saves_and_the_buttons_post_where_they_say(
    liaison_client, report, item
):
    """The evidence buttons share the report's form: Enter in a field must not press them."""
    sync_api = pytest.importorskip("playwright.sync_api", reason="Playwright is not installed")
    chromium = shutil.which("chromium") or shutil.which("chromium-browser")
    if chromium is None:
        pytest.skip("Chromium is not installed")
    evidence = add_file(item)
    detail = reverse("report-detail", args=[report.pk])
    html = liaison_client.get(detail).content.decode()
    amount = report.values.exclude(indicator__kind="deliverable").first()
    posts: list[tuple[str, str, bytes]] = []

    def serve(route):
        request = route.request
        if "/static/" in request.url:
            path = settings.BASE_DIR / "static" / request.url.split("/static/", 1)[1]
            route.fulfill(body=path.read_bytes() if path.is_file() else b"")
        elif request.method == "POST":
            posts.append(
                (request.url, request.headers["content-type"], request.post_data_buffer or b"")
            )
            route.fulfill(body="<p>ok</p>", content_type="text/html; charset=utf-8")
        else:
            route.fulfill(body=html, content_type="text/html; charset=utf-8")

    with sync_api.sync_playwright() as p:
        browser = p.chromium.launch(executable_path=chromium, args=["--no-sandbox"])
        try:
            page = browser.new_page(viewport={"width": 390, "height": 844})
            page.route("**/*", serve)
            page.goto("http://testserver" + detail)
            assert page.evaluate("document.documentElement.scrollWidth") <= 390

            page.press(f"#id_value-{amount.pk}-value", "Enter")
            page.wait_for_load_state()
            url, kind, body = posts[-1]
            assert url.endswith(reverse("report-edit", args=[report.pk]))
            assert b"action=save" in body

            page.goto("http://testserver" + detail)
            page.set_input_files(
                f"#evidence-file-{item.pk}",
                files=[{"name": "证明.pdf", "mimeType": "application/pdf", "buffer": PDF_BYTES}],
            )
            page.click(f"button[formaction='{upload_url(item)}']")
            page.wait_for_load_state()
            url, kind, body = posts[-1]
            assert url.endswith(upload_url(item)) and kind.startswith("multipart/form-data")
            assert PDF_BYTES in body and b'name="file"; filename="' in body

            page.goto("http://testserver" + detail)
            page.click(f"button[formaction='{reverse('evidence-delete', args=[evidence.pk])}']")
            page.wait_for_load_state()
            assert posts[-1][0].endswith(reverse("evidence-delete", args=[evidence.pk]))
        finally:
            browser.close()
