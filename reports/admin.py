"""The reporting models in the admin.

The workflow lives in reports/services.py: here a report's state, versions and dates are read
only, its items and values can be corrected but not added or removed (report_open creates
them), and events and reminders are the record of what happened, never edited.
"""

from __future__ import annotations

from django.contrib import admin
from django.utils.html import format_html
from django.utils.translation import gettext_lazy as _
from simple_history.admin import SimpleHistoryAdmin

from reports.models import (
    Evidence,
    Reminder,
    Report,
    ReportEvent,
    ReportingPeriod,
    ReportItem,
    ReportValue,
)


class ReadOnlyAdminMixin:
    """Nothing added, changed or deleted: the rows are a record."""

    def has_add_permission(self, request, obj=None) -> bool:
        return False

    def has_change_permission(self, request, obj=None) -> bool:
        return False

    def has_delete_permission(self, request, obj=None) -> bool:
        return False


class ReportItemInline(admin.StackedInline):
    model = ReportItem
    fields = [
        ("task", "role", "state"),
        "progress",
        "problems",
        "next_steps",
        ("delay_reason", "measures", "new_expected_date"),
        ("is_returned", "return_comment"),
    ]
    readonly_fields = ["task", "role"]
    extra = 0

    def has_add_permission(self, request, obj=None) -> bool:
        return False

    def has_delete_permission(self, request, obj=None) -> bool:
        return False


class ReportValueInline(admin.TabularInline):
    model = ReportValue
    fields = [
        "indicator",
        "value",
        "note",
        "delay_reason",
        "measures",
        "new_expected_date",
        "is_returned",
        "return_comment",
        "measurement",
    ]
    readonly_fields = ["indicator", "measurement"]
    extra = 0

    def has_add_permission(self, request, obj=None) -> bool:
        return False

    def has_delete_permission(self, request, obj=None) -> bool:
        return False


class ReportEventInline(ReadOnlyAdminMixin, admin.TabularInline):
    model = ReportEvent
    fields = ["at", "kind", "version", "by", "target", "comment"]
    readonly_fields = fields
    extra = 0
    ordering = ["at", "pk"]


@admin.register(Report)
class ReportAdmin(admin.ModelAdmin):
    list_display = [
        "department",
        "period",
        "state",
        "version",
        "first_submitted_at",
        "submitted_at",
        "accepted_at",
    ]
    list_filter = ["state", "period__plan", "period__kind", "period__year"]
    search_fields = ["department__name", "period__plan__title", "period__plan__code"]
    list_select_related = ["department", "period__plan"]
    readonly_fields = [
        "period",
        "department",
        "state",
        "version",
        "first_submitted_at",
        "submitted_at",
        "submitted_by",
        "accepted_at",
        "accepted_by",
        "updated_at",
        "updated_by",
    ]
    inlines = [ReportItemInline, ReportValueInline, ReportEventInline]
    date_hierarchy = "submitted_at"

    def has_add_permission(self, request) -> bool:
        return False  # a report is opened by its liaison (services.report_open)


@admin.register(ReportingPeriod)
class ReportingPeriodAdmin(SimpleHistoryAdmin):
    list_display = ["plan", "label", "period_end", "deadline", "is_open"]
    list_filter = ["is_open", "kind", "year", "plan"]
    search_fields = ["plan__title", "plan__code", "plan__short_title"]
    list_select_related = ["plan"]
    readonly_fields = ["plan", "kind", "year", "period_end"]
    ordering = ["plan", "period_end"]

    @admin.display(description=_("报告期"))
    def label(self, obj: ReportingPeriod) -> str:
        return obj.label

    def has_add_permission(self, request) -> bool:
        return False  # every plan gets its periods (reports/signals.py)


@admin.register(ReportEvent)
class ReportEventAdmin(ReadOnlyAdminMixin, admin.ModelAdmin):
    list_display = ["at", "report_name", "kind", "version", "by", "target"]
    list_filter = ["kind", "report__period__plan"]
    search_fields = ["report__department__name", "comment", "target", "by__username"]
    list_select_related = ["report__department", "report__period__plan", "by"]
    fields = ["report_name", "kind", "version", "by", "at", "target", "comment", "snapshot"]
    date_hierarchy = "at"

    @admin.display(description=_("部门报告"), ordering="report__department__name")
    def report_name(self, obj: ReportEvent) -> str:
        return str(obj.report)


@admin.register(Reminder)
class ReminderAdmin(ReadOnlyAdminMixin, admin.ModelAdmin):
    list_display = ["sent_at", "department_name", "period_name", "occasion", "recipients"]
    list_filter = ["occasion", "period__plan"]
    search_fields = ["department__name", "recipients", "period__plan__title"]
    list_select_related = ["department", "period__plan"]
    fields = ["period_name", "department_name", "occasion", "sent_at", "recipients"]
    date_hierarchy = "sent_at"

    @admin.display(description=_("部门"), ordering="department__name")
    def department_name(self, obj: Reminder) -> str:
        return obj.department.name

    @admin.display(description=_("报告期"), ordering="period__period_end")
    def period_name(self, obj: Reminder) -> str:
        return str(obj.period)


@admin.register(Evidence)
class EvidenceAdmin(ReadOnlyAdminMixin, admin.ModelAdmin):
    """Evidence files, read-only; the file name opens the download view, which checks access."""

    list_display = ["uploaded_at", "download", "item_name", "size", "content_type", "uploaded_by"]
    list_filter = ["content_type", "item__report__period__plan"]
    search_fields = ["name", "item__report__department__name", "uploaded_by__username"]
    list_select_related = [
        "item__report__department",
        "item__report__period__plan",
        "item__task",
        "uploaded_by",
    ]
    fields = ["download", "item_name", "size", "content_type", "uploaded_by", "uploaded_at"]
    date_hierarchy = "uploaded_at"

    @admin.display(description=_("文件名"), ordering="name")
    def download(self, obj):
        return format_html('<a href="{}">{}</a>', obj.get_absolute_url(), obj.name)

    @admin.display(description=_("报告事项"))
    def item_name(self, obj):
        return str(obj.item)
