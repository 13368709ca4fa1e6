"""What importing a task table would do to a plan, and doing it.

`build_preview` is pure: it compares the file's tasks (`tasks.importing.TableEntry`) with a
snapshot of the plan (`load_snapshot`) and says, row by row, what would be created, changed,
left as it is, or rejected and why. `plan_import_apply` writes a preview in one transaction,
after checking that the plan still is what the preview was computed from.

Decisions worth knowing:
- Rows match tasks by clause (序号). Tasks the file does not mention are left alone: an import
  never deletes.
- Text compares without whitespace: a line break Excel added inside a cell is not a change.
- A department name matches when it is certain (`match_department`); any other name is listed for
  the user, who picks an existing department (remembered as an alias), a new department, or not
  importing the rows that cite it. A link keeps the spelling the file used (`cited_as`).
- A new task's section: the 章节 column or the chapter row above it when it names a section of the
  plan; else the section its clause is numbered in ("二、(一)3" → "二、(一)"); else its parent's
  section; else the section of the task above it in the file; else the plan's first section.
  Its title is its own title cell (Xianyang) or the text's first sentence; it is 持续实施 when its
  schedule says so; it goes after the plan's existing tasks, in file order.
- An update changes text, schedule, title (only when the file has a title column) and the
  department lists; deliverables, indicators and state are never touched.
"""

from __future__ import annotations

import hashlib
import json
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from functools import cached_property

from django.contrib.admin.models import ADDITION, CHANGE, LogEntry
from django.contrib.contenttypes.models import ContentType
from django.db import transaction
from django.db.models import Max
from django.utils.translation import gettext as _

from plans.models import Department, DepartmentAlias, Jurisdiction, Plan, Section
from tasks.importing import TableEntry
from tasks.models import Task, TaskDepartment
from tasks.table import DEPARTMENT_SEPARATOR

NEW = "new"
SKIP = "skip"
TEXT_MAX_LENGTH = 5_000
CLAUSE_MAX_LENGTH = Task._meta.get_field("clause").max_length
TITLE_MAX_LENGTH = Task._meta.get_field("title").max_length
NUMBER_MAX_LENGTH = Task._meta.get_field("number").max_length
NAME_MAX_LENGTH = Department._meta.get_field("name").max_length
ONGOING = "持续实施"
_WHITESPACE = re.compile(r"\s+")
_SENTENCE_END = re.compile(r"[。;;]")
LEVEL_PREFIXES = {"province": "省", "city": "市", "county": "县"}


class PlanChanged(Exception):
    """The plan's tasks or departments changed after the preview was made."""


def squash(text: str) -> str:
    """Text without any whitespace: how names and texts compare."""
    return _WHITESPACE.sub("", text or "")


# -- departments ---------------------------------------------------------------------------------


@dataclass(frozen=True)
class DepartmentIndex:
    """A jurisdiction's departments and aliases, keyed by their names without whitespace."""

    jurisdiction: str
    level: str
    names: Mapping[str, int]
    aliases: Mapping[str, int]
    labels: Mapping[int, str]

    def prefixes(self) -> list[str]:
        """What a name may start with in this jurisdiction: "柳城县", "柳城", "县"."""
        level = LEVEL_PREFIXES.get(self.level, "")
        found = [self.jurisdiction]
        if level and self.jurisdiction.endswith(level) and len(self.jurisdiction) > 1:
            found.append(self.jurisdiction[: -len(level)])
        if level:
            found.append(level)
        return [p for p in found if p]

    @cached_property
    def by_key(self) -> Mapping[str, frozenset[int]]:
        """Departments by `department_key` of their names and aliases, built once."""
        prefixes = self.prefixes()
        keys: dict[str, set[int]] = {}
        for known, pk in [*self.names.items(), *self.aliases.items()]:
            keys.setdefault(department_key(known, prefixes), set()).add(pk)
        return {key: frozenset(ids) for key, ids in keys.items()}


def department_key(name: str, prefixes: Sequence[str]) -> str:
    """A name without whitespace and without the jurisdiction or level in front of it."""
    key = squash(name)
    for prefix in prefixes:
        if key.startswith(prefix) and len(key) > len(prefix):
            return key[len(prefix) :]
    return key


