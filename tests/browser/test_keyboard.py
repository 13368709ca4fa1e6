"""The two forms people fill most, used with the keyboard alone.

Tab must reach every field in reading order (row by row in the entry grid), the focused element
must show a visible ring, and Enter or Space on the button must submit. No mouse click and no
`fill()`: only key presses.
"""

from __future__ import annotations

import itertools
import re

import pytest
from playwright.sync_api import Page, expect

pytestmark = pytest.mark.browser

# What has the focus, and whether it shows: an outline or a box shadow.
FOCUSED = """() => {
  const el = document.activeElement;
  const style = getComputedStyle(el);
  const ring = (style.outlineStyle !== "none" && parseFloat(style.outlineWidth) > 0)
    || style.boxShadow !== "none";
  return {
    tag: el.tagName, name: el.name || "", type: el.type || "", value: el.value ?? "",
    text: (el.innerText || "").trim().slice(0, 40), ring: ring,
    card: el.closest(".report-card") ? el.closest(".report-card").innerText : "",
    inForm: !!el.closest("form.grid-form, form.report-form"),
  };
}"""


def focused(page: Page) -> dict:
    return page.evaluate(FOCUSED)


def tab_until(page: Page, wanted, *, limit: int = 120) -> dict:
    """Press Tab until `wanted(focused)` holds; fail if it never does."""
    for _ in range(limit):
        page.keyboard.press("Tab")
        now = focused(page)
        if wanted(now):
            return now
    raise AssertionError(f"Tab never reached the element wanted; last: {now}")


def choose_with_arrows(page: Page, value: str) -> None:
    """Move a focused, closed <select> down its options until `value` is chosen."""
    for _ in range(12):
        if focused(page)["value"] == value:
            return
        page.keyboard.press("ArrowDown")
    raise AssertionError(f"option {value!r} not reached with the arrow keys")


def test_entry_grid_is_filled_and_saved_with_the_keyboard(new_page, console):
    page = new_page(as_user="office")
    page.goto("/plans/panjin/values/2019-12-31/")
    rows = page.locator("table.entry-grid tbody tr").evaluate_all(
        "rows => rows.map(row => row.id.replace(/-row$/, ''))"
    )
    typed = {
        "民营机构养老床位占全部机构养老床位比例 实际值": "45",
        "开设老年人就医绿色通道的医疗机构比例 实际值": "80%",
    }
    labels = dict(
        page.locator("table.entry-grid [name$='-value']").evaluate_all(
            "els => els.map(el => [el.name, el.labels[0].innerText.trim()])"
        )
    )

    stops = [tab_until(page, lambda f: f["name"].endswith("-value"))]
    while True:
        now = stops[-1]
        label = labels.get(now["name"], "")
        if label in typed:
            page.keyboard.type(typed[label])
        page.keyboard.press("Tab")
        stops.append(focused(page))
        if not stops[-1]["inForm"] or stops[-1]["tag"] == "BUTTON":
            break

    button = stops[-1]
    assert button["tag"] == "BUTTON" and "全部数值" in button["text"], button
    fields = [s["name"] for s in stops[:-1]]
    assert fields == [f"{row}-{name}" for row in rows for name in ("value", "note")]
    assert [s for s in stops if not s["ring"]] == [], "focus not visible"

    with page.expect_navigation():
        page.keyboard.press("Space")
    expect(page.locator(".messages .success")).to_be_visible()
    row = page.locator("table.entry-grid tbody tr").filter(has_text="民营机构养老床位占全部")
    expect(row.locator("td.current")).to_contain_text("45%")
    row = page.locator("table.entry-grid tbody tr").filter(has_text="绿色通道")
    expect(row.locator("td.current")).to_contain_text("80%")
    console.assert_clean()


def type_date(page: Page, digits: str) -> None:
    """Type into a focused date input, in the segment order headless Chromium shows (m/d/y)."""
    page.keyboard.type(digits)
    value = focused(page)["value"]
    assert value == f"{digits[4:]}-{digits[:2]}-{digits[2:4]}", f"date typed as {value!r}"


def walk_report_form(page: Page, *, fill_delays: bool) -> list[dict]:
    """Tab from the top of the page through the report form, answering every field it needs."""
    page.keyboard.press("Tab")
    stops = []
    for _ in range(400):
        now = focused(page)
        if now["inForm"]:
            stops.append(now)
            name = now["name"]
            if now["tag"] == "BUTTON" and now["text"] == "报送":
                return stops
            if name.endswith("-state") and not fill_delays:
                choose_with_arrows(page, "in_progress")
            elif name.endswith("-progress") and not fill_delays:
                page.keyboard.type("已按计划推进,完成年度任务过半。")
            elif name.endswith("-value") and not fill_delays:
                if now["tag"] == "SELECT":
                    page.keyboard.press("ArrowDown")
                else:
                    page.keyboard.type("1")
            elif fill_delays and not now["value"]:
                if name.endswith("-delay_reason"):
                    page.keyboard.type("资金未及时到位。")
                elif name.endswith("-measures"):
                    page.keyboard.type("已协调财政局加快拨付。")
                elif name.endswith("-new_expected_date"):
                    type_date(page, "12312019")
        page.keyboard.press("Tab")
    raise AssertionError("Tab never reached the 报送 button")


def test_report_form_is_filled_and_submitted_with_the_keyboard(new_page, console):
    page = new_page(as_user="liaison2")
    page.goto("/reports/")
    tab_until(page, lambda f: f["text"] == "开始填报" and "2019年上半年" in f["card"])
    page.keyboard.press("Enter")
    expect(page.get_by_role("heading", level=1)).to_contain_text("2019年上半年")

    stops = walk_report_form(page, fill_delays=False)
    names = [s["name"] for s in stops]
    assert any(n.endswith("-progress") for n in names)
    assert any(n.endswith("-value") for n in names)
    # Each entry's fields are reached together: Tab never comes back to an entry it left.
    entries = [m[1] for name in names if (m := re.match(r"((?:item|value)-\d+)-", name))]
    left = [a for a, b in itertools.pairwise(entries) if a != b]
    assert len(left) == len(set(left)), entries
    assert [s for s in stops if not s["ring"]] == [], "focus not visible"
    with page.expect_navigation():
        page.keyboard.press("Enter")

    if page.locator("fieldset.delay.is-required").count():
        walk_report_form(page, fill_delays=True)
        with page.expect_navigation():
            page.keyboard.press("Enter")
    expect(page.locator(".report-facts .report-state")).to_have_text("已报送")
    console.assert_clean()
