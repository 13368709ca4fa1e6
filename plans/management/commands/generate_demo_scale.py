"""Build province-sized demo data beside the seed plans: plans scale-001, scale-002, …

One plan per jurisdiction (规模测试县001, …), departments spread evenly over those
jurisdictions, tasks with lead and supporting departments of the plan's own jurisdiction,
indicators of every kind with yearly milestones, and half-year measurements over the whole
plan period. Deterministic for a given --seed; everything is written in one transaction.
"""

from __future__ import annotations

import datetime as dt
import random
import time
from collections import Counter
from dataclasses import dataclass
from decimal import Decimal

from django.core.management.base import BaseCommand, CommandError
from django.db import transaction
from django.test.utils import override_settings
from django.utils import timezone

from indicators.models import Indicator, IndicatorDepartment, Measurement, Milestone
from plans.models import Department, Jurisdiction, Plan, Section
from plans.periods import period_ends
from tasks.models import Deliverable, Task, TaskDepartment, TaskUpdate
from tasks.progress import TaskState

CODE_PREFIX = "scale-"
JURISDICTION_PREFIX = "规模测试县"
FIRST_YEAR = 2016
BATCH_SIZE = 500
PERCENT = "%"

# A county's bureaus, most often cited first: a jurisdiction with n departments takes the
# first n (then numbered townships), so even a tiny run has a civil-affairs bureau to lead.
BUREAUS = [
    "县民政局",
    "县财政局",
    "县发展改革局",
    "县卫生健康局",
    "各乡镇人民政府",
    "县人力资源和社会保障局",
    "县自然资源局",
    "县住房城乡建设局",
    "县医疗保障局",
    "县市场监管局",
    "县教育局",
    "县文化广电和旅游局",
    "县应急管理局",
    "县公安局",
    "县农业农村局",
    "县司法局",
    "县税务局",
    "县统计局",
    "县残联",
    "县老龄办",
    "县委宣传部",
    "县总工会",
    "县妇联",
    "团县委",
    "县金融办",
    "县工业和信息化局",
    "县商务局",
    "县大数据发展局",
]
COLLECTIVE = "各乡镇人民政府"

# (number, title, children): the chapter tree every generated plan shares.
GOALS = "一、"
TASKS = "二、"
SECTIONS = [
    ("一、", "总体目标", ["机构养老方面", "社区居家养老方面", "医养结合方面"]),
    (
        "二、",
        "主要任务",
        [
            "养老机构建设",
            "社区居家养老服务",
            "医养结合建设",
            "养老信息化建设",
            "养老产业发展",
            "养老服务人才队伍建设",
        ],
    ),
    ("三、", "保障措施", []),
]
CHINESE_NUMBERS = "一二三四五六七八九十"

TASK_TOPICS = [
    "推进公办养老机构改革",
    "建设县级综合性社会福利中心",
    "改造提升乡镇敬老院",
    "建设社区日间照料中心",
    "发展农村互助幸福院",
    "推进医养结合服务",
    "建立家庭养老床位",
    "开展特殊困难老年人探访关爱",
    "建设智慧养老服务平台",
    "落实养老服务补贴制度",
    "培训养老护理员",
    "扶持社会力量兴办养老机构",
    "推进适老化改造",
    "发展老年教育",
    "规范养老服务收费",
    "开展养老机构安全隐患整治",
    "建立长期护理保险制度",
    "完善老年人能力评估",
    "发展健康养老产业",
    "加强养老服务综合监管",
]


@dataclass(frozen=True)
class IndicatorTemplate:
    code: str
    name: str
    unit: str
    kind: str
    direction: str
    low: int  # flow: smallest yearly amount; level: baseline range start
    high: int  # flow: largest yearly amount; level: final target range end


