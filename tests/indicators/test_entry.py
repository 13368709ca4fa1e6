"""Office staff enter actual values: one indicator at a time, or a whole plan per period."""

from __future__ import annotations

import datetime as dt
import re
from decimal import Decimal

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from indicators.models import Indicator, Measurement
from tests.builders import make_indicator, make_plan, make_section

pytestmark = pytest.mark.django_db

D = Decimal
YEAR_END = "2019-12-31"


def indicator(code: str, plan: str = "liucheng") -> Indicator:
    return Indicator.objects.select_related("plan").get(plan__code=plan, code=code)


def edit_url(item: Indicator, period: str | None = None) -> str:
    url = reverse("measurement-edit", args=[item.plan.code, item.code])
    return f"{url}?period={period}" if period else url


def grid_url(period: str = YEAR_END, plan: str = "liucheng") -> str:
    return reverse("measurement-grid", args=[plan, period])


def form_data(client, item: Indicator, shown: str = YEAR_END, **changes) -> dict[str, str]:
    """What the single form opened on period `shown` sends back, with `changes` typed in."""
    form = client.get(edit_url(item, shown)).context["form"]
    data = {name: form[name].value() or "" for name in form.fields if name != "clear"}
    data.update(changes)
    return data


def save(client, item: Indicator, value: str, shown: str = YEAR_END, **changes):
    return client.post(edit_url(item), form_data(client, item, shown, value=value, **changes))


def grid_data(client, period: str = YEAR_END, plan: str = "liucheng") -> dict[str, str]:
    """The grid as the browser would send it back untouched."""
    grid = client.get(grid_url(period, plan)).context["grid"]
    data = {}
    for row in grid:
        for name in ("value", "note", "started_from", "started_note"):
            data[row.add_prefix(name)] = row[name].value() or ""
    return data


def key(item: Indicator, name: str = "value") -> str:
    return f"m{item.pk}-{name}"


def stored(item: Indicator, period: str = YEAR_END) -> Measurement | None:
    return Measurement.objects.filter(indicator=item, period_end=period).first()


def page(response) -> str:
    """The page's main content, without the header and its user name."""
    return response.content.decode().split("<main", 1)[1]


# One indicator at a time ------------------------------------------------------------------


def test_office_opens_the_form_on_the_latest_past_period(office_client):
    item = indicator("new-beds")
    response = office_client.get(edit_url(item))
    assert response.status_code == 200
    form = response.context["form"]
    assert form["period"].value() == "2020-12-31"  # the plan ended in 2020
    assert [c[1] for c in form.fields["period"].choices][:2] == ["2018年上半年", "2018年全年"]
    html = page(response)
    assert 'inputmode="decimal"' in html
    assert f'<label for="{form["value"].id_for_label}">' in html


@pytest.mark.parametrize(("given", "expected"), [("2019-07", "2019-06-30"), ("2019-12", YEAR_END)])
def test_the_period_in_the_address_is_preselected(office_client, given, expected):
    response = office_client.get(edit_url(indicator("new-beds"), given))
    assert response.context["form"]["period"].value() == expected


@pytest.mark.parametrize("given", ["2030-12-31", "2019-03", "nonsense", "<b>"])
def test_a_period_outside_the_plan_falls_back_to_the_default(office_client, given):
    response = office_client.get(edit_url(indicator("new-beds"), given))
    assert response.context["form"]["period"].value() == "2020-12-31"


@pytest.mark.parametrize(
    ("code", "typed", "expected"),
    [
        ("new-beds", "300", D("300")),
        ("new-beds", "1,200", D("1200")),
        ("new-beds", "1，200", D("1200")),
        ("new-beds", "１２００", D("1200")),
        ("new-beds", "  450  ", D("450")),
        ("new-beds", "12.5", D("12.5")),
        ("health-management-rate", "60", D("60")),
        ("health-management-rate", "60%", D("60")),
        ("health-management-rate", "60.0", D("60")),
        ("health-management-rate", "６０％", D("60")),
        ("health-management-rate", "100", D("100")),
        ("health-management-rate", "0", D("0")),
    ],
)
def test_every_accepted_way_of_typing_a_number_is_stored(
    office_client, office_user, code, typed, expected
):
    item = indicator(code)
    response = save(office_client, item, typed, note="县民政局统计")
    assert response.status_code == 302
    assert response["Location"] == item.get_absolute_url()
    measurement = stored(item)
    assert measurement.value == expected
    assert measurement.note == "县民政局统计"
    assert measurement.entered_by == office_user
    messages = [str(m) for m in response.wsgi_request._messages]
    assert messages and messages[0].startswith("已保存")


