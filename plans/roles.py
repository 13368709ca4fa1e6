"""Who a user is in the product: office staff, a department's liaison, or a leader."""

from __future__ import annotations

from functools import wraps

from django.contrib.auth.views import redirect_to_login
from django.core.exceptions import PermissionDenied
from django.db import models
from django.utils.translation import gettext_lazy as _

from plans.models import OfficeScope, Plan


class Role(models.TextChoices):
    OFFICE = "office", _("联席办工作人员")
    LIAISON = "liaison", _("部门联络员")
    LEADER = "leader", _("领导")


def roles_of(user) -> set[Role]:
    """The roles of a user, from their groups; superusers count as office staff."""
    if not user.is_authenticated:
        return set()
    names = {g.name for g in user.groups.all()}
    roles = {role for role in Role if role.value in names}
    if user.is_superuser:
        roles.add(Role.OFFICE)
    return roles


def can_edit_plans(user) -> bool:
    return Role.OFFICE in roles_of(user)


def managed_jurisdiction_ids(user) -> set[int] | None:
    """The jurisdictions an office account manages; None when it manages every plan."""
    if user.is_superuser:
        return None
    scope = OfficeScope.objects.filter(user=user).prefetch_related("jurisdictions").first()
    if scope is None:
        return None
    return {j.pk for j in scope.jurisdictions.all()}


def manages_plan(user, plan) -> bool:
    """Office staff may change this plan's data and review its reports."""
    if not can_edit_plans(user):
        return False
    ids = managed_jurisdiction_ids(user)
    return ids is None or plan.jurisdiction_id in ids


def is_leader(user) -> bool:
    return Role.LEADER in roles_of(user)


def liaison_department_id(user) -> int | None:
    """The department a liaison reports for; None for anyone else."""
    if Role.LIAISON not in roles_of(user):
        return None
    liaison = getattr(user, "liaison", None)
    return liaison.department_id if liaison is not None else None


def office_required(view):
    """Let office staff through; send others to log in, or answer 403 when logged in."""

    @wraps(view)
    def wrapper(request, *args, **kwargs):
        if not request.user.is_authenticated:
            return redirect_to_login(request.get_full_path())
        if not can_edit_plans(request.user):
            raise PermissionDenied
        if "code" in kwargs:  # a plan's page: the office must manage that plan
            ids = managed_jurisdiction_ids(request.user)
            if (
                ids is not None
                and not Plan.objects.filter(code=kwargs["code"], jurisdiction__in=ids).exists()
            ):
                raise PermissionDenied
        return view(request, *args, **kwargs)

    return wrapper
