"""Jurisdictions, their departments, and the plans they publish with each plan's chapter tree."""

from __future__ import annotations

import datetime as dt
import hashlib
import secrets

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext_lazy as _


class Jurisdiction(models.Model):
    class Level(models.TextChoices):
        PROVINCE = "province", _("省")
        CITY = "city", _("市")
        COUNTY = "county", _("县")

    name = models.CharField(_("名称"), max_length=50, unique=True)
    level = models.CharField(_("级别"), max_length=10, choices=Level)

    class Meta:
        verbose_name = _("行政区")
        verbose_name_plural = _("行政区")

    def __str__(self) -> str:
        return self.name


class DepartmentQuerySet(models.QuerySet):
    def for_jurisdiction(self, jurisdiction: Jurisdiction) -> DepartmentQuerySet:
        return self.filter(jurisdiction=jurisdiction)


class Department(models.Model):
    """One real body of one jurisdiction: "民政局" and "县民政局" in Liucheng are one record.

    A collective unit ("各乡镇人民政府") stays one record: it reports as one.
    """

    jurisdiction = models.ForeignKey(
        Jurisdiction,
        verbose_name=_("行政区"),
        on_delete=models.PROTECT,
        related_name="departments",
    )
    name = models.CharField(_("名称"), max_length=100)
    is_collective = models.BooleanField(
        _("集合单位"), default=False, help_text=_("如“各乡镇人民政府”,作为一个单位报送")
    )

    objects = DepartmentQuerySet.as_manager()

    class Meta:
        verbose_name = _("部门")
        verbose_name_plural = _("部门")
        constraints = [
            models.UniqueConstraint(
                fields=["jurisdiction", "name"], name="plans_department_one_name_per_jurisdiction"
            ),
            models.CheckConstraint(condition=~Q(name=""), name="plans_department_name_not_empty"),
        ]

    def __str__(self) -> str:
        return self.name

    def get_absolute_url(self) -> str:
        return reverse("department-detail", args=[self.pk])