@pytest.mark.parametrize(
    ("code", "typed", "message"),
    [
        ("new-beds", "三百", "请输入阿拉伯数字,例如 300 或 1,200。"),
        ("new-beds", "-5", "数值不能为负数。"),
        ("new-beds", "--5", "请输入阿拉伯数字,例如 300 或 1,200。"),
        ("new-beds", "", "请填写数值。"),
        ("new-beds", "   ", "请填写数值。"),
        ("new-beds", "1e5", "请输入阿拉伯数字,例如 300 或 1,200。"),
        ("new-beds", "NaN", "请输入阿拉伯数字,例如 300 或 1,200。"),
        ("new-beds", "Infinity", "请输入阿拉伯数字,例如 300 或 1,200。"),
        ("new-beds", "0x10", "请输入阿拉伯数字,例如 300 或 1,200。"),
        ("new-beds", "1234567890123", "数值过大:整数部分最多12位。"),
        ("new-beds", "1.234", "小数最多保留2位。"),
        ("new-beds", "1,2", "千分位逗号的位置不对,例如 1,200 或 12,000。"),
        ("new-beds", "60%", "该指标的单位是“张”,请不要填写百分号。"),
        ("new-beds", "9" * 100_000, "输入过长,请只填写一个数值。"),
        ("new-beds", "1' OR '1'='1", "请输入阿拉伯数字,例如 300 或 1,200。"),
        ("health-management-rate", "101", "百分比应在0到100之间。"),
        ("health-management-rate", "150%", "百分比应在0到100之间。"),
    ],
)
def test_every_refused_input_shows_its_message_and_stores_nothing(
    office_client, code, typed, message
):
    item = indicator(code)
    response = save(office_client, item, typed)
    assert response.status_code == 200
    assert message in response.content.decode()
    assert not Measurement.objects.filter(indicator=item).exists()
    assert 'aria-invalid="true"' in page(response)


def test_a_period_not_of_the_plan_is_refused(office_client):
    item = indicator("new-beds")
    data = form_data(office_client, item, value="300", period="2030-12-31")
    response = office_client.post(edit_url(item), data)
    assert response.status_code == 200
    assert response.context["form"].errors["period"]
    assert not Measurement.objects.filter(indicator=item).exists()


def test_a_deliverable_is_entered_as_done_or_not_done(office_client):
    item = indicator("smart-care-centre")
    response = office_client.get(edit_url(item))
    html = page(response)
    assert ">完成</option>" in html and ">未完成</option>" in html
    assert save(office_client, item, "0").status_code == 302
    assert stored(item).value == 0
    assert save(office_client, item, "1").status_code == 302
    assert stored(item).value == 1
    assert "完成" in page(office_client.get(item.get_absolute_url()))


def test_a_deliverable_refuses_anything_but_done_or_not_done(office_client):
    item = indicator("smart-care-centre")
    response = save(office_client, item, "2")
    assert response.status_code == 200
    assert not Measurement.objects.filter(indicator=item).exists()


def test_a_huge_note_is_refused_and_nothing_stored(office_client):
    item = indicator("new-beds")
    response = save(office_client, item, "300", note="说" * 100_000)
    assert response.status_code == 200
    assert response.context["form"].errors["note"]
    assert not Measurement.objects.filter(indicator=item).exists()


