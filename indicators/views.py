from __future__ import annotations

from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, render

from indicators.models import Indicator


@login_required
def indicator_detail(request: HttpRequest, code: str, indicator: str) -> HttpResponse:
    item = get_object_or_404(
        Indicator.objects.select_related("plan__jurisdiction", "section")
        .prefetch_related("milestones", "alternative_milestones", "links__department")
        .with_conflict_flag(),
        plan__code=code,
        code=indicator,
    )
    milestones = list(item.milestones.all())
    cumulative, running = [], 0
    for m in milestones:
        running += m.value
        cumulative.append((m, running))
    return render(
        request,
        "indicators/indicator_detail.html",
        {
            "plan": item.plan,
            "indicator": item,
            "milestones": cumulative,
            "alternatives": list(item.alternative_milestones.all()),
            "measurements": item.measurements.select_related("entered_by"),
            "is_flow": item.kind == Indicator.Kind.FLOW,
        },
    )