def match_department(cited: str, index: DepartmentIndex) -> int | None:
    """The department a spelling certainly names, or None when that is not certain.

    Certain: the name or a known alias, ignoring whitespace; else exactly one department (or
    alias) equal to it once the jurisdiction or level prefix is taken off both ("柳城县民政局",
    "民政局" and "县民政局" are one body in 柳城县). Two candidates are never guessed between.
    """
    name = squash(cited)
    if not name:
        return None
    if name in index.names:
        return index.names[name]
    if name in index.aliases:
        return index.aliases[name]
    candidates = index.by_key.get(department_key(name, index.prefixes()), frozenset())
    return next(iter(candidates)) if len(candidates) == 1 else None


# -- the plan as it is ---------------------------------------------------------------------------


@dataclass(frozen=True)
class ExistingLink:
    department_id: int
    cited: str


@dataclass(frozen=True)
class ExistingTask:
    id: int
    clause: str
    title: str
    text: str
    schedule: str
    section_id: int
    parent_id: int | None
    lead: tuple[ExistingLink, ...]
    support: tuple[ExistingLink, ...]


@dataclass(frozen=True)
class SectionRef:
    id: int
    path: str
    number: str
    title: str

    @property
    def label(self) -> str:
        return f"{self.number}{self.title}"


@dataclass(frozen=True)
class PlanSnapshot:
    tasks: tuple[ExistingTask, ...]  # document order
    sections: tuple[SectionRef, ...]  # document order
    departments: DepartmentIndex

    def fingerprint(self) -> str:
        """A digest of everything a preview depends on; any change to it changes the digest."""
        data = {
            "tasks": [
                [
                    *(t.id, t.clause, t.title, t.text, t.schedule, t.section_id, t.parent_id),
                    [(x.department_id, x.cited) for x in t.lead],
                    [(x.department_id, x.cited) for x in t.support],
                ]
                for t in self.tasks
            ],
            "sections": [[s.id, s.path, s.number, s.title] for s in self.sections],
            "names": sorted(self.departments.names.items()),
            "aliases": sorted(self.departments.aliases.items()),
        }
        raw = json.dumps(data, ensure_ascii=False, separators=(",", ":"))
        return hashlib.sha256(raw.encode()).hexdigest()


def load_snapshot(plan: Plan) -> PlanSnapshot:
    """The plan's tasks, sections and its jurisdiction's departments, in four queries."""
    jurisdiction: Jurisdiction = plan.jurisdiction
    tasks = []
    for task in Task.objects.filter(plan=plan).with_departments().order_by("position", "pk"):
        links = {"lead": [], "support": []}
        for link in sorted(task.links.all(), key=lambda x: (x.position, x.pk)):
            links[link.role].append(ExistingLink(link.department_id, link.cited_name))
        tasks.append(
            ExistingTask(
                id=task.pk,
                clause=task.clause,
                title=task.title,
                text=task.text,
                schedule=task.schedule,
                section_id=task.section_id,
                parent_id=task.parent_id,
                lead=tuple(links["lead"]),
                support=tuple(links["support"]),
            )
        )
    sections = tuple(
        SectionRef(s.pk, s.path, s.number, s.title)
        for s in Section.objects.filter(plan=plan).order_by("position")
    )
    departments = list(Department.objects.filter(jurisdiction=jurisdiction).order_by("name"))
    aliases = DepartmentAlias.objects.filter(jurisdiction=jurisdiction).values_list(
        "name", "department_id"
    )
    index = DepartmentIndex(
        jurisdiction=jurisdiction.name,
        level=jurisdiction.level,
        names={squash(d.name): d.pk for d in departments},
        aliases={squash(name): pk for name, pk in aliases},
        labels={d.pk: d.name for d in departments},
    )
    return PlanSnapshot(tasks=tuple(tasks), sections=sections, departments=index)


# -- the preview ---------------------------------------------------------------------------------


@dataclass(frozen=True)
class LinkPlan:
    """A department a task will cite: an existing one (`department_id`) or one to create."""

    cited: str
    department_id: int | None = None

    @property
    def creates(self) -> bool:
        return self.department_id is None