def test_a_note_with_html_is_stored_as_typed_and_shown_escaped(office_client):
    item = indicator("new-beds")
    note = '<script>alert("x")</script><b>粗</b>'
    assert save(office_client, item, "300", note=note).status_code == 302
    assert stored(item).note == note
    html = page(office_client.get(item.get_absolute_url()))
    assert "<script>alert" not in html
    assert "&lt;script&gt;alert(&quot;x&quot;)&lt;/script&gt;" in html
    assert "<b>粗</b>" not in html
    grid_html = page(office_client.get(grid_url()))
    assert "<script>alert" not in grid_html


def test_sql_looking_text_is_stored_literally(office_client):
    item = indicator("new-beds")
    note = "'); DELETE FROM indicators_measurement; -- 1' OR '1'='1"
    assert save(office_client, item, "300", note=note).status_code == 302
    assert stored(item).note == note
    assert Indicator.objects.filter(plan__code="liucheng").count() == 22


def test_saving_again_updates_the_same_row_with_named_fields(office_client, leader_user):
    item = indicator("new-beds")
    save(office_client, item, "300")
    first = stored(item)
    Measurement.objects.filter(pk=first.pk).update(entered_by=leader_user)
    with CaptureQueriesContext(connection) as ctx:
        response = save(office_client, item, "350", note="更正")
    assert response.status_code == 302
    updates = [
        q["sql"]
        for q in ctx.captured_queries
        if q["sql"].startswith('UPDATE "indicators_measurement"')
    ]
    assert len(updates) == 1
    assert "period_end" not in updates[0] and "indicator_id" not in updates[0]
    again = stored(item)
    assert again.pk == first.pk
    assert (again.value, again.note, again.entered_by.username) == (D("350"), "更正", "office")
    assert Measurement.objects.filter(indicator=item).count() == 1


def test_an_unchanged_form_saves_nothing(office_client):
    item = indicator("new-beds")
    save(office_client, item, "300")
    before = Measurement.history.filter(indicator_id=item.pk).count()
    response = office_client.post(edit_url(item), form_data(office_client, item))
    assert response.status_code == 302
    assert Measurement.history.filter(indicator_id=item.pk).count() == before


def test_the_clear_box_deletes_the_value_and_the_log_says_so(office_client):
    item = indicator("new-beds")
    save(office_client, item, "300")
    data = form_data(office_client, item, value="", clear="on")
    assert office_client.post(edit_url(item), data).status_code == 302
    assert stored(item) is None
    html = page(office_client.get(item.get_absolute_url()))
    assert "300 张 → 已清除" in html


def test_a_value_changed_meanwhile_is_not_overwritten(office_client, leader_user):
    item = indicator("new-beds")
    data = form_data(office_client, item, value="300")  # the page was opened: no value yet
    Measurement.objects.create(
        indicator=item, period_end=YEAR_END, value=D("280"), entered_by=leader_user
    )
    response = office_client.post(edit_url(item), data)
    assert response.status_code == 200
    html = response.content.decode()
    assert re.search(
        r"该数值已被 督查室 于 \d{4}-\d\d-\d\d \d\d:\d\d 修改为 280 张,请核对后再保存。", html
    )
    assert stored(item).value == 280
    # The page now starts from the value it showed: saving again is a deliberate overwrite.
    form = response.context["form"]
    assert form["started_from"].value() == "280"
    again = {name: form[name].value() or "" for name in form.fields if name != "clear"}
    assert office_client.post(edit_url(item), again).status_code == 302
    assert stored(item).value == 300


def test_a_value_cleared_meanwhile_is_not_written_back(office_client):
    item = indicator("new-beds")
    save(office_client, item, "300")
    data = form_data(office_client, item, value="320")
    office_client.post(edit_url(item), form_data(office_client, item, value="", clear="on"))
    response = office_client.post(edit_url(item), data)
    assert response.status_code == 200
    assert "该数值已被 民政局办公室 于" in response.content.decode()
    assert "清除,请核对后再保存。" in response.content.decode()
    assert stored(item) is None


def test_switching_the_period_in_the_form_does_not_overwrite_that_periods_value(office_client):
    item = indicator("new-beds")
    save(office_client, item, "300", shown="2019-06-30")
    data = form_data(office_client, item, shown=YEAR_END, value="999")
    data["period"] = "2019-06-30"  # chosen in the select, never shown on this page
    response = office_client.post(edit_url(item), data)
    assert response.status_code == 200
    assert "修改为 300 张" in response.content.decode()
    assert stored(item, "2019-06-30").value == 300


