"""Content-Security-Policy: scripts only from our own files, so injected markup cannot run."""

from __future__ import annotations

import re
from html.parser import HTMLParser

import pytest
from django.conf import settings
from django.test import Client
from django.urls import reverse

from reports import services
from reports.models import ReportingPeriod

pytestmark = pytest.mark.django_db

TEMPLATES = settings.BASE_DIR / "templates"


def directives(response) -> dict[str, list[str]]:
    policy = response["Content-Security-Policy"]
    parts = [part.split() for part in policy.split(";") if part.strip()]
    return {name: values for name, *values in parts}


class Scripts(HTMLParser):
    """Collect the <script> tags that would run inline and every on* / style attribute."""

    def __init__(self):
        super().__init__()
        self.inline = []
        self.handlers = []
        self.styles = []

    def handle_starttag(self, tag, attrs):
        attributes = dict(attrs)
        runs_inline = "src" not in attributes and attributes.get("type") != "application/json"
        if tag == "script" and runs_inline:
            self.inline.append(attributes)
        self.handlers += [(tag, name) for name, _ in attrs if name.startswith("on")]
        if "style" in attributes:
            self.styles.append(tag)


def scan(html: str) -> Scripts:
    parser = Scripts()
    parser.feed(html)
    return parser


def test_every_page_carries_the_policy(client):
    response = client.get(reverse("login"))

    policy = directives(response)
    assert policy["default-src"] == ["'self'"]
    assert policy["script-src"] == ["'self'"]  # no 'unsafe-inline', no 'unsafe-eval'
    assert policy["style-src"][0] == "'self'" and "'unsafe-inline'" not in policy["style-src"]
    assert policy["img-src"] == ["'self'", "data:"]
    assert policy["object-src"] == ["'none'"]
    assert policy["base-uri"] == ["'self'"]
    assert policy["form-action"] == ["'self'"]
    assert policy["frame-ancestors"] == ["'none'"]


def test_the_style_exceptions_are_only_hashes():
    styles = settings.CONTENT_SECURITY_POLICY["DIRECTIVES"]["style-src"]
    assert all(s == "'self'" or s.startswith("'sha256-") for s in styles)


@pytest.fixture
def liaison_report(liaison_user):
    period = ReportingPeriod.objects.get(plan__code="liucheng", kind="half", year=2019)
    return services.report_open(
        period=period, department=liaison_user.liaison.department, by=liaison_user
    )


def pages(report) -> dict[str, list[str]]:
    """Pages by the role that opens them: the dashboard, a chart, the overview, a report."""
    return {
        "office": [
            reverse("home"),
            reverse("plan-detail", args=["liucheng"]),
            reverse("indicator-detail", args=["liucheng", "new-beds"]),
            reverse("overview"),
            reverse("plan-document", args=["liucheng"]),
            reverse("report-board", args=["liucheng", "2019-07"]),
            reverse("report-detail", args=[report.pk]),
            reverse("otp-setup"),
        ],
        "liaison": [reverse("report-home"), reverse("report-detail", args=[report.pk])],
        "admin": [reverse("admin:index"), reverse("admin:axes_accesslog_changelist")],
    }


def test_no_page_runs_an_inline_script(django_user_model, liaison_report):
    for username, urls in pages(liaison_report).items():
        client = Client()
        client.force_login(django_user_model.objects.get(username=username))
        for url in urls:
            response = client.get(url)
            assert response.status_code == 200, url
            assert "Content-Security-Policy" in response, url
            found = scan(response.content.decode())
            assert found.inline == [], url
            assert found.handlers == [], url
            assert found.styles == [], url  # style attributes are blocked too


def test_the_chart_pages_pass_their_data_as_json(office_client):
    for url in (reverse("indicator-detail", args=["liucheng", "new-beds"]), reverse("overview")):
        html = office_client.get(url).content.decode()
        assert re.search(r'<script id="[^"]+" type="application/json">', html), url
        assert "data-chart=" in html, url


def test_no_template_has_an_inline_script_a_handler_or_a_style_attribute():
    for path in TEMPLATES.rglob("*.html"):
        found = scan(path.read_text())
        assert found.inline == [], path
        assert found.handlers == [], path
        assert found.styles == [], path


def test_the_scanner_notices_what_it_must_refuse():
    found = scan(
        '<script>alert(1)</script><script src="/static/x.js"></script>'
        '<script type="application/json">{}</script><a onclick="x()" style="color:red">'
    )
    assert found.inline == [{}]
    assert found.handlers == [("a", "onclick")]
    assert found.styles == ["a"]
