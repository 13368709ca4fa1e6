"""The main pages in a real browser: screenshots for the README, axe-core, a clean console.

Each page is opened by the role that uses it, saved as <name>.png (into docs/screenshots/ with
`make screenshots`), checked by axe-core (no violation of impact serious or critical) and must
leave the console clean (no script error, no Content-Security-Policy refusal).
"""

from __future__ import annotations

from dataclasses import dataclass

import pytest
from axe_playwright_python.sync_playwright import Axe
from playwright.sync_api import Page, expect

from tests.browser.support import CONTEXT, DESKTOP, PHONE, screenshot

pytestmark = pytest.mark.browser

PLAN = "liucheng"
BLOCKING = {"serious", "critical"}
MAX_SCREENSHOT_BYTES = 300_000

# Values the office might have logged by the end of 2019, so the pages show every status.
# Cumulative for numbers that add up (rural care centres: 1 by 2018, 2 by 2019 against 3).
SEED = {
    "2018-12-31": {
        "65岁以上老年人健康管理率": "32",
        "养老机构具备医疗服务能力或与相关医疗机构签约率": "55",
        "农村养老服务中心": "1",
        "居家养老服务站(点)": "2",
        "培训养老服务人员": "60",
        "五保村拓展为农村幸福院": "20",
    },
    "2019-12-31": {
        "65岁以上老年人健康管理率": "52",
        "养老机构具备医疗服务能力或与相关医疗机构签约率": "70",
        "农村养老服务中心": "1",
        "居家养老服务站(点)": "5",
        "培训养老服务人员": "120",
        "五保村拓展为农村幸福院": "30",
    },
}


@dataclass(frozen=True)
class Shot:
    name: str
    user: str | None
    url: str
    viewport: dict[str, int] | None = None
    full_page: bool = True
    chart: bool = False

    def __str__(self) -> str:
        return self.name


PAGES = [
    Shot("login", None, "/accounts/login/", full_page=False),
    Shot("plan-list", "office", "/"),
    # The dashboard runs long (every indicator and task): the first screen and a half.
    Shot(
        "plan-dashboard",
        "leader",
        f"/plans/{PLAN}/?period=2019-12-31",
        viewport={"width": 1280, "height": 1200},
        full_page=False,
    ),
    Shot(
        "indicator-chart",
        "leader",
        f"/plans/{PLAN}/indicators/health-management-rate/?period=2019-12-31",
        chart=True,
    ),
    Shot("overview", "leader", "/overview/?period=2019-12-31", chart=True),
    Shot("entry-grid", "office", f"/plans/{PLAN}/values/2019-12-31/"),
    Shot(
        "submission-board",
        "office",
        f"/plans/{PLAN}/reports/2019-07/",
        viewport={"width": 1280, "height": 1000},
        full_page=False,
    ),
    Shot("report-home", "liaison", "/reports/", viewport=PHONE, full_page=False),
    Shot("plan-document", "leader", f"/plans/{PLAN}/document/", full_page=False),
]


@pytest.fixture(scope="module")
def seeded(browser, app_url, logged_in):
    """Log some 2018 and 2019 values through the entry grid (saving them again changes nothing)."""
    context = browser.new_context(
        base_url=app_url, viewport=DESKTOP, storage_state=logged_in("office"), **CONTEXT
    )
    page = context.new_page()
    for period, values in SEED.items():
        page.goto(f"/plans/{PLAN}/values/{period}/")
        for name, value in values.items():
            page.get_by_label(f"{name} 实际值", exact=True).fill(value)
        page.get_by_role("button", name="全部数值").click()
        expect(page.locator(".messages .success, .messages .info")).to_be_visible()
    context.close()


def blocking_violations(page: Page) -> list[str]:
    results = Axe().run(page)
    return [
        f"{v['id']} ({v['impact']}): {v['help']} -> "
        + "; ".join(" ".join(node["target"]) for node in v["nodes"][:5])
        for v in results.response["violations"]
        if v["impact"] in BLOCKING
    ]


@pytest.mark.parametrize("shot", PAGES, ids=str)
def test_main_page_is_accessible_and_saved_as_a_screenshot(shot, seeded, new_page, console):
    page = new_page(as_user=shot.user, viewport=shot.viewport or DESKTOP)
    response = page.goto(shot.url)
    assert response.status == 200, f"{shot.url} answered {response.status}"
    if shot.chart:
        expect(page.locator("[data-chart] svg.main-svg").first).to_be_attached()

    path = screenshot(page, shot.name, full_page=shot.full_page)
    assert 0 < path.stat().st_size < MAX_SCREENSHOT_BYTES, f"{path} is too large"
    assert blocking_violations(page) == []
    console.assert_clean()


def test_report_form_on_a_phone(new_page, console):
    """The liaison's report, as most liaisons will open it: on a phone."""
    page = new_page(as_user="liaison", viewport=PHONE)
    page.goto("/reports/")
    card = page.locator(".report-card").filter(has_text="2019年全年")
    start = card.get_by_role("button", name="开始填报")
    if start.count():
        start.click()
    else:
        card.get_by_role("link").first.click()
    expect(page.get_by_role("heading", level=1)).to_contain_text("2019年全年")
    form = page.locator("form.report-form")
    expect(form).to_be_visible()

    # Nothing wider than the phone: no sideways scrolling to reach a field.
    overflow = page.evaluate("document.documentElement.scrollWidth - window.innerWidth")
    assert overflow <= 0, f"the page is {overflow}px wider than the phone"
    path = screenshot(page, "report-form-phone", full_page=False)
    assert path.stat().st_size < MAX_SCREENSHOT_BYTES
    assert blocking_violations(page) == []
    console.assert_clean()


def test_an_inline_script_is_refused_and_the_console_watch_sees_it(new_page, console):
    """The policy forbids inline scripts, and the watch every test ends with notices a refusal."""
    page = new_page()
    response = page.goto("/accounts/login/")
    policy = response.headers.get("content-security-policy", "")
    assert "script-src 'self'" in policy
    page.evaluate(
        """() => {
          const script = document.createElement("script");
          script.textContent = "window.injected = true";
          document.body.appendChild(script);
        }"""
    )
    assert page.evaluate("window.injected") is None
    page.wait_for_timeout(200)  # the console message arrives after the refusal
    assert any("Content Security Policy" in error for error in console.errors), console.errors
