"""The three journeys of the product in a real browser, from the login form to the pages.

Each journey types into the real forms and clicks the real buttons; the browser runs the app's
scripts under its Content-Security-Policy, and the console must stay clean throughout.
"""

from __future__ import annotations

import re

import openpyxl
import pytest
from playwright.sync_api import Page, expect

from tests.browser.support import log_in

pytestmark = pytest.mark.browser

PLAN = "liucheng"


def indicator_row(page: Page, name: str):
    return page.locator("#indicators-title + .table-scroll tbody tr").filter(
        has=page.get_by_role("link", name=name, exact=True)
    )


def test_office_logs_values_and_the_dashboard_changes(new_page, console):
    page = new_page()
    log_in(page, "office")
    page.goto(f"/plans/{PLAN}/?period=2019-12-31")
    beds = indicator_row(page, "新增养老床位")
    expect(beds.locator(".status")).to_have_text("暂无数据")
    no_data_before = int(page.locator(".status-counts .status-no_data .n").first.inner_text())

    # The entry grid for the period, reached from the dashboard.
    page.get_by_role("link", name="填报本期数据").click()
    expect(page.get_by_role("heading", level=1)).to_contain_text("2019年全年")
    page.get_by_label("新增养老床位 实际值").fill("650")
    page.get_by_label("新增养老床位 说明").fill("民政局统计")
    page.get_by_role("button", name=re.compile("^保存.*全部数值$")).click()
    expect(page.locator(".messages .success")).to_be_visible()

    page.goto(f"/plans/{PLAN}/?period=2019-12-31")
    beds = indicator_row(page, "新增养老床位")
    expect(beds.locator(".status")).to_have_text("正常推进")
    expect(beds).to_contain_text("650")
    no_data_after = int(page.locator(".status-counts .status-no_data .n").first.inner_text())
    assert no_data_after == no_data_before - 1

    # From the one-indicator form: 280 for 2018 and a correction to 300 for 2019. At that
    # pace the 1,200 beds come years late: behind.
    beds.get_by_role("link", name="新增养老床位").click()
    for period, value in (("2018年全年", "280"), ("2019年全年", "300")):
        page.get_by_role("link", name="填报实际值", exact=True).click()
        page.get_by_role("navigation", name="报告期").get_by_role("link", name=period).click()
        expect(page.get_by_role("combobox", name="报告期")).to_have_value(
            "2018-12-31" if period.startswith("2018") else "2019-12-31"
        )
        page.get_by_role("textbox", name="实际值", exact=True).fill(value)
        page.get_by_role("button", name="保存", exact=True).click()
        expect(page.locator(".messages .success")).to_contain_text(value)
    page.goto(f"/plans/{PLAN}/?period=2019-12-31")
    expect(indicator_row(page, "新增养老床位").locator(".status")).to_have_text("进度滞后")

    console.assert_clean()


def fill_report(page: Page, progress: str) -> None:
    """A careful liaison: a state and progress on every task, a value for every indicator."""
    form = page.locator("form.report-form")
    for select in form.locator('select[name$="-state"]').all():
        select.select_option("in_progress")
    for text in form.locator('textarea[name$="-progress"]').all():
        text.fill(progress)
    for field in form.locator('[name$="-value"]').all():
        if field.evaluate("el => el.tagName") == "SELECT":
            field.select_option(index=1)
        else:
            field.fill("1")


def explain_delays(page: Page) -> None:
    """Fill the delay fields the page asks for (those the engine says are behind)."""
    for fieldset in page.locator("fieldset.delay.is-required").all():
        fieldset.locator('[name$="-delay_reason"]').fill("资金未及时到位。")
        fieldset.locator('[name$="-measures"]').fill("已协调财政局加快拨付。")
        fieldset.locator('[name$="-new_expected_date"]').fill("2019-12-31")


def submit_report(page: Page) -> None:
    with page.expect_navigation():
        page.get_by_role("button", name="报送", exact=True).click()
    if page.locator("fieldset.delay.is-required").count():
        explain_delays(page)
        with page.expect_navigation():
            page.get_by_role("button", name="报送", exact=True).click()
    expect(page.locator(".report-facts .report-state")).to_have_text("已报送")


