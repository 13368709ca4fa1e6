"""Load a plan from its YAML fixture (format: fixtures/plans/README.md).

Lives in `tasks`, the highest rung a plan's structure reaches: it writes plans, departments,
indicators and tasks. Loading is idempotent (plan by code, sections by path, indicators by code,
tasks by clause) and all-or-nothing: any error leaves the database as it was.
"""

from __future__ import annotations

import calendar
import datetime as dt
import re
from dataclasses import dataclass, field
from decimal import Decimal, InvalidOperation
from pathlib import Path
from typing import Any

import yaml
from django.core.exceptions import ValidationError
from django.db import DatabaseError, transaction
from django.db.models import F

from indicators.models import (
    AlternativeMilestone,
    Indicator,
    IndicatorDepartment,
    Milestone,
)
from plans.models import Department, DepartmentAlias, Jurisdiction, Plan, Section
from tasks.models import Deliverable, Task, TaskDepartment

FIXTURE_DIR = Path(__file__).resolve().parent.parent / "fixtures" / "plans"
_WHITESPACE = re.compile(r"\s+")


class PlanFileError(Exception):
    """The fixture cannot be loaded; `problems` lists every reason found, with its place."""

    def __init__(self, source: str, problems: list[str]):
        self.source = source
        self.problems = problems
        super().__init__(f"{source}: " + "; ".join(problems))


@dataclass
class LoadResult:
    plan: Plan
    counts: dict[str, int] = field(default_factory=dict)


def normalize_name(name: str) -> str:
    """Department names compare without whitespace: "市卫生健康 委员会" is "市卫生健康委员会"."""
    return _WHITESPACE.sub("", name)


def parse_due(value: Any) -> dt.date:
    """Read a due date as documents give it: 2019 (end of year), 2019-06 (end of month), a date."""
    if isinstance(value, dt.date):
        return value
    text = str(value).strip()
    if m := re.fullmatch(r"(\d{4})", text):
        return dt.date(int(m[1]), 12, 31)
    if m := re.fullmatch(r"(\d{4})-(\d{1,2})", text):
        year, month = int(m[1]), int(m[2])
        if not 1 <= month <= 12:
            raise ValueError(f"month out of range: {text}")
        return dt.date(year, month, calendar.monthrange(year, month)[1])
    return dt.date.fromisoformat(text)


def _decimal(value: Any, where: str, problems: list[str]) -> Decimal | None:
    if value is None or value == "":
        return None
    try:
        return Decimal(str(value))
    except InvalidOperation:
        problems.append(f"{where}: not a number: {value!r}")
        return None


