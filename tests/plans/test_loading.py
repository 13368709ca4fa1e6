"""The plan loader: idempotent, all or nothing, and clear about what is wrong."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pytest
import yaml
from django.core.management import CommandError, call_command

from indicators.models import Indicator
from plans.models import Department, Plan
from tasks.loading import PlanFileError, load_plan_file, parse_due
from tasks.models import Task

pytestmark = pytest.mark.django_db


def plan_data(**overrides) -> dict:
    data = {
        "plan": {
            "code": "testplan",
            "title": "测试县养老服务实施方案",
            "jurisdiction": "测试县",
            "jurisdiction_level": "county",
            "start_year": 2018,
            "end_year": 2020,
        },
        "departments": [
            {"name": "县民政局", "aliases": ["民政局"]},
            {"name": "各乡镇人民政府", "collective": True},
        ],
        "sections": [
            {
                "number": "一、",
                "title": "主要任务",
                "children": [{"number": "(一)", "title": "床位"}],
            }
        ],
        "indicators": [
            {
                "code": "beds",
                "section": "一、(一)",
                "name": "新增养老床位",
                "unit": "张",
                "kind": "flow",
                "final_target": 1200,
                "target_year": 2020,
                "departments": ["民政局"],
                "source_clause": "一、(一)",
                "source_text": "新增养老床位1200张",
                "milestones": [
                    {"year": 2018, "value": 300, "source_clause": "一、(一)1"},
                    {"year": 2019, "value": 400, "source_clause": "一、(一)1"},
                ],
            }
        ],
        "tasks": [
            {
                "clause": "一、(一)1",
                "section": "一、(一)",
                "number": "1",
                "title": "推进养老床位建设",
                "text": "推进养老床位建设,2020年前新增养老床位1200张。",
                "lead": ["民政局", "各乡镇人民政府"],
                "support": ["县民政局"],
                "indicators": ["beds"],
                "deliverables": [{"due": "2019-06", "text": "建成平台"}],
            }
        ],
    }
    data.update(overrides)
    return data


def write(tmp_path: Path, data, name: str = "testplan.yaml") -> Path:
    path = tmp_path / name
    text = data if isinstance(data, str) else yaml.safe_dump(data, allow_unicode=True)
    path.write_text(text, encoding="utf-8")
    return path


def test_loading_creates_the_plan_with_resolved_departments(tmp_path):
    load_plan_file(write(tmp_path, plan_data()))
    task = Task.objects.get(plan__code="testplan")
    assert [(link.department.name, link.cited_as) for link in task.lead_links] == [
        ("县民政局", "民政局"),
        ("各乡镇人民政府", "各乡镇人民政府"),
    ]
    assert task.deliverables.get().due_date == dt.date(2019, 6, 30)
    assert list(task.indicators.values_list("code", flat=True)) == ["beds"]


def test_loading_twice_changes_nothing(tmp_path):
    path = write(tmp_path, plan_data())
    load_plan_file(path)
    before = (Task.objects.count(), Indicator.objects.count(), Department.objects.count())
    load_plan_file(path)
    assert (Task.objects.count(), Indicator.objects.count(), Department.objects.count()) == before


def test_reloading_applies_edits_and_drops_removed_items(tmp_path):
    load_plan_file(write(tmp_path, plan_data()))
    data = plan_data()
    data["tasks"][0]["title"] = "改过的标题"
    data["indicators"][0]["milestones"].pop()
    load_plan_file(write(tmp_path, data))
    assert Task.objects.get(plan__code="testplan").title == "改过的标题"
    assert Indicator.objects.get(plan__code="testplan").milestones.count() == 1
    load_plan_file(write(tmp_path, plan_data(tasks=[])))
    assert not Task.objects.filter(plan__code="testplan").exists()


def test_check_writes_nothing(tmp_path):
    load_plan_file(write(tmp_path, plan_data()), dry_run=True)
    assert not Plan.objects.filter(code="testplan").exists()


def test_unknown_department_is_named_and_nothing_is_written(tmp_path):
    data = plan_data()
    data["tasks"][0]["support"] = ["县财政局"]
    with pytest.raises(PlanFileError) as err:
        load_plan_file(write(tmp_path, data))
    assert any("'县财政局'" in p for p in err.value.problems)
    assert not Plan.objects.filter(code="testplan").exists()


def test_every_problem_is_reported_at_once(tmp_path):
    data = plan_data()
    data["indicators"][0]["milestones"][0]["value"] = "三百"
    data["tasks"][0]["indicators"] = ["nope"]
    data["tasks"][0]["deliverables"] = [{"due": "2019-13", "text": "x"}]
    with pytest.raises(PlanFileError) as err:
        load_plan_file(write(tmp_path, data))
    text = "\n".join(err.value.problems)
    assert "not a number: '三百'" in text
    assert "unknown indicators ['nope']" in text
    assert "bad due '2019-13'" in text


def test_percentage_over_100_is_refused_with_a_message(tmp_path):
    data = plan_data()
    data["indicators"][0]["unit"] = "%"
    data["indicators"][0]["final_target"] = 60
    data["indicators"][0]["milestones"][0]["value"] = 130
    with pytest.raises(PlanFileError) as err:
        load_plan_file(write(tmp_path, data))
    assert any("百分比应在0到100之间" in p for p in err.value.problems)
    assert not Plan.objects.filter(code="testplan").exists()


def test_an_over_long_title_is_refused_not_cut(tmp_path):
    data = plan_data()
    data["tasks"][0]["title"] = "长" * 10_000
    with pytest.raises(PlanFileError) as err:
        load_plan_file(write(tmp_path, data))
    assert any("title" in p for p in err.value.problems)
    assert not Plan.objects.filter(code="testplan").exists()


def test_duplicate_clause_is_refused(tmp_path):
    data = plan_data()
    data["tasks"].append(dict(data["tasks"][0]))
    with pytest.raises(PlanFileError) as err:
        load_plan_file(write(tmp_path, data))
    assert any("clause used twice" in p for p in err.value.problems)


@pytest.mark.parametrize(
    "text",
    ["", "- just\n- a list\n", "plan: [1, 2]\n", "plan: {code: x\n", "\x00\x01binary"],
    ids=["empty", "list", "plan-not-mapping", "broken-yaml", "binary"],
)
def test_a_file_that_is_not_a_plan_gets_a_clear_error(tmp_path, text):
    with pytest.raises(PlanFileError) as err:
        load_plan_file(write(tmp_path, text))
    assert err.value.problems
    assert Plan.objects.filter(code="testplan").count() == 0


def test_hostile_yaml_tags_are_not_executed(tmp_path):
    text = "plan: !!python/object/apply:os.system ['echo pwned']\n"
    with pytest.raises(PlanFileError) as err:
        load_plan_file(write(tmp_path, text))
    assert "cannot read" in err.value.problems[0]


def test_command_reports_problems_and_fails(tmp_path, capsys):
    data = plan_data()
    data["tasks"][0]["lead"] = ["不存在的局"]
    with pytest.raises(CommandError):
        call_command("load_plans", str(write(tmp_path, data)))
    assert "不存在的局" in capsys.readouterr().err


def test_command_check_validates_the_seed_plans(capsys):
    call_command("load_plans", "--check")
    out = capsys.readouterr().out
    for code in ("liucheng", "panjin", "liuzhou", "xianyang"):
        assert f"checked {code}:" in out


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        (2018, dt.date(2018, 12, 31)),
        ("2019-06", dt.date(2019, 6, 30)),
        ("2020-02", dt.date(2020, 2, 29)),
        (dt.date(2019, 5, 1), dt.date(2019, 5, 1)),
        ("2019-06-15", dt.date(2019, 6, 15)),
    ],
)
def test_due_dates_read_as_documents_give_them(value, expected):
    assert parse_due(value) == expected


@pytest.mark.parametrize("value", ["2019-13", "明年", "", "2019-6-31"])
def test_bad_due_dates_are_refused(value):
    with pytest.raises(ValueError):
        parse_due(value)
