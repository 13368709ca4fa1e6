"""Reporting periods and the liaisons' half-year and full-year reports.

A department reports once per period: one item per task it leads or supports, one value per
indicator it is responsible for. The workflow (reports/services.py) moves a report through
draft → submitted → returned / accepted; every step is a ReportEvent that keeps a snapshot of
the content, so nothing a liaison submitted is lost when the report is edited again.
"""

from __future__ import annotations

import datetime as dt
import re
import secrets

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from simple_history.models import HistoricalRecords

from indicators.models import Indicator, Measurement
from plans.models import Department, Plan
from plans.periods import period_label
from plans.roles import Role, managed_jurisdiction_ids, roles_of
from reports.evidence import extension_for
from tasks.models import Task, TaskDepartment
from tasks.progress import TaskState


def default_deadline(kind: str, year: int) -> dt.date:
    """Liucheng 四、(三): half-year reports in July, full-year reports in December."""
    return dt.date(year, 7, 31) if kind == ReportingPeriod.Kind.HALF_YEAR else dt.date(year, 12, 31)


class ReportingPeriodQuerySet(models.QuerySet):
    def open(self) -> ReportingPeriodQuerySet:
        return self.filter(is_open=True)


# Only these spellings name a period in URLs and commands; ASCII digits only.
PERIOD_SLUG = re.compile(r"([0-9]{4})-(07|12)")