FLOW, LEVEL, DELIVERABLE = Indicator.Kind.FLOW, Indicator.Kind.LEVEL, Indicator.Kind.DELIVERABLE
AT_LEAST, AT_MOST = Indicator.Direction.AT_LEAST, Indicator.Direction.AT_MOST
TEMPLATES = [
    IndicatorTemplate("new-beds", "新增养老床位", "张", FLOW, AT_LEAST, 50, 300),
    IndicatorTemplate("nursing-bed-share", "护理型床位占比", PERCENT, LEVEL, AT_LEAST, 20, 70),
    IndicatorTemplate("smart-platform", "建成智慧养老服务平台", "项", DELIVERABLE, AT_LEAST, 0, 1),
    IndicatorTemplate("day-care-centres", "新建社区日间照料中心", "个", FLOW, AT_LEAST, 2, 12),
    IndicatorTemplate(
        "public-bed-share", "政府直接运营的养老床位占比", PERCENT, LEVEL, AT_MOST, 30, 85
    ),
    IndicatorTemplate("health-management", "老年人健康管理率", PERCENT, LEVEL, AT_LEAST, 40, 90),
    IndicatorTemplate("care-training", "培训养老护理员", "人次", FLOW, AT_LEAST, 100, 600),
    IndicatorTemplate(
        "beds-per-thousand", "每千名老年人拥有养老床位数", "张", LEVEL, AT_LEAST, 20, 40
    ),
    IndicatorTemplate(
        "welfare-centre", "建成县级综合性社会福利中心", "项", DELIVERABLE, AT_LEAST, 0, 1
    ),
    IndicatorTemplate("happiness-homes", "新建农村幸福院", "个", FLOW, AT_LEAST, 3, 20),
    IndicatorTemplate("visit-rate", "特殊困难老年人月探访率", PERCENT, LEVEL, AT_LEAST, 50, 100),
    IndicatorTemplate("vacant-bed-rate", "养老机构床位空置率", PERCENT, LEVEL, AT_MOST, 20, 60),
]


class Command(BaseCommand):
    help = (
        "Generate province-sized demo data (plans scale-001…) beside the seed plans, "
        "for benchmarks. Deterministic for a given --seed."
    )

    def add_arguments(self, parser):
        parser.add_argument("--plans", type=int, default=100, help="plans, one county each")
        parser.add_argument("--departments", type=int, default=2000, help="departments in all")
        parser.add_argument("--tasks", type=int, default=5000, help="tasks in all, sub-items too")
        parser.add_argument("--indicators", type=int, default=10, help="indicators per plan")
        parser.add_argument("--years", type=int, default=10, help=f"plan years from {FIRST_YEAR}")
        parser.add_argument("--seed", type=int, default=2026, help="random seed")
        parser.add_argument(
            "--reset", action="store_true", help="delete earlier scale-* plans first"
        )

    def handle(self, *args, plans, departments, tasks, indicators, years, seed, reset, **options):
        if plans < 1 or years < 1 or indicators < 0:
            raise CommandError("--plans and --years must be at least 1, --indicators at least 0")
        if departments < plans:
            raise CommandError("--departments must be at least --plans: one per jurisdiction")
        if tasks < plans:
            raise CommandError("--tasks must be at least --plans: one per plan")
        if FIRST_YEAR + years - 1 > 2100:
            raise CommandError("--years reaches past 2100")

        started = time.perf_counter()
        with transaction.atomic():
            existing = scale_plans().count()
            if existing or scale_jurisdictions().exists():
                if not reset:
                    raise CommandError(
                        f"scale data already present ({existing} {CODE_PREFIX}* plans); "
                        "run with --reset to delete it and generate again"
                    )
                deleted = delete_scale_data()
                self.stdout.write(f"deleted {deleted} rows of earlier scale data")
            counts = ScaleGenerator(
                random.Random(seed),  # noqa: S311 - demo data, not secrets
                plans=plans,
                departments=departments,
                tasks=tasks,
                indicators=indicators,
                years=years,
            ).generate()
        elapsed = time.perf_counter() - started
        summary = ", ".join(f"{name} {n:,}" for name, n in counts.items())
        self.stdout.write(f"generated in {elapsed:.1f} s: {summary}")


def scale_plans():
    return Plan.objects.filter(code__startswith=CODE_PREFIX)