@dataclass(frozen=True)
class FieldChange:
    name: str  # title | text | schedule | lead | support
    label: str
    old: str
    new: str


@dataclass(frozen=True)
class RowPlan:
    row: int
    clause: str
    action: str  # create | update | unchanged | reject
    text: str
    reasons: tuple[str, ...] = ()
    changes: tuple[FieldChange, ...] = ()
    title: str = ""
    number: str = ""
    schedule: str = ""
    lead: tuple[LinkPlan, ...] = ()
    support: tuple[LinkPlan, ...] = ()
    section_id: int | None = None
    section_label: str = ""
    parent_clause: str | None = None
    task_id: int | None = None
    pending: tuple[str, ...] = ()  # department names waiting for the user's choice


@dataclass(frozen=True)
class UnknownDepartment:
    """A department name the import cannot match for certain, with the user's choice if any."""

    key: str
    cited: str
    rows: tuple[int, ...]
    choice: str | None = None


@dataclass(frozen=True)
class ImportPreview:
    rows: tuple[RowPlan, ...]
    unknown: tuple[UnknownDepartment, ...]
    fingerprint: str
    ignored: tuple[tuple[int, str], ...] = ()
    departments: Mapping[int, str] = field(default_factory=dict)

    def _with(self, action: str) -> list[RowPlan]:
        return [r for r in self.rows if r.action == action]

    @property
    def creates(self) -> list[RowPlan]:
        return self._with("create")

    @property
    def updates(self) -> list[RowPlan]:
        return self._with("update")

    @property
    def rejects(self) -> list[RowPlan]:
        return self._with("reject")

    @property
    def unchanged(self) -> int:
        return len(self._with("unchanged"))

    @property
    def needs_choice(self) -> bool:
        return any(u.choice is None for u in self.unknown)

    @property
    def has_writes(self) -> bool:
        return bool(self.creates or self.updates)


def unknown_key(name: str) -> str:
    """The form field for choosing what an unknown department name means."""
    return "dept-" + hashlib.sha256(squash(name).encode()).hexdigest()[:12]


def derive_title(text: str) -> str:
    """A new task's short label: the text's first sentence, within the title's length."""
    first = _SENTENCE_END.split(text, maxsplit=1)[0].strip() or text.strip()
    first = _WHITESPACE.sub(" ", first)
    if len(first) > TITLE_MAX_LENGTH:
        first = first[: TITLE_MAX_LENGTH - 1] + "…"
    return first


def own_number(clause: str, parent_clause: str | None) -> str:
    """The number a task has in its section: "二、(一)3" → "3", sub-item "5.2" → "(2)"."""
    if parent_clause and clause.startswith(parent_clause + "."):
        return f"({clause[len(parent_clause) + 1 :]})"[:NUMBER_MAX_LENGTH]
    match = re.search(r"(\d+|[((][^()()]*[))])$", clause)
    return (match[1] if match else clause)[:NUMBER_MAX_LENGTH]


def _cell(links: Sequence[ExistingLink | LinkPlan]) -> str:
    return DEPARTMENT_SEPARATOR.join(link.cited for link in links)


def _section_for_chapter(chapter: str, sections: Sequence[SectionRef]) -> SectionRef | None:
    name = squash(chapter)
    if not name:
        return None
    for test in (
        lambda s: squash(s.path) == name,
        lambda s: squash(s.label) == name,
        lambda s: squash(s.title) == name,
    ):
        found = [s for s in sections if test(s)]
        if len(found) == 1:
            return found[0]
    # "一、健全完善社会保障政策体系" under a plan whose section "一、" has another title
    prefixed = [s for s in sections if s.path and name.startswith(squash(s.path))]
    if prefixed:
        return max(prefixed, key=lambda s: len(s.path))
    return None


def _section_for_clause(clause: str, sections: Sequence[SectionRef]) -> SectionRef | None:
    """The section a clause is numbered in: "二、(一)3" is in "二、(一)"; "12" in none."""
    inside = [s for s in sections if s.path and clause.startswith(s.path)]
    return max(inside, key=lambda s: len(s.path)) if inside else None