class DepartmentAlias(models.Model):
    """Another spelling of a department as a document cites it ("民政局" for "县民政局")."""

    jurisdiction = models.ForeignKey(
        Jurisdiction, verbose_name=_("行政区"), on_delete=models.CASCADE, related_name="+"
    )
    department = models.ForeignKey(
        Department, verbose_name=_("部门"), on_delete=models.CASCADE, related_name="aliases"
    )
    name = models.CharField(_("写法"), max_length=100)

    class Meta:
        verbose_name = _("部门别名")
        verbose_name_plural = _("部门别名")
        constraints = [
            models.UniqueConstraint(
                fields=["jurisdiction", "name"], name="plans_departmentalias_one_body_per_name"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.name} → {self.department.name}"


class Plan(models.Model):
    code = models.SlugField(
        _("代码"), max_length=30, unique=True, help_text=_("用于网址和命令,如 liucheng")
    )
    jurisdiction = models.ForeignKey(
        Jurisdiction, verbose_name=_("行政区"), on_delete=models.PROTECT, related_name="plans"
    )
    title = models.CharField(_("标题"), max_length=200)
    short_title = models.CharField(_("简称"), max_length=60, blank=True)
    document_number = models.CharField(_("文号"), max_length=60, blank=True)
    issuing_office = models.CharField(_("发文机关"), max_length=100, blank=True)
    issue_date = models.DateField(_("发布日期"), null=True, blank=True)
    start_year = models.PositiveSmallIntegerField(_("起始年份"))
    end_year = models.PositiveSmallIntegerField(_("终止年份"))
    goal = models.TextField(_("总体目标"), blank=True)
    source_document = models.CharField(_("来源文件"), max_length=100, blank=True)
    progress_version = models.PositiveIntegerField(
        _("进度数据版本"),
        default=0,
        editable=False,
        help_text=_("每次指标、任务或数据变化时加一;缓存的仪表板以此为键"),
    )

    class Meta:
        verbose_name = _("实施方案")
        verbose_name_plural = _("实施方案")
        constraints = [
            models.CheckConstraint(
                condition=Q(start_year__gte=2000, start_year__lte=2100),
                name="plans_plan_start_year_plausible",
            ),
            models.CheckConstraint(
                condition=Q(end_year__gte=models.F("start_year")),
                name="plans_plan_end_not_before_start",
            ),
        ]

    def __str__(self) -> str:
        return self.short_title or self.title

    def get_absolute_url(self) -> str:
        return reverse("plan-detail", args=[self.code])

    @classmethod
    def bump_progress(cls, plan_id: int) -> None:
        """Mark the plan's progress data as changed, so cached dashboards are rebuilt."""
        cls.objects.filter(pk=plan_id).update(progress_version=models.F("progress_version") + 1)

    @property
    def years(self) -> range:
        return range(self.start_year, self.end_year + 1)


class Section(models.Model):
    """A chapter of a plan's document (一、总体目标 / (三)医养结合建设), kept in document order."""

    plan = models.ForeignKey(
        Plan, verbose_name=_("方案"), on_delete=models.CASCADE, related_name="sections"
    )
    parent = models.ForeignKey(
        "self",
        verbose_name=_("上级章节"),
        on_delete=models.CASCADE,
        null=True,
        blank=True,
        related_name="children",
    )
    number = models.CharField(_("编号"), max_length=20, blank=True)
    title = models.CharField(_("标题"), max_length=200)
    path = models.CharField(_("条款"), max_length=60, help_text=_("引用时的完整编号,如 二、(三)"))
    position = models.PositiveIntegerField(_("顺序"))
    depth = models.PositiveSmallIntegerField(_("层级"), default=0)

    class Meta:
        verbose_name = _("章节")
        verbose_name_plural = _("章节")
        constraints = [
            models.UniqueConstraint(fields=["plan", "path"], name="plans_section_one_per_path"),
            models.UniqueConstraint(
                fields=["plan", "position"], name="plans_section_one_per_position"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.number}{self.title}"


class OfficeScope(models.Model):
    """The jurisdictions an office account manages.

    A county's own installation needs none: an office account without a scope manages every
    plan. A province-wide installation gives each county's office its county here.
    """

    user = models.OneToOneField(
        settings.AUTH_USER_MODEL,
        verbose_name=_("用户"),
        on_delete=models.CASCADE,
        related_name="office_scope",
    )
    jurisdictions = models.ManyToManyField(
        Jurisdiction, verbose_name=_("管理的行政区"), related_name="+", blank=True
    )

    class Meta:
        verbose_name = _("联席办管理范围")
        verbose_name_plural = _("联席办管理范围")

    def __str__(self) -> str:
        return str(self.user)


class Liaison(models.Model):
    """The person a department names to report to the joint-conference office (联络员)."""

    user = models.OneToOneField(
        settings.AUTH_USER_MODEL,
        verbose_name=_("用户"),
        on_delete=models.CASCADE,
        related_name="liaison",
    )
    department = models.ForeignKey(
        Department, verbose_name=_("部门"), on_delete=models.PROTECT, related_name="liaisons"
    )
    phone = models.CharField(_("电话"), max_length=30, blank=True)

    class Meta:
        verbose_name = _("联络员")
        verbose_name_plural = _("联络员")

    def __str__(self) -> str:
        return f"{self.user.get_full_name() or self.user.get_username()} ({self.department})"


def hash_api_key(key: str) -> str:
    return hashlib.sha256(key.encode()).hexdigest()


class ApiTokenQuerySet(models.QuerySet):
    def issue(self, *, user, name: str) -> tuple[ApiToken, str]:
        """A new token for `user` and its key; the key is shown once and never stored."""
        key = secrets.token_urlsafe(32)
        return self.create(user=user, name=name, key_hash=hash_api_key(key)), key

    def find(self, key: str) -> ApiToken | None:
        """The active token of an active user with this key, or None.

        Looked up by the key's SHA-256, so no stored secret is ever compared character by
        character; an absurdly long "key" is refused before hashing.
        """
        if not key or len(key) > ApiToken.MAX_KEY_LENGTH:
            return None
        return self.filter(key_hash=hash_api_key(key), is_active=True, user__is_active=True).first()


class ApiToken(models.Model):
    """A key another system sends as `Authorization: Bearer <key>`; only its SHA-256 is kept."""

    MAX_KEY_LENGTH = 200
    # "Last used" is for an administrator's eye: once a minute is precise enough, and spares
    # a database write on every request.
    USE_RESOLUTION = dt.timedelta(minutes=1)

    user = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("用户"),
        on_delete=models.CASCADE,
        related_name="api_tokens",
        help_text=_("令牌以该用户的身份读取数据"),
    )
    name = models.CharField(_("名称"), max_length=100, help_text=_("使用方,如“省智慧养老平台”"))
    key_hash = models.CharField(_("密钥摘要"), max_length=64, unique=True, editable=False)
    created_at = models.DateTimeField(_("创建时间"), default=timezone.now, editable=False)
    last_used_at = models.DateTimeField(_("最近使用"), null=True, blank=True, editable=False)
    is_active = models.BooleanField(_("有效"), default=True, help_text=_("取消勾选即停用该令牌"))

    objects = ApiTokenQuerySet.as_manager()

    class Meta:
        verbose_name = _("接口令牌")
        verbose_name_plural = _("接口令牌")
        constraints = [
            models.CheckConstraint(condition=~Q(name=""), name="plans_apitoken_name_not_empty"),
        ]

    def __str__(self) -> str:
        return self.name

    def mark_used(self, now: dt.datetime | None = None) -> None:
        now = now or timezone.now()
        if self.last_used_at is None or now - self.last_used_at >= self.USE_RESOLUTION:
            ApiToken.objects.filter(pk=self.pk).update(last_used_at=now)
            self.last_used_at = now