def scale_jurisdictions():
    return Jurisdiction.objects.filter(name__startswith=JURISDICTION_PREFIX)


def delete_scale_data() -> int:
    """Delete the scale-* plans with their jurisdictions and departments; return rows deleted.

    Measurements and deliverables keep a history; demo rows need no audit trail, so they go
    without one (and any history they gathered goes with them).
    """
    plans = scale_plans()
    deleted = 0
    with override_settings(SIMPLE_HISTORY_ENABLED=False):
        for model, rows in [
            (Measurement, {"indicator__plan__in": plans}),
            (Deliverable, {"task__plan__in": plans}),
        ]:
            ids = list(model.objects.filter(**rows).values_list("pk", flat=True))
            deleted += model.objects.filter(pk__in=ids).delete()[0]
            model.history.filter(id__in=ids).delete()
    # Tasks and indicators before their plans: they PROTECT the sections a plan cascades to.
    deleted += Task.objects.filter(plan__in=plans).delete()[0]
    deleted += Indicator.objects.filter(plan__in=plans).delete()[0]
    deleted += plans.delete()[0]
    jurisdictions = scale_jurisdictions().filter(plans=None)
    deleted += Department.objects.filter(jurisdiction__in=jurisdictions).delete()[0]
    deleted += jurisdictions.delete()[0]
    return deleted


def spread(total: int, over: int) -> list[int]:
    """Split `total` into `over` near-equal parts, the larger ones first."""
    base, extra = divmod(total, over)
    return [base + (1 if i < extra else 0) for i in range(over)]