def build_preview(
    entries: Sequence[TableEntry],
    snapshot: PlanSnapshot,
    choices: Mapping[str, str] | None = None,
    *,
    ignored: Sequence[tuple[int, str]] = (),
) -> ImportPreview:
    """What importing `entries` into the plan would do, row by row; writes nothing.

    `choices` maps `unknown_key(name)` to NEW, SKIP or a department id (as text) of the
    jurisdiction; other values count as no choice.
    """
    choices = choices or {}
    index = snapshot.departments
    existing = {t.clause: t for t in snapshot.tasks}
    sections = {s.id: s for s in snapshot.sections}

    counts: dict[str, list[int]] = {}
    for entry in entries:
        counts.setdefault(entry.clause, []).append(entry.row)

    unknown: dict[str, UnknownDepartment] = {}
    for entry in entries:
        for name in (*entry.lead, *entry.support):
            if len(name) <= NAME_MAX_LENGTH and match_department(name, index) is None:
                key = unknown_key(name)
                known = unknown.get(key)
                rows = (known.rows if known else ()) + (entry.row,)
                unknown[key] = UnknownDepartment(
                    key=key,
                    cited=known.cited if known else name,
                    rows=tuple(dict.fromkeys(rows)),
                    choice=_valid_choice(choices.get(key), index),
                )

    plans: list[RowPlan] = []
    planned_sections: dict[str, int] = {t.clause: t.section_id for t in snapshot.tasks}
    previous_section: int | None = None
    for entry in entries:
        reasons = list(entry.problems)
        if not entry.clause:
            reasons.append(_("序号为空"))
        elif len(entry.clause) > CLAUSE_MAX_LENGTH:
            reasons.append(_("序号超过 %(n)s 个字") % {"n": CLAUSE_MAX_LENGTH})
        elif len(counts[entry.clause]) > 1:
            reasons.append(
                _("序号“%(clause)s”重复(第 %(rows)s 行)")
                % {"clause": entry.clause, "rows": "、".join(map(str, counts[entry.clause]))}
            )
        if not entry.text.strip():
            reasons.append(_("工作任务为空"))
        elif len(entry.text) > TEXT_MAX_LENGTH:
            reasons.append(_("工作任务超过 %(n)s 个字") % {"n": f"{TEXT_MAX_LENGTH:,}"})
        if len(entry.schedule) > TEXT_MAX_LENGTH:
            reasons.append(_("时间进度超过 %(n)s 个字") % {"n": f"{TEXT_MAX_LENGTH:,}"})
        if entry.title is not None and len(entry.title) > TITLE_MAX_LENGTH:
            reasons.append(_("任务标题超过 %(n)s 个字") % {"n": TITLE_MAX_LENGTH})

        pending: list[str] = []
        resolved: dict[str, tuple[LinkPlan, ...]] = {}
        for role, names, label in (
            ("lead", entry.lead, _("牵头单位")),
            ("support", entry.support, _("配合单位")),
        ):
            links: list[LinkPlan] = []
            for name in names:
                if len(name) > NAME_MAX_LENGTH:
                    reasons.append(
                        _("%(role)s“%(name)s…”超过 %(n)s 个字")
                        % {"role": label, "name": name[:20], "n": NAME_MAX_LENGTH}
                    )
                    continue
                pk = match_department(name, index)
                if pk is None:
                    choice = unknown[unknown_key(name)].choice
                    if choice is None:
                        pending.append(name)
                        links.append(LinkPlan(name))
                        continue
                    if choice == SKIP:
                        reasons.append(_("未知部门“%(name)s”(已选择不导入)") % {"name": name})
                        continue
                    pk = None if choice == NEW else int(choice)
                links.append(LinkPlan(name, pk))
            seen: set[object] = set()
            for link in links:
                identity = link.department_id or squash(link.cited)
                if identity in seen:
                    reasons.append(
                        _("%(role)s中“%(name)s”重复") % {"role": label, "name": link.cited}
                    )
                seen.add(identity)
            resolved[role] = tuple(links)

        task = existing.get(entry.clause)
        common = {
            "row": entry.row,
            "clause": entry.clause,
            "text": entry.text,
            "schedule": entry.schedule,
            "lead": resolved["lead"],
            "support": resolved["support"],
            "parent_clause": entry.parent_clause,
            "pending": tuple(pending),
        }
        if reasons:
            plans.append(RowPlan(action="reject", reasons=tuple(reasons), **common))
            continue
        if task is not None:
            changes = _changes(task, entry, resolved, index)
            previous_section = task.section_id
            plans.append(
                RowPlan(
                    action="update" if changes else "unchanged",
                    changes=tuple(changes),
                    task_id=task.id,
                    title=entry.title if entry.title is not None else task.title,
                    section_id=task.section_id,
                    section_label=sections[task.section_id].label
                    if task.section_id in sections
                    else "",
                    **common,
                )
            )
            continue
        section = _section_for_chapter(entry.chapter, snapshot.sections)
        section = section or _section_for_clause(entry.clause, snapshot.sections)
        section_id = section.id if section else None
        if section_id is None and entry.parent_clause in planned_sections:
            section_id = planned_sections[entry.parent_clause]
        if section_id is None:
            section_id = previous_section
        if section_id is None and snapshot.sections:
            section_id = snapshot.sections[0].id
        if section_id is None:
            plans.append(
                RowPlan(action="reject", reasons=(_("方案还没有章节,无法新增任务"),), **common)
            )
            continue
        planned_sections[entry.clause] = section_id
        previous_section = section_id
        title = entry.title if entry.title else derive_title(entry.text)
        plans.append(
            RowPlan(
                action="create",
                title=title,
                number=own_number(entry.clause, entry.parent_clause),
                section_id=section_id,
                section_label=sections[section_id].label,
                **common,
            )
        )
    return ImportPreview(
        rows=tuple(plans),
        unknown=tuple(unknown.values()),
        fingerprint=snapshot.fingerprint(),
        ignored=tuple(ignored),
        departments=dict(index.labels),
    )