def test_the_log_shows_old_and_new_values_with_who_and_when(office_client, client, leader_user):
    item = indicator("new-beds")
    save(office_client, item, "300")
    save(office_client, item, "1,350")
    response = office_client.get(item.get_absolute_url())
    changes = response.context["history"]
    assert [(c.old, c.new) for c in changes] == [("300 张", "1,350 张"), (None, "300 张")]
    assert all(c.user.username == "office" for c in changes)
    assert changes[0].period == "2019年全年"
    html = page(response)
    assert "300 张 → 1,350 张" in html
    assert "— → 300 张" in html
    assert "民政局办公室" in html


def test_the_indicator_page_offers_entry_to_office_staff_only(office_client, client, leader_user):
    item = indicator("new-beds")
    assert "填报实际值" in page(office_client.get(item.get_absolute_url()))
    client.force_login(leader_user)
    html = page(client.get(item.get_absolute_url()))
    assert "填报实际值" not in html
    assert edit_url(item) not in html


# The grid --------------------------------------------------------------------------------


def test_the_grid_lists_every_indicator_of_the_plan_in_order(office_client):
    response = office_client.get(grid_url())
    assert response.status_code == 200
    rows = list(response.context["grid"])
    expected = list(
        Indicator.objects.filter(plan__code="liucheng")
        .order_by("position", "pk")
        .values_list("code", flat=True)
    )
    assert [row.indicator.code for row in rows] == expected
    html = page(response)
    assert "2019年目标" in html
    new_beds = indicator("new-beds")
    row = re.search(rf'id="m{new_beds.pk}-row".*?</tr>', html, re.S).group(0)
    assert "400 张" in row  # the 2019 milestone
    assert "二、(一)3" in row or "一、(一)" in row
    assert html.count('inputmode="decimal"') == sum(
        1 for r in rows if r.indicator.kind != "deliverable"
    )
    assert f'<label class="visually-hidden" for="id_m{new_beds.pk}-value">' in html


@pytest.mark.parametrize("period", ["2019-07", "2019-06-30", "2019-12", YEAR_END])
def test_the_grid_takes_a_period_as_a_date_or_a_report_month(office_client, period):
    response = office_client.get(grid_url(period))
    assert response.status_code == 200
    assert response.context["period_end"] == dt.date.fromisoformat(
        "2019-06-30" if period.startswith("2019-0") else YEAR_END
    )


@pytest.mark.parametrize(
    "period", ["2019-03", "2019-06-15", "2017-12-31", "2021-06-30", "abc", "2019-13", "9" * 40]
)
def test_the_grid_is_404_for_any_other_period(office_client, period):
    assert office_client.get(grid_url(period)).status_code == 404


def test_the_period_picker_links_to_every_period_of_the_plan(office_client):
    html = page(office_client.get(grid_url()))
    for end in ["2018-06-30", "2018-12-31", "2019-06-30", "2020-06-30", "2020-12-31"]:
        assert grid_url(end) in html
    assert 'aria-current="true">2019年全年' in html


def test_the_grid_saves_every_filled_row_together(office_client, office_user):
    beds, rate, centre = (
        indicator("new-beds"),
        indicator("health-management-rate"),
        indicator("smart-care-centre"),
    )
    data = grid_data(office_client)
    data[key(beds)] = "1,200"
    data[key(beds, "note")] = "含民办"
    data[key(rate)] = "55%"
    data[key(centre)] = "1"
    response = office_client.post(grid_url(), data)
    assert response.status_code == 302
    assert response["Location"] == grid_url()
    saved = {m.indicator.code: m.value for m in Measurement.objects.filter(period_end=YEAR_END)}
    assert saved == {"new-beds": 1200, "health-management-rate": 55, "smart-care-centre": 1}
    assert stored(beds).note == "含民办"
    assert stored(beds).entered_by == office_user
    messages = [str(m) for m in response.wsgi_request._messages]
    assert messages == ["2019年全年:新填 3 项,修改 0 项,清除 0 项。"]


