"""Audit records: logins (django-axes) and changes (django-simple-history), read-only, pruned
only past the retention period."""

from __future__ import annotations

import datetime as dt

from axes.models import AccessFailureLog, AccessLog
from django.apps import apps
from django.conf import settings
from django.contrib import admin
from django.db.models import Max
from simple_history.models import HistoricalChanges

# No account name is longer than this (Django's User.username); axes stores names in 255 characters.
USERNAME_MAX_LENGTH = 150


def login_username(request, credentials: dict | None = None) -> str | None:
    """The user name django-axes records and locks on, cut to the longest real one.

    Django's login form does not enforce the username's max_length, so a 100,000-character name
    reaches the login records, whose column (255) PostgreSQL would refuse with a 500. No
    account has a longer name, so the cut never merges two real accounts' failures.
    """
    source = credentials if credentials else getattr(request, "POST", {})
    username = source.get(settings.AXES_USERNAME_FORM_FIELD) if source else None
    return username[:USERNAME_MAX_LENGTH] if isinstance(username, str) else username


def retention_refusal(days: int, minimum: int) -> str | None:
    """Why pruning records younger than `days` is refused, or None when it is allowed."""
    if days < minimum:
        return (
            f"audit records are kept at least {minimum} days (AUDIT_RETENTION_DAYS); "
            f"refusing to delete those younger than {days} days"
        )
    return None


def history_models() -> list[type]:
    """Every change-history model django-simple-history made (measurements, deliverables ...)."""
    return [m for m in apps.get_models() if issubclass(m, HistoricalChanges)]


def prune(*, before: dt.datetime, history: bool, dry_run: bool = False) -> dict[str, int]:
    """Delete login records, and with `history` change records, made before `before`.

    An object's latest change record is always kept, however old: it says who set the value
    that is shown today. Returns the count per model label.
    """
    counts = {}
    logs = [(AccessLog, "attempt_time"), (AccessFailureLog, "attempt_time")]
    for model, field in logs:
        old = model.objects.filter(**{f"{field}__lt": before})
        counts[model._meta.label] = old.count() if dry_run else old.delete()[0]
    if history:
        for model in history_models():
            latest = model.objects.values("id").annotate(last=Max("history_id")).values("last")
            old = model.objects.filter(history_date__lt=before).exclude(history_id__in=latest)
            counts[model._meta.label] = old.count() if dry_run else old.delete()[0]
    return counts


class ReadOnlyAuditAdmin(admin.ModelAdmin):
    """Audit records are read, filtered and searched; no one adds, edits or deletes them here."""

    def has_add_permission(self, request, obj=None):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False


class AccessLogAdmin(ReadOnlyAuditAdmin):
    list_display = ["attempt_time", "logout_time", "username", "ip_address", "user_agent"]
    list_filter = ["attempt_time", "username"]
    search_fields = ["username", "ip_address"]
    date_hierarchy = "attempt_time"


class AccessFailureLogAdmin(ReadOnlyAuditAdmin):
    list_display = ["attempt_time", "username", "ip_address", "locked_out", "path_info"]
    list_filter = ["attempt_time", "username", "locked_out"]
    search_fields = ["username", "ip_address"]
    date_hierarchy = "attempt_time"


class HistoryAdmin(ReadOnlyAuditAdmin):
    list_display = ["history_date", "history_user", "history_type", "__str__"]
    list_filter = ["history_date", "history_user", "history_type"]
    list_select_related = ["history_user"]
    date_hierarchy = "history_date"


def register(site: admin.AdminSite) -> None:
    """Put the audit records in the admin read-only, replacing django-axes' editable pages."""
    for model, model_admin in [
        (AccessLog, AccessLogAdmin),
        (AccessFailureLog, AccessFailureLogAdmin),
    ]:
        if site.is_registered(model):
            site.unregister(model)
        site.register(model, model_admin)
    for model in history_models():
        if not site.is_registered(model):
            site.register(model, HistoryAdmin)