def _valid_choice(value: str | None, index: DepartmentIndex) -> str | None:
    if value in (NEW, SKIP):
        return value
    if value and value.isascii() and value.isdigit() and int(value) in index.labels:
        return value
    return None


def _changes(
    task: ExistingTask,
    entry: TableEntry,
    resolved: Mapping[str, tuple[LinkPlan, ...]],
    index: DepartmentIndex,
) -> list[FieldChange]:
    changes = []
    if entry.title is not None and squash(entry.title) != squash(task.title):
        changes.append(FieldChange("title", _("标题"), task.title, entry.title))
    if squash(entry.text) != squash(task.text):
        changes.append(FieldChange("text", _("工作任务"), task.text, entry.text))
    if squash(entry.schedule) != squash(task.schedule):
        changes.append(FieldChange("schedule", _("时间进度"), task.schedule, entry.schedule))
    for role, old, label in (
        ("lead", task.lead, _("牵头单位")),
        ("support", task.support, _("配合单位")),
    ):
        new = resolved[role]
        same = len(old) == len(new) and all(
            a.department_id == b.department_id and a.cited == b.cited
            for a, b in zip(old, new, strict=False)
        )
        if not same:
            changes.append(FieldChange(role, label, _cell(old), _cell(new)))
    return changes


# -- writing -------------------------------------------------------------------------------------


@dataclass(frozen=True)
class ApplyResult:
    created: int
    updated: int
    departments_created: int


class ImportLog:
    """What an import wrote, as entries of Django's admin log: who, when, which object, old → new.

    Tasks and departments keep no history table of their own (the plan loader re-saves them on
    every load); the admin log is where Django records changes made by people, and each task's
    and department's 历史 page in the admin lists these entries.
    """

    def __init__(self, by) -> None:
        self.by = by
        self.entries: list[LogEntry] = []

    def task(self, task: Task, flag: int, changes: Sequence[FieldChange]) -> None:
        lines = [f"{c.label}:{c.old} → {c.new}" for c in changes]
        self._add(task, flag, "\n".join([_("导入任务表"), *lines]))

    def department(self, department: Department) -> None:
        self._add(department, ADDITION, _("导入任务表时新建"))

    def _add(self, obj, flag: int, message: str) -> None:
        if self.by is None or not getattr(self.by, "pk", None):
            return
        self.entries.append(
            LogEntry(
                user_id=self.by.pk,
                content_type=ContentType.objects.get_for_model(obj),
                object_id=str(obj.pk),
                object_repr=str(obj)[:200],
                action_flag=flag,
                change_message=message,
            )
        )

    def save(self) -> None:
        LogEntry.objects.bulk_create(self.entries)


