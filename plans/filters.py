"""Filters shared by the lists of a plan's items: by department and by chapter."""

from __future__ import annotations

from collections.abc import Iterable

import django_filters
from django.utils.translation import gettext_lazy as _

from plans.models import Department, Plan, Section


def section_and_descendants(section: Section, sections: Iterable[Section]) -> set[int]:
    """Ids of a chapter and every chapter below it, from the plan's already loaded sections."""
    children: dict[int | None, list[Section]] = {}
    for s in sections:
        children.setdefault(s.parent_id, []).append(s)
    found, stack = set(), [section]
    while stack:
        current = stack.pop()
        found.add(current.pk)
        stack.extend(children.get(current.pk, []))
    return found


class PlanItemFilter(django_filters.FilterSet):
    """Base for a plan's indicator and task filters; choices limited to the plan's own."""

    department = django_filters.ModelChoiceFilter(
        label=_("部门"), queryset=Department.objects.none(), method="filter_department"
    )
    section = django_filters.ModelChoiceFilter(
        label=_("章节"), queryset=Section.objects.none(), method="filter_section"
    )

    def __init__(self, data=None, queryset=None, *, plan: Plan, sections: list[Section], **kw):
        super().__init__(data, queryset, **kw)
        self.sections = sections
        self.filters["department"].queryset = Department.objects.filter(
            jurisdiction_id=plan.jurisdiction_id
        ).order_by("name")
        self.filters["section"].queryset = Section.objects.filter(plan=plan).order_by("position")
        self.filters["section"].field.label_from_instance = lambda s: f"{s.path} {s.title}"

    def filter_section(self, queryset, name, value):
        if not value:
            return queryset
        return queryset.filter(section__in=section_and_descendants(value, self.sections))
