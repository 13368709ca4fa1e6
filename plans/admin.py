from django.contrib import admin

from plans import audit
from plans.models import (
    ApiToken,
    Department,
    DepartmentAlias,
    Jurisdiction,
    Liaison,
    OfficeScope,
    Plan,
    Section,
)


@admin.register(Jurisdiction)
class JurisdictionAdmin(admin.ModelAdmin):
    list_display = ["name", "level"]
    list_filter = ["level"]
    search_fields = ["name"]


class DepartmentAliasInline(admin.TabularInline):
    model = DepartmentAlias
    fields = ["name", "jurisdiction"]
    extra = 0


@admin.register(Department)
class DepartmentAdmin(admin.ModelAdmin):
    list_display = ["name", "jurisdiction", "is_collective"]
    list_filter = ["jurisdiction", "is_collective"]
    search_fields = ["name", "aliases__name"]
    inlines = [DepartmentAliasInline]


@admin.register(DepartmentAlias)
class DepartmentAliasAdmin(admin.ModelAdmin):
    list_display = ["name", "department", "jurisdiction"]
    list_filter = ["jurisdiction"]
    search_fields = ["name", "department__name"]
    list_select_related = ["department", "jurisdiction"]


class SectionInline(admin.TabularInline):
    model = Section
    fields = ["path", "number", "title", "position", "parent"]
    extra = 0
    ordering = ["position"]
    show_change_link = True


@admin.register(Plan)
class PlanAdmin(admin.ModelAdmin):
    list_display = ["code", "title", "jurisdiction", "document_number", "start_year", "end_year"]
    list_filter = ["jurisdiction"]
    search_fields = ["code", "title", "document_number"]
    inlines = [SectionInline]


@admin.register(Section)
class SectionAdmin(admin.ModelAdmin):
    list_display = ["path", "title", "plan", "position"]
    list_filter = ["plan"]
    search_fields = ["title", "path"]
    ordering = ["plan", "position"]
    list_select_related = ["plan"]


@admin.register(Liaison)
class LiaisonAdmin(admin.ModelAdmin):
    list_display = ["user", "department", "phone"]
    list_filter = ["department__jurisdiction"]
    search_fields = ["user__username", "user__first_name", "department__name"]
    list_select_related = ["user", "department"]
    autocomplete_fields = ["department"]


@admin.register(ApiToken)
class ApiTokenAdmin(admin.ModelAdmin):
    """Tokens are issued by `manage.py create_api_token`, the only moment a key is shown.

    Here an administrator renames, deactivates or deletes them; the stored hash never appears.
    """

    list_display = ["name", "user", "is_active", "created_at", "last_used_at"]
    list_filter = ["is_active"]
    search_fields = ["name", "user__username", "user__first_name"]
    list_select_related = ["user"]
    fields = ["name", "user", "is_active", "created_at", "last_used_at"]
    readonly_fields = ["user", "created_at", "last_used_at"]
    ordering = ["-created_at"]

    def has_add_permission(self, request) -> bool:
        return False


@admin.register(OfficeScope)
class OfficeScopeAdmin(admin.ModelAdmin):
    """Which jurisdictions an office account manages (none listed: every plan)."""

    list_display = ["user"]
    search_fields = ["user__username", "user__first_name", "jurisdictions__name"]
    filter_horizontal = ["jurisdictions"]
    list_select_related = ["user"]


# Logins and change history: read-only for everyone, superusers included (plans/audit.py).
audit.register(admin.site)
