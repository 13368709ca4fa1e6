from django.contrib import admin
from simple_history.admin import SimpleHistoryAdmin

from tasks.models import Deliverable, Task, TaskDepartment, TaskUpdate


class TaskDepartmentInline(admin.TabularInline):
    model = TaskDepartment
    fields = ["role", "department", "cited_as", "position"]
    extra = 0
    autocomplete_fields = ["department"]


class DeliverableInline(admin.TabularInline):
    model = Deliverable
    fields = ["due_text", "due_date", "description"]
    extra = 0


@admin.register(Task)
class TaskAdmin(admin.ModelAdmin):
    list_display = ["clause", "title", "plan", "is_ongoing"]
    list_filter = ["plan", "is_ongoing"]
    search_fields = ["clause", "title", "text", "links__department__name"]
    list_select_related = ["plan"]
    ordering = ["plan", "position"]
    raw_id_fields = ["parent"]
    filter_horizontal = ["indicators"]
    inlines = [TaskDepartmentInline, DeliverableInline]


@admin.register(TaskDepartment)
class TaskDepartmentAdmin(admin.ModelAdmin):
    list_display = ["task", "department", "role", "cited_as"]
    list_filter = ["role", "task__plan"]
    search_fields = ["department__name", "cited_as", "task__title"]
    list_select_related = ["task", "department"]


@admin.register(Deliverable)
class DeliverableAdmin(SimpleHistoryAdmin):
    list_display = ["task", "due_text", "due_date", "description"]
    list_filter = ["task__plan"]
    search_fields = ["description", "task__title"]
    list_select_related = ["task"]
    date_hierarchy = "due_date"


@admin.register(TaskUpdate)
class TaskUpdateAdmin(admin.ModelAdmin):
    """Updates are the task's history: they are added, never edited."""

    list_display = ["task", "state", "as_of", "created_by", "created_at"]
    list_filter = ["state", "task__plan"]
    search_fields = ["task__title", "task__clause", "note"]
    list_select_related = ["task", "created_by"]
    readonly_fields = ["task", "state", "as_of", "note", "created_by", "created_at"]

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False
