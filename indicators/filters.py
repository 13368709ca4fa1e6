from __future__ import annotations

import django_filters
from django.utils.translation import gettext_lazy as _

from indicators.models import Indicator
from plans.filters import PlanItemFilter


class IndicatorFilter(PlanItemFilter):
    kind = django_filters.ChoiceFilter(label=_("类型"), choices=Indicator.Kind.choices)

    class Meta:
        model = Indicator
        fields = ["department", "section", "kind"]

    def filter_department(self, queryset, name, value):
        return queryset.filter(links__department=value) if value else queryset
