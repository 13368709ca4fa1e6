"""The JSON API for other systems: same numbers as the engine, auth, hostile input, schema."""

from __future__ import annotations

import datetime as dt
import json
from decimal import Decimal
from io import StringIO
from urllib.parse import quote

import pytest
from django.core.management import CommandError, call_command
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from indicators.models import AlternativeMilestone, Indicator, Measurement
from indicators.progress import Status
from plans.models import ApiToken, Plan, hash_api_key
from tasks.models import Task, TaskUpdate
from tests.builders import (
    link_indicator,
    make_department,
    make_indicator,
    make_plan,
    make_section,
    make_task,
)

pytestmark = pytest.mark.django_db

SEED_CODES = ["liucheng", "panjin", "liuzhou", "xianyang"]
# Measured: 1 plan + 3 indicators (rows, milestones, values) + 3 tasks (rows with their state,
# deliverables, departments) = 7, plus 2 for a session (session, user) or 1-2 for a token
# (the lookup, and at most once a minute the "last used" stamp).
QUERY_BUDGET = 10


def progress_url(code: str = "liucheng", date: str | None = "2019-12-31") -> str:
    url = reverse("api-plan-progress", args=[code])
    return url if date is None else f"{url}?date={quote(date)}"


@pytest.fixture
def api_key(office_user) -> str:
    _, key = ApiToken.objects.issue(user=office_user, name="省平台")
    return key