def month_end(year: int, month: int) -> dt.date:
    following = dt.date(year + month // 12, month % 12 + 1, 1)
    return following - dt.timedelta(days=1)


def aware(day: dt.date, hour: int = 10) -> dt.datetime:
    return timezone.make_aware(dt.datetime(day.year, day.month, day.day, hour))


def quantize(value: float, places: str = "0.01") -> Decimal:
    return Decimal(str(value)).quantize(Decimal(places))


class ScaleGenerator:
    """Builds the rows in memory from one random stream and writes them with bulk_create."""

    def __init__(self, rng: random.Random, *, plans, departments, tasks, indicators, years):
        self.rng = rng
        self.n_plans = plans
        self.n_departments = departments
        self.n_tasks = tasks
        self.n_indicators = indicators
        self.years = list(range(FIRST_YEAR, FIRST_YEAR + years))
        self.periods = period_ends(self.years[0], self.years[-1])
        self.counts: Counter[str] = Counter()

    def create(self, model, rows: list) -> list:
        created = model.objects.bulk_create(rows, batch_size=BATCH_SIZE)
        self.counts[model._meta.model_name] += len(created)
        return created

    def generate(self) -> Counter[str]:
        plans = self.make_plans()
        departments = self.make_departments(plans)
        sections = self.make_sections(plans)
        indicators = self.make_indicators(plans, sections, departments)
        self.make_tasks(plans, sections, departments, indicators)
        return self.counts

    def make_plans(self) -> list[Plan]:
        first, last = self.years[0], self.years[-1]
        jurisdictions = self.create(
            Jurisdiction,
            [
                Jurisdiction(name=f"{JURISDICTION_PREFIX}{n:03d}", level=Jurisdiction.Level.COUNTY)
                for n in range(1, self.n_plans + 1)
            ],
        )
        return self.create(
            Plan,
            [
                Plan(
                    code=f"{CODE_PREFIX}{n:03d}",
                    jurisdiction=jurisdiction,
                    title=f"{jurisdiction.name}养老服务体系建设实施方案({first}-{last}年)",
                    short_title=f"{jurisdiction.name}养老服务方案",
                    document_number=f"规模政办〔{first}〕{n}号",
                    issuing_office=f"{jurisdiction.name}人民政府办公室",
                    issue_date=dt.date(first, 3, 1),
                    start_year=first,
                    end_year=last,
                    goal=f"到{last}年,基本建成居家社区机构相协调、医养康养相结合的养老服务体系。",
                    source_document="generate_demo_scale",
                )
                for n, jurisdiction in enumerate(jurisdictions, start=1)
            ],
        )

    def make_departments(self, plans: list[Plan]) -> dict[int, list[Department]]:
        """Departments by plan pk; the same names recur in every jurisdiction, as in life."""
        rows = []
        for plan, n in zip(plans, spread(self.n_departments, len(plans)), strict=True):
            names = BUREAUS[:n] + [f"第{k}镇人民政府" for k in range(1, n - len(BUREAUS) + 1)]
            rows += [
                Department(
                    jurisdiction_id=plan.jurisdiction_id,
                    name=name,
                    is_collective=name == COLLECTIVE,
                )
                for name in names
            ]
        by_jurisdiction: dict[int, list[Department]] = {}
        for department in self.create(Department, rows):
            by_jurisdiction.setdefault(department.jurisdiction_id, []).append(department)
        return {plan.pk: by_jurisdiction[plan.jurisdiction_id] for plan in plans}

    def make_sections(self, plans: list[Plan]) -> dict[tuple[int, str], Section]:
        """Sections by (plan pk, path): parents first, so children can point at them."""
        tops, children = [], []
        for plan in plans:
            position = 0
            for number, title, child_titles in SECTIONS:
                position += 1
                tops.append(
                    Section(plan=plan, number=number, title=title, path=number, position=position)
                )
                for i, child in enumerate(child_titles):
                    position += 1
                    child_number = f"({CHINESE_NUMBERS[i]})"
                    children.append(
                        Section(
                            plan=plan,
                            number=child_number,
                            title=child,
                            path=f"{number}{child_number}",
                            position=position,
                            depth=1,
                        )
                    )
        parents = {(s.plan_id, s.path): s for s in self.create(Section, tops)}
        for section in children:
            section.parent = parents[(section.plan_id, section.path[:2])]
        created = self.create(Section, children)
        return parents | {(s.plan_id, s.path): s for s in created}

    def pick_departments(self, departments: list[Department], most: int) -> list[Department]:
        """One to `most` departments, the civil-affairs bureau (the first) leading most often."""
        first = departments[0] if self.rng.random() < 0.4 else self.rng.choice(departments)
        others = [d for d in departments if d is not first]
        return [first, *self.rng.sample(others, min(len(others), self.rng.randint(0, most - 1)))]

    # ---- indicators ---------------------------------------------------------------------------

    def make_indicators(self, plans, sections, departments) -> dict[int, list[Indicator]]:
        rows, plans_of_rows, specs = [], [], []
        goal_paths = [f"{GOALS}({CHINESE_NUMBERS[i]})" for i in range(len(SECTIONS[0][2]))]
        last = self.years[-1]
        for p, plan in enumerate(plans):
            for i in range(self.n_indicators):
                template = TEMPLATES[(p + i) % len(TEMPLATES)]
                section = sections[(plan.pk, goal_paths[i % len(goal_paths)])]
                spec = self.indicator_spec(template)
                indicator = Indicator(
                    plan=plan,
                    section=section,
                    code=f"{template.code}-{i + 1:02d}",
                    name=template.name,
                    unit=template.unit,
                    kind=template.kind,
                    direction=template.direction,
                    baseline_value=spec.get("baseline"),
                    baseline_date=dt.date(self.years[0] - 1, 12, 31)
                    if "baseline" in spec
                    else None,
                    final_target=spec["final"],
                    target_year=spec["target_year"],
                    source_clause=section.path,
                    source_text=f"到{last}年,{template.name}达到{spec['final']}{template.unit}",
                    position=i + 1,
                )
                rows.append(indicator)
                plans_of_rows.append(plan)
                specs.append(spec)
        created = self.create(Indicator, rows)

        links, milestones, measurements = [], [], []
        by_plan: dict[int, list[Indicator]] = {}
        for indicator, plan, spec in zip(created, plans_of_rows, specs, strict=True):
            by_plan.setdefault(plan.pk, []).append(indicator)
            links += [
                IndicatorDepartment(indicator=indicator, department=d, cited_as=d.name)
                for d in self.pick_departments(departments[plan.pk], most=2)
            ]
            milestones += [
                Milestone(
                    indicator=indicator,
                    year=year,
                    value=value,
                    due_date=due,
                    source_clause=indicator.source_clause,
                    source_text=f"{year}年{indicator.name}{value}{indicator.unit}",
                )
                for year, value, due in spec["milestones"]
            ]
            measurements += self.measurements(indicator, spec)
        self.create(IndicatorDepartment, links)
        self.create(Milestone, milestones)
        self.create(Measurement, measurements)
        return by_plan

    def indicator_spec(self, template: IndicatorTemplate) -> dict:
        """Milestones (year, value, due date) and the final target of one indicator."""
        rng, years = self.rng, self.years
        if template.kind == FLOW:
            amounts = [rng.randint(template.low, template.high) for _ in years]
            return {
                "milestones": [(y, Decimal(a), None) for y, a in zip(years, amounts, strict=True)],
                "final": Decimal(sum(amounts)),
                "target_year": years[-1],
                "amounts": amounts,
            }
        if template.kind == DELIVERABLE:
            year = rng.choice(years)
            due = dt.date(year, 6, 30) if rng.random() < 0.5 else dt.date(year, 12, 31)
            return {
                "milestones": [(year, Decimal(1), due)],
                "final": Decimal(1),
                "target_year": year,
                "due": due,
            }
        middle = (template.low + template.high) / 2
        low, high = rng.uniform(template.low, middle), rng.uniform(middle, template.high)
        baseline, final = (high, low) if template.direction == AT_MOST else (low, high)
        step = (final - baseline) / len(years)
        values = [quantize(baseline + step * (k + 1), "0.1") for k in range(len(years))]
        return {
            "milestones": [(y, v, None) for y, v in zip(years, values, strict=True)],
            "baseline": quantize(baseline, "0.1"),
            "final": values[-1],
            "target_year": years[-1],
        }

    def measurements(self, indicator: Indicator, spec: dict) -> list[Measurement]:
        """Half-year values at a steady pace of its own; some counties stop reporting early."""
        rng = self.rng
        pace = rng.uniform(0.6, 1.15)
        reported = len(self.periods)
        if rng.random() < 0.03:
            reported = 0
        elif rng.random() < 0.12:
            reported = max(0, reported - rng.randint(1, 4))
        values = []
        total = 0.0
        for k, end in enumerate(self.periods[:reported]):
            year_index = k // 2
            if indicator.kind == FLOW:
                # A flow's value is the running total since the plan began.
                expected = sum(spec["amounts"][:year_index]) + spec["amounts"][year_index] * (
                    0.5 if end.month == 6 else 1
                )
                total = max(total, round(expected * pace * rng.uniform(0.95, 1.05)))
                value = Decimal(int(total))
            elif indicator.kind == DELIVERABLE:
                done_by = spec["due"] + dt.timedelta(days=round((1 - pace) * 1500))
                value = Decimal(1 if end >= done_by else 0)
            else:
                baseline = float(spec["baseline"])
                expected = baseline + (float(spec["final"]) - baseline) * (k + 1) / len(
                    self.periods
                )
                actual = baseline + (expected - baseline) * pace * rng.uniform(0.97, 1.03)
                if indicator.unit == PERCENT:
                    actual = min(100.0, actual)
                value = quantize(max(0.0, actual))
            values.append(
                Measurement(
                    indicator=indicator,
                    period_end=end,
                    value=value,
                    entered_at=aware(end + dt.timedelta(days=10)),
                )
            )
        return values

    # ---- tasks --------------------------------------------------------------------------------

    def make_tasks(self, plans, sections, departments, indicators) -> None:
        task_paths = [f"{TASKS}({CHINESE_NUMBERS[i]})" for i in range(len(SECTIONS[1][2]))]
        task_paths.append(SECTIONS[2][0])
        tops, subs = [], []  # subs: (parent index in tops, Task)
        for plan, n in zip(plans, spread(self.n_tasks, len(plans)), strict=True):
            made, position = 0, 0
            numbers: Counter[str] = Counter()
            while made < n:
                path = task_paths[made * len(task_paths) // n]
                numbers[path] += 1
                position += 1
                task = self.task(plan, sections[(plan.pk, path)], str(numbers[path]), position)
                tops.append(task)
                made += 1
                if n - made >= 2 and self.rng.random() < 0.12:
                    for s in range(1, min(n - made, self.rng.randint(2, 3)) + 1):
                        position += 1
                        sub = self.task(plan, task.section, f"({s})", position, parent=task)
                        subs.append((len(tops) - 1, sub))
                        made += 1
        created = self.create(Task, tops)
        for index, sub in subs:
            sub.parent = created[index]
        created += self.create(Task, [sub for _, sub in subs])

        links, deliverables, updates, indicator_links = [], [], [], []
        through = Task.indicators.through
        for task in created:
            chosen = self.pick_departments(departments[task.plan_id], most=5)
            leads = 2 if len(chosen) > 2 and self.rng.random() < 0.2 else 1
            links += [
                TaskDepartment(
                    task=task,
                    department=d,
                    role=TaskDepartment.Role.LEAD if k < leads else TaskDepartment.Role.SUPPORT,
                    cited_as=d.name,
                    position=k if k < leads else k - leads,
                )
                for k, d in enumerate(chosen)
            ]
            if self.rng.random() < 0.3:
                for k in range(self.rng.randint(1, 2)):
                    year, month = self.rng.choice(self.years), self.rng.choice([3, 6, 9, 12])
                    due = month_end(year, month)
                    completed = None
                    if self.rng.random() < 0.6:
                        completed = due + dt.timedelta(days=self.rng.randint(-120, 60))
                    deliverables.append(
                        Deliverable(
                            task=task,
                            description=f"{task.title}阶段成果{k + 1}",
                            due_text=f"{year}年{month}月",
                            due_date=due,
                            completed_on=completed,
                            position=k,
                        )
                    )
            if self.rng.random() < 0.6:
                updates += self.updates(task)
            plan_indicators = indicators.get(task.plan_id)
            if plan_indicators and self.rng.random() < 0.25:
                indicator = self.rng.choice(plan_indicators)
                indicator_links.append(through(task_id=task.pk, indicator_id=indicator.pk))
        self.create(TaskDepartment, links)
        self.create(Deliverable, deliverables)
        self.create(TaskUpdate, updates)
        self.create(through, indicator_links)

    def task(self, plan, section, number, position, parent=None) -> Task:
        topic = self.rng.choice(TASK_TOPICS)
        first, last = self.years[0], self.years[-1]
        year = self.rng.choice(self.years)
        schedule = self.rng.choice(
            [f"{first}-{last}年持续推进", f"{year}年底前完成", f"{year}年6月底前完成", ""]
        )
        clause = f"{parent.clause}{number}" if parent else f"{section.path}{number}"
        return Task(
            plan=plan,
            section=section,
            parent=parent,
            number=number,
            clause=clause,
            title=topic,
            text=f"{topic},到{last}年取得明显成效。",
            schedule=schedule,
            is_ongoing=schedule.endswith("持续推进"),
            position=position,
        )

    def updates(self, task: Task) -> list[TaskUpdate]:
        """One to three recorded states at half-year ends, ending at done if the task got there."""
        ends = sorted(self.rng.sample(self.periods, min(len(self.periods), self.rng.randint(1, 3))))
        state = self.rng.choice([TaskState.NOT_STARTED, TaskState.IN_PROGRESS])
        rows = []
        for end in ends:
            rows.append(
                TaskUpdate(
                    task=task,
                    state=state,
                    as_of=end,
                    note=f"截至{end.year}年{end.month}月,{state.label}。",
                    created_at=aware(end + dt.timedelta(days=5)),
                )
            )
            if state == TaskState.DONE:
                break
            state = self.rng.choice(
                [TaskState.IN_PROGRESS, TaskState.DONE, TaskState.DELAYED, TaskState.ONGOING]
            )
        return rows