class _PlanLoader:
    def __init__(self, data: dict[str, Any], source: str):
        self.data = data
        self.source = source
        self.problems: list[str] = []
        self.counts: dict[str, int] = {}

    # -- helpers -----------------------------------------------------------------------------

    def need(self, mapping: dict[str, Any], key: str, where: str) -> Any:
        value = mapping.get(key) if isinstance(mapping, dict) else None
        if value is None or value == "":
            self.problems.append(f"{where}: missing '{key}'")
        return value

    def department(self, cited: str, where: str) -> Department | None:
        found = self.departments.get(normalize_name(str(cited)))
        if found is None:
            self.problems.append(f"{where}: unknown department {cited!r} (add it or an alias)")
        return found

    # -- steps -------------------------------------------------------------------------------

    def load(self) -> Plan:
        if not isinstance(self.data, dict) or not isinstance(self.data.get("plan"), dict):
            raise PlanFileError(self.source, ["the file has no 'plan' mapping"])
        plan = self.load_plan(self.data["plan"])
        if self.problems:  # nothing below makes sense without the plan itself
            raise PlanFileError(self.source, self.problems)
        self.load_departments(plan.jurisdiction, self.data.get("departments") or [])
        self.sections: dict[str, Section] = {}
        plan.sections.update(position=F("position") + 1_000_000)
        self.position = 0
        self.load_sections(plan, self.data.get("sections") or [], parent=None, prefix="")
        self.indicators: dict[str, Indicator] = {}
        for i, item in enumerate(self.data.get("indicators") or []):
            self.load_indicator(plan, item, i)
        self.task_position = 0
        self.seen_clauses: set[str] = set()
        for i, item in enumerate(self.data.get("tasks") or []):
            self.load_task(plan, item, f"tasks[{i}]", parent=None)
        self.remove_stale(plan)
        if self.problems:
            raise PlanFileError(self.source, self.problems)
        return plan

    def load_plan(self, p: dict[str, Any]) -> Plan:
        where = "plan"
        for key in ("code", "title", "jurisdiction", "start_year", "end_year"):
            self.need(p, key, where)
        if self.problems:
            return None  # type: ignore[return-value]
        level = p.get("jurisdiction_level", Jurisdiction.Level.COUNTY)
        if level not in Jurisdiction.Level.values:
            self.problems.append(f"{where}: unknown jurisdiction_level {level!r}")
            return None  # type: ignore[return-value]
        jurisdiction, _ = Jurisdiction.objects.update_or_create(
            name=p["jurisdiction"], defaults={"level": level}
        )
        plan, _ = Plan.objects.update_or_create(
            code=p["code"],
            defaults={
                "jurisdiction": jurisdiction,
                "title": p["title"],
                "short_title": p.get("short_title", ""),
                "document_number": p.get("document_number", "") or "",
                "issuing_office": p.get("issuing_office", "") or "",
                "issue_date": p.get("issue_date"),
                "start_year": p["start_year"],
                "end_year": p["end_year"],
                "goal": p.get("goal", "") or "",
                "source_document": p.get("source_document", "") or "",
            },
        )
        return plan

    def load_departments(self, jurisdiction: Jurisdiction, items: list[dict[str, Any]]) -> None:
        for i, item in enumerate(items):
            where = f"departments[{i}]"
            name = self.need(item, "name", where)
            if not name:
                continue
            clean = normalize_name(name)
            dept, _ = Department.objects.update_or_create(
                jurisdiction=jurisdiction,
                name=clean,
                defaults={"is_collective": bool(item.get("collective", False))},
            )
            for alias in item.get("aliases") or []:
                if normalize_name(alias) == clean and alias == clean:
                    continue
                existing = DepartmentAlias.objects.filter(
                    jurisdiction=jurisdiction, name=alias
                ).first()
                if existing and existing.department_id != dept.pk:
                    self.problems.append(
                        f"{where}: alias {alias!r} already names {existing.department.name!r}"
                    )
                    continue
                DepartmentAlias.objects.get_or_create(
                    jurisdiction=jurisdiction, name=alias, department=dept
                )
        self.departments: dict[str, Department] = {
            normalize_name(d.name): d for d in Department.objects.filter(jurisdiction=jurisdiction)
        }
        for alias in DepartmentAlias.objects.filter(jurisdiction=jurisdiction).select_related(
            "department"
        ):
            key = normalize_name(alias.name)
            known = self.departments.get(key)
            if known is not None and known.pk != alias.department_id:
                self.problems.append(
                    f"departments: {alias.name!r} names both {known.name!r} "
                    f"and {alias.department.name!r}"
                )
            self.departments.setdefault(key, alias.department)
        self.counts["departments"] = len(items)

    def load_sections(
        self, plan: Plan, items: list[dict[str, Any]], parent: Section | None, prefix: str
    ) -> None:
        for item in items:
            where = f"section {prefix}{item.get('number', '')}"
            title = self.need(item, "title", where)
            number = str(item.get("number", "") or "")
            path = str(item.get("path") or f"{prefix}{number}")
            if path in self.sections:
                self.problems.append(f"{where}: path {path!r} used twice")
                continue
            self.position += 1
            section, _ = Section.objects.update_or_create(
                plan=plan,
                path=path,
                defaults={
                    "parent": parent,
                    "number": number,
                    "title": title or "",
                    "position": self.position,
                    "depth": 0 if parent is None else parent.depth + 1,
                },
            )
            self.sections[path] = section
            self.load_sections(plan, item.get("children") or [], section, path)
        self.counts["sections"] = len(self.sections)

    def section(self, path: Any, where: str) -> Section | None:
        section = self.sections.get(str(path))
        if section is None:
            self.problems.append(f"{where}: unknown section {path!r}")
        return section

    def load_indicator(self, plan: Plan, item: dict[str, Any], i: int) -> None:
        where = f"indicators[{i}] ({item.get('code', '?')})"
        code = self.need(item, "code", where)
        for key in ("name", "unit", "kind", "source_clause", "source_text", "section"):
            self.need(item, key, where)
        section = self.section(item.get("section"), where)
        if code in self.indicators:
            self.problems.append(f"{where}: code used twice")
            return
        if section is None or not code:
            return
        baseline = item.get("baseline") or {}
        fields = {
            "section": section,
            "name": item.get("name", ""),
            "unit": item.get("unit", ""),
            "kind": item.get("kind", ""),
            "direction": item.get("direction", Indicator.Direction.AT_LEAST),
            "baseline_value": _decimal(baseline.get("value"), where, self.problems),
            "baseline_date": parse_due(baseline["date"]) if baseline.get("date") else None,
            "baseline_note": baseline.get("note", "") or "",
            "final_target": _decimal(item.get("final_target"), where, self.problems),
            "target_year": item.get("target_year"),
            "is_ongoing": bool(item.get("ongoing", False)),
            "source_clause": str(item.get("source_clause", "")),
            "source_text": item.get("source_text", "") or "",
            "conflict_note": item.get("conflict_note", "") or "",
            "position": i + 1,
        }
        if not self.validate(Indicator(plan=plan, code=code, **fields), where, exclude=["plan"]):
            return
        indicator, _ = Indicator.objects.update_or_create(plan=plan, code=code, defaults=fields)
        self.indicators[code] = indicator

        indicator.links.all().delete()
        for cited in item.get("departments") or []:
            dept = self.department(cited, where)
            if dept is not None:
                IndicatorDepartment.objects.get_or_create(
                    indicator=indicator, department=dept, defaults={"cited_as": cited}
                )
        indicator.milestones.all().delete()
        indicator.alternative_milestones.all().delete()
        for j, m in enumerate(item.get("milestones") or []):
            self.add_milestone(indicator, m, f"{where} milestones[{j}]", Milestone)
        for j, m in enumerate(item.get("alternatives") or []):
            self.add_milestone(indicator, m, f"{where} alternatives[{j}]", AlternativeMilestone)
        self.counts["indicators"] = len(self.indicators)

    def add_milestone(self, indicator: Indicator, m: dict[str, Any], where: str, model) -> None:
        year = self.need(m, "year", where)
        value = _decimal(self.need(m, "value", where), where, self.problems)
        clause = self.need(m, "source_clause", where)
        if year is None or value is None or not clause:
            return
        obj = model(
            indicator=indicator,
            year=year,
            value=value,
            source_clause=str(clause),
            source_text=m.get("source_text", "") or "",
        )
        if model is Milestone:
            obj.note = m.get("note", "") or ""
            obj.due_date = parse_due(m["due"]) if m.get("due") else None
        if self.validate(obj, where):
            obj.save()
            self.counts[model.__name__] = self.counts.get(model.__name__, 0) + 1

    def load_task(
        self, plan: Plan, item: dict[str, Any], where: str, parent: Task | None
    ) -> Task | None:
        clause = str(self.need(item, "clause", where) or "")
        where = f"{where} ({clause})"
        for key in ("title", "text") if parent else ("section", "title", "text"):
            self.need(item, key, where)
        section = (
            self.section(item["section"], where)
            if item.get("section")
            else (parent.section if parent else self.section(None, where))
        )
        if clause in self.seen_clauses:
            self.problems.append(f"{where}: clause used twice")
            return None
        self.seen_clauses.add(clause)
        if section is None or not clause:
            return None
        self.task_position += 1
        fields = {
            "section": section,
            "parent": parent,
            "number": str(item.get("number", "") or ""),
            "title": item.get("title", "") or "",
            "text": item.get("text", "") or "",
            "schedule": item.get("schedule", "") or "",
            "is_ongoing": bool(item.get("ongoing", False)),
            "position": self.task_position,
        }
        if not self.validate(Task(plan=plan, clause=clause, **fields), where, exclude=["plan"]):
            return None
        task, _ = Task.objects.update_or_create(plan=plan, clause=clause, defaults=fields)

        task.links.all().delete()
        for role, key in (
            (TaskDepartment.Role.LEAD, "lead"),
            (TaskDepartment.Role.SUPPORT, "support"),
        ):
            for position, cited in enumerate(item.get(key) or []):
                dept = self.department(cited, where)
                if dept is None:
                    continue
                _, created = TaskDepartment.objects.get_or_create(
                    task=task,
                    department=dept,
                    role=role,
                    defaults={"cited_as": cited, "position": position},
                )
                if not created:
                    self.problems.append(f"{where}: {cited!r} listed twice as {key}")
        codes = item.get("indicators") or []
        missing = [c for c in codes if c not in self.indicators]
        if missing:
            self.problems.append(f"{where}: unknown indicators {missing}")
        task.indicators.set([self.indicators[c] for c in codes if c in self.indicators])

        # Update deliverables in place: their completion dates are the office's records.
        kept = []
        for j, d in enumerate(item.get("deliverables") or []):
            dwhere = f"{where} deliverables[{j}]"
            due, text = self.need(d, "due", dwhere), self.need(d, "text", dwhere)
            if due is None or not text:
                continue
            try:
                due_date = parse_due(due)
            except ValueError:
                self.problems.append(f"{dwhere}: bad due {due!r} (use YYYY, YYYY-MM or a date)")
                continue
            deliverable, _ = Deliverable.objects.update_or_create(
                task=task,
                position=j,
                defaults={
                    "description": text,
                    "due_text": str(d.get("due_text") or due),
                    "due_date": due_date,
                },
            )
            kept.append(deliverable.pk)
        task.deliverables.exclude(pk__in=kept).delete()
        self.counts["tasks"] = self.counts.get("tasks", 0) + 1
        for k, sub in enumerate(item.get("subtasks") or []):
            self.load_task(plan, sub, f"{where} subtasks[{k}]", parent=task)
        return task

    def validate(self, obj, where: str, exclude: list[str] | None = None) -> bool:
        try:
            obj.full_clean(exclude=exclude, validate_unique=False, validate_constraints=False)
        except ValidationError as exc:
            for name, messages in exc.message_dict.items():
                self.problems.append(f"{where}: {name}: {' '.join(map(str, messages))}")
            return False
        return True

    def remove_stale(self, plan: Plan) -> None:
        plan.tasks.exclude(clause__in=self.seen_clauses).delete()
        plan.indicators.exclude(code__in=list(self.indicators)).delete()
        plan.sections.exclude(path__in=list(self.sections)).delete()


def load_plan_file(path: Path, *, dry_run: bool = False) -> LoadResult:
    """Load one plan file inside a transaction; with `dry_run`, validate and roll back."""
    source = path.name
    try:
        data = yaml.safe_load(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, yaml.YAMLError) as exc:
        raise PlanFileError(source, [f"cannot read: {exc}"]) from exc
    loader = _PlanLoader(data, source)
    try:
        with transaction.atomic():
            plan = loader.load()
            if dry_run:
                transaction.set_rollback(True)
    except DatabaseError as exc:  # a constraint or a length the checks above did not foresee
        raise PlanFileError(source, [*loader.problems, f"database refused: {exc}"]) from exc
    return LoadResult(plan=plan, counts=loader.counts)


def plan_files(names: list[str] | None = None) -> list[Path]:
    """The fixture files to load: the given paths or plan codes, else every file of the folder."""
    if not names:
        return sorted(FIXTURE_DIR.glob("*.yaml"))
    paths = []
    for name in names:
        path = Path(name)
        paths.append(path if path.suffix in {".yaml", ".yml"} else FIXTURE_DIR / f"{name}.yaml")
    return paths