def test_the_grid_saves_nothing_when_one_row_is_wrong(office_client):
    beds, rate, care = (
        indicator("new-beds"),
        indicator("health-management-rate"),
        indicator("care-worker-training"),
    )
    data = grid_data(office_client)
    data[key(beds)] = "1,200"
    data[key(rate)] = "120"
    data[key(care)] = "五十"
    response = office_client.post(grid_url(), data)
    assert response.status_code == 200
    assert not Measurement.objects.filter(period_end=YEAR_END).exists()
    html = page(response)
    assert "本次未保存任何数值" in html
    rate_row = re.search(rf'id="m{rate.pk}-row".*?</tr>', html, re.S).group(0)
    care_row = re.search(rf'id="m{care.pk}-row".*?</tr>', html, re.S).group(0)
    beds_row = re.search(rf'id="m{beds.pk}-row".*?</tr>', html, re.S).group(0)
    assert "百分比应在0到100之间。" in rate_row
    assert "请输入阿拉伯数字" in care_row
    assert 'value="1,200"' in beds_row  # what was typed stays for the next try
    assert "field-error" not in beds_row
    assert len(response.context["grid"].invalid_rows) == 2


def test_the_grid_leaves_empty_rows_alone_and_clears_only_when_asked(office_client):
    beds, rate, care = (
        indicator("new-beds"),
        indicator("health-management-rate"),
        indicator("care-worker-training"),
    )
    for item, value in [(beds, "300"), (rate, "50"), (care, "40")]:
        save(office_client, item, value)
    data = grid_data(office_client)
    assert data[key(beds)] == "300"
    data[key(beds)] = ""  # emptied: kept
    data[key(rate)] = ""
    data[key(rate, "clear")] = "on"  # cleared on purpose
    response = office_client.post(grid_url(), data)
    assert response.status_code == 302
    assert stored(beds).value == 300
    assert stored(rate) is None
    assert stored(care).value == 40
    messages = [str(m) for m in response.wsgi_request._messages]
    assert messages == ["2019年全年:新填 0 项,修改 0 项,清除 1 项。"]


def test_an_untouched_grid_writes_nothing(office_client):
    save(office_client, indicator("new-beds"), "300", note="第一行\n第二行")
    before = Measurement.history.count()
    response = office_client.post(grid_url(), grid_data(office_client))
    assert response.status_code == 302
    assert Measurement.history.count() == before
    assert [str(m) for m in response.wsgi_request._messages] == ["2019年全年:未作修改。"]


def test_a_note_without_a_value_is_refused_in_the_grid(office_client):
    beds = indicator("new-beds")
    data = grid_data(office_client)
    data[key(beds, "note")] = "只写了说明"
    response = office_client.post(grid_url(), data)
    assert response.status_code == 200
    assert "填写说明时请同时填写数值" in response.content.decode()
    assert stored(beds) is None


def test_the_grid_refuses_a_row_changed_meanwhile_and_saves_nothing(office_client, leader_user):
    beds, rate = indicator("new-beds"), indicator("health-management-rate")
    save(office_client, beds, "300")
    data = grid_data(office_client)
    data[key(beds)] = "320"
    data[key(rate)] = "55"
    Measurement.objects.filter(indicator=beds).update(value=D("310"), entered_by=leader_user)
    response = office_client.post(grid_url(), data)
    assert response.status_code == 200
    html = response.content.decode()
    assert "该数值已被 督查室 于" in html and "修改为 310 张,请核对后再保存。" in html
    assert stored(beds).value == 310
    assert stored(rate) is None
    # Sent again as shown, the office's check is done: both rows save.
    grid = response.context["grid"]
    again = {}
    for row in grid:
        for name in ("value", "note", "started_from", "started_note"):
            again[row.add_prefix(name)] = row[name].value() or ""
    assert office_client.post(grid_url(), again).status_code == 302
    assert (stored(beds).value, stored(rate).value) == (320, 55)


