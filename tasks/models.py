"""Tasks of a plan with their lead and supporting departments and dated deliverables."""

from __future__ import annotations

import datetime as dt

from django.conf import settings
from django.db import models
from django.db.models import Exists, OuterRef, Prefetch, Q, Subquery
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from simple_history.models import HistoricalRecords

from indicators.models import Indicator
from plans.models import Department, Plan, Section
from tasks.progress import TaskState


class TaskQuerySet(models.QuerySet):
    def for_department(self, department: Department) -> TaskQuerySet:
        return self.filter(links__department=department).distinct()

    def leaves(self) -> TaskQuerySet:
        """Tasks without sub-items: the units that are reported on (Xianyang's rows)."""
        return self.exclude(Exists(Task.objects.filter(parent=OuterRef("pk"))))

    def for_progress(self, on: dt.date) -> TaskQuerySet:
        """Everything `tasks.assessment` reads: the state as of `on`, deliverables, plan."""
        return (
            self.with_state(on).select_related("plan", "section").prefetch_related("deliverables")
        )

    def with_state(self, on: dt.date | None = None) -> TaskQuerySet:
        """Annotate the latest state recorded as of `on` (any date when None), with its note."""
        latest = TaskUpdate.objects.filter(task=OuterRef("pk"))
        if on is not None:
            latest = latest.filter(as_of__lte=on)
        latest = latest.order_by("-as_of", "-created_at", "-pk")
        return self.annotate(
            state=Subquery(latest.values("state")[:1]),
            state_note=Subquery(latest.values("note")[:1]),
            state_at=Subquery(latest.values("created_at")[:1]),
        )

    def with_departments(self) -> TaskQuerySet:
        """Prefetch department links once, lead departments first, in one extra query."""
        return self.prefetch_related(
            Prefetch(
                "links",
                queryset=TaskDepartment.objects.select_related("department").order_by(
                    "role", "position"
                ),
            )
        )


class Task(models.Model):
    """A task of a plan, or a sub-item of one (Xianyang's numbered tasks have several)."""

    plan = models.ForeignKey(
        Plan, verbose_name=_("方案"), on_delete=models.CASCADE, related_name="tasks"
    )
    section = models.ForeignKey(
        Section, verbose_name=_("章节"), on_delete=models.PROTECT, related_name="tasks"
    )
    parent = models.ForeignKey(
        "self",
        verbose_name=_("上级任务"),
        on_delete=models.CASCADE,
        null=True,
        blank=True,
        related_name="subtasks",
    )
    number = models.CharField(_("序号"), max_length=20)
    clause = models.CharField(
        _("出处条款"), max_length=60, help_text=_("引用时的完整编号,如 二、(一)3")
    )
    title = models.CharField(_("工作任务"), max_length=300)
    text = models.TextField(_("原文"))
    schedule = models.TextField(_("时间进度"), blank=True)
    is_ongoing = models.BooleanField(_("持续实施"), default=False)
    position = models.PositiveIntegerField(_("顺序"), default=0)
    departments = models.ManyToManyField(
        Department,
        through="TaskDepartment",
        verbose_name=_("部门"),
        related_name="tasks",
        blank=True,
    )
    indicators = models.ManyToManyField(
        Indicator, verbose_name=_("相关指标"), related_name="tasks", blank=True
    )

    objects = TaskQuerySet.as_manager()

    class Meta:
        verbose_name = _("任务")
        verbose_name_plural = _("任务")
        constraints = [
            models.UniqueConstraint(fields=["plan", "clause"], name="tasks_task_one_per_clause"),
            models.CheckConstraint(condition=~Q(text=""), name="tasks_task_text_not_empty"),
        ]

    def __str__(self) -> str:
        return f"{self.clause} {self.title}"

    def get_absolute_url(self) -> str:
        return reverse("task-detail", args=[self.plan.code, self.pk])

    def departments_in_role(self, role: str) -> list[TaskDepartment]:
        """Links of one role; uses the prefetch of `with_departments()` when present."""
        return [link for link in self.links.all() if link.role == role]

    @property
    def lead_links(self) -> list[TaskDepartment]:
        return self.departments_in_role(TaskDepartment.Role.LEAD)

    @property
    def supporting_links(self) -> list[TaskDepartment]:
        return self.departments_in_role(TaskDepartment.Role.SUPPORT)


class TaskDepartment(models.Model):
    """A department leading or supporting a task, with the spelling the document used."""

    class Role(models.TextChoices):
        # "lead" sorts before "support": lead departments list first.
        LEAD = "lead", _("牵头单位")
        SUPPORT = "support", _("配合单位")

    task = models.ForeignKey(Task, on_delete=models.CASCADE, related_name="links")
    department = models.ForeignKey(
        Department, verbose_name=_("部门"), on_delete=models.PROTECT, related_name="task_links"
    )
    role = models.CharField(_("职责"), max_length=10, choices=Role)
    cited_as = models.CharField(_("原文写法"), max_length=100, blank=True)
    position = models.PositiveSmallIntegerField(_("顺序"), default=0)

    class Meta:
        verbose_name = _("任务部门")
        verbose_name_plural = _("任务部门")
        constraints = [
            models.UniqueConstraint(
                fields=["task", "department", "role"], name="tasks_taskdepartment_once_per_role"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.task.clause} · {self.department} ({self.get_role_display()})"

    @property
    def cited_name(self) -> str:
        """The department as the document (or an imported table) named it, else its own name."""
        return self.cited_as or self.department.name


class Deliverable(models.Model):
    """A dated result a task promises ("2019年6月,建成老龄工作管理信息平台")."""

    task = models.ForeignKey(
        Task, verbose_name=_("任务"), on_delete=models.CASCADE, related_name="deliverables"
    )
    description = models.TextField(_("内容"))
    due_text = models.CharField(_("原文时间"), max_length=40, help_text=_("如“2019年6月”"))
    due_date = models.DateField(_("截止日期"), help_text=_("按所述时间的最后一天计"))
    completed_on = models.DateField(_("完成日期"), null=True, blank=True)
    position = models.PositiveSmallIntegerField(_("顺序"), default=0)

    history = HistoricalRecords()

    class Meta:
        verbose_name = _("阶段成果")
        verbose_name_plural = _("阶段成果")
        ordering = ["due_date", "position"]

    def __str__(self) -> str:
        return f"{self.due_text} {self.description}"


class TaskUpdate(models.Model):
    """A recorded state of a task with its progress note; the latest one is the task's state.

    Never edited: each change is a new row, so the list of updates is the task's history.
    """

    task = models.ForeignKey(
        Task, verbose_name=_("任务"), on_delete=models.CASCADE, related_name="updates"
    )
    state = models.CharField(_("状态"), max_length=12, choices=TaskState)
    as_of = models.DateField(_("截至日期"), default=timezone.localdate)
    note = models.TextField(_("进展情况"), blank=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("填报人"),
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
    )
    created_at = models.DateTimeField(_("填报时间"), default=timezone.now)

    class Meta:
        verbose_name = _("任务进展")
        verbose_name_plural = _("任务进展")
        ordering = ["-as_of", "-created_at", "-pk"]

    def __str__(self) -> str:
        return f"{self.task.clause} {self.get_state_display()}"
