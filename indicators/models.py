"""Indicators, their yearly milestones, and the values measured against them."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import models
from django.db.models import Exists, OuterRef, Q
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from simple_history.models import HistoricalRecords

from plans.models import Department, Plan, Section

PERCENT = "%"


class IndicatorQuerySet(models.QuerySet):
    def with_conflict_flag(self) -> IndicatorQuerySet:
        """Annotate `has_conflict`: another clause of the document states a different value."""
        return self.annotate(
            has_conflict=Exists(
                AlternativeMilestone.objects.filter(indicator=OuterRef("pk")).exclude(
                    value=models.Subquery(
                        Milestone.objects.filter(
                            indicator=OuterRef("indicator"), year=OuterRef("year")
                        ).values("value")[:1]
                    )
                )
            )
        )

    def for_department(self, department: Department) -> IndicatorQuerySet:
        return self.filter(departments=department)

    def for_progress(self, on: dt.date | None = None) -> IndicatorQuerySet:
        """Everything `indicators.assessment` reads, prefetched: milestones and values to `on`."""
        values = Measurement.objects.order_by("period_end")
        if on is not None:
            values = values.filter(period_end__lte=on)
        return self.select_related("plan", "section").prefetch_related(
            "milestones", models.Prefetch("measurements", queryset=values)
        )


class Indicator(models.Model):
    class Kind(models.TextChoices):
        # A flow's yearly amounts add up; a level is reached by a year; a deliverable is done.
        FLOW = "flow", _("逐年增量")
        LEVEL = "level", _("到期水平")
        DELIVERABLE = "deliverable", _("按期完成")

    class Direction(models.TextChoices):
        AT_LEAST = "at_least", _("不低于")
        AT_MOST = "at_most", _("不高于")

    plan = models.ForeignKey(
        Plan, verbose_name=_("方案"), on_delete=models.CASCADE, related_name="indicators"
    )
    section = models.ForeignKey(
        Section, verbose_name=_("章节"), on_delete=models.PROTECT, related_name="indicators"
    )
    code = models.SlugField(_("代码"), max_length=60)
    name = models.CharField(_("名称"), max_length=200)
    unit = models.CharField(_("单位"), max_length=20, help_text=_("张、%、人次、个、万元、项"))
    kind = models.CharField(_("类型"), max_length=12, choices=Kind)
    direction = models.CharField(
        _("方向"), max_length=10, choices=Direction, default=Direction.AT_LEAST
    )
    baseline_value = models.DecimalField(
        _("基期值"), max_digits=14, decimal_places=2, null=True, blank=True
    )
    baseline_date = models.DateField(_("基期日期"), null=True, blank=True)
    baseline_note = models.CharField(
        _("基期说明"), max_length=100, blank=True, help_text=_("原文表述,如“2万张以上”")
    )
    final_target = models.DecimalField(
        _("最终目标值"), max_digits=14, decimal_places=2, null=True, blank=True
    )
    target_year = models.PositiveSmallIntegerField(_("目标年份"), null=True, blank=True)
    is_ongoing = models.BooleanField(_("持续实施"), default=False)
    departments = models.ManyToManyField(
        Department,
        through="IndicatorDepartment",
        verbose_name=_("责任部门"),
        related_name="indicators",
        blank=True,
    )
    source_clause = models.CharField(_("出处条款"), max_length=60)
    source_text = models.TextField(_("原文"))
    conflict_note = models.TextField(_("口径冲突说明"), blank=True)
    position = models.PositiveIntegerField(_("顺序"), default=0)

    objects = IndicatorQuerySet.as_manager()

    class Meta:
        verbose_name = _("指标")
        verbose_name_plural = _("指标")
        constraints = [
            models.UniqueConstraint(fields=["plan", "code"], name="indicators_indicator_one_code"),
            models.CheckConstraint(
                condition=~Q(unit=PERCENT)
                | (
                    (Q(final_target__isnull=True) | Q(final_target__gte=0, final_target__lte=100))
                    & (
                        Q(baseline_value__isnull=True)
                        | Q(baseline_value__gte=0, baseline_value__lte=100)
                    )
                ),
                name="indicators_indicator_percent_within_0_100",
            ),
            models.CheckConstraint(
                condition=~Q(kind="deliverable") | Q(final_target__isnull=True) | Q(final_target=1),
                name="indicators_indicator_deliverable_target_is_done",
            ),
            models.CheckConstraint(
                condition=Q(target_year__isnull=True)
                | Q(target_year__gte=2000, target_year__lte=2100),
                name="indicators_indicator_target_year_plausible",
            ),
        ]

    def __str__(self) -> str:
        return self.name

    def get_absolute_url(self) -> str:
        return reverse("indicator-detail", args=[self.plan.code, self.code])

    @property
    def is_percentage(self) -> bool:
        return self.unit == PERCENT


class IndicatorDepartment(models.Model):
    """A department responsible for an indicator, with the spelling the document used."""

    indicator = models.ForeignKey(Indicator, on_delete=models.CASCADE, related_name="links")
    department = models.ForeignKey(
        Department, verbose_name=_("部门"), on_delete=models.PROTECT, related_name="+"
    )
    cited_as = models.CharField(_("原文写法"), max_length=100, blank=True)

    class Meta:
        verbose_name = _("指标责任部门")
        verbose_name_plural = _("指标责任部门")
        constraints = [
            models.UniqueConstraint(
                fields=["indicator", "department"], name="indicators_indicatordepartment_once"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.indicator} · {self.department}"


def validate_value_for_unit(value: Decimal | None, unit: str) -> None:
    if value is None:
        return
    if value < 0:
        raise ValidationError(_("目标值不能为负数。"))
    if unit == PERCENT and value > 100:
        raise ValidationError(_("百分比应在0到100之间。"))


class Milestone(models.Model):
    """The target for one year, exactly as the document states it.

    A flow (new beds 300 / 400 / 500) keeps its yearly amounts; the cumulative total is derived.
    """

    indicator = models.ForeignKey(
        Indicator, verbose_name=_("指标"), on_delete=models.CASCADE, related_name="milestones"
    )
    year = models.PositiveSmallIntegerField(_("年份"))
    value = models.DecimalField(_("目标值"), max_digits=14, decimal_places=2)
    due_date = models.DateField(
        _("截止日期"), null=True, blank=True, help_text=_("按月给出时,如“2019年6月”")
    )
    note = models.CharField(_("说明"), max_length=200, blank=True, help_text=_("如建设地点"))
    source_clause = models.CharField(_("出处条款"), max_length=60)
    source_text = models.TextField(_("原文"), blank=True)

    class Meta:
        verbose_name = _("年度目标")
        verbose_name_plural = _("年度目标")
        ordering = ["year"]
        constraints = [
            models.UniqueConstraint(
                fields=["indicator", "year"], name="indicators_milestone_one_per_year"
            ),
            models.CheckConstraint(
                condition=Q(value__gte=0), name="indicators_milestone_not_negative"
            ),
            models.CheckConstraint(
                condition=Q(year__gte=2000, year__lte=2100),
                name="indicators_milestone_year_plausible",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.indicator} {self.year}: {self.value}"

    def clean(self) -> None:
        validate_value_for_unit(self.value, self.indicator.unit)


class AlternativeMilestone(models.Model):
    """The same year's target as another clause of the document states it.

    Kept beside the milestone, never merged: Liucheng's body says 20/15/15%, its annex 15/20/15%.
    """

    indicator = models.ForeignKey(
        Indicator,
        verbose_name=_("指标"),
        on_delete=models.CASCADE,
        related_name="alternative_milestones",
    )
    year = models.PositiveSmallIntegerField(_("年份"))
    value = models.DecimalField(_("目标值"), max_digits=14, decimal_places=2)
    source_clause = models.CharField(_("出处条款"), max_length=60)
    source_text = models.TextField(_("原文"), blank=True)

    class Meta:
        verbose_name = _("其他条款所列目标")
        verbose_name_plural = _("其他条款所列目标")
        ordering = ["year"]
        constraints = [
            models.UniqueConstraint(
                fields=["indicator", "year", "source_clause"],
                name="indicators_alternativemilestone_one_per_source",
            ),
            models.CheckConstraint(
                condition=Q(value__gte=0), name="indicators_alternativemilestone_not_negative"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.indicator} {self.year}: {self.value} ({self.source_clause})"

    def clean(self) -> None:
        validate_value_for_unit(self.value, self.indicator.unit)


class Measurement(models.Model):
    """An actual value of an indicator at the end of a reporting period (30 June or 31 December)."""

    indicator = models.ForeignKey(
        Indicator, verbose_name=_("指标"), on_delete=models.CASCADE, related_name="measurements"
    )
    period_end = models.DateField(_("报告期末"))
    value = models.DecimalField(_("实际值"), max_digits=14, decimal_places=2)
    note = models.TextField(_("说明"), blank=True)
    entered_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("填报人"),
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
    )
    entered_at = models.DateTimeField(_("填报时间"), default=timezone.now)

    history = HistoricalRecords()

    class Meta:
        verbose_name = _("实际值")
        verbose_name_plural = _("实际值")
        ordering = ["period_end"]
        constraints = [
            models.UniqueConstraint(
                fields=["indicator", "period_end"], name="indicators_measurement_one_per_period"
            ),
            models.CheckConstraint(
                condition=Q(period_end__month=6, period_end__day=30)
                | Q(period_end__month=12, period_end__day=31),
                name="indicators_measurement_period_end_is_half_or_full_year",
            ),
            models.CheckConstraint(
                condition=Q(value__gte=0), name="indicators_measurement_not_negative"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.indicator} {self.period_end:%Y-%m}: {self.value}"

    def clean(self) -> None:
        validate_value_for_unit(self.value, self.indicator.unit)