def bearer(key: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {key}"}


def get_progress(client, code="liucheng", date="2019-12-31", **kw) -> dict:
    response = client.get(progress_url(code, date), **kw)
    assert response.status_code == 200, response.content
    return response.json()


def indicator_in(data: dict, code: str) -> dict:
    return next(i for i in data["indicators"] if i["code"] == code)


def measure(code: str, value: str, period_end=dt.date(2019, 12, 31), plan="liucheng"):
    indicator = Indicator.objects.get(plan__code=plan, code=code)
    return Measurement.objects.create(
        indicator=indicator, period_end=period_end, value=Decimal(value)
    )


# ---- the numbers ------------------------------------------------------------------------------


def test_new_beds_expect_the_running_total_from_the_plan_start(office_client):
    data = get_progress(office_client)
    beds = indicator_in(data, "new-beds")
    assert beds["expected"] == 700  # 300 in 2018 + 400 in 2019
    assert beds["final_target"] == 1200
    assert beds["actual"] is None
    assert beds["actual_date"] is None
    assert beds["status"] == "no_data"
    assert data["date"] == "2019-12-31"


@pytest.mark.parametrize(("value", "status"), [("650", "on_track"), ("300", "behind")])
def test_new_beds_status_follows_the_reported_value(office_client, value, status):
    measure("new-beds", value)
    beds = indicator_in(get_progress(office_client), "new-beds")
    assert beds["actual"] == float(value)
    assert beds["actual_date"] == "2019-12-31"
    assert beds["expected"] == 700
    assert beds["status"] == status


def test_health_management_rate_at_the_years_milestone_is_achieved(office_client):
    measure("health-management-rate", "52")
    rate = indicator_in(get_progress(office_client), "health-management-rate")
    assert rate["unit"] == "%"
    assert rate["kind"] == "level"
    assert rate["clause"] == "一、(二)"
    assert rate["actual"] == 52
    assert rate["status"] == "achieved"


def test_a_value_reported_after_the_date_asked_is_not_seen(office_client):
    measure("new-beds", "650", period_end=dt.date(2020, 6, 30))
    assert indicator_in(get_progress(office_client), "new-beds")["actual"] is None


def test_numbers_are_json_numbers_rounded_to_two_places(office_client):
    # Mid-year a flow's expected value is a fraction of a bed: 300 + 400 * 181/365.
    beds = indicator_in(get_progress(office_client, date="2019-06-30"), "new-beds")
    assert beds["expected"] == 498.36
    assert isinstance(beds["final_target"], float)


def test_the_conflicting_indicator_is_flagged(office_client):
    conflicting = Indicator.objects.with_conflict_flag().get(
        plan__code="liucheng", has_conflict=True
    )
    data = get_progress(office_client)
    assert indicator_in(data, conflicting.code)["conflict"] is True
    assert indicator_in(data, "new-beds")["conflict"] is False


def test_tasks_carry_departments_state_and_status(office_client):
    task = Task.objects.get(plan__code="liucheng", clause="二、(三)1")
    TaskUpdate.objects.create(task=task, state="delayed", as_of=dt.date(2019, 12, 1))
    data = get_progress(office_client)
    row = next(t for t in data["tasks"] if t["clause"] == "二、(三)1")
    assert row["title"] == "稳步推进家庭医生签约服务"
    assert row["lead"] == ["县卫生计生局", "各乡镇人民政府"]
    assert row["supporting"] == [link.department.name for link in task.supporting_links]
    assert row["state"] == "delayed"
    assert row["status"] == "behind"


def test_only_tasks_without_sub_items_are_listed(office_client):
    data = get_progress(office_client, code="xianyang", date="2020-06-30")
    leaves = Task.objects.filter(plan__code="xianyang", subtasks__isnull=True)
    assert sorted(t["clause"] for t in data["tasks"]) == sorted(t.clause for t in leaves)


@pytest.mark.parametrize("code", SEED_CODES)
def test_the_summary_counts_every_row_by_status(office_client, code):
    data = get_progress(office_client, code=code, date=None)
    for kind in ("indicators", "tasks"):
        counts = data["summary"][kind]
        assert set(counts) == set(Status.values)
        for status, n in counts.items():
            assert n == sum(1 for row in data[kind] if row["status"] == status)
    plan = Plan.objects.get(code=code)
    assert data["plan"]["start_year"] == plan.start_year
    assert len(data["indicators"]) == plan.indicators.count()


def test_without_a_date_the_latest_period_end_is_used(office_client, monkeypatch):
    monkeypatch.setattr(timezone, "localdate", lambda *a, **kw: dt.date(2019, 8, 1))
    assert get_progress(office_client, date=None)["date"] == "2019-06-30"
    assert get_progress(office_client, date="")["date"] == "2019-06-30"
    # Liuzhou's plan has not begun: its first period end.
    assert get_progress(office_client, code="liuzhou", date=None)["date"] == "2023-06-30"


def test_any_real_date_may_be_asked(office_client):
    assert get_progress(office_client, date="2020-02-29")["date"] == "2020-02-29"


# ---- who may read -----------------------------------------------------------------------------


def test_a_token_reads_and_is_marked_used(client, api_key):
    data = get_progress(client, headers=bearer(api_key))
    assert data["plan"]["code"] == "liucheng"
    assert ApiToken.objects.get().last_used_at is not None


def test_a_logged_in_session_reads(office_client):
    assert get_progress(office_client)["plan"]["jurisdiction"] == "柳城县"


def test_anonymous_is_401_with_a_bearer_challenge(client):
    response = client.get(progress_url())
    assert response.status_code == 401
    assert response["WWW-Authenticate"].startswith("Bearer")
    assert response["Content-Type"] == "application/json"
    assert "Authorization" in response.json()["error"]


@pytest.mark.parametrize(
    "header",
    [
        "Bearer wrong",
        "Bearer ",
        "bearer " + "x" * 5000,
        "Bearer ' OR '1'='1",
        "Bearer <script>",
    ],
)
def test_a_wrong_token_is_401(client, api_key, header):
    response = client.get(progress_url(), headers={"Authorization": header})
    assert response.status_code == 401
    assert 'error="invalid_token"' in response["WWW-Authenticate"]
    assert response.json()["error"]


def test_another_scheme_without_a_session_is_401(client, api_key):
    response = client.get(progress_url(), headers={"Authorization": f"Basic {api_key}"})
    assert response.status_code == 401


def test_a_deactivated_token_is_401(client, api_key):
    ApiToken.objects.update(is_active=False)
    assert client.get(progress_url(), headers=bearer(api_key)).status_code == 401


def test_a_token_of_a_deactivated_user_is_401(client, api_key, office_user):
    office_user.is_active = False
    office_user.save(update_fields=["is_active"])
    assert client.get(progress_url(), headers=bearer(api_key)).status_code == 401


def test_a_wrong_token_is_refused_even_beside_a_session(office_client):
    response = office_client.get(progress_url(), headers=bearer("wrong"))
    assert response.status_code == 401


def test_an_unknown_plan_is_401_before_it_is_404(client):
    assert client.get(progress_url("nowhere")).status_code == 401


def test_the_api_only_reads(office_client):
    response = office_client.post(progress_url())
    assert response.status_code == 405
    assert response["Allow"] == "GET, HEAD"
    assert response.json()["error"]


# ---- hostile input ----------------------------------------------------------------------------


@pytest.mark.parametrize(
    "bad",
    [
        "2019-02-30",
        "2019-13-01",
        "2019-12-31T00:00",
        "20191231",
        "2019-W01-1",
        "２０１９-１２-３１",
        "2019-12-31\n",
        "<script>alert(1)</script>",
        "2019-12-31' OR '1'='1",
        "'; DROP TABLE plans_plan; --",
        "9" * 10000,
        "0000-00-00",
        "-5",
    ],
)
def test_a_bad_date_is_400_with_a_clear_message(office_client, bad):
    response = office_client.get(reverse("api-plan-progress", args=["liucheng"]), {"date": bad})
    assert response.status_code == 400
    assert response["Content-Type"] == "application/json"
    message = response.json()["error"]
    assert "YYYY-MM-DD" in message
    assert "日期" in message
    assert bad not in message  # nothing the caller sent is echoed back
    assert Plan.objects.filter(code="liucheng").exists()


@pytest.mark.parametrize(
    "code",
    [
        "nowhere",
        "x" * 10000,
        "<script>alert(1)</script>",
        "liucheng' OR '1'='1",
        "liucheng;--",
        "柳城",
        "LIUCHENG",
    ],
)
def test_an_unknown_plan_is_404_json(office_client, code):
    response = office_client.get(f"/api/plans/{quote(code, safe='')}/progress?date=2019-12-31")
    assert response.status_code == 404
    assert response["Content-Type"] == "application/json"
    assert response.json()["error"]


def test_an_unknown_address_under_the_api_is_404_json(client):
    for path in ["/api/", "/api/plans/liucheng/progress/", "/api/plans/a/b/progress", "/api/x"]:
        response = client.get(path)
        assert response.status_code == 404, path
        assert response.json() == {"error": "没有这个接口 / no such endpoint"}


def test_markup_in_a_name_is_plain_text_in_valid_json(office_client):
    plan = make_plan()
    name = '<script>alert("养老")</script> & </script>'
    make_indicator(plan, name=name)
    response = office_client.get(progress_url(plan.code, "2019-12-31"))
    assert response["Content-Type"] == "application/json"
    assert response["X-Content-Type-Options"] == "nosniff"
    data = json.loads(response.content.decode("utf-8"))
    assert data["indicators"][0]["name"] == name


def test_answers_are_not_kept_in_shared_caches(office_client):
    response = office_client.get(progress_url())
    assert "private" in response["Cache-Control"]
    assert "Authorization" in response["Vary"]


# ---- the schema -------------------------------------------------------------------------------


def resolve(schema: dict, root: dict) -> dict:
    while "$ref" in schema:
        node = root
        for part in schema["$ref"].removeprefix("#/").split("/"):
            node = node[part]
        schema = node
    return schema


JSON_TYPES = {
    "object": dict,
    "array": list,
    "string": str,
    "integer": int,
    "number": (int, float),
    "boolean": bool,
    "null": type(None),
}


def check(value, schema: dict, root: dict, where: str = "$") -> None:
    """Every key of `value` is described by `schema`, with its type and enum; required present."""
    schema = resolve(schema, root)
    types = schema.get("type", [])
    types = [types] if isinstance(types, str) else types
    if types:
        ok = any(
            isinstance(value, JSON_TYPES[t]) and not (t in ("integer", "number") and value is True)
            for t in types
        )
        assert ok, f"{where}: {value!r} is not {types}"
    if "enum" in schema:
        assert value in schema["enum"], f"{where}: {value!r} not in {schema['enum']}"
    if isinstance(value, dict):
        properties = schema.get("properties", {})
        assert set(value) <= set(properties), f"{where}: undescribed {set(value) - set(properties)}"
        assert set(schema.get("required", [])) <= set(value), f"{where}: missing keys"
        for key, item in value.items():
            check(item, properties[key], root, f"{where}.{key}")
    if isinstance(value, list):
        for n, item in enumerate(value):
            check(item, schema["items"], root, f"{where}[{n}]")


@pytest.fixture
def schema(client) -> dict:
    response = client.get(reverse("api-openapi"))  # documentation needs no login
    assert response.status_code == 200
    assert response["Content-Type"] == "application/json"
    return response.json()


def progress_schema(schema: dict, status: str) -> dict:
    operation = schema["paths"]["/api/plans/{code}/progress"]["get"]
    return operation["responses"][status]["content"]["application/json"]["schema"]


def test_every_key_of_a_real_answer_is_described_in_the_schema(office_client, schema):
    measure("new-beds", "650")
    measure("health-management-rate", "52")
    task = Task.objects.filter(plan__code="liucheng").first()
    TaskUpdate.objects.create(task=task, state="in_progress", as_of=dt.date(2019, 7, 1))
    data = get_progress(office_client)
    assert {i["status"] for i in data["indicators"]} > {"achieved", "on_track", "no_data"}
    assert any(i["conflict"] for i in data["indicators"])
    assert any(t["state"] for t in data["tasks"])
    check(data, progress_schema(schema, "200"), schema)
    for code in SEED_CODES:
        check(get_progress(office_client, code, date=None), progress_schema(schema, "200"), schema)


def test_error_answers_match_the_schema(office_client, schema):
    anonymous = Client().get(progress_url())
    assert anonymous.status_code == 401
    check(anonymous.json(), progress_schema(schema, "401"), schema)
    check(office_client.get(progress_url(date="x")).json(), progress_schema(schema, "400"), schema)
    check(office_client.get(progress_url("x")).json(), progress_schema(schema, "404"), schema)


def test_the_schema_status_enum_is_the_engines(schema):
    assert sorted(schema["components"]["schemas"]["Status"]["enum"]) == sorted(Status.values)
    counts = schema["components"]["schemas"]["StatusCounts"]["properties"]
    assert sorted(counts) == sorted(Status.values)


def test_the_schema_describes_the_endpoint_parameters_and_both_ways_in(schema):
    assert schema["openapi"].startswith("3.1")
    operation = schema["paths"]["/api/plans/{code}/progress"]["get"]
    assert {(p["name"], p["in"]) for p in operation["parameters"]} == {
        ("code", "path"),
        ("date", "query"),
    }
    assert {"200", "400", "401", "404"} <= set(operation["responses"])
    assert "WWW-Authenticate" in operation["responses"]["401"]["headers"]
    schemes = schema["components"]["securitySchemes"]
    assert schemes["bearerAuth"] == {**schemes["bearerAuth"], "type": "http", "scheme": "bearer"}
    assert schemes["sessionAuth"]["in"] == "cookie"
    assert {name for s in schema["security"] for name in s} == {"bearerAuth", "sessionAuth"}
    for ref in _refs(schema):
        resolve({"$ref": ref}, schema)  # every reference points somewhere


def _refs(node) -> list[str]:
    if isinstance(node, list):
        return [r for v in node for r in _refs(v)]
    if not isinstance(node, dict):
        return []
    own = [node["$ref"]] if "$ref" in node else []
    return own + [r for v in node.values() for r in _refs(v)]


# ---- cost -------------------------------------------------------------------------------------


def _grow(plan: Plan, n: int) -> None:
    """Add n indicators (with milestones, values, a conflict) and n tasks (with a state)."""
    section = make_section(plan)
    for _ in range(n):
        dept = make_department(plan.jurisdiction)
        indicator = make_indicator(plan, section, milestones={2018: "1", 2019: "2"})
        link_indicator(indicator, dept)
        Measurement.objects.create(indicator=indicator, period_end="2019-06-30", value=1)
        AlternativeMilestone.objects.create(
            indicator=indicator, year=2019, value=3, source_clause="附件1"
        )
        task = make_task(plan, section, lead=[dept], support=[make_department(plan.jurisdiction)])
        make_task(plan, section, parent=task, lead=[dept])
        TaskUpdate.objects.create(task=task, state="in_progress", as_of=dt.date(2019, 1, 1))


def _queries(client, url: str, **kw) -> int:
    with CaptureQueriesContext(connection) as ctx:
        assert client.get(url, **kw).status_code == 200
    return len(ctx.captured_queries)


def test_the_answer_costs_the_same_queries_whatever_the_plan_size(office_client, api_key):
    plan = make_plan()
    _grow(plan, 1)
    url = progress_url(plan.code)
    small = _queries(office_client, url)
    assert _queries(Client(), url, headers=bearer(api_key)) <= small
    _grow(plan, 30)
    assert _queries(office_client, url) == small
    assert len(office_client.get(url).json()["indicators"]) == 31


@pytest.mark.parametrize("code", SEED_CODES)
def test_the_answer_stays_within_a_query_budget(
    client, office_client, api_key, django_assert_max_num_queries, code
):
    with django_assert_max_num_queries(QUERY_BUDGET):
        office_client.get(progress_url(code, date=None))
    with django_assert_max_num_queries(QUERY_BUDGET):
        client.get(progress_url(code, date=None), headers=bearer(api_key))


# ---- tokens -----------------------------------------------------------------------------------


def test_the_command_prints_a_key_once_and_stores_only_its_hash(client):
    out, err = StringIO(), StringIO()
    call_command("create_api_token", "office", name="省平台", stdout=out, stderr=err)
    key = out.getvalue().strip()
    token = ApiToken.objects.get()
    assert len(key) >= 40
    assert token.name == "省平台"
    assert token.user.username == "office"
    assert token.key_hash == hash_api_key(key) != key
    assert key not in err.getvalue()
    assert client.get(progress_url(), headers=bearer(key)).status_code == 200


def test_the_command_refuses_an_unknown_user_or_an_empty_name():
    with pytest.raises(CommandError, match="no user"):
        call_command("create_api_token", "nobody", name="省平台")
    with pytest.raises(CommandError, match="name"):
        call_command("create_api_token", "office", name="  ")
    assert not ApiToken.objects.exists()


def test_the_admin_never_shows_the_hash_and_issues_no_tokens(admin_client, api_key):
    token = ApiToken.objects.get()
    page = admin_client.get(reverse("admin:plans_apitoken_change", args=[token.pk]))
    assert page.status_code == 200
    assert token.key_hash not in page.content.decode()
    listing = admin_client.get(reverse("admin:plans_apitoken_changelist"), {"q": "省平台"})
    assert "省平台" in listing.content.decode()
    assert admin_client.get(reverse("admin:plans_apitoken_add")).status_code == 403
    admin_client.post(
        reverse("admin:plans_apitoken_change", args=[token.pk]),
        {"name": "省平台", "is_active": ""},
    )
    token.refresh_from_db()
    assert token.is_active is False
    assert token.key_hash == hash_api_key(api_key)


def test_last_use_is_stamped_at_most_once_a_minute(office_user):
    token, _ = ApiToken.objects.issue(user=office_user, name="省平台")
    start = timezone.now()
    token.mark_used(start)
    token.mark_used(start + dt.timedelta(seconds=30))
    assert ApiToken.objects.get().last_used_at == start
    token.mark_used(start + dt.timedelta(minutes=2))
    assert ApiToken.objects.get().last_used_at == start + dt.timedelta(minutes=2)