def test_a_report_is_drafted_submitted_returned_and_resubmitted(new_page, console):
    liaison = new_page()
    log_in(liaison, "liaison")
    liaison.get_by_role("link", name="报送", exact=True).click()
    card = liaison.locator(".report-card").filter(has_text="2019年上半年")
    card.get_by_role("button", name="开始填报").click()
    expect(liaison.get_by_role("heading", level=1)).to_contain_text("县民政局")
    report_url = liaison.url

    fill_report(liaison, "已按计划推进,完成年度任务过半。")
    with liaison.expect_navigation():
        liaison.get_by_role("button", name="保存草稿").click()
    expect(liaison.locator(".report-facts .report-state")).to_have_text("草稿")
    submit_report(liaison)

    # The office finds it on the board and returns it with a comment.
    office = new_page(as_user="office")  # the office's own login is the first journey's
    office.goto(f"/plans/{PLAN}/reports/2019-07/")
    row = office.locator("table tbody tr").filter(has_text="县民政局").first
    expect(row).to_contain_text("逾期报送")  # the 2019 deadline is long past
    office.goto(report_url)
    office.get_by_label("退回整份报告").fill("请补充床位建设的具体数字。")
    with office.expect_navigation():
        office.get_by_role("button", name="退回修改").click()
    expect(office.locator(".report-facts .report-state")).to_have_text("已退回")
    office.goto(f"/plans/{PLAN}/reports/2019-07/")
    row = office.locator("table tbody tr").filter(has_text="县民政局").first
    expect(row).to_contain_text("已退回")

    # The liaison sees the return and why, corrects and resubmits.
    liaison.goto("/reports/")
    liaison.locator(".report-card").filter(has_text="2019年上半年").get_by_role(
        "link", name="继续填报"
    ).click()
    expect(liaison.locator(".return-notes")).to_contain_text("请补充床位建设的具体数字。")
    expect(liaison.locator(".report-facts .report-state")).to_have_text("已退回")
    fill_report(liaison, "新建床位120张,完成年度任务过半。")
    submit_report(liaison)

    # The office sees it submitted again.
    office.goto(f"/plans/{PLAN}/reports/2019-07/")
    row = office.locator("table tbody tr").filter(has_text="县民政局").first
    expect(row).to_contain_text("逾期报送")
    office.goto(report_url)
    expect(office.locator(".report-facts .report-state")).to_have_text("已报送")
    expect(office.get_by_role("button", name="采纳")).to_be_visible()
    expect(office.locator(".report-form")).to_have_count(0)  # the office reviews, not edits
    expect(office.get_by_text("新建床位120张,完成年度任务过半。").first).to_be_visible()

    console.assert_clean()


def test_a_leader_reads_the_charts_and_downloads_the_excel_report(new_page, console, tmp_path):
    page = new_page()
    log_in(page, "leader")
    page.get_by_role("link", name="总览", exact=True).click()
    expect(page.get_by_role("heading", level=1)).to_be_visible()
    expect(page.locator("main")).to_contain_text("柳城县")
    expect(page.locator("[data-chart] svg.main-svg").first).to_be_attached()

    page.goto(f"/plans/{PLAN}/")
    expect(page.get_by_role("heading", name="指标完成情况")).to_be_visible()
    indicator_row(page, "新增养老床位").get_by_role("link", name="新增养老床位").click()
    chart = page.locator("[data-chart]").first
    expect(chart.locator("svg.main-svg").first).to_be_attached()
    assert chart.locator(".scatterlayer .trace").count() >= 1  # lines drawn, not an empty frame
    expect(chart).to_contain_text("最终目标")

    page.goto(f"/plans/{PLAN}/")
    link = page.get_by_role("link", name="下载Excel报表")
    expect(link).to_have_attribute("href", re.compile(r"export\.xlsx$"))
    with page.expect_download() as download_info:
        link.click()
    download = download_info.value
    assert download.suggested_filename.endswith(".xlsx")
    path = tmp_path / download.suggested_filename
    download.save_as(path)
    workbook = openpyxl.load_workbook(path)
    assert any("指标完成情况" in name for name in workbook.sheetnames), workbook.sheetnames

    console.assert_clean()