def test_a_huge_value_or_note_in_the_grid_is_refused(office_client):
    beds, rate = indicator("new-beds"), indicator("health-management-rate")
    data = grid_data(office_client)
    data[key(beds)] = "1" * 100_000
    data[key(rate)] = "50"
    data[key(rate, "note")] = "长" * 100_000
    response = office_client.post(grid_url(), data)
    assert response.status_code == 200
    assert "输入过长,请只填写一个数值。" in response.content.decode()
    assert not Measurement.objects.filter(period_end=YEAR_END).exists()


# Who may enter values ----------------------------------------------------------------------


def _entry_urls() -> list[str]:
    return [edit_url(indicator("new-beds")), grid_url()]


@pytest.mark.parametrize("who", ["leader_user", "liaison_user", "outsider_user"])
def test_only_office_staff_may_open_or_post_the_entry_pages(client, request, who):
    client.force_login(request.getfixturevalue(who))
    beds = indicator("new-beds")
    for url in _entry_urls():
        assert client.get(url).status_code == 403, url
    assert client.post(edit_url(beds), {"period": YEAR_END, "value": "300"}).status_code == 403
    assert client.post(grid_url(), {key(beds): "300"}).status_code == 403
    assert not Measurement.objects.filter(indicator=beds).exists()


def test_anonymous_users_are_sent_to_log_in(client):
    beds = indicator("new-beds")
    for url in _entry_urls():
        response = client.get(url)
        assert response.status_code == 302
        assert response["Location"].startswith(reverse("login"))
    response = client.post(edit_url(beds), {"period": YEAR_END, "value": "300"})
    assert response.status_code == 302
    assert not Measurement.objects.filter(indicator=beds).exists()


def test_an_unknown_indicator_or_plan_is_404(office_client):
    assert office_client.get("/plans/liucheng/indicators/nope/values/").status_code == 404
    assert office_client.get("/plans/nowhere/values/2019-12-31/").status_code == 404


# Query counts ------------------------------------------------------------------------------


def _queries(client, url: str) -> int:
    with CaptureQueriesContext(connection) as ctx:
        assert client.get(url).status_code == 200
    return len(ctx.captured_queries)


def _grow(plan, n: int, office_user) -> Indicator:
    """Add n indicators, each with milestones, a value at 2019-12-31 and a correction."""
    section = make_section(plan)
    last = None
    for _ in range(n):
        last = make_indicator(plan, section, milestones={2018: "1", 2019: "2", 2020: "3"})
        m = Measurement.objects.create(
            indicator=last, period_end=YEAR_END, value=D("1"), entered_by=office_user
        )
        m.value = D("2")
        m.save(update_fields=["value"])
    return last


def test_the_grid_costs_the_same_queries_whatever_the_plan_size(office_client, office_user):
    plan = make_plan()
    _grow(plan, 1, office_user)
    small = _queries(office_client, grid_url(plan=plan.code))
    _grow(plan, 30, office_user)
    assert _queries(office_client, grid_url(plan=plan.code)) == small


def test_the_indicator_page_costs_the_same_queries_whatever_its_history(office_client, office_user):
    item = indicator("new-beds")
    save(office_client, item, "300")
    small = _queries(office_client, item.get_absolute_url())
    for i, period in enumerate(["2018-06-30", "2018-12-31", "2019-06-30", "2020-06-30"] * 5):
        save(office_client, item, str(100 + i), shown=period)
    assert len(office_client.get(item.get_absolute_url()).context["history"]) == 21
    assert _queries(office_client, item.get_absolute_url()) == small


def test_entry_pages_stay_within_a_query_budget(office_client, django_assert_max_num_queries):
    item = indicator("new-beds")
    save(office_client, item, "300")
    for code in ["liucheng", "panjin", "liuzhou", "xianyang"]:
        # One query of the budget is the office account's scope (plans.roles).
        with django_assert_max_num_queries(8):
            office_client.get(grid_url("2020-12-31" if code != "liuzhou" else "2024-12-31", code))
    with django_assert_max_num_queries(6):
        office_client.get(edit_url(item))
    with django_assert_max_num_queries(10):
        office_client.get(item.get_absolute_url())
