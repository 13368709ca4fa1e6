"""Who a user is in the product: office staff, a department's liaison, or a leader."""

from __future__ import annotations

from django.db import models
from django.utils.translation import gettext_lazy as _


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
