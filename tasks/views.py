from __future__ import annotations

from django.contrib.auth.decorators import login_required
from django.db.models import Prefetch
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, render

from tasks.models import Task


@login_required
def task_detail(request: HttpRequest, code: str, pk: int) -> HttpResponse:
    task = get_object_or_404(
        Task.objects.select_related("plan__jurisdiction", "section", "parent")
        .with_departments()
        .prefetch_related(
            "deliverables",
            "indicators",
            Prefetch("subtasks", queryset=Task.objects.select_related("plan").order_by("position")),
        ),
        plan__code=code,
        pk=pk,
    )
    return render(request, "tasks/task_detail.html", {"plan": task.plan, "task": task})
