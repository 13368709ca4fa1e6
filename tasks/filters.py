from __future__ import annotations

import django_filters
from django.utils.translation import gettext_lazy as _

from plans.filters import PlanItemFilter
from tasks.models import Task, TaskDepartment


class TaskFilter(PlanItemFilter):
    role = django_filters.ChoiceFilter(
        label=_("职责"), choices=TaskDepartment.Role.choices, method="filter_role"
    )

    class Meta:
        model = Task
        fields = ["department", "role", "section"]

    def filter_department(self, queryset, name, value):
        if not value:
            return queryset
        role = self.form.cleaned_data.get("role")
        links = {"links__department": value}
        if role:
            links["links__role"] = role
        return queryset.filter(**links).distinct()

    def filter_role(self, queryset, name, value):
        return queryset  # applied together with the department