def plan_import_apply(*, plan: Plan, preview: ImportPreview, by) -> ApplyResult:
    """Write a preview's creates and updates, all or nothing.

    Raises PlanChanged when the plan's tasks, sections or departments are no longer those the
    preview was computed from (someone saved meanwhile); nothing is written then.
    """
    if preview.needs_choice:
        raise ValueError("every unknown department needs a choice before writing")
    with transaction.atomic():
        plan = Plan.objects.select_for_update().select_related("jurisdiction").get(pk=plan.pk)
        snapshot = load_snapshot(plan)
        if snapshot.fingerprint() != preview.fingerprint:
            raise PlanChanged
        jurisdiction = plan.jurisdiction
        new_departments: dict[str, Department] = {}
        chosen = {u.key: u for u in preview.unknown}

        def department_of(link: LinkPlan) -> Department | int:
            if link.department_id is not None:
                unknown = chosen.get(unknown_key(link.cited))
                if unknown is not None and unknown.choice not in (NEW, SKIP, None):
                    # remembered, so the next import matches this spelling by itself
                    DepartmentAlias.objects.get_or_create(
                        jurisdiction=jurisdiction,
                        name=link.cited,
                        defaults={"department_id": link.department_id},
                    )
                return link.department_id
            name = squash(link.cited)
            if name not in new_departments:
                new_departments[name] = Department.objects.create(
                    jurisdiction=jurisdiction, name=name, is_collective=name.startswith("各")
                )
            return new_departments[name]

        def write_links(task: Task, role: str, links: Sequence[LinkPlan]) -> None:
            task.links.filter(role=role).delete()
            for position, link in enumerate(links, start=1):
                department = department_of(link)
                TaskDepartment.objects.create(
                    task=task,
                    role=role,
                    cited_as=link.cited,
                    position=position,
                    **(
                        {"department_id": department}
                        if isinstance(department, int)
                        else {"department": department}
                    ),
                )

        ids = {t.clause: t.id for t in snapshot.tasks}
        position = Task.objects.filter(plan=plan).aggregate(m=Max("position"))["m"] or 0
        created = updated = 0
        log = ImportLog(by)
        for row in preview.rows:
            if row.action == "create":
                position += 1
                task = Task.objects.create(
                    plan=plan,
                    section_id=row.section_id,
                    parent_id=ids.get(row.parent_clause) if row.parent_clause else None,
                    number=row.number,
                    clause=row.clause,
                    title=row.title,
                    text=row.text,
                    schedule=row.schedule,
                    is_ongoing=ONGOING in row.schedule,
                    position=position,
                )
                ids[row.clause] = task.pk
                write_links(task, TaskDepartment.Role.LEAD, row.lead)
                write_links(task, TaskDepartment.Role.SUPPORT, row.support)
                log.task(task, ADDITION, [])
                created += 1
            elif row.action == "update":
                task = Task.objects.get(pk=row.task_id, plan=plan)
                fields = {c.name for c in row.changes}
                values = {"title": row.title, "text": row.text, "schedule": row.schedule}
                update_fields = [name for name in values if name in fields]
                for name in update_fields:
                    setattr(task, name, values[name])
                if update_fields:
                    task.save(update_fields=update_fields)
                if "lead" in fields:
                    write_links(task, TaskDepartment.Role.LEAD, row.lead)
                if "support" in fields:
                    write_links(task, TaskDepartment.Role.SUPPORT, row.support)
                log.task(task, CHANGE, row.changes)
                updated += 1
        for department in new_departments.values():
            log.department(department)
        log.save()
        Plan.bump_progress(plan.pk)
    return ApplyResult(created=created, updated=updated, departments_created=len(new_departments))