class ReportingPeriod(models.Model):
    class Kind(models.TextChoices):
        HALF_YEAR = "half", _("半年")
        FULL_YEAR = "full", _("全年")

    plan = models.ForeignKey(
        Plan, verbose_name=_("方案"), on_delete=models.CASCADE, related_name="periods"
    )
    kind = models.CharField(_("类型"), max_length=4, choices=Kind)
    year = models.PositiveSmallIntegerField(_("年份"))
    period_end = models.DateField(_("报告期末"))
    deadline = models.DateField(_("报送截止日期"))
    is_open = models.BooleanField(_("开放报送"), default=True)

    objects = ReportingPeriodQuerySet.as_manager()
    history = HistoricalRecords()  # deadlines set, periods closed and reopened: who and when

    class Meta:
        verbose_name = _("报告期")
        verbose_name_plural = _("报告期")
        ordering = ["plan", "period_end"]
        constraints = [
            models.UniqueConstraint(
                fields=["plan", "kind", "year"], name="reports_period_one_per_kind_and_year"
            ),
            models.CheckConstraint(
                condition=Q(kind="half", period_end__month=6, period_end__day=30)
                | Q(kind="full", period_end__month=12, period_end__day=31),
                name="reports_period_end_matches_kind",
            ),
            models.CheckConstraint(
                condition=Q(deadline__gte=models.F("period_end")) | Q(kind="full"),
                name="reports_period_half_year_due_after_june",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.plan} {self.label}"

    def get_absolute_url(self) -> str:
        return reverse("report-board", args=[self.plan.code, self.slug])

    @property
    def label(self) -> str:
        return period_label(self.period_end)

    @property
    def slug(self) -> str:
        """The period in URLs and commands: "2019-07" for the half year, "2019-12" the full year."""
        return f"{self.year}-07" if self.kind == self.Kind.HALF_YEAR else f"{self.year}-12"

    @classmethod
    def kind_and_year(cls, slug: str) -> tuple[ReportingPeriod.Kind, int] | None:
        """What `slug` names, read back: "2019-07" → (half year, 2019); None for any other text."""
        match = PERIOD_SLUG.fullmatch(slug)
        if match is None:
            return None
        kind = cls.Kind.HALF_YEAR if match[2] == "07" else cls.Kind.FULL_YEAR
        return kind, int(match[1])

    def is_past_deadline(self, today: dt.date) -> bool:
        return today > self.deadline


class ReportQuerySet(models.QuerySet):
    def visible_to(self, user) -> ReportQuerySet:
        """Reports a user may read: office staff and leaders all, a liaison their department's."""
        roles = roles_of(user)
        if Role.LEADER in roles:
            return self.all()
        if Role.OFFICE in roles:
            ids = managed_jurisdiction_ids(user)
            return self.all() if ids is None else self.filter(period__plan__jurisdiction__in=ids)
        liaison = getattr(user, "liaison", None) if user.is_authenticated else None
        if Role.LIAISON in roles and liaison is not None:
            return self.filter(department_id=liaison.department_id)
        return self.none()


class Report(models.Model):
    class State(models.TextChoices):
        DRAFT = "draft", _("草稿")
        SUBMITTED = "submitted", _("已报送")
        RETURNED = "returned", _("已退回")
        ACCEPTED = "accepted", _("已采纳")

    period = models.ForeignKey(
        ReportingPeriod, verbose_name=_("报告期"), on_delete=models.PROTECT, related_name="reports"
    )
    department = models.ForeignKey(
        Department, verbose_name=_("部门"), on_delete=models.PROTECT, related_name="reports"
    )
    state = models.CharField(_("状态"), max_length=10, choices=State, default=State.DRAFT)
    version = models.PositiveIntegerField(
        _("版本"), default=0, help_text=_("每次保存加一;据此拒绝覆盖他人更新的内容")
    )
    first_submitted_at = models.DateTimeField(_("首次报送时间"), null=True, blank=True)
    submitted_at = models.DateTimeField(_("报送时间"), null=True, blank=True)
    submitted_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("报送人"),
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
    )
    accepted_at = models.DateTimeField(_("采纳时间"), null=True, blank=True)
    accepted_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("采纳人"),
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
    )
    updated_at = models.DateTimeField(_("更新时间"), default=timezone.now)
    updated_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("更新人"),
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
    )

    objects = ReportQuerySet.as_manager()

    class Meta:
        verbose_name = _("部门报告")
        verbose_name_plural = _("部门报告")
        constraints = [
            models.UniqueConstraint(
                fields=["period", "department"], name="reports_report_one_per_department"
            ),
            models.CheckConstraint(
                condition=Q(state__in=["draft"]) | Q(first_submitted_at__isnull=False),
                name="reports_report_submitted_has_a_date",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.department} · {self.period}"

    def get_absolute_url(self) -> str:
        return reverse("report-detail", args=[self.pk])

    @property
    def is_editable(self) -> bool:
        """A liaison may change it: a draft or a returned report in an open period."""
        return self.state in (self.State.DRAFT, self.State.RETURNED) and self.period.is_open


class ReportItem(models.Model):
    """The department's report on one task it leads or supports."""

    report = models.ForeignKey(Report, on_delete=models.CASCADE, related_name="items")
    task = models.ForeignKey(
        Task, verbose_name=_("任务"), on_delete=models.PROTECT, related_name="+"
    )
    role = models.CharField(_("职责"), max_length=10, choices=TaskDepartment.Role)
    state = models.CharField(_("进度"), max_length=12, choices=TaskState, blank=True)
    progress = models.TextField(_("工作进展"), blank=True)
    problems = models.TextField(_("存在问题"), blank=True)
    next_steps = models.TextField(_("下步打算"), blank=True)
    delay_reason = models.TextField(_("滞后原因"), blank=True)
    measures = models.TextField(_("采取措施"), blank=True)
    new_expected_date = models.DateField(_("预计完成日期"), null=True, blank=True)
    is_returned = models.BooleanField(_("退回修改"), default=False)
    return_comment = models.TextField(_("退回意见"), blank=True)

    class Meta:
        verbose_name = _("报告事项")
        verbose_name_plural = _("报告事项")
        constraints = [
            models.UniqueConstraint(fields=["report", "task"], name="reports_item_one_per_task"),
        ]

    def __str__(self) -> str:
        return f"{self.report} · {self.task.clause}"


class ReportValue(models.Model):
    """The department's value for one indicator it is responsible for."""

    report = models.ForeignKey(Report, on_delete=models.CASCADE, related_name="values")
    indicator = models.ForeignKey(
        Indicator, verbose_name=_("指标"), on_delete=models.PROTECT, related_name="+"
    )
    value = models.DecimalField(_("实际值"), max_digits=14, decimal_places=2, null=True, blank=True)
    note = models.TextField(_("说明"), blank=True)
    delay_reason = models.TextField(_("滞后原因"), blank=True)
    measures = models.TextField(_("采取措施"), blank=True)
    new_expected_date = models.DateField(_("预计完成日期"), null=True, blank=True)
    is_returned = models.BooleanField(_("退回修改"), default=False)
    return_comment = models.TextField(_("退回意见"), blank=True)
    measurement = models.ForeignKey(
        Measurement,
        verbose_name=_("形成的实际值"),
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="report_values",
        help_text=_("采纳后写入方案的实际值"),
    )

    class Meta:
        verbose_name = _("报告数值")
        verbose_name_plural = _("报告数值")
        constraints = [
            models.UniqueConstraint(
                fields=["report", "indicator"], name="reports_value_one_per_indicator"
            ),
            models.CheckConstraint(
                condition=Q(value__isnull=True) | Q(value__gte=0), name="reports_value_not_negative"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.report} · {self.indicator}"


class ReportEvent(models.Model):
    """One step in a report's life, with who, when, a comment and the content at that moment.

    Append-only: the list of events is the report's history and its versions.
    """

    class Kind(models.TextChoices):
        SAVED = "saved", _("保存草稿")
        SUBMITTED = "submitted", _("报送")
        RETURNED = "returned", _("退回")
        ITEM_RETURNED = "item_returned", _("退回单项")
        ACCEPTED = "accepted", _("采纳")
        REOPENED = "reopened", _("重新开放")
        COMMENTED = "commented", _("批示")

    report = models.ForeignKey(Report, on_delete=models.CASCADE, related_name="events")
    kind = models.CharField(_("事件"), max_length=14, choices=Kind)
    version = models.PositiveIntegerField(_("版本"))
    by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("操作人"),
        on_delete=models.SET_NULL,
        null=True,
        related_name="+",
    )
    at = models.DateTimeField(_("时间"), default=timezone.now)
    comment = models.TextField(_("意见"), blank=True)
    target = models.CharField(_("对象"), max_length=100, blank=True, help_text=_("退回的单项"))
    snapshot = models.JSONField(_("内容快照"), default=dict)

    class Meta:
        verbose_name = _("报告记录")
        verbose_name_plural = _("报告记录")
        ordering = ["at", "pk"]

    def __str__(self) -> str:
        return f"{self.report} {self.get_kind_display()} v{self.version}"


class Reminder(models.Model):
    """A reminder e-mail sent (or being sent) once for a department, period and occasion."""

    period = models.ForeignKey(ReportingPeriod, on_delete=models.CASCADE, related_name="reminders")
    department = models.ForeignKey(Department, on_delete=models.CASCADE, related_name="+")
    occasion = models.CharField(_("时机"), max_length=20, help_text=_("如 before-7、after-1"))
    sent_at = models.DateTimeField(_("发送时间"), default=timezone.now)
    recipients = models.TextField(_("收件人"), blank=True)

    class Meta:
        verbose_name = _("催报记录")
        verbose_name_plural = _("催报记录")
        constraints = [
            models.UniqueConstraint(
                fields=["period", "department", "occasion"], name="reports_reminder_once"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.department} · {self.period} · {self.occasion}"


def evidence_path(instance: Evidence, filename: str) -> str:
    """Where a file is stored: a random name under its report, never the name it came with."""
    extension = extension_for(instance.content_type)
    return f"evidence/{instance.item.report_id}/{secrets.token_hex(16)}.{extension}"


class Evidence(models.Model):
    """A file a liaison attaches to an item as evidence of the work reported (optional).

    Stored under a random name and served only through the evidence-download view, which
    checks that the user may read the report; `name` is the cleaned name it was uploaded as.
    """

    item = models.ForeignKey(
        ReportItem, verbose_name=_("报告事项"), on_delete=models.CASCADE, related_name="evidence"
    )
    file = models.FileField(_("文件"), upload_to=evidence_path)
    name = models.CharField(_("文件名"), max_length=200)
    size = models.PositiveBigIntegerField(_("大小(字节)"))
    content_type = models.CharField(_("文件类型"), max_length=100, help_text=_("按文件内容识别"))
    uploaded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("上传人"),
        on_delete=models.SET_NULL,
        null=True,
        related_name="+",
    )
    uploaded_at = models.DateTimeField(_("上传时间"), default=timezone.now)

    class Meta:
        verbose_name = _("佐证材料")
        verbose_name_plural = _("佐证材料")
        ordering = ["uploaded_at", "pk"]

    def __str__(self) -> str:
        return self.name

    def get_absolute_url(self) -> str:
        return reverse("evidence-download", args=[self.pk])
