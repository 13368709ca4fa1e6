from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.db import transaction
from django.db.models import Prefetch
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_http_methods

from plans.periods import default_period_end, parse_period, period_ends
from plans.roles import can_edit_plans, office_required
from tasks.forms import TaskUpdateForm
from tasks.models import Deliverable, Task
from tasks.progress import TaskState


@dataclass(frozen=True)
class CompletionChange:
    """A deliverable's completion date set, changed or removed."""

    at: dt.datetime
    user: object
    description: str
    due_text: str
    old: dt.date | None
    new: dt.date | None


def completion_history(task: Task) -> list[CompletionChange]:
    """Changes of the completion dates of a task's deliverables, newest first, in one query."""
    records = (
        Deliverable.history.filter(task_id=task.pk)
        .select_related("history_user")
        .order_by("history_date", "history_id")
    )
    last: dict[int, dt.date | None] = {}
    changes = []
    for record in records:
        new = None if record.history_type == "-" else record.completed_on
        seen, old = record.id in last, last.get(record.id)
        last[record.id] = new
        if old != new or (not seen and new is not None):
            changes.append(
                CompletionChange(
                    at=record.history_date,
                    user=record.history_user,
                    description=record.description,
                    due_text=record.due_text,
                    old=old,
                    new=new,
                )
            )
    changes.reverse()
    return changes


@login_required
def task_detail(request: HttpRequest, code: str, pk: int) -> HttpResponse:
    task = get_object_or_404(
        Task.objects.select_related("plan__jurisdiction", "section", "parent")
        .with_departments()
        .with_state()
        .prefetch_related(
            "deliverables",
            "indicators",
            Prefetch("subtasks", queryset=Task.objects.select_related("plan").order_by("position")),
        ),
        plan__code=code,
        pk=pk,
    )
    updates = task.updates.select_related("created_by").order_by("-created_at", "-pk")
    return render(
        request,
        "tasks/task_detail.html",
        {
            "plan": task.plan,
            "task": task,
            "state_label": TaskState(task.state).label if task.state else None,
            "updates": updates,
            "completion_history": completion_history(task),
            "can_edit": can_edit_plans(request.user),
        },
    )


@office_required
@require_http_methods(["GET", "HEAD", "POST"])
def task_update(request: HttpRequest, code: str, pk: int) -> HttpResponse:
    """Record a task's state and progress note, and when its deliverables were completed."""
    task = get_object_or_404(
        Task.objects.select_related("plan__jurisdiction", "section").with_state(),
        plan__code=code,
        pk=pk,
    )
    plan = task.plan
    ends = period_ends(plan.start_year, plan.end_year)
    today = timezone.localdate()
    options = {
        "task": task,
        "deliverables": list(task.deliverables.all()),
        "period_ends": ends,
        "today": today,
    }
    if request.method == "POST":
        form = TaskUpdateForm(request.POST, **options)
        if form.is_valid():
            with transaction.atomic():
                update = form.save(by=request.user)
            messages.success(
                request,
                _("已记录任务 %(clause)s 的进展:%(state)s。")
                % {"clause": task.clause, "state": update.get_state_display()},
            )
            return redirect(task)
    else:
        as_of = parse_period(request.GET.get("period"))
        if as_of not in ends:
            as_of = default_period_end(ends, today)
        form = TaskUpdateForm(
            initial={"state": task.state or TaskState.IN_PROGRESS, "as_of": as_of.isoformat()},
            **options,
        )
    return render(
        request,
        "tasks/task_update_form.html",
        {"plan": plan, "task": task, "form": form},
    )
