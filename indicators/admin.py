from django.contrib import admin
from simple_history.admin import SimpleHistoryAdmin

from indicators.models import (
    AlternativeMilestone,
    Indicator,
    IndicatorDepartment,
    Measurement,
    Milestone,
)


class MilestoneInline(admin.TabularInline):
    model = Milestone
    fields = ["year", "value", "due_date", "note", "source_clause", "source_text"]
    extra = 0


class AlternativeMilestoneInline(admin.TabularInline):
    model = AlternativeMilestone
    fields = ["year", "value", "source_clause", "source_text"]
    extra = 0


class IndicatorDepartmentInline(admin.TabularInline):
    model = IndicatorDepartment
    fields = ["department", "cited_as"]
    extra = 0
    autocomplete_fields = ["department"]


@admin.register(Indicator)
class IndicatorAdmin(admin.ModelAdmin):
    list_display = ["name", "plan", "source_clause", "unit", "kind", "direction", "final_target"]
    list_filter = ["plan", "kind", "direction", "is_ongoing"]
    search_fields = ["name", "code", "source_text", "source_clause"]
    list_select_related = ["plan"]
    inlines = [IndicatorDepartmentInline, MilestoneInline, AlternativeMilestoneInline]


@admin.register(Milestone)
class MilestoneAdmin(admin.ModelAdmin):
    list_display = ["indicator", "year", "value", "source_clause"]
    list_filter = ["indicator__plan", "year"]
    search_fields = ["indicator__name", "source_text"]
    list_select_related = ["indicator"]


@admin.register(AlternativeMilestone)
class AlternativeMilestoneAdmin(admin.ModelAdmin):
    list_display = ["indicator", "year", "value", "source_clause"]
    list_filter = ["indicator__plan", "year"]
    search_fields = ["indicator__name", "source_text"]
    list_select_related = ["indicator"]


@admin.register(Measurement)
class MeasurementAdmin(SimpleHistoryAdmin):
    list_display = ["indicator", "period_end", "value", "entered_by", "entered_at"]
    list_filter = ["indicator__plan", "period_end"]
    search_fields = ["indicator__name", "note"]
    list_select_related = ["indicator", "entered_by"]
    raw_id_fields = ["indicator"]


@admin.register(IndicatorDepartment)
class IndicatorDepartmentAdmin(admin.ModelAdmin):
    list_display = ["indicator", "department", "cited_as"]
    list_filter = ["indicator__plan"]
    search_fields = ["department__name", "cited_as", "indicator__name"]
    list_select_related = ["indicator", "department"]
    raw_id_fields = ["indicator"]
    autocomplete_fields = ["department"]
